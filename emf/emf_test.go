package emf

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lambdabridge/lambdabridge/metric"
)

// now is the injected clock of the tests: 2024-05-01T10:00:00Z.
const nowMs = 1714557600000

func testClock() time.Time { return time.UnixMilli(nowMs) }

var origin = metric.Origin{Source: "fn.log", Line: 7}

// ev builds an event: aws is the content of _aws.CloudWatchMetrics[0]
// (a directive), rest the other root members.
func ev(directive, rest string) string {
	s := `{"_aws":{"Timestamp":1714557600000,"CloudWatchMetrics":[` + directive + `]}`
	if rest != "" {
		s += "," + rest
	}
	return s + "}"
}

// shop is a valid directive used by many cases.
const shop = `{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency","Unit":"Milliseconds"}]}`

const shopMembers = `"Service":"checkout","Latency":100`

// diag is the part of a diagnostic a case pins: severity, rule, effect and
// fragments of the message and hint.
type diag struct {
	Sev    metric.Severity
	Rule   string
	Effect metric.Effect
	Msg    string // substring of Message
	Hint   string // substring of Hint
}

func e(rule, msg string) diag {
	return diag{metric.Error, rule, metric.EffectDropsEvent, msg, ""}
}

func w(rule, msg string) diag {
	return diag{metric.Warning, rule, metric.EffectNone, msg, ""}
}

func (d diag) hint(h string) diag { d.Hint = h; return d }

func (d diag) effect(x metric.Effect) diag { d.Effect = x; return d }

func pt(ns, name, unit string, labels []metric.Label, vals ...float64) metric.Point {
	return metric.Point{Format: metric.FormatEMF, Namespace: ns, Name: name, Kind: metric.EMFKind(unit), Unit: unit,
		Labels: labels, Values: vals, TimeMs: nowMs, Origin: origin}
}

func lbl(kv ...string) []metric.Label {
	var ls []metric.Label
	for i := 0; i+1 < len(kv); i += 2 {
		ls = append(ls, metric.Label{Name: kv[i], Value: kv[i+1]})
	}
	return ls
}

var checkout = lbl("Service", "checkout")

type parseCase struct {
	name   string
	line   string
	opts   []Option
	notEMF bool
	points []metric.Point
	diags  []diag
}

