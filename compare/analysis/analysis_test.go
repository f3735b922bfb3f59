package analysis

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lambdabridge/lambdabridge/compare/report"
)

var t0 = time.Unix(1_700_000_000, 0).UTC()

// at is t0 plus s seconds.
func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func f64(v float64) *float64 { return &v }

// series builds a series of name with labels (pairs) and points (pairs of
// seconds and value).
func series(name string, labels []string, pts ...float64) Series {
	s := Series{Labels: map[string]string{"__name__": name}}
	for i := 0; i+1 < len(labels); i += 2 {
		s.Labels[labels[i]] = labels[i+1]
	}
	for i := 0; i+1 < len(pts); i += 2 {
		s.Points = append(s.Points, Point{T: at(pts[i]), V: pts[i+1]})
	}
	return s
}

var truth = []Family{
	{Name: "orders_total", Type: Counter, Count: 10},
	{Name: "latency_seconds", Type: Histogram, Count: 10, Sum: 2.5},
	{Name: "cart_items", Type: Gauge, Last: f64(3)},
}

func TestCompareFamiliesPerStrategy(t *testing.T) {
	tests := []struct {
		name    string
		samples []Series
		want    report.StrategyResult // the fields compared
	}{{
		name: "remote-write: two environments' series add up to the truth",
		samples: []Series{
			series("orders_total", []string{"lambda_environment", "a"}, 1, 2, 2, 4),
			series("orders_total", []string{"lambda_environment", "b"}, 3, 6),
			series("latency_seconds_count", []string{"lambda_environment", "a"}, 2, 10),
			series("latency_seconds_sum", []string{"lambda_environment", "a"}, 2, 2.5),
			series("latency_seconds_bucket", []string{"le", "+Inf"}, 2, 10),
			series("cart_items", nil, 1, 5, 3, 3),
		},
		want: report.StrategyResult{Emitted: 20, Visible: 20, GaugesMatched: 1, Gauges: 1, SamplesIngested: 8},
	}, {
		name: "pushgateway: pushers overwrite each other, 6 of 10 orders lost",
		samples: []Series{
			series("orders_total", []string{"job", "fn"}, 1, 2, 2, 4),
			series("latency_seconds_count", []string{"job", "fn"}, 2, 10),
			series("cart_items", nil, 3, 2),
		},
		want: report.StrategyResult{Emitted: 20, Visible: 14, Lost: 6, LostRatio: 0.3, Gauges: 1, SamplesIngested: 4},
	}, {
		name: "a restarted series counted twice: over-counted, nothing lost",
		samples: []Series{
			series("orders_total", []string{"instance", "a"}, 1, 10),
			series("orders_total", []string{"instance", "b"}, 2, 5),
			series("latency_seconds_count", nil, 2, 10),
			series("cart_items", nil, 3, 3),
		},
		want: report.StrategyResult{Emitted: 20, Visible: 25, OverCounted: 5, OverCountedRatio: 0.25, GaugesMatched: 1, Gauges: 1, SamplesIngested: 4},
	}, {
		name: "an earlier run's samples of the same series are not this run's",
		samples: []Series{
			series("orders_total", []string{"strategy", "aggregate"}, -30, 7, -20, 9, 1, 4, 2, 10),
			series("latency_seconds_count", []string{"strategy", "aggregate"}, -30, 3, 2, 10),
			series("cart_items", []string{"strategy", "aggregate"}, -25, 8), // only an earlier run's
		},
		want: report.StrategyResult{Emitted: 20, Visible: 20, Gauges: 1, SamplesIngested: 3},
	}, {
		name:    "nothing read back: everything lost, the gauge wrong",
		samples: nil,
		want:    report.StrategyResult{Emitted: 20, Lost: 20, LostRatio: 1, Gauges: 1},
	}, {
		name:    "series of another family are ingested but not compared",
		samples: []Series{series("up", nil, 1, 1, 2, 1)},
		want:    report.StrategyResult{Emitted: 20, Lost: 20, LostRatio: 1, Gauges: 1, SamplesIngested: 2},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var res report.StrategyResult
			fams, _ := readBack(&res, truth, tt.samples, t0)
			compareFamilies(&res, truth, fams)
			if len(res.Families) != len(truth) {
				t.Fatalf("%d families, want %d", len(res.Families), len(truth))
			}
			res.Families = nil
			if diff := cmp.Diff(tt.want, res, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestFamilyResults(t *testing.T) {
	var res report.StrategyResult
	fams, _ := readBack(&res, truth, []Series{
		series("orders_total", []string{"e", "a"}, 1, 8),
		series("latency_seconds_count", nil, 2, 10),
		series("latency_seconds_sum", nil, 2, 2.5),
		series("cart_items", []string{"e", "a"}, 1, 7),
		series("cart_items", []string{"e", "b"}, 4, 3), // the newest value wins
	}, t0)
	compareFamilies(&res, truth, fams)
	want := []report.FamilyResult{
		{Name: "orders_total", Type: "counter", EmittedCount: 10, VisibleCount: 8, LostRatio: 0.2, Series: 1},
		{Name: "latency_seconds", Type: "histogram", EmittedCount: 10, VisibleCount: 10, EmittedSum: 2.5, VisibleSum: 2.5, Series: 1},
		{Name: "cart_items", Type: "gauge", EmittedLast: f64(3), VisibleLast: f64(3), Series: 2},
	}
	if diff := cmp.Diff(want, res.Families, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSeriesRole(t *testing.T) {
	fams := map[string]*Family{
		"a_total":   {Name: "a_total", Type: Counter},
		"b_seconds": {Name: "b_seconds", Type: Histogram},
		"c_bytes":   {Name: "c_bytes", Type: Gauge},
		"d":         {Name: "d", Type: Summary},
	}
	tests := []struct{ series, fam, role string }{
		{"a_total", "a_total", "count"},
		{"a_total_count", "", ""},
		{"b_seconds_count", "b_seconds", "count"},
		{"b_seconds_sum", "b_seconds", "sum"},
		{"b_seconds_bucket", "b_seconds", "bucket"},
		{"d_count", "d", "count"},
		{"c_bytes", "c_bytes", "gauge"},
		{"c_bytes_count", "", ""},
		{"up", "", ""},
	}
	for _, tt := range tests {
		f, role := seriesRole(tt.series, fams)
		name := ""
		if f != nil {
			name = f.Name
		}
		if name != tt.fam || role != tt.role {
			t.Errorf("seriesRole(%q) = %q, %q; want %q, %q", tt.series, name, role, tt.fam, tt.role)
		}
	}
}

func TestPresentAndStaleSeries(t *testing.T) {
	dead := endedBefore([]Environment{
		{ID: "a", Started: at(0), Ended: at(5)},
		{ID: "b", Started: at(1)},
		{ID: "c", Started: at(1), Ended: at(30)}, // ended after the read-back
	}, at(20))
	present := []map[string]string{
		{"__name__": "x_total", "lambda_environment": "a", "instance": "a"},
		{"__name__": "x_total", "lambda_environment": "b", "instance": "b"},
		{"__name__": "x_bucket", "lambda_environment": "a", "instance": "a"},
		{"__name__": "y", "lambda_environment": "c", "instance": "c"},
		// The extension's: an environment named by its log stream.
		{"__name__": "z_total", "lambda_environment": "s1-0a0b0c"},
		{"__name__": "z_total", "lambda_environment": "s2-0d0e0f"},
		{"__name__": "z_total", "lambda_environment": "unknown-000000"},
	}
	tests := []struct {
		name          string
		st            Strategy
		series, stale int
	}{
		{"by environment label", Strategy{EnvLabel: "lambda_environment"}, 6, 1},
		{"by instance label", Strategy{EnvLabel: "instance"}, 6, 1},
		{"shared group of a dead pusher", Strategy{Pusher: "a"}, 6, 6},
		{"shared group of a live pusher", Strategy{Pusher: "b"}, 6, 0},
		{"no environment (aggregate)", Strategy{}, 6, 0},
		{"extension: label values mapped to environments", Strategy{EnvLabel: "lambda_environment",
			EnvOf: map[string]string{"s1-0a0b0c": "a", "s2-0d0e0f": "b"}}, 6, 2},
	}
	for _, tt := range tests {
		tt.st.Present = present
		series, stale := presentSeries(tt.st, dead)
		if series != tt.series || stale != tt.stale {
			t.Errorf("%s: %d series, %d stale; want %d, %d", tt.name, series, stale, tt.series, tt.stale)
		}
	}
}

func TestVisibility(t *testing.T) {
	ems := []Emission{{at(1), 10}, {at(2), 10}, {at(3), 80}}
	tests := []struct {
		name     string
		vt       []report.TimePoint
		p50, p99 float64
	}{
		{"nothing visible", nil, -1, -1},
		{"all at 5s", []report.TimePoint{{Seconds: 5, Visible: 100}}, 2, 4},
		{"in steps", []report.TimePoint{{Seconds: 1.5, Visible: 10}, {Seconds: 2.5, Visible: 20}, {Seconds: 4, Visible: 100}}, 1, 1},
		{"last 80 lost", []report.TimePoint{{Seconds: 2, Visible: 20}}, 0, 1},
		{"a drop does not undo visibility", []report.TimePoint{{Seconds: 2, Visible: 20}, {Seconds: 3, Visible: 5}, {Seconds: 6, Visible: 100}}, 3, 3},
		{"visible before emitted counts as 0s", []report.TimePoint{{Seconds: 0.5, Visible: 100}}, 0, 0},
	}
	for _, tt := range tests {
		p50, p99 := visibility(ems, tt.vt, t0)
		if math.Abs(p50-tt.p50) > 1e-9 || math.Abs(p99-tt.p99) > 1e-9 {
			t.Errorf("%s: p50 %v p99 %v, want %v %v", tt.name, p50, p99, tt.p50, tt.p99)
		}
	}
}

func TestTimeline(t *testing.T) {
	ems := []Emission{{at(1), 3}, {at(3), 2}}
	vt := []report.TimePoint{{Seconds: 2, Visible: 3}, {Seconds: 5, Visible: 4}}
	tl := timeline(ems, vt, t0, at(10))
	if len(tl) != 201 {
		t.Fatalf("%d points", len(tl))
	}
	tests := []struct{ sec, emitted, visible float64 }{
		{0, 0, 0}, {1, 3, 0}, {1.5, 3, 0}, {2, 3, 3}, {2.5, 3, 3}, {3.5, 5, 3}, {10, 5, 4},
	}
	for _, tt := range tests {
		i := int(math.Round(tt.sec / 10 * 200))
		if p := tl[i]; p.Seconds != tt.sec || p.Emitted != tt.emitted || p.Visible != tt.visible {
			t.Errorf("point %d: %+v, want %+v", i, p, tt)
		}
	}
	if tl := timeline(ems, vt, t0, t0); tl != nil {
		t.Errorf("empty span: %d points, want none", len(tl))
	}
}

// TestVisibleTimelineFromSeries checks the visible total read back: the sum
// of every count series' last value, changing as each series does.
func TestVisibleTimelineFromSeries(t *testing.T) {
	var res report.StrategyResult
	_, vt := readBack(&res, truth, []Series{
		series("orders_total", []string{"e", "a"}, 1, 2, 3, 5),
		series("orders_total", []string{"e", "b"}, 2, 4),
		series("latency_seconds_sum", nil, 2, 100), // a sum is not a count
		series("cart_items", nil, 2, 100),          // nor is a gauge
	}, t0)
	want := []report.TimePoint{{Seconds: 1, Visible: 2}, {Seconds: 2, Visible: 6}, {Seconds: 3, Visible: 9}}
	if diff := cmp.Diff(want, vt); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestAnalyze runs the whole analysis on a small run built by hand.
func TestAnalyze(t *testing.T) {
	ms := time.Millisecond
	obs := Observations{
		Function: "orders", Start: t0, DriveEnd: at(4), End: at(10), MemoryMB: 128, Architecture: "arm64",
		MonthlyInvocations: 1000,
		Workload: Workload{Duration: 4 * time.Second, Burst: 2 * time.Second, Quiet: time.Second,
			IdleTimeout: time.Second, ScrapeInterval: 2 * time.Second, Concurrency: 2},
		Invocations: []Invocation{
			{ColdStart: true, Duration: 3 * ms, Billed: 3 * ms},
			{Failed: true, Duration: ms, Billed: ms},
		},
		Environments: []Environment{{ID: "a", Started: at(0), Ended: at(6)}, {ID: "b", Started: at(1)}},
		Emissions:    []Emission{{at(2), 4}, {at(1), 6}}, // out of order: sorted by the analysis
		Truth:        []Family{{Name: "orders_total", Type: Counter, Count: 10}},
		Strategies: []Strategy{{
			Name: "remote-write", Inline: true, EnvLabel: "lambda_environment", Query: "q",
			Deliveries: []Delivery{{Invocation: 3 * ms, Took: ms}, {Invocation: ms, Took: ms}},
			Requests:   2, Bytes: 300,
			Samples: []Series{
				series("orders_total", []string{"lambda_environment", "a"}, 1.5, 6),
				series("orders_total", []string{"lambda_environment", "b"}, 3, 4),
			},
			Present: []map[string]string{{"__name__": "orders_total", "lambda_environment": "a"}},
		}},
		Notes: []string{"from the experiment"},
	}
	rep := Analyze(obs)
	if len(rep.Strategies) != 1 {
		t.Fatalf("%d strategies", len(rep.Strategies))
	}
	s := rep.Strategies[0]
	if len(s.Timeline) != 201 || s.Timeline[200].Emitted != 10 || s.Timeline[200].Visible != 10 {
		t.Errorf("timeline end: %+v", s.Timeline[len(s.Timeline)-1])
	}
	rep.Strategies[0].Timeline, rep.Strategies[0].Families = nil, nil
	want := &report.Report{
		Function: "orders", Start: t0, End: at(10), WorkloadSeconds: 4, Concurrency: 2, BurstSeconds: 2, QuietSeconds: 1,
		IdleTimeoutSeconds: 1, ScrapeIntervalSecs: 2, Invocations: 2, ColdStarts: 1, Failed: 1, Environments: 2,
		EnvironmentsEnded: 1, MeanDurationMs: 2, MeanBilledMs: 2, MemoryMB: 128, Architecture: "arm64",
		MonthlyInvocations: 1000, Prices: PricesFor("arm64"),
		Strategies: []report.StrategyResult{{
			Name: "remote-write", Emitted: 10, Visible: 10, Series: 1, StaleSeries: 1,
			P50VisibilitySeconds: 0.5, P99VisibilitySeconds: 1, AddedBilledMsPerInvocation: 1, MeanInlineMs: 1,
			Requests: 2, BytesSent: 300, SamplesIngested: 2,
			MonthlyLambdaUSD:    1.0 / 1000 * 128 / 1024 * LambdaUSDPerGBSecondArm64 * 1000,
			MonthlyIngestionUSD: 1.0 * 1000 / 1e6 * AMPUSDPerMillionSamples,
			Query:               "q",
		}},
		Notes: []string{
			"the workload (4s) lasted fewer than 3 scrape intervals (2s): the scrape-driven strategies were scraped only a few times, so their loss, visibility and samples are rough; give --duration 6s or more",
			"from the experiment",
		},
	}
	want.Strategies[0].MonthlyCostUSD = want.Strategies[0].MonthlyLambdaUSD + want.Strategies[0].MonthlyIngestionUSD
	if diff := cmp.Diff(want, rep, cmpopts.EquateApprox(1e-12, 0)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestAnalyzeExtension analyses the extension strategy as compare records
// it: its series named by the extension processes' instances (mapped to
// environments), its platform series (not in the truth: counted as samples
// only), the time it added after each runtime answer, samples sent on a
// clock (periodic) or per invocation.
func TestAnalyzeExtension(t *testing.T) {
	us := time.Microsecond
	base := Observations{
		Function: "orders", Start: t0, DriveEnd: at(4), End: at(100), MemoryMB: 1024, MonthlyInvocations: 1_000_000,
		Workload:     Workload{Duration: 4 * time.Second, ScrapeInterval: time.Second},
		Invocations:  make([]Invocation, 4),
		Environments: []Environment{{ID: "env-1", Started: at(0), Ended: at(6)}, {ID: "env-2", Started: at(1)}},
		Emissions:    []Emission{{at(1), 6}, {at(2), 4}},
		Truth:        []Family{{Name: "orders_total", Type: Counter, Count: 10}},
	}
	ext := Strategy{
		Name: "extension", Inline: true, EnvLabel: "lambda_environment",
		EnvOf: map[string]string{"s1-0a0b0c": "env-1", "s2-0d0e0f": "env-2"},
		Deliveries: []Delivery{
			{Invocation: 1200 * us, Took: 200 * us}, // 1.2 -> 1.4 ms: +0 billed
			{Invocation: 1900 * us, Took: 200 * us}, // 1.9 -> 2.1 ms: +1
			{Invocation: 1000 * us, Took: 400 * us}, // +1
			{Invocation: 3000 * us, Took: 200 * us}, // +1
		},
		Samples: []Series{
			series("orders_total", []string{"lambda_environment", "s1-0a0b0c"}, 5, 6),
			series("orders_total", []string{"lambda_environment", "s2-0d0e0f"}, 3, 1, 12, 4),
			series("lambda_invocations_total", []string{"lambda_environment", "s1-0a0b0c"}, 5, 3),
		},
		Present: []map[string]string{
			{"__name__": "orders_total", "lambda_environment": "s1-0a0b0c"},
			{"__name__": "orders_total", "lambda_environment": "s2-0d0e0f"},
		},
	}
	tests := []struct {
		name     string
		periodic bool
		samples  float64 // monthly
	}{
		{"periodic: samples on a clock", true, 4.0 / 100 * SecondsPerMonth},
		{"invocation: samples per invocation", false, 4.0 / 4 * 1_000_000},
	}
	for _, tt := range tests {
		obs := base
		st := ext
		st.ScrapeDriven = tt.periodic
		obs.Strategies = []Strategy{st}
		got := Analyze(obs).Strategies[0]
		want := report.StrategyResult{
			Name: "extension", Emitted: 10, Visible: 10, Series: 2, StaleSeries: 1,
			P50VisibilitySeconds: 4, P99VisibilitySeconds: 10, AddedBilledMsPerInvocation: 0.75, MeanInlineMs: 0.25,
			SamplesIngested:     4,
			MonthlyLambdaUSD:    0.75 / 1000 * LambdaUSDPerGBSecondX86 * 1_000_000,
			MonthlyIngestionUSD: tt.samples / 1e6 * AMPUSDPerMillionSamples,
		}
		want.MonthlyCostUSD = want.MonthlyLambdaUSD + want.MonthlyIngestionUSD
		got.Timeline, got.Families = nil, nil
		if diff := cmp.Diff(want, got, cmpopts.EquateApprox(1e-9, 0)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestDurationNotes(t *testing.T) {
	tests := []struct {
		d, iv time.Duration
		warn  bool
	}{
		{30 * time.Second, 5 * time.Second, false},
		{15 * time.Second, 5 * time.Second, false},
		{14 * time.Second, 5 * time.Second, true},
		{4 * time.Second, 5 * time.Second, true},
		{4 * time.Second, 0, false},
	}
	for _, tt := range tests {
		if got := durationNotes(Workload{Duration: tt.d, ScrapeInterval: tt.iv}); (len(got) > 0) != tt.warn {
			t.Errorf("duration %v, scrape interval %v: notes %q, want a warning: %v", tt.d, tt.iv, got, tt.warn)
		}
	}
}
