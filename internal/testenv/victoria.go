package testenv

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
)

// VictoriaMetrics is a running single-node VictoriaMetrics (Debian package
// victoria-metrics). It accepts remote write at RemoteWriteURL and answers
// PromQL (MetricsQL) at /api/v1/query.
type VictoriaMetrics struct {
	*PromQL
	URL string // base URL, http://127.0.0.1:PORT
	Dir string // its temporary directory (storage, log)
}

// StartVictoriaMetrics starts VictoriaMetrics on a free loopback port and
// waits until it is ready. It is stopped when the test ends. It runs with
// -search.latencyOffset=0 and the query cache off, so data is queryable as
// soon as Flush returns; extra flags ("-flag=value") are appended.
func StartVictoriaMetrics(t testing.TB, args ...string) *VictoriaMetrics {
	t.Helper()
	bin := LookPath(t, "victoria-metrics", "victoria-metrics", "victoria-metrics-prod", "/usr/bin/victoria-metrics")
	dir := t.TempDir()
	_, base := start(t, startSpec{
		name: "victoria-metrics",
		bin:  bin,
		dir:  dir,
		args: func(port int) []string {
			return append([]string{
				"-httpListenAddr=127.0.0.1:" + strconv.Itoa(port),
				"-storageDataPath=" + filepath.Join(dir, "data"),
				"-search.latencyOffset=0s",
				"-search.disableCache",
				"-loggerLevel=WARN",
			}, args...)
		},
		ready: "/health",
	})
	q, err := NewPromQL(base)
	if err != nil {
		t.Fatalf("testenv: victoria-metrics client: %v", err)
	}
	return &VictoriaMetrics{PromQL: q, URL: base, Dir: dir}
}

// RemoteWriteURL is the Prometheus remote-write endpoint.
func (v *VictoriaMetrics) RemoteWriteURL() string { return v.URL + "/api/v1/write" }

// Flush makes recently ingested samples searchable at once
// (/internal/force_flush); without it they become visible within a second
// or two.
func (v *VictoriaMetrics) Flush(ctx context.Context) error {
	if _, err := get(ctx, v.URL+"/internal/force_flush"); err != nil {
		return fmt.Errorf("flush victoria-metrics: %w", err)
	}
	return nil
}

// Query flushes, then runs an instant query, so that it sees every sample
// accepted before the call.
func (v *VictoriaMetrics) Query(ctx context.Context, query string) (Vector, error) {
	if err := v.Flush(ctx); err != nil {
		return nil, err
	}
	return v.PromQL.Query(ctx, query)
}
