// Package emf reads CloudWatch Embedded Metric Format (EMF) events from log
// lines and validates them the way CloudWatch does, so that a user learns
// locally why CloudWatch would extract no metric from an event.
//
//	p := emf.NewParser(emf.WithClock(time.Now))
//	isEMF := p.Parse(&batch, line, metric.Origin{Source: "fn.log", Line: n})
//	p.Finish(&batch) // after the last line: warnings that need the whole input
//
// Parse appends one metric.Point per metric definition and DimensionSet, and
// one metric.Diagnostic per broken rule; Rules lists the rules with what
// CloudWatch does about each. The parser is pure (no I/O, no logging) and,
// after warm-up, allocates nothing for a valid event: only "_aws" and the
// members it names are decoded (see json.go for why it does not use a JSON
// library).
package emf
