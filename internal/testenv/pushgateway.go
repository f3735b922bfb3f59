package testenv

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/lambdabridge/lambdabridge/compare/backend"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Pushgateway is a running Pushgateway (Debian package
// prometheus-pushgateway), keeping pushed metrics in memory only.
type Pushgateway struct {
	URL  string // base URL, http://127.0.0.1:PORT; push to URL + "/metrics/job/<job>"
	Addr string // host:port, for a scrape target
	Dir  string
}

// StartPushgateway starts a Pushgateway on a free loopback port and waits
// until it is ready. It is stopped when the test ends. Extra flags
// ("--flag=value") are appended.
func StartPushgateway(t testing.TB, args ...string) *Pushgateway {
	t.Helper()
	p, err := backend.StartPushgateway(context.Background(), startOptions(t, backend.WithArgs(args...))...)
	need(t, "pushgateway", err)
	stopAtCleanup(t, p)
	return &Pushgateway{URL: p.URL, Addr: p.Addr(), Dir: p.Dir}
}

// Families fetches and parses the Pushgateway's /metrics (text format). The
// pushed series carry the grouping labels (job, ...) and there are
// push_time_seconds and push_failure_time_seconds per group.
func (p *Pushgateway) Families(ctx context.Context) (map[string]*dto.MetricFamily, error) {
	b, err := get(ctx, p.URL+"/metrics")
	if err != nil {
		return nil, fmt.Errorf("read pushgateway metrics: %w", err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("parse pushgateway metrics: %w", err)
	}
	return mfs, nil
}

// Samples returns the value of every series of family name on the
// Pushgateway's /metrics by label set (keys as in Vector, the family name
// first). Counters, gauges and untyped metrics have one sample per series;
// for histograms and summaries the _sum and _count are given.
func (p *Pushgateway) Samples(ctx context.Context, name string) (Vector, error) {
	mfs, err := p.Families(ctx)
	if err != nil {
		return nil, err
	}
	out := Vector{}
	mf, ok := mfs[name]
	if !ok {
		return out, nil
	}
	for _, m := range mf.GetMetric() {
		lm := model.Metric{}
		for _, l := range m.GetLabel() {
			lm[model.LabelName(l.GetName())] = model.LabelValue(l.GetValue())
		}
		key := func(suffix string) string {
			c := lm.Clone()
			c[model.MetricNameLabel] = model.LabelValue(name + suffix)
			return c.String()
		}
		switch {
		case m.Counter != nil:
			out[key("")] = m.GetCounter().GetValue()
		case m.Gauge != nil:
			out[key("")] = m.GetGauge().GetValue()
		case m.Untyped != nil:
			out[key("")] = m.GetUntyped().GetValue()
		case m.Histogram != nil:
			out[key("_sum")] = m.GetHistogram().GetSampleSum()
			out[key("_count")] = float64(m.GetHistogram().GetSampleCount())
		case m.Summary != nil:
			out[key("_sum")] = m.GetSummary().GetSampleSum()
			out[key("_count")] = float64(m.GetSummary().GetSampleCount())
		}
	}
	return out, nil
}
