package pipeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/logline"
)

// subscriptionStream is what a Kinesis or Firehose consumer of a
// subscription filter on /aws/lambda/orders sees: one base64 gzip payload
// per line, each a DATA_MESSAGE of events (START, an EMF line behind the
// Node.js prefix, a MONITORING line, END, REPORT per invocation).
func subscriptionStream(b *testing.B, now time.Time, payloads, invocations int) (stream []byte, events int) {
	ts := now.UnixMilli()
	for p := range payloads {
		var evs []map[string]any
		for i := range invocations {
			id := fmt.Sprintf("6234bffe-149a-b642-81ff-%012d", p*invocations+i)
			for _, msg := range []string{
				"START RequestId: " + id + " Version: $LATEST\n",
				fmt.Sprintf("%s\t%s\tINFO\t{\"_aws\":{\"Timestamp\":%d,\"CloudWatchMetrics\":[{\"Namespace\":\"Shop\",\"Dimensions\":[[\"Service\"]],\"Metrics\":[{\"Name\":\"Latency\",\"Unit\":\"Milliseconds\"}]}]},\"Service\":\"checkout\",\"Latency\":[12,25]}\n",
					now.UTC().Format("2006-01-02T15:04:05.000Z"), id, ts),
				fmt.Sprintf("MONITORING|%d|1|count|shop.orders|#service:checkout\n", now.Unix()),
				"END RequestId: " + id + "\n",
				"REPORT RequestId: " + id + "\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\t\n",
			} {
				evs = append(evs, map[string]any{"id": fmt.Sprint(len(evs)), "timestamp": ts, "message": msg})
			}
		}
		doc, err := json.Marshal(map[string]any{"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/orders",
			"logStream": "2026/11/23/[$LATEST]94fa867e5374431291a7fc14e2f56ae7", "subscriptionFilters": []string{"orders"}, "logEvents": evs})
		if err != nil {
			b.Fatal(err)
		}
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(doc)
		zw.Close()
		stream = append(stream, base64.StdEncoding.EncodeToString(z.Bytes())...)
		stream = append(stream, '\n')
		events += len(evs)
	}
	return stream, events
}

// BenchmarkReadLogSubscription measures `tail` of a subscription payload
// stream: decode (base64, gzip, JSON), unwrap, parse the metric and platform
// lines, check and aggregate. It reports log events per second.
func BenchmarkReadLogSubscription(b *testing.B) {
	now := time.Now()
	stream, events := subscriptionStream(b, now, 20, 20)
	p, err := New(WithParserOptions(logline.WithClock(func() time.Time { return now })))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		if err := p.ReadLog(ctx, "kinesis", bytes.NewReader(stream)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(events*b.N)/b.Elapsed().Seconds(), "events/s")
	if in := p.Input(); in.Errors > 0 || in.MetricLines["platform"] == 0 || in.MetricLines["emf"] == 0 {
		b.Fatalf("the stream did not read as meant: %+v", in)
	}
}
