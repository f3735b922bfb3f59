package dogstatsd

import "github.com/lambdabridge/lambdabridge/metric"

// Rule describes one check of this package: its stable id, how severe a
// violation is and what Datadog does with the input.
type Rule struct {
	ID       string
	Severity metric.Severity
	Effect   metric.Effect
	Summary  string
}

// Rule ids. They are stable: users grep for them and the README lists them.
const (
	// DogStatsD datagram lines.
	RuleDSDBadLine        = "dogstatsd/bad-line"
	RuleDSDEmptyName      = "dogstatsd/empty-name"
	RuleDSDNameChars      = "dogstatsd/name-chars"
	RuleDSDMissingValue   = "dogstatsd/missing-value"
	RuleDSDBadValue       = "dogstatsd/bad-value"
	RuleDSDNonFinite      = "dogstatsd/non-finite-value"
	RuleDSDUnknownType    = "dogstatsd/unknown-type"
	RuleDSDSetMultiValue  = "dogstatsd/set-multi-value"
	RuleDSDNegativeCount  = "dogstatsd/negative-count"
	RuleDSDBadSampleRate  = "dogstatsd/bad-sample-rate"
	RuleDSDBadTimestamp   = "dogstatsd/bad-timestamp"
	RuleDSDTimestampType  = "dogstatsd/timestamp-type"
	RuleDSDBadContainer   = "dogstatsd/bad-container-id"
	RuleDSDUnknownField   = "dogstatsd/unknown-field"
	RuleDSDBadEventHeader = "dogstatsd/bad-event-header"
	RuleDSDEventLength    = "dogstatsd/event-length"
	RuleDSDEventCut       = "dogstatsd/event-length-mismatch"
	RuleDSDBadEventField  = "dogstatsd/bad-event-field"
	RuleDSDBadCheck       = "dogstatsd/bad-service-check"
	RuleDSDBadCheckStatus = "dogstatsd/bad-check-status"
	RuleDSDBadCheckField  = "dogstatsd/bad-check-field"

	// MONITORING log lines.
	RuleMonTooFewFields    = "monitoring/too-few-fields"
	RuleMonBadTimestamp    = "monitoring/bad-timestamp"
	RuleMonTimestampUnit   = "monitoring/timestamp-unit"
	RuleMonBadValue        = "monitoring/bad-value"
	RuleMonNonFinite       = "monitoring/non-finite-value"
	RuleMonNegativeCount   = "monitoring/negative-count"
	RuleMonUnknownType     = "monitoring/unknown-type"
	RuleMonEmptyName       = "monitoring/empty-name"
	RuleMonNameChars       = "monitoring/name-chars"
	RuleMonTagsWithoutHash = "monitoring/tags-without-hash"
	RuleMonBadCheckStatus  = "monitoring/bad-check-status"
	RuleMonExtraField      = "monitoring/extra-field"

	// Datadog flush-to-log JSON lines.
	RuleJSONBadJSON          = "datadog-json/bad-json"
	RuleJSONBadName          = "datadog-json/bad-name"
	RuleJSONEmptyName        = "datadog-json/empty-name"
	RuleJSONNameChars        = "datadog-json/name-chars"
	RuleJSONMissingValue     = "datadog-json/missing-value"
	RuleJSONBadValue         = "datadog-json/bad-value"
	RuleJSONNonFinite        = "datadog-json/non-finite-value"
	RuleJSONMissingTimestamp = "datadog-json/missing-timestamp"
	RuleJSONBadTimestamp     = "datadog-json/bad-timestamp"
	RuleJSONTimestampUnit    = "datadog-json/timestamp-unit"
	RuleJSONBadTags          = "datadog-json/bad-tags"
)

const (
	warn = metric.Warning
	fail = metric.Error

	none         = metric.EffectNone
	dropsMetric  = metric.EffectDropsMetric
	maxNameBytes = 200
)

