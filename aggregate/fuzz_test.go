package aggregate

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"

	"github.com/lambdabridge/lambdabridge/metric"
)

// FuzzAdd feeds arbitrary points and checks that whatever the aggregator
// keeps gathers consistently and encodes in every exposition format: nothing
// a producer writes may make /metrics fail.
func FuzzAdd(f *testing.F) {
	f.Add("Shop", "Latency", "Milliseconds", "Service=checkout", 100.0, uint8(metric.Histogram), uint8(metric.FormatEMF), 1.0)
	f.Add("", "page.views", "", "route:/a,canary", 1.0, uint8(metric.Counter), uint8(metric.FormatDogStatsD), 0.1)
	f.Add("", "foo", "", "le:5", 0.5, uint8(metric.Histogram), uint8(metric.FormatDogStatsD), 1.0)
	f.Add("", "foo_count", "", "", 1.0, uint8(metric.Counter), uint8(metric.FormatDogStatsD), 1.0)
	f.Add("", "users", "", "x:\xff\x00", math.NaN(), uint8(metric.Set), uint8(metric.FormatDogStatsD), 1.0)
	f.Add("\xff", "bad\xffname", "Count", "k\xff:v", 1.0, uint8(metric.Counter), uint8(metric.FormatEMF), 1.0)
	f.Add("", "db.up", "", "__name__:x", 2.0, uint8(metric.ServiceCheck), uint8(metric.FormatMonitoring), 1.0)
	f.Fuzz(func(t *testing.T, ns, name, unit, tags string, v float64, kind, format uint8, rate float64) {
		agg := New(WithMaxSeries(100), WithMixedLabelSets(len(tags)%2 == 0))
		p := metric.Point{Format: metric.Format(format % 6), Namespace: ns, Name: name, Unit: unit,
			Kind: metric.Kind(kind % 9), Values: []float64{v, -v, v * 1e300}, SampleRate: rate, Members: strings.Split(tags, ",")}
		for _, t := range strings.Split(tags, ",") {
			k, val, _ := strings.Cut(t, ":")
			p.Labels = append(p.Labels, metric.Label{Name: k, Value: val})
		}
		agg.Add(&p)
		q := p
		q.Kind = metric.Kind((kind + 1) % 9)
		agg.Add(&q)
		q.Name += "_count"
		agg.Add(&q)
		fams, err := prometheus.Gatherers{prometheus.NewPedanticRegistry(), agg}.Gather()
		if err != nil {
			t.Fatalf("inconsistent output: %v", err)
		}
		var buf bytes.Buffer
		for _, mf := range fams {
			if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
				t.Fatalf("text: %v", err)
			}
			if _, err := expfmt.MetricFamilyToOpenMetrics(&buf, mf); err != nil {
				t.Fatalf("openmetrics: %v", err)
			}
			if _, err := proto.Marshal(mf); err != nil {
				t.Fatalf("protobuf: %v", err)
			}
		}
	})
}
