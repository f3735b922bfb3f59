package pipeline

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/aggregate"
	"github.com/lambdabridge/lambdabridge/internal/testenv"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/remotewrite"
)

// TestRecycledEnvironmentIsStale: with per-environment series, a recycled
// environment's series get stale markers at the next remote_write gather
// while the other environment's go on; when the run ends, the series left
// stay queryable (no stale markers at the end of a finite run).
func TestRecycledEnvironmentIsStale(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus")
	}
	prom := testenv.StartPrometheus(t)
	cfg, err := remotewrite.URLConfig(prom.RemoteWriteURL(), "")
	if err != nil {
		t.Fatal(err)
	}
	w, err := remotewrite.New(cfg, remotewrite.WithInterval(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(WithSink(RemoteWrite(w)), WithAggregateOptions(aggregate.WithPerEnvironment(true)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	for _, env := range []string{"env-1", "env-2"} {
		pt := metric.Point{Format: metric.FormatDogStatsD, Name: "orders", Kind: metric.Counter, Values: []float64{3},
			Origin: metric.Origin{Function: "fn", Environment: env}}
		p.Platform(&pt)
	}
	const q = `orders_total{function_name="fn"}`
	testenv.EventuallyVector(t, prom, q, testenv.Vector{
		`orders_total{function_name="fn", lambda_environment="env-1"}`: 3,
		`orders_total{function_name="fn", lambda_environment="env-2"}`: 3,
	}, 30*time.Second)
	if n := p.EnvironmentEnded("fn", "env-1"); n != 1 {
		t.Errorf("EnvironmentEnded = %d series, want 1", n)
	}
	want := testenv.Vector{`orders_total{function_name="fn", lambda_environment="env-2"}`: 3}
	testenv.EventuallyVector(t, prom, q, want, 30*time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// After the run: env-2 is still there, at its final value.
	time.Sleep(time.Second)
	if v, err := prom.Query(context.Background(), q); err != nil || !maps.Equal(v, want) {
		t.Errorf("after the run %s = %v, %v; want %v", q, v, err, want)
	}
}