// Rules lists every rule this package reports, in the order of the constants.
var Rules = []Rule{
	{RuleDSDBadLine, fail, dropsMetric, "a datagram line is neither name:value|type, an event nor a service check"},
	{RuleDSDEmptyName, fail, dropsMetric, "metric, event or service check without a name or title"},
	{RuleDSDNameChars, warn, none, "name not starting with a letter, longer than 200 bytes, or with characters other than ASCII letters, digits, '_' and '.' (Datadog rewrites them to '_')"},
	{RuleDSDMissingValue, fail, dropsMetric, "no value after the ':'"},
	{RuleDSDBadValue, fail, dropsMetric, "a value that is not a number"},
	{RuleDSDNonFinite, fail, dropsMetric, "a value that is NaN or infinite"},
	{RuleDSDNegativeCount, warn, none, "a count (c) value below zero: Datadog subtracts it, but a Prometheus counter only goes up, so lambdabridge drops the value (`negative_counter`)"},
	{RuleDSDUnknownType, fail, dropsMetric, "type other than c, g, h, d, ms, s"},
	{RuleDSDSetMultiValue, warn, none, "a set value with ':'; Datadog counts it as one member, it does not split it"},
	{RuleDSDBadSampleRate, fail, dropsMetric, "@sample rate not a number or outside (0,1]"},
	{RuleDSDBadTimestamp, fail, dropsMetric, "|T timestamp not a positive integer"},
	{RuleDSDTimestampType, fail, dropsMetric, "|T on a type other than gauge or count (the agent's no-aggregation pipeline discards it)"},
	{RuleDSDBadContainer, warn, none, "empty |c: container id (ignored)"},
	{RuleDSDUnknownField, warn, none, "unknown |x extension field (ignored)"},
	{RuleDSDBadEventHeader, fail, dropsMetric, "event header _e{title_len,text_len} malformed or title length 0"},
	{RuleDSDEventLength, fail, dropsMetric, "event shorter than the lengths its header declares"},
	{RuleDSDEventCut, warn, none, "event title or text length does not end at a '|' (Datadog cuts at the declared byte length)"},
	{RuleDSDBadEventField, warn, none, "event d:, p: or t: field malformed (ignored)"},
	{RuleDSDBadCheck, fail, dropsMetric, "service check without name and status fields"},
	{RuleDSDBadCheckStatus, fail, dropsMetric, "service check status other than 0, 1, 2, 3"},
	{RuleDSDBadCheckField, warn, none, "service check d: field malformed (ignored)"},

	{RuleMonTooFewFields, fail, dropsMetric, "MONITORING line with fewer than timestamp, value, type and name"},
	{RuleMonBadTimestamp, fail, dropsMetric, "timestamp not a positive integer"},
	{RuleMonTimestampUnit, warn, none, "timestamp in milliseconds, microseconds or nanoseconds instead of seconds (converted)"},
	{RuleMonBadValue, fail, dropsMetric, "value that is not a number"},
	{RuleMonNonFinite, fail, dropsMetric, "value that is NaN or infinite"},
	{RuleMonNegativeCount, warn, none, "a count value below zero (see dogstatsd/negative-count)"},
	{RuleMonUnknownType, fail, dropsMetric, "type other than count, gauge, histogram, check"},
	{RuleMonEmptyName, fail, dropsMetric, "empty metric name"},
	{RuleMonNameChars, warn, none, "name Datadog rewrites (see dogstatsd/name-chars)"},
	{RuleMonTagsWithoutHash, warn, none, "tags field without the leading '#' (accepted)"},
	{RuleMonBadCheckStatus, fail, dropsMetric, "check value other than 0, 1, 2, 3"},
	{RuleMonExtraField, warn, none, "fields after the tags (ignored)"},

	{RuleJSONBadJSON, fail, dropsMetric, "line meant as a metric (has \"m\" and \"v\" or \"e\") that is not valid JSON"},
	{RuleJSONBadName, fail, dropsMetric, "\"m\" is not a string"},
	{RuleJSONEmptyName, fail, dropsMetric, "\"m\" is empty"},
	{RuleJSONNameChars, warn, none, "name Datadog rewrites (see dogstatsd/name-chars)"},
	{RuleJSONMissingValue, fail, dropsMetric, "no \"v\""},
	{RuleJSONBadValue, fail, dropsMetric, "\"v\" is not a number"},
	{RuleJSONNonFinite, fail, dropsMetric, "\"v\" overflows float64"},
	{RuleJSONMissingTimestamp, fail, dropsMetric, "no \"e\""},
	{RuleJSONBadTimestamp, fail, dropsMetric, "\"e\" not a positive number"},
	{RuleJSONTimestampUnit, warn, none, "\"e\" in milliseconds or finer instead of seconds (converted)"},
	{RuleJSONBadTags, fail, dropsMetric, "\"t\" is not an array of strings"},
}
