package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/compare/backend"
)

// ScrapeConfig is one scrape job of a test Prometheus.
type ScrapeConfig = backend.ScrapeConfig

// PrometheusOption configures StartPrometheus.
type PrometheusOption = backend.Option

// WithScrapeInterval sets the global scrape (and evaluation) interval;
// the default is 1s.
func WithScrapeInterval(d time.Duration) PrometheusOption { return backend.WithScrapeInterval(d) }

// WithScrape adds scrape jobs.
func WithScrape(scrapes ...ScrapeConfig) PrometheusOption { return backend.WithScrape(scrapes...) }

// WithPrometheusArgs adds command-line flags, for example
// "--enable-feature=native-histograms".
func WithPrometheusArgs(args ...string) PrometheusOption { return backend.WithArgs(args...) }

// Prometheus is a running Prometheus server (Debian package prometheus) with
// the remote-write receiver enabled.
type Prometheus struct {
	*PromQL
	URL        string // base URL, http://127.0.0.1:PORT
	Dir        string // its temporary directory (config, file_sd files, TSDB, log)
	ConfigFile string
	p          *backend.Prometheus
}

// StartPrometheus starts Prometheus on a free loopback port and waits until
// it is ready. It is stopped when the test ends.
func StartPrometheus(t testing.TB, opts ...PrometheusOption) *Prometheus {
	t.Helper()
	p, err := backend.StartPrometheus(context.Background(),
		startOptions(t, append([]backend.Option{backend.WithScrapeInterval(time.Second)}, opts...)...)...)
	need(t, "prometheus", err)
	stopAtCleanup(t, p.Process)
	return &Prometheus{PromQL: &PromQL{q: p.PromQL}, URL: p.URL, Dir: p.Dir, ConfigFile: p.ConfigFile, p: p}
}

// RemoteWriteURL is the remote-write receiver endpoint.
func (p *Prometheus) RemoteWriteURL() string { return p.p.RemoteWriteURL() }

// FileSDPath is the file-SD file of a FileSD scrape job.
func (p *Prometheus) FileSDPath(job string) string { return p.p.FileSDPath(job) }

// SetTargets replaces the targets of a FileSD scrape job; Prometheus picks
// them up within about a second (see WaitTargetsUp).
func (p *Prometheus) SetTargets(t testing.TB, job string, targets ...string) {
	t.Helper()
	ts := make([]backend.Target, 0, len(targets))
	for _, a := range targets {
		ts = append(ts, backend.Target{Addr: a})
	}
	if err := p.p.SetTargets(job, ts...); err != nil {
		t.Fatalf("testenv: prometheus file_sd targets of %s: %v", job, err)
	}
}

// WaitTargetsUp waits until n targets of job are scraped successfully
// (up == 1), which means at least one scrape has been stored.
func (p *Prometheus) WaitTargetsUp(t testing.TB, job string, n int, timeout time.Duration) {
	t.Helper()
	q := fmt.Sprintf("up{job=%q} == 1", job)
	var last Vector
	var lastErr error
	eventually(t, timeout, func() bool {
		last, lastErr = p.Query(context.Background(), q)
		return lastErr == nil && len(last) >= n
	}, func() string {
		return fmt.Sprintf("%d targets of job %q up; last %s = %v (err %v); targets: %s", n, job, q, last, lastErr, p.targetsSummary())
	})
}

// targetsSummary describes the active targets and their last errors.
func (p *Prometheus) targetsSummary() string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ts, err := p.q.API().Targets(ctx)
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, a := range ts.Active {
		out = append(out, fmt.Sprintf("%s %s %s", a.ScrapeURL, a.Health, a.LastError))
	}
	sort.Strings(out)
	b, _ := json.Marshal(out)
	return string(b)
}

// Reload makes Prometheus re-read its configuration file.
func (p *Prometheus) Reload(ctx context.Context) error { return p.p.Reload(ctx) }
