package extension

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// BenchmarkInvocationWork is the extension's own work for one invocation
// of the example function with the periodic strategy, without what the
// environment adds (context switches, the freezer): its DogStatsD packet,
// and its share of a Telemetry batch of 100 invocations (platform.start,
// six function lines, runtimeDone, report), through the session as the
// extension builds it (per-environment aggregation for remote_write,
// flushed every 10 s: not during the benchmark).
func BenchmarkInvocationWork(b *testing.B) {
	rw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer rw.Close()
	env := map[string]string{
		EnvFunctionName:   "bench",
		EnvLogStreamName:  "2026/12/01/[$LATEST]0123456789abcdef",
		EnvRemoteWriteURL: rw.URL,
		EnvFlush:          FlushPeriodic,
		EnvFlushInterval:  "10s",
		EnvDogStatsDAddr:  "none",
		EnvEMFAgentAddr:   "none",
	}
	cfg, err := Load(func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	x := New(cfg, nil, WithLogger(slog.New(slog.DiscardHandler)))
	if _, err := x.start(b.Context()); err != nil {
		b.Fatal(err)
	}
	defer x.abandon()
	datagram := x.s.Pipeline().DatagramOrigin(x.recv.base)
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	// what datadog-go sends at the example's Flush: five datagrams
	packets := [][]byte{
		[]byte("checkout.db_query:15.000000|ms|#service:checkout,db:orders\n"),
		[]byte("checkout.requests:1|c|#service:checkout,operation:place_order\n"),
		[]byte("checkout.payload_bytes:2048|d|#service:checkout\n"),
		[]byte("checkout.item_price:9.5|h|#service:checkout\ncheckout.item_price:20.5|h|#service:checkout\n"),
		[]byte("checkout.queue_depth:7|g|#service:checkout\n"),
	}
	const perBatch = 100
	var batches [][]byte
	for n := range 20 {
		batches = append(batches, exampleBatch(n*perBatch, perBatch))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		for _, p := range packets {
			datagram(p, from)
		}
		if i%perBatch == perBatch-1 {
			w := httptest.NewRecorder()
			x.recv.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(batches[i/perBatch%len(batches)])))
			if w.Code != http.StatusOK {
				b.Fatal(w.Code, w.Body.String())
			}
		}
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "us/invocation")
}

// exampleBatch is the Telemetry batch of n invocations of the example
// function from request first on.
func exampleBatch(first, n int) []byte {
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i := first; i < first+n; i++ {
		if i > first {
			buf.WriteByte(',')
		}
		id := fmt.Sprintf("6f1a2b3c-0000-4000-8000-%012d", i)
		fmt.Fprintf(&buf, `{"time":"2026-12-01T05:00:00.200Z","type":"platform.start","record":{"requestId":%q,"version":"$LATEST"}},`, id)
		for _, l := range []string{
			fmt.Sprintf("placing order (invocation %d)", i),
			fmt.Sprintf(`{"_aws":{"Timestamp":1796101328261,"CloudWatchMetrics":[{"Namespace":"LambdaBridgeExample","Dimensions":[["Service","Operation"]],"Metrics":[{"Name":"OrdersPlaced","Unit":"Count"},{"Name":"ProcessingLatency","Unit":"Milliseconds"},{"Name":"PayloadSize","Unit":"Bytes"}]}]},"Service":"checkout","Operation":"PlaceOrder","OrdersPlaced":1,"ProcessingLatency":[12.5,3.25],"PayloadSize":2048,"requestId":%q,"functionVersion":"$LATEST"}`, id),
			"MONITORING|1796101328|1|count|checkout.orders|#service:checkout,operation:place_order",
			"MONITORING|1796101328|3|gauge|checkout.cart_items|#service:checkout",
			"MONITORING|1796101328|0.25|histogram|checkout.step_seconds|#service:checkout,step:payment",
			"MONITORING|1796101328|0.75|histogram|checkout.step_seconds|#service:checkout,step:payment",
		} {
			fmt.Fprintf(&buf, `{"time":"2026-12-01T05:00:00.210Z","type":"function","record":%q},`, l)
		}
		fmt.Fprintf(&buf, `{"time":"2026-12-01T05:00:00.220Z","type":"platform.runtimeDone","record":{"requestId":%q,"status":"success","metrics":{"durationMs":1.2,"producedBytes":20}}},`, id)
		fmt.Fprintf(&buf, `{"time":"2026-12-01T05:00:00.230Z","type":"platform.report","record":{"requestId":%q,"status":"success","metrics":{"durationMs":1.5,"billedDurationMs":2,"memorySizeMB":256,"maxMemoryUsedMB":10}}}`, id)
	}
	buf.WriteByte(']')
	return buf.Bytes()
}
