package scrape

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/aggregate"
	"github.com/lambdabridge/lambdabridge/internal/testenv"
	"github.com/lambdabridge/lambdabridge/metric"
)

// prometheus3 returns the directory of a Prometheus 3 binary built from the
// Go module proxy and cached as docs/BACKENDS.md describes, or skips.
func prometheus3(t *testing.T) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Skip(err)
	}
	dir := filepath.Join(cache, "lambdabridge", "prometheus-v0.316.0")
	if _, err := os.Stat(filepath.Join(dir, "prometheus")); err != nil {
		t.Skipf("no Prometheus 3 in %s (go install github.com/prometheus/prometheus/cmd/prometheus@v0.316.0 and copy it there): %v", dir, err)
	}
	return dir
}

// TestCreatedTimestampZeroIngestion: a counter that already holds 5 when
// Prometheus first scrapes it starts from zero in Prometheus 3 with
// created-timestamp zero ingestion (it scrapes protobuf, which carries the
// aggregator's created timestamps), so the increase over the range is the
// whole count, not 0.
func TestCreatedTimestampZeroIngestion(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	t.Setenv("PATH", prometheus3(t)+string(os.PathListSeparator)+os.Getenv("PATH"))
	agg := aggregate.New(aggregate.WithFunctionLabel("function_name"))
	p := metric.Point{Format: metric.FormatDogStatsD, Name: "orders", Kind: metric.Counter, Values: []float64{5},
		Origin: metric.Origin{Function: "fn"}}
	agg.Add(&p)
	time.Sleep(50 * time.Millisecond) // created before the first scrape

	s := newServer(t, WithGatherers(agg))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeListener(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	prom := testenv.StartPrometheus(t,
		testenv.WithScrape(testenv.ScrapeConfig{Job: "lambdabridge", Targets: []string{ln.Addr().String()}}),
		testenv.WithPrometheusArgs("--enable-feature=created-timestamp-zero-ingestion"))
	prom.WaitTargetsUp(t, "lambdabridge", 1, 60*time.Second)
	testenv.EventuallyValue(t, prom, `sum(orders_total)`, 5, 30*time.Second)
	// The zero Prometheus stored at the created timestamp, then 5.
	testenv.EventuallyValue(t, prom, `min_over_time(orders_total[5m])`, 0, 10*time.Second)
	testenv.EventuallyValue(t, prom, `max_over_time(orders_total[5m]) - min_over_time(orders_total[5m])`, 5, 10*time.Second)
}
