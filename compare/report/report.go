// Package report is the outcome of a `lambdabridge compare` run and its
// writers: the terminal table, JSON (its field names are a contract) and a
// self-contained HTML page. It knows nothing of how the numbers were made:
// compare/analysis fills a Report from a run's observations.
//
//	rep := analysis.Analyze(obs)
//	if err := rep.WriteTable(os.Stdout); err != nil { return err }
//	err = rep.WriteJSON(f) // or rep.WriteHTML(f)
package report

import "time"

// Report is the outcome of a comparison.
type Report struct {
	Function           string           `json:"function"`
	Start              time.Time        `json:"start"`
	End                time.Time        `json:"end"`
	WorkloadSeconds    float64          `json:"workload_seconds"`
	Concurrency        int              `json:"concurrency"`
	Rate               float64          `json:"rate,omitempty"`
	BurstSeconds       float64          `json:"burst_seconds"`
	QuietSeconds       float64          `json:"quiet_seconds"`
	IdleTimeoutSeconds float64          `json:"idle_timeout_seconds"`
	ScrapeIntervalSecs float64          `json:"scrape_interval_seconds"`
	Invocations        int              `json:"invocations"`
	ColdStarts         int              `json:"cold_starts"`
	Failed             int              `json:"failed_invocations"`
	Environments       int              `json:"environments"`
	EnvironmentsEnded  int              `json:"environments_ended"`
	MeanDurationMs     float64          `json:"mean_duration_ms"`
	MeanBilledMs       float64          `json:"mean_billed_ms"`
	MemoryMB           int              `json:"memory_mb"`
	Architecture       string           `json:"architecture"`
	MonthlyInvocations int64            `json:"monthly_invocations"`
	Prices             Prices           `json:"prices"`
	Strategies         []StrategyResult `json:"strategies"`
	// Notes say what the numbers do not cover.
	Notes []string `json:"notes,omitempty"`
}

// StrategyResult is what one strategy delivered. Emitted and Visible are
// count units: counter increments plus histogram observations, summed over
// families; gauges are compared by their last value (GaugesMatched).
type StrategyResult struct {
	Name                       string  `json:"name"`
	Emitted                    float64 `json:"emitted"`
	Visible                    float64 `json:"visible"`
	Lost                       float64 `json:"lost"`
	LostRatio                  float64 `json:"lost_ratio"`
	OverCounted                float64 `json:"over_counted"`
	OverCountedRatio           float64 `json:"over_counted_ratio"`
	GaugesMatched              int     `json:"gauges_matched"`
	Gauges                     int     `json:"gauges"`
	Series                     int     `json:"series"`
	StaleSeries                int     `json:"stale_series"`
	P50VisibilitySeconds       float64 `json:"p50_visibility_seconds"`
	P99VisibilitySeconds       float64 `json:"p99_visibility_seconds"`
	AddedBilledMsPerInvocation float64 `json:"added_billed_ms_per_invocation"`
	MeanInlineMs               float64 `json:"mean_inline_ms"`
	InlineErrors               int     `json:"inline_errors"`
	Requests                   int64   `json:"requests"`
	BytesSent                  int64   `json:"bytes_sent"`
	SamplesIngested            int     `json:"samples_ingested"`
	MonthlyLambdaUSD           float64 `json:"monthly_lambda_usd"`
	MonthlyIngestionUSD        float64 `json:"monthly_ingestion_usd"`
	MonthlyCostUSD             float64 `json:"monthly_cost_usd"`
	// Query is the PromQL that reads the strategy's series back.
	Query    string         `json:"query"`
	Families []FamilyResult `json:"families"`
	Timeline []TimePoint    `json:"timeline"`
}

// FamilyResult compares one metric family. For counters Count is the
// total; for histograms Count and Sum are the observations' count and sum;
// for gauges Last is the last value.
type FamilyResult struct {
	Name             string   `json:"name"`
	Type             string   `json:"type"`
	EmittedCount     float64  `json:"emitted_count"`
	VisibleCount     float64  `json:"visible_count"`
	EmittedSum       float64  `json:"emitted_sum,omitempty"`
	VisibleSum       float64  `json:"visible_sum,omitempty"`
	EmittedLast      *float64 `json:"emitted_last,omitempty"`
	VisibleLast      *float64 `json:"visible_last,omitempty"`
	LostRatio        float64  `json:"lost_ratio"`
	OverCountedRatio float64  `json:"over_counted_ratio"`
	Series           int      `json:"series"`
}

// TimePoint is one step of the emitted-vs-visible timeline (count units,
// cumulative), Seconds after the workload started.
type TimePoint struct {
	Seconds float64 `json:"t"`
	Emitted float64 `json:"emitted"`
	Visible float64 `json:"visible"`
}

// Prices are the prices a report used.
type Prices struct {
	Date                    string  `json:"date"`
	LambdaUSDPerGBSecond    float64 `json:"lambda_usd_per_gb_second"`
	IngestionUSDPerMillion  float64 `json:"ingestion_usd_per_million_samples"`
	IngestionPriceReference string  `json:"ingestion_price_reference"`
}
