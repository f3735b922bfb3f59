package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lambdabridge/lambdabridge/catalog"
	"github.com/lambdabridge/lambdabridge/logline"
	"github.com/lambdabridge/lambdabridge/logsource"
	"github.com/lambdabridge/lambdabridge/metric"
)

var onePathNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// onePathInput holds every case a log reader must agree on: a good EMF
// line, an EMF line over 1 MB, a broken EMF line, then good lines of every
// format, which must all be kept.
func onePathInput() []byte {
	ts := onePathNow.UnixMilli()
	good := func(name string, v int) string {
		return fmt.Sprintf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"%s","Unit":"Count"}]}]},"Service":"checkout","%s":%d}`, ts, name, name, v)
	}
	huge := fmt.Sprintf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Huge","Unit":"Count"}]}]},"Service":"checkout","Huge":1,"pad":"%s"}`, ts, strings.Repeat("x", 1<<20+10000))
	var b bytes.Buffer
	for _, l := range []string{
		"START RequestId: 1 Version: $LATEST",
		good("Orders", 1),
		huge,
		`{"_aws":{"Timestamp":` + fmt.Sprint(ts) + `,"CloudWatchMetrics":[{"Namespace":"Shop"`,
		good("Orders", 2),
		fmt.Sprintf("MONITORING|%d|3|count|shop.dd.orders|#service:checkout", onePathNow.Unix()),
		fmt.Sprintf(`{"m":"shop.dd.latency","v":12,"e":%d,"t":["service:checkout"]}`, onePathNow.Unix()),
		good("Refunds", 1),
	} {
		b.WriteString(l + "\n")
	}
	return b.Bytes()
}

// seen is what one reader reported.
type seen struct {
	Diags   []string
	Points  []string
	Catalog []string
}

func (s *seen) diag(d *metric.Diagnostic) { s.Diags = append(s.Diags, d.String()) }
func (s *seen) point(p *metric.Point) {
	s.Points = append(s.Points, fmt.Sprintf("%s %s/%s %v line %d", p.Format, p.Namespace, p.Name, p.Values, p.Origin.Line))
}
func (s *seen) catalog(c *catalog.Catalog) {
	for _, f := range c.Families() {
		s.Catalog = append(s.Catalog, f.Name)
	}
}

// The one log-line path: an EMF line over CloudWatch's 1 MB event is
// log/event-too-large (never emf/invalid-json from a cut document), a broken
// line is reported with its number, the lines after both are kept, and the
// START line gives the function's platform series (at 0, one running). validate, convert, dashboard
// and tail all read through it (cmd/lambdabridge's TestOneInputOneDiagnosis
// compares the four commands on this input).
func TestOneLogLinePath(t *testing.T) {
	in := onePathInput()
	clock := func() time.Time { return onePathNow }

	var viaPipeline seen
	cat := catalog.New()
	p, err := New(WithParserOptions(logline.WithClock(clock)), WithCatalog(cat), WithCatalogLint(),
		WithDiagnosticHandler(viaPipeline.diag), WithPointHandler(viaPipeline.point))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.ReadLog(context.Background(), "app.log", bytes.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	p.Finish()
	viaPipeline.catalog(cat)
	platformFamilies := []string{"lambda_billed_duration_seconds_total", "lambda_cold_starts_total", "lambda_concurrent_executions",
		"lambda_errors_total", "lambda_estimated_cost_usd_total", "lambda_invocations_total", "lambda_throttles_total", "lambda_timeouts_total"}
	if diff := cmp.Diff(append(platformFamilies, "shop_dd_latency", "shop_dd_orders_total", "shop_orders_total", "shop_refunds_total"), viaPipeline.Catalog); diff != "" {
		t.Errorf("catalog (-want +got):\n%s", diff)
	}
	rules := map[string]int{}
	for _, d := range viaPipeline.Diags {
		for _, r := range []string{logsource.RuleEventTooLarge, "emf/invalid-json"} {
			if strings.Contains(d, "["+r+"]") {
				rules[r]++
				if r == logsource.RuleEventTooLarge && !strings.HasPrefix(d, "app.log:3: error:") {
					t.Errorf("the huge line's diagnostic: %s", d)
				}
			}
		}
	}
	if rules[logsource.RuleEventTooLarge] != 1 || rules["emf/invalid-json"] != 1 {
		t.Errorf("rules found %v, want log/event-too-large once (line 3) and emf/invalid-json once (line 4):\n%s", rules, strings.Join(viaPipeline.Diags, "\n"))
	}
	metrics := 0
	for _, pt := range viaPipeline.Points {
		if !strings.HasPrefix(pt, "platform ") {
			metrics++
		}
	}
	if metrics != 5 || len(viaPipeline.Points) != 5+9 {
		t.Errorf("%d points, want 5 metric points (every good line, none of the huge or broken ones) and 9 platform points (the START line):\n%s", len(viaPipeline.Points), strings.Join(viaPipeline.Points, "\n"))
	}
	want := Input{Inputs: 1, Lines: 8, MetricLines: map[string]int{"emf": 5, "monitoring": 1, "datadog-json": 1, "platform": 1}, Points: 14}
	got := p.Input()
	got.Errors, got.Warnings = 0, 0
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Input (-want +got):\n%s", diff)
	}
	sum := p.ValidationSummary()
	if all := p.Input(); sum.Files != 1 || sum.Lines != 8 || sum.Points != 14 || sum.Families != 12 || sum.Errors != all.Errors || sum.Warnings != all.Warnings {
		t.Errorf("ValidationSummary = %+v", sum)
	}
}

// Count values below zero vanished without a word (the aggregator drops
// them as negative_counter); the log-line path reports each one, in every
// format that has counts, and counts the warnings.
func TestNegativeCountsReported(t *testing.T) {
	now := time.Now()
	log := fmt.Sprintf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Orders","Unit":"Count"}]}]},"Service":"checkout","Orders":-5}
MONITORING|%d|-3|count|stock.level|#env:dev
MONITORING|%d|3|count|stock.level|#env:dev
`, now.UnixMilli(), now.Unix(), now.Unix())
	var got []string
	p, err := New(WithParserOptions(logline.WithClock(func() time.Time { return now })),
		WithDiagnosticHandler(func(d *metric.Diagnostic) {
			got = append(got, fmt.Sprintf("%d: %s %s", d.Origin.Line, d.Severity, d.Rule))
		}))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.ReadLog(context.Background(), "fn.log", strings.NewReader(log)); err != nil {
		t.Fatal(err)
	}
	p.Finish()
	want := []string{"1: warning emf/negative-count", "2: warning monitoring/negative-count"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	if sum := p.ValidationSummary(); sum.Warnings != 2 || sum.Errors != 0 {
		t.Errorf("summary %+v, want 2 warnings", sum)
	}
}
