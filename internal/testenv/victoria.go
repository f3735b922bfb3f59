package testenv

import (
	"context"
	"testing"

	"github.com/lambdabridge/lambdabridge/compare/backend"
)

// VictoriaMetrics is a running single-node VictoriaMetrics (Debian package
// victoria-metrics). It accepts remote write at RemoteWriteURL and answers
// PromQL (MetricsQL) at /api/v1/query.
type VictoriaMetrics struct {
	*PromQL
	URL string // base URL, http://127.0.0.1:PORT
	Dir string // its temporary directory (storage, log)
	v   *backend.VictoriaMetrics
}

// StartVictoriaMetrics starts VictoriaMetrics on a free loopback port and
// waits until it is ready. It is stopped when the test ends. It runs with
// -search.latencyOffset=0 and the query cache off, so data is queryable as
// soon as Flush returns; extra flags ("-flag=value") are appended.
func StartVictoriaMetrics(t testing.TB, args ...string) *VictoriaMetrics {
	t.Helper()
	v, err := backend.StartVictoriaMetrics(context.Background(), startOptions(t, backend.WithArgs(args...))...)
	need(t, "victoria-metrics", err)
	stopAtCleanup(t, v.Process)
	return &VictoriaMetrics{PromQL: &PromQL{q: v.PromQL}, URL: v.URL, Dir: v.Dir, v: v}
}

// RemoteWriteURL is the Prometheus remote-write endpoint.
func (v *VictoriaMetrics) RemoteWriteURL() string { return v.v.RemoteWriteURL() }

// Flush makes recently ingested samples searchable at once
// (/internal/force_flush); without it they become visible within a second
// or two.
func (v *VictoriaMetrics) Flush(ctx context.Context) error { return v.v.Flush(ctx) }

// Query flushes, then runs an instant query, so that it sees every sample
// accepted before the call.
func (v *VictoriaMetrics) Query(ctx context.Context, query string) (Vector, error) {
	if err := v.Flush(ctx); err != nil {
		return nil, err
	}
	return v.PromQL.Query(ctx, query)
}
