package pipeline

import "github.com/lambdabridge/lambdabridge/validate"

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

// ValidationSummary returns the counts as `lambdabridge validate` reports
// them. Families are the catalog's (WithCatalog; 0 without one).
func (p *Pipeline) ValidationSummary() validate.Summary {
	in := p.Input()
	families := 0
	if p.catalog != nil {
		families = p.catalog.Len()
	}
	return validate.Summary{
		Files: in.Inputs, Lines: in.Lines, MetricLines: in.MetricLines, Points: in.Points,
		Families: families, Errors: in.Errors, Warnings: in.Warnings,
	}
}