func parseCases() []parseCase {
	long := strings.Repeat("a", 1025)
	many := func(n int, f func(i int) string) string {
		var parts []string
		for i := range n {
			parts = append(parts, f(i))
		}
		return strings.Join(parts, ",")
	}
	return []parseCase{
		// What is and is not EMF.
		{name: "plain log line", line: "START RequestId: 1 Version: $LATEST", notEMF: true},
		{name: "json without _aws", line: `{"level":"info","msg":"hello"}`, notEMF: true},
		{name: "_aws only nested", line: `{"a":{"_aws":{"Timestamp":1}}}`, notEMF: true},
		{name: "_aws only in a string", line: `{"msg":"the \"_aws\" member"}`, notEMF: true},
		{name: "empty object", line: `{}`, notEMF: true},
		{name: "broken json without _aws", line: `{"a":`, notEMF: true},
		{
			name:   "spec example",
			line:   `{"_aws":{"Timestamp":1714557600000,"CloudWatchMetrics":[{"Namespace":"lambda-function-metrics","Dimensions":[["functionVersion"]],"Metrics":[{"Name":"time","Unit":"Milliseconds","StorageResolution":60}]}]},"functionVersion":"$LATEST","time":100,"requestId":"989ffbf8-9ace-4817-a57c-e4dd734019ee"}`,
			points: []metric.Point{withRes(pt("lambda-function-metrics", "time", "Milliseconds", lbl("functionVersion", "$LATEST"), 100), 60)},
		},
		{
			name: "array values and several dimension sets",
			line: ev(`{"Namespace":"Shop","Dimensions":[["Service"],["Service","Region"],[]],"Metrics":[{"Name":"Latency","Unit":"Milliseconds"},{"Name":"Orders","Unit":"Count"}]}`, `"Service":"checkout","Region":"eu-west-1","Latency":[100,200.5,-3e2],"Orders":2`),
			points: []metric.Point{
				pt("Shop", "Latency", "Milliseconds", checkout, 100, 200.5, -300),
				pt("Shop", "Latency", "Milliseconds", lbl("Service", "checkout", "Region", "eu-west-1"), 100, 200.5, -300),
				pt("Shop", "Latency", "Milliseconds", nil, 100, 200.5, -300),
				pt("Shop", "Orders", "Count", checkout, 2),
				pt("Shop", "Orders", "Count", lbl("Service", "checkout", "Region", "eu-west-1"), 2),
				pt("Shop", "Orders", "Count", nil, 2),
			},
		},
		{
			name:   "no unit",
			line:   ev(`{"Namespace":"Shop","Dimensions":[[]],"Metrics":[{"Name":"Temp"}]}`, `"Temp":21.5`),
			points: []metric.Point{pt("Shop", "Temp", "", nil, 21.5)},
		},
		{
			name:   "two directives",
			line:   ev(shop+`,{"Namespace":"Other","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency","Unit":"Milliseconds"}]}`, shopMembers),
			points: []metric.Point{pt("Shop", "Latency", "Milliseconds", checkout, 100), pt("Other", "Latency", "Milliseconds", checkout, 100)},
		},
		{
			name:   "node lambda prefix",
			line:   "2024-05-01T10:00:00.000Z\t989ffbf8-9ace-4817-a57c-e4dd734019ee\tINFO\t" + ev(shop, shopMembers),
			points: []metric.Point{pt("Shop", "Latency", "Milliseconds", checkout, 100)},
		},
		{
			name:   "python lambda prefix",
			line:   "[INFO]\t2024-05-01T10:00:00.000Z\t989ffbf8-9ace-4817-a57c-e4dd734019ee\t" + ev(shop, shopMembers),
			points: []metric.Point{pt("Shop", "Latency", "Milliseconds", checkout, 100)},
		},
		{
			name:   "white space around and CRLF",
			line:   "  " + ev(shop, shopMembers) + " \r\n",
			points: []metric.Point{pt("Shop", "Latency", "Milliseconds", checkout, 100)},
		},
		{
			name:   "escaped member names and values",
			line:   ev(`{"Namespace":"Sh\u006fp","Dimensions":[["Serv\u0069ce"]],"Metrics":[{"Name":"Lat\u0065ncy","Unit":"Milliseconds"}]}`, `"\u0053ervice":"check\/out","L\u0061tency":100`),
			points: []metric.Point{pt("Shop", "Latency", "Milliseconds", lbl("Service", "check/out"), 100)},
		},
		{
			name:   "repeated root member: the last wins",
			line:   ev(shop, `"Service":"first","Latency":1,"Service":"checkout","Latency":100`),
			points: []metric.Point{pt("Shop", "Latency", "Milliseconds", checkout, 100)},
		},
		{
			name:   "dotted key is a root member, not a path",
			line:   ev(`{"Namespace":"Shop","Dimensions":[["A.a"]],"Metrics":[{"Name":"M"}]}`, `"A":{"a":"nested"},"A.a":"flat","M":1`),
			points: []metric.Point{pt("Shop", "M", "", lbl("A.a", "flat"), 1)},
		},
		{
			name:   "unknown members ignored",
			line:   `{"_aws":{"Timestamp":1714557600000,"LogGroupName":"x","CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency","Unit":"Milliseconds","Extra":true}],"Extra":[1]}]},"Service":"checkout","Latency":100,"deep":[[{"x":[null,true,false]}]]}`,
			points: []metric.Point{pt("Shop", "Latency", "Milliseconds", checkout, 100)},
		},
		{
			name:   "timestamp written as an integral float",
			line:   `{"_aws":{"Timestamp":1.7145576E12,"CloudWatchMetrics":[` + shop + `]},` + shopMembers + `}`,
			points: []metric.Point{pt("Shop", "Latency", "Milliseconds", checkout, 100)},
		},
		{
			name:   "high resolution",
			line:   ev(`{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency","Unit":"Milliseconds","StorageResolution":1}]}`, shopMembers),
			points: []metric.Point{withRes(pt("Shop", "Latency", "Milliseconds", checkout, 100), 1)},
		},

		// JSON and framing.
		{name: "truncated", line: `{"_aws":{"Timestamp":1714557600000,"CloudWatchMetrics":[`, diags: []diag{e(RuleInvalidJSON, "unexpected end of input").hint("cut")}},
		{name: "trailing comma", line: `{"_aws":{"Timestamp":1714557600000,},"x":1}`, diags: []diag{e(RuleInvalidJSON, `invalid character '}' looking for a member name`)}},
		{name: "NaN is not JSON", line: ev(shop, `"Service":"checkout","Latency":NaN`), diags: []diag{e(RuleInvalidJSON, "invalid character 'N'")}},
		{name: "leading zero", line: ev(shop, `"Service":"checkout","Latency":01`), diags: []diag{e(RuleInvalidJSON, "after an object member")}},
		{name: "raw control character in a string", line: ev(shop, "\"Service\":\"check\tout\",\"Latency\":1"), diags: []diag{e(RuleInvalidJSON, "control character")}},
		{name: "bad escape", line: ev(shop, `"Service":"check\xout","Latency":1`), diags: []diag{e(RuleInvalidJSON, "invalid escape")}},
		{name: "single quotes", line: `{'_aws': 1, "_aws": 2}`, diags: []diag{e(RuleInvalidJSON, "looking for a member name")}},
		{name: "text before the object", line: "metrics: " + ev(shop, shopMembers), diags: []diag{e(RuleTextAroundObject, `"metrics: " before`)}},
		{name: "text after the object", line: ev(shop, shopMembers) + " trailing", diags: []diag{e(RuleTextAroundObject, `"trailing" after`)}},
		{name: "event too large", line: ev(shop, shopMembers), opts: []Option{WithMaxEventSize(100)}, diags: []diag{e(RuleEventTooLarge, "larger than the 100-byte limit")}},
		{name: "size limit off", line: ev(shop, shopMembers), opts: []Option{WithMaxEventSize(0)}, points: []metric.Point{pt("Shop", "Latency", "Milliseconds", checkout, 100)}},

		// _aws and Timestamp.
		{name: "_aws not an object", line: `{"_aws":[1]}`, diags: []diag{e(RuleWrongType, "_aws is an array, not an object")}},
		{name: "_aws null", line: `{"_aws":null}`, diags: []diag{e(RuleWrongType, "_aws is null, not an object")}},
		{name: "timestamp missing", line: `{"_aws":{"CloudWatchMetrics":[` + shop + `]},` + shopMembers + `}`, diags: []diag{e(RuleMissingMember, "_aws has no Timestamp")}},
		{name: "timestamp string", line: `{"_aws":{"Timestamp":"2024-05-01T10:00:00Z","CloudWatchMetrics":[` + shop + `]},` + shopMembers + `}`, diags: []diag{e(RuleWrongType, `_aws.Timestamp is a string "2024-05-01T10:00:00Z", not an integer`).hint("JSON number")}},
		{name: "timestamp fraction in seconds", line: `{"_aws":{"Timestamp":1714557600.5,"CloudWatchMetrics":[` + shop + `]},` + shopMembers + `}`, diags: []diag{e(RuleWrongType, "1714557600.5 is not an integer").hint("looks like seconds")}},
		{name: "timestamp in seconds", line: `{"_aws":{"Timestamp":1714557600,"CloudWatchMetrics":[` + shop + `]},` + shopMembers + `}`, diags: []diag{e(RuleTimestampWindow, "more than 14 days in the past").hint("looks like seconds; EMF wants milliseconds")}},
		{name: "timestamp in microseconds", line: `{"_aws":{"Timestamp":1714557600000000,"CloudWatchMetrics":[` + shop + `]},` + shopMembers + `}`, diags: []diag{e(RuleTimestampWindow, "more than 2 hours in the future").hint("looks like microseconds")}},
		{name: "timestamp in nanoseconds", line: `{"_aws":{"Timestamp":1714557600000000000,"CloudWatchMetrics":[` + shop + `]},` + shopMembers + `}`, diags: []diag{e(RuleTimestampWindow, "in the future").hint("looks like nanoseconds")}},
		{name: "timestamp 15 days old", line: fmt.Sprintf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[`+shop+`]},`+shopMembers+`}`, nowMs-15*24*3600*1000), diags: []diag{e(RuleTimestampWindow, "(2024-04-16T10:00:00Z) is more than 14 days in the past")}},
		{name: "timestamp 13 days old is fine", line: fmt.Sprintf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[`+shop+`]},`+shopMembers+`}`, nowMs-13*24*3600*1000),
			points: []metric.Point{withTime(pt("Shop", "Latency", "Milliseconds", checkout, 100), nowMs-13*24*3600*1000)}},
		{name: "timestamp 3 hours ahead", line: fmt.Sprintf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[`+shop+`]},`+shopMembers+`}`, nowMs+3*3600*1000), diags: []diag{e(RuleTimestampWindow, "more than 2 hours in the future")}},
		{name: "timestamp overflowing int64", line: `{"_aws":{"Timestamp":99999999999999999999999,"CloudWatchMetrics":[` + shop + `]},` + shopMembers + `}`, diags: []diag{e(RuleTimestampWindow, "in the future")}},

		// CloudWatchMetrics and directives.
		{name: "CloudWatchMetrics missing", line: `{"_aws":{"Timestamp":1714557600000}}`, diags: []diag{e(RuleMissingMember, "_aws has no CloudWatchMetrics")}},
		{name: "CloudWatchMetrics not an array", line: `{"_aws":{"Timestamp":1714557600000,"CloudWatchMetrics":` + shop + `},` + shopMembers + `}`, diags: []diag{e(RuleWrongType, "_aws.CloudWatchMetrics is an object, not an array")}},
		{name: "CloudWatchMetrics empty", line: ev("", ""), diags: []diag{w(RuleNothingDeclared, "_aws.CloudWatchMetrics is empty")}},
		{name: "directive not an object", line: ev(`"Shop"`, ""), diags: []diag{e(RuleWrongType, `_aws.CloudWatchMetrics[0] is a string, not an object`)}},
		{name: "namespace missing", line: ev(`{"Dimensions":[["Service"]],"Metrics":[{"Name":"Latency"}]}`, shopMembers), diags: []diag{e(RuleMissingMember, "_aws.CloudWatchMetrics[0] has no Namespace")}},
		{name: "namespace not a string", line: ev(`{"Namespace":7,"Dimensions":[["Service"]],"Metrics":[{"Name":"Latency"}]}`, shopMembers), diags: []diag{e(RuleWrongType, "Namespace is a number 7, not a string")}},
		{name: "namespace empty", line: ev(`{"Namespace":"","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency"}]}`, shopMembers), diags: []diag{e(RuleNamespaceLength, "Namespace is empty")}},
		{name: "namespace too long", line: ev(`{"Namespace":"`+long+`","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency"}]}`, shopMembers), diags: []diag{e(RuleNamespaceLength, "1025 characters long, more than 1024")}},
		{name: "namespace reserved", line: ev(`{"Namespace":"AWS/Lambda","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency"}]}`, shopMembers), diags: []diag{e(RuleNamespaceReserved, `"AWS/Lambda" starts with "AWS/"`)}},
		{
			name:   "namespace outside client pattern",
			line:   ev(`{"Namespace":"My Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency"}]}`, shopMembers),
			points: []metric.Point{pt("My Shop", "Latency", "", checkout, 100)},
			diags:  []diag{w(RuleNamespaceChars, `Namespace "My Shop" is outside the client libraries' limits`)},
		},
		{
			name:   "namespace longer than 256",
			line:   ev(`{"Namespace":"`+strings.Repeat("n", 300)+`","Dimensions":[[]],"Metrics":[{"Name":"M"}]}`, `"M":1`),
			points: []metric.Point{pt(strings.Repeat("n", 300), "M", "", nil, 1)},
			diags:  []diag{w(RuleNamespaceChars, "outside the client libraries' limits")},
		},

		// Dimensions.
		{
			name:   "dimensions missing",
			line:   ev(`{"Namespace":"Shop","Metrics":[{"Name":"Latency","Unit":"Milliseconds"}]}`, shopMembers),
			points: []metric.Point{pt("Shop", "Latency", "Milliseconds", nil, 100)},
			diags:  []diag{w(RuleNoDimensions, "has no Dimensions").hint(`[[]]`)},
		},
		{
			name:   "dimensions empty array",
			line:   ev(`{"Namespace":"Shop","Dimensions":[],"Metrics":[{"Name":"Latency","Unit":"Milliseconds"}]}`, shopMembers),
			points: []metric.Point{pt("Shop", "Latency", "Milliseconds", nil, 100)},
		},
		{name: "dimensions not an array", line: ev(`{"Namespace":"Shop","Dimensions":"Service","Metrics":[{"Name":"Latency"}]}`, shopMembers), diags: []diag{e(RuleWrongType, "Dimensions is a string, not an array of arrays")}},
		{name: "dimension set not an array", line: ev(`{"Namespace":"Shop","Dimensions":["Service"],"Metrics":[{"Name":"Latency"}]}`, shopMembers), diags: []diag{e(RuleWrongType, "Dimensions[0] is a string, not an array of dimension keys")}},
		{name: "dimension key not a string", line: ev(`{"Namespace":"Shop","Dimensions":[["Service",3]],"Metrics":[{"Name":"Latency"}]}`, shopMembers), diags: []diag{e(RuleWrongType, "Dimensions[0][1] is a number 3, not a string")}},
		{
			name: "31 dimensions",
			line: ev(`{"Namespace":"Shop","Dimensions":[[`+many(31, func(i int) string { return fmt.Sprintf(`"d%d"`, i) })+`]],"Metrics":[{"Name":"M"}]}`,
				many(31, func(i int) string { return fmt.Sprintf(`"d%d":"v"`, i) })+`,"M":1`),
			diags: []diag{e(RuleDimensionSetSize, "has 31 dimension keys, more than 30")},
		},
		{
			name: "30 dimensions are fine",
			line: ev(`{"Namespace":"Shop","Dimensions":[[`+many(30, func(i int) string { return fmt.Sprintf(`"d%d"`, i) })+`]],"Metrics":[{"Name":"M"}]}`,
				many(30, func(i int) string { return fmt.Sprintf(`"d%d":"v"`, i) })+`,"M":1`),
			points: []metric.Point{pt("Shop", "M", "", func() []metric.Label {
				var ls []metric.Label
				for i := range 30 {
					ls = append(ls, metric.Label{Name: fmt.Sprintf("d%d", i), Value: "v"})
				}
				return ls
			}(), 1)},
		},
		{name: "dimension key empty", line: ev(`{"Namespace":"Shop","Dimensions":[[""]],"Metrics":[{"Name":"M"}]}`, `"":"v","M":1`), diags: []diag{e(RuleDimensionKey, `dimension key "" is empty`)}},
		{name: "dimension key blank", line: ev(`{"Namespace":"Shop","Dimensions":[["  "]],"Metrics":[{"Name":"M"}]}`, `"  ":"v","M":1`), diags: []diag{e(RuleDimensionKey, "only white space")}},
		{name: "dimension key colon", line: ev(`{"Namespace":"Shop","Dimensions":[[":x"]],"Metrics":[{"Name":"M"}]}`, `":x":"v","M":1`), diags: []diag{e(RuleDimensionKey, `":x" starts with ':'`)}},
		{name: "dimension key not ASCII", line: ev(`{"Namespace":"Shop","Dimensions":[["Région"]],"Metrics":[{"Name":"M"}]}`, `"Région":"v","M":1`), diags: []diag{e(RuleDimensionKey, "is not ASCII")}},
		{name: "dimension key too long", line: ev(`{"Namespace":"Shop","Dimensions":[["`+strings.Repeat("k", 251)+`"]],"Metrics":[{"Name":"M"}]}`, `"`+strings.Repeat("k", 251)+`":"v","M":1`), diags: []diag{e(RuleDimensionKey, "251 characters long, more than 250")}},
		{name: "dimension member missing", line: ev(shop, `"Latency":100`), diags: []diag{e(RuleDimensionMissing, `dimension "Service": the root object has no member "Service"`)}},
		{name: "dimension value a number", line: ev(shop, `"Service":42,"Latency":100`), diags: []diag{e(RuleDimensionValue, `dimension "Service": value 42 is a number, not a string`).hint(`write "42"`)}},
		{name: "dimension value an object", line: ev(shop, `"Service":{"a":"b"},"Latency":100`), diags: []diag{e(RuleDimensionValue, `value is an object, not a string`)}},
		{name: "dimension value null", line: ev(shop, `"Service":null,"Latency":100`), diags: []diag{e(RuleDimensionValue, `value is null, not a string`)}},
		{name: "dimension value empty", line: ev(shop, `"Service":"","Latency":100`), diags: []diag{e(RuleDimensionValue, `value "" is empty`)}},
		{name: "dimension value blank", line: ev(shop, `"Service":" ","Latency":100`), diags: []diag{e(RuleDimensionValue, "only white space")}},
		{name: "dimension value not ASCII", line: ev(shop, `"Service":"café","Latency":100`), diags: []diag{e(RuleDimensionValue, "is not ASCII")}},
		{name: "dimension value escaped non-ASCII", line: ev(shop, `"Service":"caf\u00e9","Latency":100`), diags: []diag{e(RuleDimensionValue, "is not ASCII")}},
		{name: "dimension value control character", line: ev(shop, `"Service":"a\nb","Latency":100`), diags: []diag{e(RuleDimensionValue, "holds a control character")}},
		{name: "dimension value too long", line: ev(shop, `"Service":"`+long+`","Latency":100`), diags: []diag{e(RuleDimensionValue, "1025 characters long, more than 1024")}},
		{
			name:   "duplicate dimension set",
			line:   ev(`{"Namespace":"Shop","Dimensions":[["Service","Region"],["Region","Service"]],"Metrics":[{"Name":"M"}]}`, `"Service":"checkout","Region":"eu","M":1`),
			points: []metric.Point{pt("Shop", "M", "", lbl("Service", "checkout", "Region", "eu"), 1), pt("Shop", "M", "", lbl("Region", "eu", "Service", "checkout"), 1)},
			diags:  []diag{w(RuleDuplicateDimSet, "Dimensions[1] repeats Dimensions[0]")},
		},
		{
			name:   "request id as dimension",
			line:   ev(`{"Namespace":"Shop","Dimensions":[["requestId"]],"Metrics":[{"Name":"M"}]}`, `"requestId":"989ffbf8-9ace-4817-a57c-e4dd734019ee","M":1`),
			points: []metric.Point{pt("Shop", "M", "", lbl("requestId", "989ffbf8-9ace-4817-a57c-e4dd734019ee"), 1)},
			diags:  []diag{w(RuleHighCardinality, "looks like a UUID").hint("remove it from Dimensions")},
		},
		{
			name:   "trace id as dimension",
			line:   ev(`{"Namespace":"Shop","Dimensions":[["trace"]],"Metrics":[{"Name":"M"}]}`, `"trace":"1-5759e988-bd862e3fe1be46a994272793","M":1`),
			points: []metric.Point{pt("Shop", "M", "", lbl("trace", "1-5759e988-bd862e3fe1be46a994272793"), 1)},
			diags:  []diag{w(RuleHighCardinality, "an X-Ray trace id")},
		},
		{
			name:   "timestamp as dimension",
			line:   ev(`{"Namespace":"Shop","Dimensions":[["at"]],"Metrics":[{"Name":"M"}]}`, `"at":"2024-05-01T10:00:00.123Z","M":1`),
			points: []metric.Point{pt("Shop", "M", "", lbl("at", "2024-05-01T10:00:00.123Z"), 1)},
			diags:  []diag{w(RuleHighCardinality, "a timestamp")},
		},
		{
			name:   "hex id as dimension",
			line:   ev(`{"Namespace":"Shop","Dimensions":[["id"]],"Metrics":[{"Name":"M"}]}`, `"id":"5f2b9c1e8a7d4e3f","M":1`),
			points: []metric.Point{pt("Shop", "M", "", lbl("id", "5f2b9c1e8a7d4e3f"), 1)},
			diags:  []diag{w(RuleHighCardinality, "a hex id")},
		},
		{
			name:   "long number as dimension",
			line:   ev(`{"Namespace":"Shop","Dimensions":[["order"]],"Metrics":[{"Name":"M"}]}`, `"order":"1714557600123","M":1`),
			points: []metric.Point{pt("Shop", "M", "", lbl("order", "1714557600123"), 1)},
			diags:  []diag{w(RuleHighCardinality, "a long number")},
		},

		// Metrics.
		{name: "metrics missing", line: ev(`{"Namespace":"Shop","Dimensions":[["Service"]]}`, shopMembers), diags: []diag{e(RuleMissingMember, "_aws.CloudWatchMetrics[0] has no Metrics")}},
		{name: "metrics not an array", line: ev(`{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":{"Name":"Latency"}}`, shopMembers), diags: []diag{e(RuleWrongType, "Metrics is an object, not an array")}},
		{name: "metrics empty", line: ev(`{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[]}`, shopMembers), diags: []diag{w(RuleNothingDeclared, "Metrics is empty")}},
		{
			name:  "101 metrics",
			line:  ev(`{"Namespace":"Shop","Dimensions":[[]],"Metrics":[`+many(101, func(i int) string { return fmt.Sprintf(`{"Name":"m%d"}`, i) })+`]}`, many(101, func(i int) string { return fmt.Sprintf(`"m%d":1`, i) })),
			diags: []diag{e(RuleMetricsCount, "has 101 metric definitions, more than 100")},
		},
		{name: "metric definition not an object", line: ev(`{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":["Latency"]}`, shopMembers), diags: []diag{e(RuleWrongType, "Metrics[0] is a string, not an object")}},
		{name: "name missing", line: ev(`{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Unit":"Count"}]}`, shopMembers), diags: []diag{e(RuleMissingMember, "Metrics[0] has no Name")}},
		{name: "name not a string", line: ev(`{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":["Latency"]}]}`, shopMembers), diags: []diag{e(RuleWrongType, "Metrics[0].Name is an array, not a string")}},
		{name: "name empty", line: ev(`{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":""}]}`, shopMembers+`,"":1`), diags: []diag{e(RuleMetricName, "Name is empty")}},
		{name: "name blank", line: ev(`{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":" "}]}`, shopMembers+`," ":1`), diags: []diag{e(RuleMetricName, "only white space")}},
		{name: "name too long", line: ev(`{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"`+long+`"}]}`, shopMembers), diags: []diag{e(RuleMetricName, "1025 characters long")}},
		{
			name:   "metric member missing drops only the metric",
			line:   ev(`{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency","Unit":"Milliseconds"},{"Name":"Orders","Unit":"Count"}]}`, shopMembers),
			points: []metric.Point{pt("Shop", "Latency", "Milliseconds", checkout, 100)},
			diags:  []diag{w(RuleMetricNoValue, `metric "Orders": the root object has no member "Orders"`).effect(metric.EffectDropsMetric)},
		},
		{
			name:  "metric empty array",
			line:  ev(shop, `"Service":"checkout","Latency":[]`),
			diags: []diag{w(RuleMetricNoValue, "empty array").effect(metric.EffectDropsMetric)},
		},
		{name: "metric value a string", line: ev(shop, `"Service":"checkout","Latency":"abc"`), diags: []diag{e(RuleMetricValue, `metric "Latency": value "abc" is a string, not a number`)}},
		{name: "metric value a quoted number", line: ev(shop, `"Service":"checkout","Latency":"12.5"`), diags: []diag{e(RuleMetricValue, `value "12.5" is a string`).hint("without quotes")}},
		{name: "metric value a bool", line: ev(shop, `"Service":"checkout","Latency":true`), diags: []diag{e(RuleMetricValue, `value true is true, not a number`)}},
		{name: "metric value null", line: ev(shop, `"Service":"checkout","Latency":null`), diags: []diag{e(RuleMetricValue, `value is null, not a number`)}},
		{name: "metric value statistic set", line: ev(shop, `"Service":"checkout","Latency":{"Values":[1],"Counts":[1]}`), diags: []diag{e(RuleMetricValue, "is an object").hint("statistic-set")}},
		{name: "metric array with a string", line: ev(shop, `"Service":"checkout","Latency":[1,"2",3]`), diags: []diag{e(RuleMetricValue, `value [1] "2" is a string`)}},
		{name: "metric array with a nested array", line: ev(shop, `"Service":"checkout","Latency":[[1]]`), diags: []diag{e(RuleMetricValue, `value [0] is an array`)}},
		{name: "101 values", line: ev(shop, `"Service":"checkout","Latency":[`+many(101, func(int) string { return "1" })+`]`), diags: []diag{e(RuleMetricValueCount, "101 values, more than 100")}},
		{name: "value overflows", line: ev(shop, `"Service":"checkout","Latency":1e400`), diags: []diag{e(RuleMetricValueRange, "1e400 overflows")}},
		{name: "value above 2^360", line: ev(shop, `"Service":"checkout","Latency":1e120`), diags: []diag{e(RuleMetricValueRange, "outside CloudWatch's range")}},
		{name: "value below 2^-360", line: ev(shop, `"Service":"checkout","Latency":-1e-120`), diags: []diag{e(RuleMetricValueRange, "outside CloudWatch's range")}},
		{
			name:   "value beyond 2^53",
			line:   ev(shop, `"Service":"checkout","Latency":[9007199254740993,1]`),
			points: []metric.Point{pt("Shop", "Latency", "Milliseconds", checkout, 9007199254740992, 1)},
			diags:  []diag{w(RuleMetricPrecision, "9007199254740993 exceeds 2^53-1")},
		},
		{
			name:   "negative count",
			line:   ev(`{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Orders","Unit":"Count"}]}`, `"Service":"checkout","Orders":[2,-5,-1]`),
			points: []metric.Point{pt("Shop", "Orders", "Count", checkout, 2, -5, -1)},
			diags:  []diag{w(RuleNegativeCount, `metric "Orders": Count value -5 is below zero`).hint("None")},
		},
		{
			name:   "zero and negative values",
			line:   ev(shop, `"Service":"checkout","Latency":[0,-0,-5]`),
			points: []metric.Point{pt("Shop", "Latency", "Milliseconds", checkout, 0, 0, -5)},
		},
		{name: "unit lower case", line: ev(`{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency","Unit":"milliseconds"}]}`, shopMembers), diags: []diag{e(RuleUnit, `Unit "milliseconds" is not a CloudWatch unit`).hint(`case-sensitive: write "Milliseconds"`)}},
		{name: "unit abbreviation", line: ev(`{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency","Unit":"ms"}]}`, shopMembers), diags: []diag{e(RuleUnit, `Unit "ms"`).hint(`write "Milliseconds"`)}},
		{name: "unit unknown", line: ev(`{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency","Unit":"Parsecs"}]}`, shopMembers), diags: []diag{e(RuleUnit, `Unit "Parsecs"`).hint("one of Seconds")}},
		{
			name:   "unit empty means None",
			line:   ev(`{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency","Unit":""}]}`, shopMembers),
			points: []metric.Point{pt("Shop", "Latency", "", checkout, 100)},
		},
		{name: "unit not a string", line: ev(`{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency","Unit":1}]}`, shopMembers), diags: []diag{e(RuleWrongType, `metric "Latency": Unit is a number 1, not a string`)}},
		{
			name: "every unit",
			line: ev(`{"Namespace":"Shop","Dimensions":[[]],"Metrics":[`+many(len(units), func(i int) string { return fmt.Sprintf(`{"Name":"m%d","Unit":%q}`, i, units[i]) })+`]}`, many(len(units), func(i int) string { return fmt.Sprintf(`"m%d":1`, i) })),
			points: func() []metric.Point {
				var ps []metric.Point
				for i, u := range units {
					ps = append(ps, pt("Shop", fmt.Sprintf("m%d", i), u, nil, 1))
				}
				return ps
			}(),
		},
		{name: "storage resolution 5", line: ev(`{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency","StorageResolution":5}]}`, shopMembers), diags: []diag{e(RuleStorageResolution, "StorageResolution 5 is not 1 or 60")}},
		{name: "storage resolution string", line: ev(`{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency","StorageResolution":"1"}]}`, shopMembers), diags: []diag{e(RuleWrongType, `StorageResolution is a string "1", not a number`)}},
		{
			name: "two resolutions in one event",
			line: ev(`{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency","StorageResolution":1}]},`+
				`{"Namespace":"Other","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency"}]}`, shopMembers),
			diags: []diag{e(RuleResolutionConflict, `metric "Latency" has StorageResolution 1 and 60 in one event`)},
		},
		{
			name:   "same resolution twice is fine",
			line:   ev(`{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency","StorageResolution":60}]},{"Namespace":"Other","Dimensions":[[]],"Metrics":[{"Name":"Latency"}]}`, shopMembers),
			points: []metric.Point{withRes(pt("Shop", "Latency", "", checkout, 100), 60), pt("Other", "Latency", "", nil, 100)},
		},
		{
			name:   "duplicate metric definition",
			line:   ev(`{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency"},{"Name":"Latency"}]}`, shopMembers),
			points: []metric.Point{pt("Shop", "Latency", "", checkout, 100), pt("Shop", "Latency", "", checkout, 100)},
			diags:  []diag{w(RuleDuplicateMetric, `metric "Latency" is defined twice`)},
		},
		{
			name:   "same metric in two directives with the same dimensions",
			line:   ev(shop+`,{"Namespace":"Shop","Dimensions":[["Region"],["Service"]],"Metrics":[{"Name":"Latency","Unit":"Milliseconds"}]}`, shopMembers+`,"Region":"eu"`),
			points: []metric.Point{pt("Shop", "Latency", "Milliseconds", checkout, 100), pt("Shop", "Latency", "Milliseconds", lbl("Region", "eu"), 100), pt("Shop", "Latency", "Milliseconds", checkout, 100)},
			diags:  []diag{w(RuleDuplicateMetric, `metric "Latency" in namespace "Shop" is defined in _aws.CloudWatchMetrics[0] and [1] with the same dimensions`)},
		},
		{
			name:   "same metric in two directives with other dimensions is fine",
			line:   ev(shop+`,{"Namespace":"Shop","Dimensions":[["Region"]],"Metrics":[{"Name":"Latency","Unit":"Milliseconds"}]}`, shopMembers+`,"Region":"eu"`),
			points: []metric.Point{pt("Shop", "Latency", "Milliseconds", checkout, 100), pt("Shop", "Latency", "Milliseconds", lbl("Region", "eu"), 100)},
		},
		{
			name:  "an error in a second directive drops the whole event",
			line:  ev(shop+`,{"Namespace":"Other","Dimensions":[["Missing"]],"Metrics":[{"Name":"Latency"}]}`, shopMembers),
			diags: []diag{e(RuleDimensionMissing, `dimension "Missing"`)},
		},
		{
			name:  "several errors in one event are all reported",
			line:  ev(`{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency","Unit":"ms"},{"Name":"Size","StorageResolution":30}]}`, `"Service":"checkout","Latency":"slow","Size":1`),
			diags: []diag{e(RuleUnit, `"ms"`), e(RuleMetricValue, `"slow"`), e(RuleStorageResolution, "30")},
		},
	}
}

