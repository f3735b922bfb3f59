// Package analysis turns what one `lambdabridge compare` run observed into
// its report. It is pure: raw observations in, a report.Report out; no
// Prometheus, no network, no clock (every time comes from the
// observations), so each rule is tested with observations built by hand.
//
//	obs := analysis.Observations{Function: "orders", Start: t0, DriveEnd: t1, End: t2, ...}
//	rep := analysis.Analyze(obs)
//	rep.WriteTable(os.Stdout)
//
// The experiment (package compare) records the observations; the report
// package writes the result.
package analysis

import "time"

// Observations are what one comparison run recorded, nothing derived.
type Observations struct {
	Function string
	// Start is when the workload started, DriveEnd when it ended and End
	// when the strategies' series were read back.
	Start, DriveEnd, End time.Time
	Workload             Workload
	MemoryMB             int
	Architecture         string
	// MonthlyInvocations scales the cost estimate.
	MonthlyInvocations int64
	Invocations        []Invocation
	Environments       []Environment
	// Emissions are the moments the function emitted count units, in time
	// order.
	Emissions []Emission
	// Truth is what the function emitted, per metric family.
	Truth      []Family
	Strategies []Strategy
	// Notes are the experiment's own remarks (what it could not count).
	Notes []string
}

// Workload is how the function was driven.
type Workload struct {
	Duration, Burst, Quiet, IdleTimeout, ScrapeInterval time.Duration
	Concurrency                                         int
	Rate                                                float64
}

// Invocation is the outcome of one invocation.
type Invocation struct {
	ColdStart, Failed bool
	Duration, Billed  time.Duration
}

// Environment is one execution environment's life; Ended is zero while it
// lives.
type Environment struct {
	ID             string
	Started, Ended time.Time
}

// Emission is what the function emitted at one moment, in count units
// (counter increments and histogram observations).
type Emission struct {
	T     time.Time
	Units float64
}

// Family types, as the report names them.
const (
	Counter   = "counter"
	Gauge     = "gauge"
	Histogram = "histogram"
	Summary   = "summary"
	Untyped   = "untyped"
)

// Family is what the function emitted for one metric family: for counters
// Count is the total, for histograms and summaries Count and Sum are the
// observations' count and sum, for gauges (and untyped) Last is the last
// value.
type Family struct {
	Name  string
	Type  string
	Count float64
	Sum   float64
	Last  *float64
}

// Strategy is what one strategy did and what Prometheus holds of it.
type Strategy struct {
	Name string
	// Inline: it works inside every invocation (and so adds to the billed
	// duration): compare's deliveries, or the extension's work after the
	// runtime's answer. ScrapeDriven: its samples are sent on a clock
	// (Prometheus scrapes once per scrape interval; the extension's
	// periodic flush), however many invocations ran.
	Inline, ScrapeDriven bool
	// EnvLabel is the label that names the environment a series came from
	// ("" when series do not say); otherwise Pusher is the environment
	// every series belongs to (the last to push a shared group).
	EnvLabel, Pusher string
	// EnvOf maps EnvLabel's values to environment IDs where they differ
	// (the extension names an environment by its log stream).
	EnvOf map[string]string
	// Deliveries are its in-invocation deliveries (Inline strategies).
	Deliveries []Delivery
	// Requests and Bytes it sent (or that were scraped from it).
	Requests, Bytes int64
	// Query is the PromQL that reads its series back.
	Query string
	// Samples are every raw sample of its series over the run; Present
	// the label sets of the series present at End.
	Samples []Series
	Present []map[string]string
}

// Delivery is one in-invocation delivery (or the extension's work after
// the runtime's answer): how long it took, during an invocation that ran
// Invocation before it.
type Delivery struct {
	Invocation, Took time.Duration
	Failed           bool
}

// Series is one series read back: its labels (with __name__) and samples.
type Series struct {
	Labels map[string]string
	Points []Point
}

// Point is one sample.
type Point struct {
	T time.Time
	V float64
}
