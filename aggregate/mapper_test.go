package aggregate

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lambdabridge/lambdabridge/metric"
)

// TestTranslateMapperMatchesPromLabels checks the cached translation against
// metric.Translate and metric.PromLabels, including a metric seen with
// several tag lists (only the first is memoized).
func TestTranslateMapperMatchesPromLabels(t *testing.T) {
	m := NewTranslateMapper()
	points := []metric.Point{
		{Format: metric.FormatEMF, Namespace: "Shop", Name: "Latency", Unit: "Milliseconds", Labels: []metric.Label{{Name: "ServiceName", Value: "a"}, {Name: "service_name", Value: "dup"}}},
		{Format: metric.FormatDogStatsD, Name: "db.query", Kind: metric.Timer, Labels: []metric.Label{{Name: "env.name", Value: "prod"}, {Name: "canary", Value: ""}}},
		{Format: metric.FormatDogStatsD, Name: "db.query", Kind: metric.Timer, Labels: []metric.Label{{Name: "canary", Value: ""}, {Name: "region", Value: "eu"}}},
		{Format: metric.FormatDogStatsD, Name: "db.query", Kind: metric.Timer},
		{Format: metric.FormatDogStatsD, Name: "db.up", Kind: metric.ServiceCheck, Labels: []metric.Label{{Name: "check", Value: "x"}}},
		{Format: metric.FormatPlatform, Name: "lambda_duration_seconds", Kind: metric.Histogram, Unit: "Seconds", Labels: []metric.Label{{Name: "function_name", Value: "f"}}},
	}
	for round := range 2 {
		for i := range points {
			p := &points[i]
			fam, got := m.Map(nil, p)
			want := metric.PromLabels(nil, p)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("round %d %s labels (-PromLabels +mapper):\n%s", round, p.String(), diff)
			}
			if tf := metric.Translate(p); fam.Family != tf {
				t.Errorf("round %d %s family %+v, want %+v", round, p.String(), fam.Family, tf)
			}
		}
	}
}
