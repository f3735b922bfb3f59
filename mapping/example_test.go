package mapping_test

import (
	"os"

	"github.com/prometheus/common/expfmt"

	"github.com/lambdabridge/lambdabridge/aggregate"
	"github.com/lambdabridge/lambdabridge/mapping"
	"github.com/lambdabridge/lambdabridge/metric"
)

func Example() {
	m, err := mapping.Parse([]byte(`
mappings:
- match: "test.dispatcher.*.*.*"
  name: "dispatcher_events_total"
  labels:
    processor: "$1"
    action: "$2"
    outcome: "$3"
- emf_namespace: "MyApp/*"
  emf_metric: "Queue*"
  type: counter
  name: "myapp_queue_items_total"
  labels:
    app: "$1"
`))
	if err != nil {
		panic(err)
	}
	agg := aggregate.New(aggregate.WithMapper(m))
	points := []metric.Point{
		{Format: metric.FormatDogStatsD, Name: "test.dispatcher.FooProcessor.send.success", Kind: metric.Counter, Values: []float64{1}},
		{Format: metric.FormatEMF, Namespace: "MyApp/Orders", Name: "QueueDepth", Kind: metric.Gauge, Values: []float64{4}},
	}
	for i := range points {
		agg.Add(&points[i])
	}
	families, _ := agg.Gather()
	for _, mf := range families {
		expfmt.MetricFamilyToText(os.Stdout, mf)
	}
	// Output:
	// # HELP dispatcher_events_total Metrics matching "test.dispatcher.*.*.*" (glob), mapped by lambdabridge.
	// # TYPE dispatcher_events_total counter
	// dispatcher_events_total{action="send",outcome="success",processor="FooProcessor"} 1
	// # HELP myapp_queue_items_total EMF metrics matching namespace "MyApp/*", metric "Queue*" (glob), mapped by lambdabridge.
	// # TYPE myapp_queue_items_total counter
	// myapp_queue_items_total{app="Orders"} 4
}
