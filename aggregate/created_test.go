package aggregate

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"

	"github.com/lambdabridge/lambdabridge/metric"
)

// createdOf returns the created timestamp (Unix ms, 0 for none) of every
// series Gather returns, by family name.
func createdOf(t *testing.T, agg *Aggregator) map[string]int64 {
	t.Helper()
	fams, err := agg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, f := range fams {
		for _, m := range f.Metric {
			var ct interface{ AsTime() time.Time }
			switch {
			case m.Counter != nil && m.Counter.CreatedTimestamp != nil:
				ct = m.Counter.CreatedTimestamp
			case m.Histogram != nil && m.Histogram.CreatedTimestamp != nil:
				ct = m.Histogram.CreatedTimestamp
			case m.Summary != nil && m.Summary.CreatedTimestamp != nil:
				ct = m.Summary.CreatedTimestamp
			}
			key := f.GetName()
			for _, l := range m.Label {
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			if ct != nil {
				out[key] = ct.AsTime().UnixMilli()
			} else {
				out[key] = 0
			}
		}
	}
	return out
}

// TestCreatedTimestamps: counters, histograms and summaries carry the time
// their series received its first point (what Prometheus' created-timestamp
// zero ingestion and the remote_write zero sample start from); gauges carry
// none; a series that ends and comes back is created anew.
func TestCreatedTimestamps(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	clock := func() time.Time { return now }
	agg := New(WithClock(clock), WithPerEnvironment(true), WithFunctionLabel("function_name"))
	sum := New(WithClock(clock), WithMapper(&summaryMapper{}))
	add := func(a *Aggregator, p metric.Point, env string) {
		p.Origin.Environment, p.Origin.Function = env, "fn"
		a.Add(&p)
	}
	add(agg, dd(metric.Counter, "c", []float64{0}), "env-1") // declared at zero
	add(agg, dd(metric.Gauge, "g", []float64{3}), "env-1")
	add(sum, dd(metric.Histogram, "s", []float64{1}), "")
	now = now.Add(time.Second)
	add(agg, dd(metric.Counter, "c", []float64{2}), "env-1") // same series: created stays
	add(agg, dd(metric.Histogram, "h", []float64{1}), "env-2")
	want := map[string]int64{
		"c_total,function_name=fn,lambda_environment=env-1": 1_700_000_000_000,
		"g,function_name=fn,lambda_environment=env-1":       0,
		"h,function_name=fn,lambda_environment=env-2":       1_700_000_001_000,
	}
	if diff := cmp.Diff(want, createdOf(t, agg)); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int64{"s": 1_700_000_000_000}, createdOf(t, sum)); diff != "" {
		t.Errorf("summary created (-want +got):\n%s", diff)
	}

	// env-1 is recycled: its series end, env-2's go on.
	var ended []*dto.MetricFamily
	agg.onExpire = append(agg.onExpire, func(f []*dto.MetricFamily) { ended = append(ended, f...) })
	if n := agg.EndEnvironment("other", "env-1"); n != 0 { // ids repeat across functions
		t.Errorf("EndEnvironment(other, env-1) = %d, want 0", n)
	}
	if n := agg.EndEnvironment("fn", "env-1"); n != 2 {
		t.Errorf("EndEnvironment(env-1) = %d, want 2", n)
	}
	if len(ended) != 2 || ended[0].GetName() != "c_total" || ended[0].Metric[0].Counter.GetValue() != 2 {
		t.Errorf("ended = %v", ended)
	}
	now = now.Add(time.Second)
	add(agg, dd(metric.Counter, "c", []float64{1}), "env-1") // a new environment of the same id starts over
	want = map[string]int64{
		"c_total,function_name=fn,lambda_environment=env-1": 1_700_000_002_000,
		"h,function_name=fn,lambda_environment=env-2":       1_700_000_001_000,
	}
	if diff := cmp.Diff(want, createdOf(t, agg)); diff != "" {
		t.Errorf("after EndEnvironment (-want +got):\n%s", diff)
	}
	if n := New().EndEnvironment("fn", "env-1"); n != 0 {
		t.Errorf("EndEnvironment without WithPerEnvironment = %d, want 0", n)
	}
}