func withRes(p metric.Point, r int) metric.Point { p.Resolution = r; return p }

func withTime(p metric.Point, ms int64) metric.Point { p.TimeMs = ms; return p }

func TestParse(t *testing.T) {
	for _, tc := range parseCases() {
		t.Run(tc.name, func(t *testing.T) {
			p := NewParser(append([]Option{WithClock(testClock)}, tc.opts...)...)
			var b metric.Batch
			got := p.Parse(&b, []byte(tc.line), origin)
			if got != !tc.notEMF {
				t.Fatalf("Parse = %v, want %v", got, !tc.notEMF)
			}
			if diff := cmp.Diff(tc.points, b.Points, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("points (-want +got):\n%s", diff)
			}
			checkDiags(t, tc.diags, b.Diags)
		})
	}
}

// checkDiags compares diagnostics on severity, rule and effect, checks the
// message and hint fragments, and that every diagnostic is well formed.
func checkDiags(t *testing.T, want []diag, got []metric.Diagnostic) {
	t.Helper()
	var g []diag
	for i, d := range got {
		if d.Format != metric.FormatEMF || d.Origin != origin && d.Origin.Line == 0 || !strings.HasPrefix(d.Rule, "emf/") || d.Message == "" {
			t.Errorf("malformed diagnostic %+v", d)
		}
		x := diag{d.Severity, d.Rule, d.Effect, "", ""}
		if i < len(want) {
			if !strings.Contains(d.Message, want[i].Msg) {
				t.Errorf("diagnostic %d message %q does not contain %q", i, d.Message, want[i].Msg)
			}
			if !strings.Contains(d.Hint, want[i].Hint) {
				t.Errorf("diagnostic %d hint %q does not contain %q", i, d.Hint, want[i].Hint)
			}
		}
		g = append(g, x)
	}
	var wn []diag
	for _, d := range want {
		wn = append(wn, diag{d.Sev, d.Rule, d.Effect, "", ""})
	}
	if diff := cmp.Diff(wn, g, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
		for _, d := range got {
			t.Logf("got %s", d.String())
		}
	}
}

