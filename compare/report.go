package compare

import "github.com/lambdabridge/lambdabridge/compare/report"

// The report's types live in compare/report, with its writers
// (WriteTable, WriteJSON, WriteHTML); these names keep compare.Run's
// result readable as compare.Report.
type (
	Report         = report.Report
	StrategyResult = report.StrategyResult
	FamilyResult   = report.FamilyResult
	TimePoint      = report.TimePoint
	Prices         = report.Prices
)
