package aggregate_test

import (
	"fmt"
	"os"

	"github.com/prometheus/common/expfmt"

	"github.com/lambdabridge/lambdabridge/aggregate"
	"github.com/lambdabridge/lambdabridge/metric"
)

func Example() {
	agg := aggregate.New(aggregate.WithConstLabels(metric.Label{Name: "function_name", Value: "checkout"}))
	points := []metric.Point{
		{Format: metric.FormatDogStatsD, Name: "orders.placed", Kind: metric.Counter, Values: []float64{1}, SampleRate: 0.5},
		{Format: metric.FormatEMF, Namespace: "Shop", Name: "Cart", Unit: "Kilobytes", Kind: metric.Gauge, Values: []float64{2, 3}},
	}
	for i := range points {
		agg.Add(&points[i])
	}
	families, _ := agg.Gather()
	for _, mf := range families {
		expfmt.MetricFamilyToText(os.Stdout, mf)
	}
	fmt.Println(agg.Stats().Values, "values accepted")
	// Output:
	// # HELP orders_placed_total Datadog counter orders.placed
	// # TYPE orders_placed_total counter
	// orders_placed_total{function_name="checkout"} 2
	// # HELP shop_cart_bytes EMF metric Shop Cart (Kilobytes)
	// # TYPE shop_cart_bytes gauge
	// shop_cart_bytes{function_name="checkout"} 3072
	// 3 values accepted
}