// TestRulesDocumented checks that every rule the cases raise is in Rules
// with the same severity and effect, and that every rule in Rules is raised
// by some case (or by TestFinish).
func TestRulesDocumented(t *testing.T) {
	byID := map[string]RuleInfo{}
	for _, r := range Rules {
		if _, dup := byID[r.Rule]; dup {
			t.Errorf("rule %s listed twice", r.Rule)
		}
		byID[r.Rule] = r
	}
	seen := map[string]bool{RuleUniqueDimension: true, RuleUnitDrift: true}
	for _, tc := range parseCases() {
		for _, d := range tc.diags {
			r, ok := byID[d.Rule]
			if !ok {
				t.Errorf("%s: rule %s not in Rules", tc.name, d.Rule)
				continue
			}
			if r.Severity != d.Sev || r.Effect != d.Effect {
				t.Errorf("%s: rule %s is %v/%v in the case, %v/%v in Rules", tc.name, d.Rule, d.Sev, d.Effect, r.Severity, r.Effect)
			}
			seen[d.Rule] = true
		}
	}
	for _, r := range Rules {
		if !seen[r.Rule] {
			t.Errorf("rule %s has no test case", r.Rule)
		}
	}
}

func TestFinish(t *testing.T) {
	p := NewParser(WithClock(testClock))
	var b metric.Batch
	line := func(n int, order, unit string) {
		l := ev(`{"Namespace":"Shop","Dimensions":[["Service","orderId"]],"Metrics":[{"Name":"Latency","Unit":"`+unit+`"}]}`,
			`"Service":"checkout","orderId":"`+order+`","Latency":1`)
		if !p.Parse(&b, []byte(l), metric.Origin{Source: "fn.log", Line: n}) {
			t.Fatalf("line %d not EMF", n)
		}
	}
	for i := 1; i <= 19; i++ {
		line(i, fmt.Sprintf("order-%d", i), "Milliseconds")
	}
	p.Finish(&b)
	if len(b.Diags) != 0 {
		t.Fatalf("19 events: want no diagnostics, got %v", b.Diags)
	}
	b.Reset()
	for i := 1; i <= 20; i++ {
		unit := "Milliseconds"
		if i == 12 {
			unit = "Seconds"
		}
		line(i, fmt.Sprintf("order-%d", i), unit)
	}
	// A dropped event counts for nothing.
	p.Parse(&b, []byte(ev(`{"Namespace":"Shop","Dimensions":[["orderId"]],"Metrics":[{"Name":"Latency","Unit":"Bytes"}]}`, `"orderId":"order-1","Latency":"x"`)), metric.Origin{Source: "fn.log", Line: 21})
	b.Diags = b.Diags[:0]
	p.Finish(&b)
	want := []metric.Diagnostic{
		{Origin: metric.Origin{Source: "fn.log", Line: 1}, Format: metric.FormatEMF, Severity: metric.Warning, Rule: RuleUniqueDimension,
			Message: `dimension "orderId": a different value in each of the 20 events that use it: each value creates a new CloudWatch metric (cardinality and cost explosion)`,
			Hint:    "keep it as a plain member of the event (searchable in Logs Insights) and remove it from Dimensions"},
		{Origin: metric.Origin{Source: "fn.log", Line: 12}, Format: metric.FormatEMF, Severity: metric.Warning, Rule: RuleUnitDrift,
			Message: `metric "Latency" in namespace "Shop" has unit "Seconds" here and "Milliseconds" at fn.log:1: CloudWatch computes statistics per unit and alarms see only one`,
			Hint:    "declare one unit per metric"},
	}
	if diff := cmp.Diff(want, b.Diags); diff != "" {
		t.Errorf("Finish diagnostics (-want +got):\n%s", diff)
	}
	// Finish forgets: a second call says nothing.
	b.Reset()
	p.Finish(&b)
	if len(b.Diags) != 0 {
		t.Errorf("second Finish: %v", b.Diags)
	}
}

