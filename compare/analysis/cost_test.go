package analysis

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lambdabridge/lambdabridge/compare/report"
)

func TestAddedBilledMs(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		dur, d time.Duration
		want   float64
	}{
		{1200 * time.Microsecond, 0, 0},
		{1200 * time.Microsecond, 500 * time.Microsecond, 0}, // 1.2 -> 1.7 ms: still billed 2 ms
		{1200 * time.Microsecond, 900 * time.Microsecond, 1}, // 1.2 -> 2.1 ms: 3 ms
		{2 * ms, 3 * ms, 3},
		{2 * ms, 3*ms + time.Microsecond, 4},
	}
	for _, tt := range tests {
		if got := addedBilledMs(tt.dur, tt.d); got != tt.want {
			t.Errorf("addedBilledMs(%v, %v) = %v, want %v", tt.dur, tt.d, got, tt.want)
		}
	}
}

func TestInlineCost(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		st   Strategy
		want report.StrategyResult
	}{
		{"not inline: nothing added", Strategy{Deliveries: []Delivery{{Invocation: ms, Took: 5 * ms}}}, report.StrategyResult{}},
		{"inline, no delivery", Strategy{Inline: true}, report.StrategyResult{}},
		{"inline", Strategy{Inline: true, Deliveries: []Delivery{
			{Invocation: 1200 * time.Microsecond, Took: 500 * time.Microsecond},  // +0 ms billed
			{Invocation: 2 * ms, Took: 3*ms + time.Microsecond, Failed: true},    // +4 ms
			{Invocation: 1500 * time.Microsecond, Took: 1500 * time.Microsecond}, // 1.5 -> 3 ms: +1 ms
		}}, report.StrategyResult{AddedBilledMsPerInvocation: 5.0 / 3, MeanInlineMs: 5.001 / 3, InlineErrors: 1}},
	}
	for _, tt := range tests {
		var res report.StrategyResult
		inlineCost(&res, tt.st)
		if diff := cmp.Diff(tt.want, res, cmpopts.EquateApprox(1e-12, 0)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestMonthlyCost checks the cost model: scrape-driven strategies are
// ingested per scrape interval, pushing ones per invocation.
func TestMonthlyCost(t *testing.T) {
	invs := make([]Invocation, 1000)
	obs := Observations{Start: t0, End: at(100), Invocations: invs, MonthlyInvocations: 10_000_000, MemoryMB: 1024}
	p := PricesFor("x86_64")
	tests := []struct {
		name             string
		st               Strategy
		res              report.StrategyResult // input: samples, added billed ms
		samples, lambda  float64               // want: monthly samples, Lambda $
		ingestion, total float64
	}{{
		// 131 series scraped every 5 s for 100 s: 20 scrapes of 131 samples.
		name: "aggregate: 131 series every 5 s, whatever the invocations",
		st:   Strategy{ScrapeDriven: true}, res: report.StrategyResult{SamplesIngested: 131 * 20},
		samples: 131 * SecondsPerMonth / 5,
	}, {
		name: "remote-write: samples per invocation",
		st:   Strategy{Inline: true}, res: report.StrategyResult{SamplesIngested: 5000, AddedBilledMsPerInvocation: 2},
		samples: 5 * 10_000_000, lambda: 2.0 / 1000 * 1 * LambdaUSDPerGBSecondX86 * 10_000_000,
	}, {
		name: "pushgateway: pushed inline, but ingested per scrape",
		st:   Strategy{Inline: true, ScrapeDriven: true}, res: report.StrategyResult{SamplesIngested: 400, AddedBilledMsPerInvocation: 1},
		samples: 4 * SecondsPerMonth, lambda: 1.0 / 1000 * LambdaUSDPerGBSecondX86 * 10_000_000,
	}}
	for _, tt := range tests {
		res := tt.res
		monthlyCost(&res, tt.st, obs, p)
		if got := monthlySamples(tt.st, tt.res.SamplesIngested, obs); !almostEqual(got, tt.samples) {
			t.Errorf("%s: %v samples a month, want %v", tt.name, got, tt.samples)
		}
		ing := tt.samples / 1e6 * AMPUSDPerMillionSamples
		if !almostEqual(res.MonthlyLambdaUSD, tt.lambda) || !almostEqual(res.MonthlyIngestionUSD, ing) ||
			!almostEqual(res.MonthlyCostUSD, tt.lambda+ing) {
			t.Errorf("%s: $%v Lambda + $%v ingestion = $%v; want $%v + $%v", tt.name,
				res.MonthlyLambdaUSD, res.MonthlyIngestionUSD, res.MonthlyCostUSD, tt.lambda, ing)
		}
	}
	// The figure: 131 series at 5 s is about 68 million samples.
	if got := monthlySamples(Strategy{ScrapeDriven: true}, 131*20, obs); got < 67e6 || got > 69e6 {
		t.Errorf("aggregate at 5 s with 131 series: %v samples a month, want about 68M", got)
	}
	var none report.StrategyResult
	monthlyCost(&none, Strategy{}, Observations{MonthlyInvocations: 1}, p)
	if none.MonthlyCostUSD != 0 {
		t.Errorf("no invocation: $%v, want 0", none.MonthlyCostUSD)
	}
}

func TestPricesFor(t *testing.T) {
	if p := PricesFor("arm64"); p.LambdaUSDPerGBSecond != LambdaUSDPerGBSecondArm64 {
		t.Errorf("arm64: %v", p.LambdaUSDPerGBSecond)
	}
	if p := PricesFor("x86_64"); p.LambdaUSDPerGBSecond != LambdaUSDPerGBSecondX86 || p.Date != PricesDate {
		t.Errorf("x86_64: %+v", p)
	}
}
