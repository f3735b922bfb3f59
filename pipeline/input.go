package pipeline

// Input counts what a pipeline was given: what `validate` and `tail` report
// about their inputs, and what a session's summary shows.
type Input struct {
	Inputs      int            // log streams read with ReadLog
	Lines       int            // log lines, ordinary ones included
	MetricLines map[string]int // lines holding metrics, by format (emf, monitoring, datadog-json)
	Datagrams   int            // DogStatsD datagrams
	Points      int            // points found (platform points included)
	Errors      int            // diagnostics of severity error: the backend would drop something
	Warnings    int            // diagnostics of severity warning
}
