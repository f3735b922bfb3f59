package validate

import (
	"strings"
	"testing"

	"github.com/lambdabridge/lambdabridge/metric"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		points []metric.Point
		rules  []string // rule of each diagnostic, in order
		want   []string // a fragment of each diagnostic's message
	}{
		{
			name: "same source twice is fine",
			points: []metric.Point{
				{Format: metric.FormatEMF, Namespace: "Shop", Name: "Latency", Unit: "Milliseconds", Kind: metric.Histogram},
				{Format: metric.FormatEMF, Namespace: "Shop", Name: "Latency", Unit: "Milliseconds", Kind: metric.Histogram},
			},
		},
		{
			name: "two units of time merge",
			points: []metric.Point{
				{Format: metric.FormatEMF, Namespace: "Shop", Name: "Latency", Unit: "Milliseconds", Kind: metric.Histogram},
				{Format: metric.FormatEMF, Namespace: "Shop", Name: "latency", Unit: "Seconds", Kind: metric.Histogram},
			},
			rules: []string{RuleNameCollision},
			want:  []string{`both become Prometheus "shop_latency_seconds"`},
		},
		{
			name: "type conflict across formats",
			points: []metric.Point{
				{Format: metric.FormatDogStatsD, Name: "shop.orders", Kind: metric.Gauge},
				{Format: metric.FormatMonitoring, Name: "shop.orders", Kind: metric.Gauge},
				{Format: metric.FormatDogStatsD, Name: "shop.orders_total", Kind: metric.Gauge},
				{Format: metric.FormatEMF, Namespace: "Shop", Name: "Orders", Unit: "Count", Kind: metric.Counter},
			},
			rules: []string{RuleNameCollision, RuleTypeConflict},
			want:  []string{`"shop_orders"`, `made it a gauge`},
		},
		{
			name: "histogram suffix clash",
			points: []metric.Point{
				{Format: metric.FormatDogStatsD, Name: "req", Kind: metric.Histogram},
				{Format: metric.FormatDogStatsD, Name: "req.count", Kind: metric.Gauge},
			},
			rules: []string{RuleSuffixClash},
			want:  []string{`"req_count" clashes with histogram "req"`},
		},
		{
			name: "label clash reported once",
			points: []metric.Point{
				{Format: metric.FormatEMF, Namespace: "A", Name: "X", Labels: []metric.Label{{Name: "Service", Value: "a"}, {Name: "service", Value: "b"}}},
				{Format: metric.FormatEMF, Namespace: "A", Name: "X", Labels: []metric.Label{{Name: "Service", Value: "a"}, {Name: "service", Value: "b"}}},
			},
			rules: []string{RuleLabelClash},
			want:  []string{`keys "Service" and "service"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New()
			var got []metric.Diagnostic
			for i := range tt.points {
				var b metric.Batch
				tt.points[i].Origin = metric.Origin{Source: "t.log", Line: i + 1}
				b.AddPoint(tt.points[i])
				c.Check(&b)
				got = append(got, b.Diags...)
			}
			if len(got) != len(tt.rules) {
				t.Fatalf("got %d diagnostics, want %d: %v", len(got), len(tt.rules), got)
			}
			for i, d := range got {
				if d.Rule != tt.rules[i] || !strings.Contains(d.Message, tt.want[i]) || d.Severity != metric.Warning {
					t.Errorf("diagnostic %d = %s, want rule %s containing %q", i, d.String(), tt.rules[i], tt.want[i])
				}
			}
		})
	}
}