// TestRepeatedValuesAreNotUnique: a dimension whose values repeat is fine.
func TestRepeatedValuesAreNotUnique(t *testing.T) {
	p := NewParser(WithClock(testClock))
	var b metric.Batch
	for i := range 40 {
		p.Parse(&b, []byte(ev(shop, fmt.Sprintf(`"Service":"s%d","Latency":1`, i%20))), origin)
	}
	p.Finish(&b)
	if len(b.Diags) != 0 {
		t.Errorf("want no diagnostics, got %v", b.Diags)
	}
}

// TestHighCardinalityOncePerKey: the per-event warning is given once per
// dimension key, not on every line.
func TestHighCardinalityOncePerKey(t *testing.T) {
	p := NewParser(WithClock(testClock))
	var b metric.Batch
	for i := range 3 {
		l := ev(`{"Namespace":"Shop","Dimensions":[["requestId"]],"Metrics":[{"Name":"M"}]}`,
			fmt.Sprintf(`"requestId":"989ffbf8-9ace-4817-a57c-e4dd734019e%d","M":1`, i))
		p.Parse(&b, []byte(l), origin)
	}
	p.Finish(&b)
	if len(b.Diags) != 1 || b.Diags[0].Rule != RuleHighCardinality {
		t.Errorf("want one %s warning, got %v", RuleHighCardinality, b.Diags)
	}
}

