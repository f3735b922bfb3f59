package dogstatsd

import (
	"testing"

	"github.com/lambdabridge/lambdabridge/metric"
)

// The baseline (statsd_exporter's line parser on the same line) runs in the
// nested module dogstatsd/internal/baselinebench, to keep its dependencies out
// of go.mod:
//
//	cd dogstatsd/internal/baselinebench && go test -run '^$' -bench . -benchmem

// BenchmarkDogStatsDLine parses the line the target is set on.
func BenchmarkDogStatsDLine(b *testing.B) {
	benchDatagram(b, []byte("foo1:100|c|#tag1:bar,tag2:baz"), 1)
}

// BenchmarkDatagram parses a realistic buffered payload of several lines.
func BenchmarkDatagram(b *testing.B) {
	payload := []byte("page.views:1|c|#env:prod,service:web\n" +
		"request.latency:12.5:13.1:9.8|h|@0.5|#env:prod,service:web,route:/checkout\n" +
		"queue.depth:42|g|#env:prod,queue:orders|T1700000000\n" +
		"db.query:3|ms|#env:prod,db:main\n" +
		"users.uniques:alice|s|#env:prod\n" +
		"payload.size:2048|d|#env:prod,service:web|c:ci-12ab\n" +
		"_sc|db.up|0|#env:prod|m:ok\n" +
		"_e{13,21}:deploy.finish|version 1.2.3 is live|t:success|#env:prod\n")
	benchDatagram(b, payload, 8)
}

func benchDatagram(b *testing.B, payload []byte, lines int) {
	p := NewParser()
	var batch metric.Batch
	o := metric.Origin{Source: "udp://127.0.0.1:8125"}
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		batch.Reset()
		p.Datagram(&batch, payload, o)
	}
	if len(batch.Points) != lines || len(batch.Diags) != 0 {
		b.Fatalf("got %d points, %d diagnostics", len(batch.Points), len(batch.Diags))
	}
}

func BenchmarkMonitoring(b *testing.B) {
	benchLine(b, (*Parser).Monitoring, []byte("2024-05-01T10:00:00.000Z\t6d1c1f2e-0a0b-4c4d-8e8f-000000000001\tINFO\tMONITORING|1700000000|1|count|orders.placed|#env:prod,service:checkout"))
}

func BenchmarkDatadogJSON(b *testing.B) {
	benchLine(b, (*Parser).JSON, []byte(`{"m":"checkout.latency","v":1.5,"e":1700000000,"t":["env:prod","service:checkout","dd_lambda_layer:datadog-node20.x"]}`))
}

func benchLine(b *testing.B, parse lineFunc, line []byte) {
	p := NewParser()
	var batch metric.Batch
	o := metric.Origin{Source: "fn.log", Line: 1}
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		batch.Reset()
		parse(p, &batch, line, o)
	}
	if len(batch.Points) != 1 || len(batch.Diags) != 0 {
		b.Fatalf("got %d points, %d diagnostics", len(batch.Points), len(batch.Diags))
	}
}
