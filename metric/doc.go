// Package metric is lambdabridge's metric model: the points that parsers find
// in what a Lambda function writes, the diagnostics they raise about broken
// input, and the translation of both to Prometheus names and types.
//
// It is the floor of the project: it imports nothing of lambdabridge's own,
// and every other package may import it.
//
//	var b metric.Batch
//	emfParser.Parse(&b, line, metric.Origin{Source: "fn.log", Line: 12})
//	for i := range b.Points { fam := metric.Translate(&b.Points[i]); ... }
package metric
