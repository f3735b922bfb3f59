package dogstatsd_test

import (
	"fmt"

	"github.com/lambdabridge/lambdabridge/dogstatsd"
	"github.com/lambdabridge/lambdabridge/metric"
)

func ExampleParser_Datagram() {
	p := dogstatsd.NewParser()
	var b metric.Batch
	p.Datagram(&b, []byte("page.views:1|c|@0.5|#env:prod\nlatency:12:15|ms\nbroken:x|g"), metric.Origin{Source: "udp"})
	for i := range b.Points {
		fmt.Println(b.Points[i].Origin.Line, b.Points[i].String(), b.Points[i].Weight())
	}
	for i := range b.Diags {
		fmt.Println(b.Diags[i].String())
	}
	// Output:
	// 1 dogstatsd page.views{env=prod} counter [1] 2
	// 2 dogstatsd latency{} timer Milliseconds [12 15] 1
	// udp:3: error: [dogstatsd/bad-value] metric "broken" has value "x", not a number (Datadog drops the metric)
}

func ExampleParser_Monitoring() {
	p := dogstatsd.NewParser()
	var b metric.Batch
	line := []byte("2024-05-01T10:00:00.000Z\treq-1\tINFO\tMONITORING|1700000000123|3|count|orders|#env:prod")
	ok := p.Monitoring(&b, line, metric.Origin{Source: "fn.log", Line: 4})
	fmt.Println(ok, b.Points[0].String(), b.Points[0].TimeMs)
	fmt.Println(b.Diags[0].String())
	// Output:
	// true monitoring orders{env=prod} counter [3] 1700000000123
	// fn.log:4: warning: [monitoring/timestamp-unit] metric "orders" has timestamp "1700000000123" in milliseconds; lambdabridge converts it; hint: MONITORING wants Unix seconds
}

func ExampleParser_JSON() {
	p := dogstatsd.NewParser()
	var b metric.Batch
	fmt.Println(p.JSON(&b, []byte(`{"level":"info","msg":"not a metric"}`), metric.Origin{}))
	fmt.Println(p.JSON(&b, []byte(`{"m":"cart.size","v":3,"e":1700000000,"t":["env:prod"]}`), metric.Origin{}))
	fmt.Println(b.Points[0].String())
	// Output:
	// false
	// true
	// datadog-json cart.size{env=prod} distribution [3]
}
