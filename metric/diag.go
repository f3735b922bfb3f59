package metric

// Severity ranks a diagnostic.
type Severity uint8

const (
	// Warning: the backend accepts the input, but the user will likely regret it
	// (cardinality, unit drift, names that collide in Prometheus), or
	// lambdabridge accepted a known deviation (a MONITORING timestamp in ms).
	Warning Severity = iota + 1
	// Error: the backend (CloudWatch, Datadog) rejects the event or the metric.
	Error
)

func (s Severity) String() string {
	switch s {
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return "unknown"
}

// Effect says what the backend does with input that breaks a rule.
type Effect uint8

const (
	EffectNone        Effect = iota // accepted (warnings)
	EffectDropsEvent                // the whole log event or datagram is ignored
	EffectDropsMetric               // only the named metric is ignored
	EffectDropsValue                // only some values are ignored
)

func (e Effect) String() string {
	switch e {
	case EffectDropsEvent:
		return "drops the event"
	case EffectDropsMetric:
		return "drops the metric"
	case EffectDropsValue:
		return "drops the value"
	}
	return "accepts it"
}

// Diagnostic is one problem found in the input, tied to where it was read.
// Rule is a stable identifier (for example "emf/timestamp-window") that users
// can grep for and that documentation and tests refer to.
type Diagnostic struct {
	Origin   Origin
	Format   Format
	Severity Severity
	Rule     string
	// Message names the member at fault and what is wrong with it.
	Message string
	// Effect is what the backend does about it.
	Effect Effect
	// Hint, when not empty, suggests the likely cause or the fix.
	Hint string
}

// String renders the diagnostic like a compiler:
// FILE:LINE: error: [rule] message (CloudWatch drops the event); hint: ...
func (d *Diagnostic) String() string {
	s := d.Origin.String() + ": " + d.Severity.String() + ": [" + d.Rule + "] " + d.Message
	if d.Effect != EffectNone {
		s += " (" + d.backend() + " " + d.Effect.String() + ")"
	}
	if d.Hint != "" {
		s += "; hint: " + d.Hint
	}
	return s
}

func (d *Diagnostic) backend() string {
	switch d.Format {
	case FormatEMF:
		return "CloudWatch"
	case FormatMonitoring, FormatDatadogJSON, FormatDogStatsD:
		return "Datadog"
	}
	return "lambdabridge"
}

// RuleInfo documents one diagnostic rule of a parser: its id, severity,
// what the receiving service does with input that breaks it, and a
// sentence for the README's rule tables.
type RuleInfo struct {
	Rule     string
	Severity Severity
	Effect   Effect
	Doc      string
}
