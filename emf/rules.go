package emf

import "github.com/lambdabridge/lambdabridge/metric"

// Rule ids. Each diagnostic carries one; they are stable, so users can grep
// for them and documentation can refer to them. Rules lists them with their
// severity and what CloudWatch does.
const (
	RuleInvalidJSON        = "emf/invalid-json"
	RuleTextAroundObject   = "emf/text-around-object"
	RuleEventTooLarge      = "emf/event-too-large"
	RuleMissingMember      = "emf/missing-member"
	RuleWrongType          = "emf/wrong-type"
	RuleTimestampWindow    = "emf/timestamp-window"
	RuleNamespaceLength    = "emf/namespace-length"
	RuleNamespaceReserved  = "emf/namespace-reserved"
	RuleNamespaceChars     = "emf/namespace-client-limits"
	RuleNoDimensions       = "emf/no-dimensions"
	RuleDimensionSetSize   = "emf/dimension-set-size"
	RuleDimensionKey       = "emf/dimension-key"
	RuleDimensionMissing   = "emf/dimension-missing"
	RuleDimensionValue     = "emf/dimension-value"
	RuleNothingDeclared    = "emf/nothing-declared"
	RuleMetricsCount       = "emf/metrics-count"
	RuleMetricName         = "emf/metric-name"
	RuleMetricNoValue      = "emf/metric-missing-value"
	RuleMetricValue        = "emf/metric-value"
	RuleMetricValueCount   = "emf/metric-value-count"
	RuleMetricValueRange   = "emf/metric-value-range"
	RuleMetricPrecision    = "emf/metric-value-precision"
	RuleNegativeCount      = "emf/negative-count"
	RuleUnit               = "emf/unit"
	RuleStorageResolution  = "emf/storage-resolution"
	RuleResolutionConflict = "emf/resolution-conflict"
	RuleDuplicateMetric    = "emf/duplicate-metric"
	RuleDuplicateDimSet    = "emf/duplicate-dimension-set"
	RuleHighCardinality    = "emf/high-cardinality-dimension"
	RuleUniqueDimension    = "emf/unique-dimension-values"
	RuleUnitDrift          = "emf/unit-drift"
)

// RuleInfo documents one rule (see metric.RuleInfo).
type RuleInfo = metric.RuleInfo

