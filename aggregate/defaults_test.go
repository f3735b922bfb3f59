package aggregate

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lambdabridge/lambdabridge/metric"
)

// The summary quantiles are statsd_exporter's defaults, on the quantiles the
// dashboards show.
func TestDefaultObjectives(t *testing.T) {
	want := map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001}
	if diff := cmp.Diff(want, DefaultObjectives); diff != "" {
		t.Errorf("DefaultObjectives (-want +got):\n%s", diff)
	}
	for _, q := range metric.DefaultQuantiles {
		if _, ok := DefaultObjectives[q]; !ok {
			t.Errorf("quantile %g of metric.DefaultQuantiles has no objective", q)
		}
	}
}
