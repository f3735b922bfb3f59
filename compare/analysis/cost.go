package analysis

import (
	"math"
	"time"

	"github.com/lambdabridge/lambdabridge/compare/report"
)

// Prices used for the monthly cost estimate, us-east-1, as published on
// the AWS pricing pages (aws.amazon.com/lambda/pricing,
// aws.amazon.com/prometheus/pricing) on 2024-11-15. Check them before you
// rely on the estimate: prices change and differ per region.
const (
	PricesDate = "2024-11-15"
	// Lambda duration, per GB-second, first pricing tier.
	LambdaUSDPerGBSecondX86   = 0.0000166667
	LambdaUSDPerGBSecondArm64 = 0.0000133334
	// Amazon Managed Service for Prometheus, metric samples ingested, first
	// 2 billion samples a month: $0.90 per 10 million samples.
	AMPUSDPerMillionSamples = 0.09
)

// SecondsPerMonth is the month of the estimate: 30 days.
const SecondsPerMonth = 30 * 24 * 60 * 60

// PricesFor returns the prices for a function's architecture.
func PricesFor(arch string) report.Prices {
	p := report.Prices{Date: PricesDate, LambdaUSDPerGBSecond: LambdaUSDPerGBSecondX86,
		IngestionUSDPerMillion: AMPUSDPerMillionSamples, IngestionPriceReference: "Amazon Managed Service for Prometheus, first tier"}
	if arch == "arm64" {
		p.LambdaUSDPerGBSecond = LambdaUSDPerGBSecondArm64
	}
	return p
}

// addedBilledMs is how many billed milliseconds d adds to an invocation
// of duration dur (Lambda bills in 1 ms steps, rounding up).
func addedBilledMs(dur, d time.Duration) float64 {
	ceil := func(x time.Duration) float64 { return math.Ceil(float64(x) / float64(time.Millisecond)) }
	return ceil(dur+d) - ceil(dur)
}

// inlineCost averages the in-invocation deliveries of an inline strategy:
// billed milliseconds added, time taken, failures.
func inlineCost(res *report.StrategyResult, st Strategy) {
	if !st.Inline || len(st.Deliveries) == 0 {
		return
	}
	var added float64
	var took time.Duration
	for _, d := range st.Deliveries {
		added += addedBilledMs(d.Invocation, d.Took)
		took += d.Took
		if d.Failed {
			res.InlineErrors++
		}
	}
	n := float64(len(st.Deliveries))
	res.AddedBilledMsPerInvocation = added / n
	res.MeanInlineMs = ms(took) / n
}

// monthlyCost prices a month of the strategy: the Lambda time it adds to
// every invocation, and the samples the backend ingests.
func monthlyCost(res *report.StrategyResult, st Strategy, obs Observations, p report.Prices) {
	if len(obs.Invocations) == 0 {
		return
	}
	monthly := float64(obs.MonthlyInvocations)
	res.MonthlyLambdaUSD = res.AddedBilledMsPerInvocation / 1000 * float64(obs.MemoryMB) / 1024 * p.LambdaUSDPerGBSecond * monthly
	res.MonthlyIngestionUSD = monthlySamples(st, res.SamplesIngested, obs) / 1e6 * p.IngestionUSDPerMillion
	res.MonthlyCostUSD = res.MonthlyLambdaUSD + res.MonthlyIngestionUSD
}

// monthlySamples is how many samples the strategy makes the backend ingest
// in a month. A scrape-driven strategy is ingested once per scrape
// interval whatever the number of invocations: its samples per second
// during the run, over a month (an aggregate of 131 series scraped every
// 5 s: about 68 million). A pushing strategy sends at every invocation:
// its samples per invocation, times the monthly invocations.
func monthlySamples(st Strategy, samples int, obs Observations) float64 {
	if st.ScrapeDriven {
		span := obs.End.Sub(obs.Start).Seconds()
		if span <= 0 {
			return 0
		}
		return float64(samples) / span * SecondsPerMonth
	}
	return float64(samples) / float64(len(obs.Invocations)) * float64(obs.MonthlyInvocations)
}