// TestPointsSurviveLaterLines: the strings and slices of a point stay valid
// while later lines are parsed into the same batch (the parser reuses its
// scratch memory, never the batch's).
func TestPointsSurviveLaterLines(t *testing.T) {
	p := NewParser(WithClock(testClock))
	var b metric.Batch
	line := []byte(ev(shop, `"Service":"first-service","Latency":[1,2]`))
	p.Parse(&b, line, origin)
	for i := range line {
		line[i] = 'x' // the caller reuses its line buffer
	}
	for i := range 100 {
		p.Parse(&b, []byte(ev(shop, fmt.Sprintf(`"Service":"s%d","Latency":[%d,3]`, i, i))), origin)
	}
	want := pt("Shop", "Latency", "Milliseconds", lbl("Service", "first-service"), 1, 2)
	if diff := cmp.Diff(want, b.Points[0]); diff != "" {
		t.Errorf("first point changed (-want +got):\n%s", diff)
	}
}

func TestParseAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	p := NewParser(WithClock(benchClock))
	var b metric.Batch
	allocs := testing.AllocsPerRun(200, func() {
		b.Reset()
		for _, l := range benchLines {
			p.Parse(&b, l, origin)
		}
	})
	if allocs != 0 {
		t.Errorf("Parse allocates %.1f times per run of %d lines after warm-up, want 0", allocs, len(benchLines))
	}
}
