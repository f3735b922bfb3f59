package backend

import (
	"context"
	"net/http"
	"path/filepath"
	"strconv"
)

// VictoriaMetrics is a running single-node VictoriaMetrics (Debian
// victoria-metrics). It accepts remote write at RemoteWriteURL and answers
// PromQL (MetricsQL) like Prometheus.
type VictoriaMetrics struct {
	*Process
	*PromQL
}

// StartVictoriaMetrics starts VictoriaMetrics with
// -search.latencyOffset=0 and the query cache off, so that data is
// queryable as soon as Flush returns. Stop it with Stop.
func StartVictoriaMetrics(ctx context.Context, opts ...Option) (*VictoriaMetrics, error) {
	p, err := start(ctx, spec{name: "victoria-metrics", pkg: "victoria-metrics", ready: "/health",
		bins: []string{"victoria-metrics", "victoria-metrics-prod", "/usr/bin/victoria-metrics"},
		args: func(dir string, port int) []string {
			return []string{"-httpListenAddr=127.0.0.1:" + strconv.Itoa(port), "-storageDataPath=" + filepath.Join(dir, "data"),
				"-search.latencyOffset=0s", "-search.disableCache", "-loggerLevel=WARN"}
		}}, newOptions(opts))
	if err != nil {
		return nil, err
	}
	q, err := NewPromQL(p.URL)
	if err != nil {
		p.Stop()
		return nil, err
	}
	return &VictoriaMetrics{Process: p, PromQL: q}, nil
}

// RemoteWriteURL is the Prometheus remote-write endpoint.
func (v *VictoriaMetrics) RemoteWriteURL() string { return v.URL + "/api/v1/write" }

// Flush makes recently ingested samples searchable at once
// (/internal/force_flush); without it they become visible within a second
// or two.
func (v *VictoriaMetrics) Flush(ctx context.Context) error {
	return call(ctx, http.MethodGet, v.URL+"/internal/force_flush")
}