// Rules lists every rule the parser applies, in the order of the format.
//
// What CloudWatch does: an event that fails EMF validation is stored as a
// log event, but none of its metrics are extracted (the only trace is the
// EMFValidationErrors / EMFParsingErrors metric in AWS/Logs), so most errors
// drop the whole event. A metric whose member is missing is skipped alone.
//
// Where the specification, the client libraries and CloudWatch disagree,
// the parser follows what CloudWatch does, as far as it is known:
//   - Dimensions: the specification requires it, but AWS's OpenTelemetry EMF
//     exporters omit it for metrics without attributes and CloudWatch
//     publishes those without dimensions, so a missing Dimensions is a
//     warning; "Dimensions": [] is what aws-embedded-metrics writes for
//     setDimensions([]) and raises nothing (both give points without labels).
//   - Namespace: the EMF schema allows 1..1024 characters; the client
//     libraries cap it at 256 and [a-zA-Z0-9._#:/-]. Beyond the schema is an
//     error, beyond the libraries a warning.
//   - Values: CloudWatch rejects magnitudes above 2^360 (an error); the
//     libraries refuse magnitudes above 2^53-1 (a warning).
//   - Event size: 256 KiB, the figure of the EMF specification page and of a
//     Lambda log line; CloudWatch Logs now takes 1 MB events, hence the
//     option WithMaxEventSize.
//   - A metric value written as an object (the Values/Counts statistic set
//     of the OpenTelemetry exporters) is outside the specification: an error
//     with a hint; lambdabridge does not read it.
var Rules = []RuleInfo{
	{Rule: RuleInvalidJSON, Severity: metric.Error, Effect: metric.EffectDropsEvent, Doc: "the line holds `\"_aws\"` but is not valid JSON (RFC 8259, nesting up to 1000)"},
	{Rule: RuleTextAroundObject, Severity: metric.Error, Effect: metric.EffectDropsEvent, Doc: "text before the object that is not a Lambda log prefix (`ts\\treqid\\tLEVEL\\t`, `[LEVEL]\\tts\\treqid\\t`), or text after it"},
	{Rule: RuleEventTooLarge, Severity: metric.Error, Effect: metric.EffectDropsEvent, Doc: "the line is larger than the maximum event size (256 KiB by default, see WithMaxEventSize)"},
	{Rule: RuleMissingMember, Severity: metric.Error, Effect: metric.EffectDropsEvent, Doc: "a required member is absent: _aws.Timestamp, _aws.CloudWatchMetrics, Namespace, Metrics, Name"},
	{Rule: RuleWrongType, Severity: metric.Error, Effect: metric.EffectDropsEvent, Doc: "a member of _aws has the wrong JSON type (Timestamp not an integer, CloudWatchMetrics not an array, Unit not a string...)"},
	{Rule: RuleTimestampWindow, Severity: metric.Error, Effect: metric.EffectDropsEvent, Doc: "_aws.Timestamp is more than 14 days in the past or 2 hours in the future; hints when it looks like seconds, microseconds or nanoseconds"},
	{Rule: RuleNamespaceLength, Severity: metric.Error, Effect: metric.EffectDropsEvent, Doc: "Namespace is empty or longer than 1024 characters"},
	{Rule: RuleNamespaceReserved, Severity: metric.Error, Effect: metric.EffectDropsEvent, Doc: "Namespace starts with `AWS/`, which CloudWatch reserves for its own services"},
	{Rule: RuleNamespaceChars, Severity: metric.Warning, Effect: metric.EffectNone, Doc: "Namespace is longer than 256 characters or has characters outside `[a-zA-Z0-9._#:/-]`: the EMF schema allows it, the client libraries and PutMetricData do not"},
	{Rule: RuleNoDimensions, Severity: metric.Warning, Effect: metric.EffectNone, Doc: "Dimensions is absent: the specification requires it, CloudWatch publishes the metrics without dimensions (AWS's OpenTelemetry EMF exporters rely on it); `[]` and `[[]]` say so explicitly and raise nothing"},
	{Rule: RuleDimensionSetSize, Severity: metric.Error, Effect: metric.EffectDropsEvent, Doc: "a DimensionSet has more than 30 keys"},
	{Rule: RuleDimensionKey, Severity: metric.Error, Effect: metric.EffectDropsEvent, Doc: "a dimension key is empty, only white space, longer than 250 characters, not ASCII, holds a control character, or starts with ':'"},
	{Rule: RuleDimensionMissing, Severity: metric.Error, Effect: metric.EffectDropsEvent, Doc: "a dimension key names no member of the root object"},
	{Rule: RuleDimensionValue, Severity: metric.Error, Effect: metric.EffectDropsEvent, Doc: "a dimension's member is not a string, or is empty, only white space, longer than 1024 characters, not ASCII, or holds a control character"},
	{Rule: RuleNothingDeclared, Severity: metric.Warning, Effect: metric.EffectNone, Doc: "CloudWatchMetrics or Metrics is `[]`: the event declares no metric"},
	{Rule: RuleMetricsCount, Severity: metric.Error, Effect: metric.EffectDropsEvent, Doc: "a directive has more than 100 metric definitions"},
	{Rule: RuleMetricName, Severity: metric.Error, Effect: metric.EffectDropsEvent, Doc: "a metric Name is empty, only white space, or longer than 1024 characters"},
	{Rule: RuleMetricNoValue, Severity: metric.Warning, Effect: metric.EffectDropsMetric, Doc: "a declared metric has no member in the root object (or an empty array): CloudWatch skips that metric"},
	{Rule: RuleMetricValue, Severity: metric.Error, Effect: metric.EffectDropsEvent, Doc: "a metric's member is not a number or an array of numbers"},
	{Rule: RuleMetricValueCount, Severity: metric.Error, Effect: metric.EffectDropsEvent, Doc: "a metric's array holds more than 100 values"},
	{Rule: RuleMetricValueRange, Severity: metric.Error, Effect: metric.EffectDropsEvent, Doc: "a value overflows a float64, or lies outside CloudWatch's range (magnitude above 2^360, or non-zero below 2^-360)"},
	{Rule: RuleMetricPrecision, Severity: metric.Warning, Effect: metric.EffectNone, Doc: "a value's magnitude exceeds 2^53-1: the client libraries refuse it and integers lose precision"},
	{Rule: RuleNegativeCount, Severity: metric.Warning, Effect: metric.EffectNone, Doc: "a value below zero with Unit Count: it becomes a Prometheus counter, which only goes up, so lambdabridge drops the value (`negative_counter`)"},
	{Rule: RuleUnit, Severity: metric.Error, Effect: metric.EffectDropsEvent, Doc: "Unit is not one of CloudWatch's units (case matters; `\"\"` means None); hints the likely unit"},
	{Rule: RuleStorageResolution, Severity: metric.Error, Effect: metric.EffectDropsEvent, Doc: "StorageResolution is not 1 or 60"},
	{Rule: RuleResolutionConflict, Severity: metric.Error, Effect: metric.EffectDropsEvent, Doc: "one metric name has two storage resolutions in one event"},
	{Rule: RuleDuplicateMetric, Severity: metric.Warning, Effect: metric.EffectNone, Doc: "one directive defines the same metric name twice, or two directives of one event define it in the same namespace with a DimensionSet of the same keys: its values are published twice"},
	{Rule: RuleDuplicateDimSet, Severity: metric.Warning, Effect: metric.EffectNone, Doc: "one directive lists the same DimensionSet twice: its values are published twice"},
	{Rule: RuleHighCardinality, Severity: metric.Warning, Effect: metric.EffectNone, Doc: "a dimension value looks unique per event (UUID, request or trace id, hex id, timestamp, long number): a cardinality and cost explosion (reported once per dimension key)"},
	{Rule: RuleUniqueDimension, Severity: metric.Warning, Effect: metric.EffectNone, Doc: "at Finish: a dimension whose value was different in each of 20 or more events"},
	{Rule: RuleUnitDrift, Severity: metric.Warning, Effect: metric.EffectNone, Doc: "at Finish: one metric (namespace and name) declared with different units across events"},
}
