package logline

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lambdabridge/lambdabridge/metric"
)

var now = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func emfDoc(extra string) string {
	return fmt.Sprintf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[[]],"Metrics":[{"Name":"Orders","Unit":"Count"}]}]},"Orders":1%s}`, now.UnixMilli(), extra)
}

// Parse tries the parsers in a fixed order: EMF (a line with an object
// holding _aws), then MONITORING lines, then Datadog JSON; the first that
// claims the line wins, and an ordinary line gets nothing.
func TestParseDispatchOrder(t *testing.T) {
	mon := fmt.Sprintf("MONITORING|%d|1|count|shop.orders|#env:prod", now.Unix())
	ddJSON := fmt.Sprintf(`{"m":"shop.orders","v":1,"e":%d,"t":["env:prod"]}`, now.Unix())
	tests := []struct {
		name       string
		line       string
		want       metric.Format
		wantPoints []string // format/name of each point
		wantRules  []string
	}{
		{"ordinary line", "INFO handling order 7", metric.FormatUnknown, nil, nil},
		{"ordinary JSON log", `{"level":"info","msg":"order 7"}`, metric.FormatUnknown, nil, nil},
		{"EMF", emfDoc(""), metric.FormatEMF, []string{"emf/Orders"}, nil},
		{"EMF after a runtime prefix", "2026-11-23T10:00:00.000Z\treq-1\tINFO\t" + emfDoc(""), metric.FormatEMF, []string{"emf/Orders"}, nil},
		{"broken EMF is still EMF", `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[`, metric.FormatEMF, nil, []string{"emf/invalid-json"}},
		{"MONITORING", mon, metric.FormatMonitoring, []string{"monitoring/shop.orders"}, nil},
		{"Datadog JSON", ddJSON, metric.FormatDatadogJSON, []string{"datadog-json/shop.orders"}, nil},
		{"EMF wins over a MONITORING tag in a value", emfDoc(`,"note":"MONITORING|1|1|count|x"`), metric.FormatEMF, []string{"emf/Orders"}, nil},
		{"MONITORING wins over JSON after it", mon + ` {"m":"x","v":1}`, metric.FormatMonitoring, []string{"monitoring/shop.orders"}, nil},
	}
	p := New(WithClock(func() time.Time { return now }))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b metric.Batch
			got := p.Parse(&b, []byte(tt.line), metric.Origin{Source: "t", Line: 1})
			if got != tt.want {
				t.Errorf("Parse = %v, want %v", got, tt.want)
			}
			checkBatch(t, &b, tt.wantPoints, tt.wantRules)
		})
	}
}

// ParseLine reports a line Scan had to cut, and never parses a cut EMF
// document.
func TestParseLineCut(t *testing.T) {
	mon := fmt.Sprintf("MONITORING|%d|1|count|shop.orders|#env:prod", now.Unix())
	tests := []struct {
		name       string
		l          Line
		want       metric.Format
		wantPoints []string
		wantRules  []string
		wantSev    metric.Severity
	}{
		{"whole line", Line{Num: 3, Bytes: []byte(mon), Size: len(mon)}, metric.FormatMonitoring, []string{"monitoring/shop.orders"}, nil, 0},
		{"cut EMF: error, not parsed", Line{Num: 3, Bytes: []byte(emfDoc("")[:60]), Size: 2 << 20, Truncated: true}, metric.FormatEMF, nil, []string{RuleLineTooLong}, metric.Error},
		{"cut ordinary line: warning, rest parsed", Line{Num: 3, Bytes: []byte(mon), Size: 2 << 20, Truncated: true}, metric.FormatMonitoring, []string{"monitoring/shop.orders"}, []string{RuleLineTooLong}, metric.Warning},
	}
	p := New(WithClock(func() time.Time { return now }))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b metric.Batch
			got := p.ParseLine(&b, tt.l, metric.Origin{Source: "t"})
			if got != tt.want {
				t.Errorf("ParseLine = %v, want %v", got, tt.want)
			}
			checkBatch(t, &b, tt.wantPoints, tt.wantRules)
			for _, d := range b.Diags {
				if d.Origin.Line != tt.l.Num {
					t.Errorf("diagnostic on line %d, want %d", d.Origin.Line, tt.l.Num)
				}
				if d.Rule == RuleLineTooLong && d.Severity != tt.wantSev {
					t.Errorf("%s severity %v, want %v", d.Rule, d.Severity, tt.wantSev)
				}
			}
		})
	}
}

func checkBatch(t *testing.T, b *metric.Batch, wantPoints, wantRules []string) {
	t.Helper()
	var points, rules []string
	for _, pt := range b.Points {
		points = append(points, pt.Format.String()+"/"+pt.Name)
	}
	for _, d := range b.Diags {
		rules = append(rules, d.Rule)
	}
	if diff := cmp.Diff(wantPoints, points); diff != "" {
		t.Errorf("points (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantRules, rules); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
}
