package dogstatsd

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lambdabridge/lambdabridge/metric"
)

// tcase is one input and what the parser must make of it.
type tcase struct {
	name string
	in   string
	// notOurs: Monitoring/JSON must return false and append nothing.
	notOurs bool
	points  []metric.Point
	// diags are "severity rule" strings, in order.
	diags []string
}

var testOrigin = metric.Origin{Source: "fn.log", Line: 7, Function: "fn"}

func lbl(kv ...string) []metric.Label {
	var ls []metric.Label
	for i := 0; i < len(kv); i += 2 {
		ls = append(ls, metric.Label{Name: kv[i], Value: kv[i+1]})
	}
	return ls
}

func vals(v ...float64) []float64 { return v }

// run checks one case against a parse function.
func run(t *testing.T, tc tcase, format metric.Format, parse func(*metric.Batch, []byte, metric.Origin) bool) {
	t.Helper()
	var b metric.Batch
	ours := parse(&b, []byte(tc.in), testOrigin)
	if ours == tc.notOurs {
		t.Fatalf("returned %v, want %v", ours, !tc.notOurs)
	}
	check(t, &b, tc, format)
}

func check(t *testing.T, b *metric.Batch, tc tcase, format metric.Format) {
	t.Helper()
	want := make([]metric.Point, len(tc.points))
	for i, p := range tc.points {
		if p.Format == metric.FormatUnknown {
			p.Format = format
		}
		if p.Origin == (metric.Origin{}) {
			p.Origin = testOrigin
		}
		want[i] = p
	}
	if diff := cmp.Diff(want, b.Points, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("points (-want +got):\n%s", diff)
	}
	var got []string
	for _, d := range b.Diags {
		got = append(got, d.Severity.String()+" "+d.Rule)
		if d.Message == "" || d.Format != format || d.Origin.Source != testOrigin.Source {
			t.Errorf("incomplete diagnostic %+v", d)
		}
		if d.Severity == metric.Error && d.Effect == metric.EffectNone {
			t.Errorf("error without effect: %s", d.String())
		}
		if !knownRule(d.Rule, d.Severity, d.Effect) {
			t.Errorf("diagnostic %s does not match the Rules table", d.String())
		}
	}
	if diff := cmp.Diff(tc.diags, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s\n%s", diff, diagStrings(b))
	}
}

func knownRule(id string, sev metric.Severity, eff metric.Effect) bool {
	for _, r := range Rules {
		if r.ID == id {
			return r.Severity == sev && r.Effect == eff
		}
	}
	return false
}

func diagStrings(b *metric.Batch) string {
	var s []string
	for i := range b.Diags {
		s = append(s, b.Diags[i].String())
	}
	return strings.Join(s, "\n")
}

const ts = 1700000000

var monitoringCases = []tcase{
	{name: "count", in: "MONITORING|1700000000|1|count|orders.placed|#env:prod,team",
		points: []metric.Point{{Name: "orders.placed", Kind: metric.Counter, Values: vals(1), TimeMs: ts * 1000, Labels: lbl("env", "prod", "team", "")}}},
	{name: "gauge float", in: "MONITORING|1700000000|12.5|gauge|queue.depth",
		points: []metric.Point{{Name: "queue.depth", Kind: metric.Gauge, Values: vals(12.5), TimeMs: ts * 1000}}},
	{name: "histogram", in: "MONITORING|1700000000|-3e2|histogram|latency|#",
		points: []metric.Point{{Name: "latency", Kind: metric.Histogram, Values: vals(-300), TimeMs: ts * 1000}}},
	{name: "check", in: "MONITORING|1700000000|2|check|db.up|#db:main",
		points: []metric.Point{{Name: "db.up", Kind: metric.ServiceCheck, Values: vals(2), TimeMs: ts * 1000, Labels: lbl("db", "main")}}},
	{name: "node lambda prefix", in: "2024-05-01T10:00:00.000Z\t6d1c1f2e-0a0b-4c4d-8e8f-000000000001\tINFO\tMONITORING|1700000000|1|count|x|#a:b",
		points: []metric.Point{{Name: "x", Kind: metric.Counter, Values: vals(1), TimeMs: ts * 1000, Labels: lbl("a", "b")}}},
	{name: "python lambda prefix", in: "[INFO]\t2024-05-01T10:00:00.000Z\treqid\tMONITORING|1700000000|1|count|x",
		points: []metric.Point{{Name: "x", Kind: metric.Counter, Values: vals(1), TimeMs: ts * 1000}}},
	{name: "leading and trailing space", in: "  MONITORING|1700000000|1|count|x \r\n",
		points: []metric.Point{{Name: "x", Kind: metric.Counter, Values: vals(1), TimeMs: ts * 1000}}},
	{name: "tag value with colon", in: "MONITORING|1700000000|1|count|x|#url:http://a:8080/,,k:",
		points: []metric.Point{{Name: "x", Kind: metric.Counter, Values: vals(1), TimeMs: ts * 1000, Labels: lbl("url", "http://a:8080/", "k", "")}}},
	{name: "not monitoring", in: "INFO processing order 42", notOurs: true},
	{name: "marker inside text", in: "user wrote MONITORING|1|2|count|x", notOurs: true},
	{name: "lowercase is not ours", in: "monitoring|1700000000|1|count|x", notOurs: true},
	{name: "empty", in: "", notOurs: true},

	{name: "ms timestamp", in: "MONITORING|1700000000123|1|count|x",
		points: []metric.Point{{Name: "x", Kind: metric.Counter, Values: vals(1), TimeMs: 1700000000123}},
		diags:  []string{"warning monitoring/timestamp-unit"}},
	{name: "us timestamp", in: "MONITORING|1700000000123456|1|count|x",
		points: []metric.Point{{Name: "x", Kind: metric.Counter, Values: vals(1), TimeMs: 1700000000123}},
		diags:  []string{"warning monitoring/timestamp-unit"}},
	{name: "ns timestamp", in: "MONITORING|1700000000123456789|1|count|x",
		points: []metric.Point{{Name: "x", Kind: metric.Counter, Values: vals(1), TimeMs: 1700000000123}},
		diags:  []string{"warning monitoring/timestamp-unit"}},
	{name: "tags without hash", in: "MONITORING|1700000000|1|count|x|env:prod",
		points: []metric.Point{{Name: "x", Kind: metric.Counter, Values: vals(1), TimeMs: ts * 1000, Labels: lbl("env", "prod")}},
		diags:  []string{"warning monitoring/tags-without-hash"}},
	{name: "extra field", in: "MONITORING|1700000000|1|count|x|#a|junk",
		points: []metric.Point{{Name: "x", Kind: metric.Counter, Values: vals(1), TimeMs: ts * 1000, Labels: lbl("a", "")}},
		diags:  []string{"warning monitoring/extra-field"}},
	{name: "name chars", in: "MONITORING|1700000000|1|count|my-metric",
		points: []metric.Point{{Name: "my-metric", Kind: metric.Counter, Values: vals(1), TimeMs: ts * 1000}},
		diags:  []string{"warning monitoring/name-chars"}},
	{name: "negative count", in: "MONITORING|1700000000|-3|count|stock.level",
		points: []metric.Point{{Name: "stock.level", Kind: metric.Counter, Values: vals(-3), TimeMs: ts * 1000}},
		diags:  []string{"warning monitoring/negative-count"}},
	{name: "negative gauge", in: "MONITORING|1700000000|-3|gauge|temp",
		points: []metric.Point{{Name: "temp", Kind: metric.Gauge, Values: vals(-3), TimeMs: ts * 1000}}},
	{name: "too few fields", in: "MONITORING|1700000000|1|count", diags: []string{"error monitoring/too-few-fields"}},
	{name: "only marker", in: "MONITORING|", diags: []string{"error monitoring/too-few-fields"}},
	{name: "empty name", in: "MONITORING|1700000000|1|count|", diags: []string{"error monitoring/empty-name"}},
	{name: "unknown type", in: "MONITORING|1700000000|1|counter|x", diags: []string{"error monitoring/unknown-type"}},
	{name: "bad timestamp", in: "MONITORING|yesterday|1|count|x", diags: []string{"error monitoring/bad-timestamp"}},
	{name: "float timestamp", in: "MONITORING|1700000000.5|1|count|x", diags: []string{"error monitoring/bad-timestamp"}},
	{name: "negative timestamp", in: "MONITORING|-5|1|count|x", diags: []string{"error monitoring/bad-timestamp"}},
	{name: "bad value", in: "MONITORING|1700000000|one|count|x", diags: []string{"error monitoring/bad-value"}},
	{name: "nan value", in: "MONITORING|1700000000|NaN|gauge|x", diags: []string{"error monitoring/non-finite-value"}},
	{name: "inf value", in: "MONITORING|1700000000|+Inf|gauge|x", diags: []string{"error monitoring/non-finite-value"}},
	{name: "overflow value", in: "MONITORING|1700000000|1e999|gauge|x", diags: []string{"error monitoring/non-finite-value"}},
	{name: "check status", in: "MONITORING|1700000000|4|check|db.up", diags: []string{"error monitoring/bad-check-status"}},
	{name: "check status fraction", in: "MONITORING|1700000000|1.5|check|db.up", diags: []string{"error monitoring/bad-check-status"}},
}

func TestMonitoring(t *testing.T) {
	p := NewParser()
	for _, tc := range monitoringCases {
		t.Run(tc.name, func(t *testing.T) { run(t, tc, metric.FormatMonitoring, p.Monitoring) })
	}
}

var jsonCases = []tcase{
	{name: "full", in: `{"m":"checkout.latency","v":1.5,"e":1700000000,"t":["env:prod","team"]}`,
		points: []metric.Point{{Name: "checkout.latency", Kind: metric.Distribution, Values: vals(1.5), TimeMs: ts * 1000, Labels: lbl("env", "prod", "team", "")}}},
	{name: "spaces and key order", in: ` { "t" : [ ] , "e" : 1700000000 , "v" : -2 , "m" : "x" } `,
		points: []metric.Point{{Name: "x", Kind: metric.Distribution, Values: vals(-2), TimeMs: ts * 1000}}},
	{name: "fractional seconds", in: `{"m":"x","v":1,"e":1700000000.25}`,
		points: []metric.Point{{Name: "x", Kind: metric.Distribution, Values: vals(1), TimeMs: ts*1000 + 250}}},
	{name: "tags null and other keys", in: `{"m":"x","v":1e3,"e":1700000000,"t":null,"other":{"a":[1,true,null,"s"]}}`,
		points: []metric.Point{{Name: "x", Kind: metric.Distribution, Values: vals(1000), TimeMs: ts * 1000}}},
	{name: "escapes", in: `{"m":"x\u002ey","v":1,"e":1700000000,"t":["path:a\/b","q:\"x\""]}`,
		points: []metric.Point{{Name: "x.y", Kind: metric.Distribution, Values: vals(1), TimeMs: ts * 1000, Labels: lbl("path", "a/b", "q", `"x"`)}}},
	{name: "node prefix", in: "2024-05-01T10:00:00.000Z\treqid\tINFO\t" + `{"m":"x","v":1,"e":1700000000,"t":[]}`,
		points: []metric.Point{{Name: "x", Kind: metric.Distribution, Values: vals(1), TimeMs: ts * 1000}}},
	{name: "duplicate key last wins", in: `{"m":"a","m":"b","v":1,"e":1700000000}`,
		points: []metric.Point{{Name: "b", Kind: metric.Distribution, Values: vals(1), TimeMs: ts * 1000}}},
	{name: "ms timestamp", in: `{"m":"x","v":1,"e":1700000000123}`,
		points: []metric.Point{{Name: "x", Kind: metric.Distribution, Values: vals(1), TimeMs: 1700000000123}},
		diags:  []string{"warning datadog-json/timestamp-unit"}},
	{name: "name chars", in: `{"m":"9lives","v":1,"e":1700000000}`,
		points: []metric.Point{{Name: "9lives", Kind: metric.Distribution, Values: vals(1), TimeMs: ts * 1000}},
		diags:  []string{"warning datadog-json/name-chars"}},

	{name: "other json", in: `{"level":"info","msg":"hello"}`, notOurs: true},
	{name: "m without v or e", in: `{"m":"hello"}`, notOurs: true},
	{name: "v without m", in: `{"v":1,"e":2}`, notOurs: true},
	{name: "emf", in: `{"_aws":{"Timestamp":1},"v":1}`, notOurs: true},
	{name: "array", in: `[{"m":"x","v":1}]`, notOurs: true},
	{name: "text", in: "START RequestId: 1 Version: $LATEST", notOurs: true},
	{name: "broken other json", in: `{"level":"info",`, notOurs: true},
	{name: "brace inside text", in: `processed {"m":"x","v":1,"e":1}`, notOurs: true},

	{name: "broken metric json", in: `{"m":"x","v":1,"e":1700000000,"t":["a"`, diags: []string{"error datadog-json/bad-json"}},
	{name: "trailing garbage", in: `{"m":"x","v":1,"e":1700000000} extra`, diags: []string{"error datadog-json/bad-json"}},
	{name: "single quotes", in: `{"m":'x',"v":1,"e":1}`, diags: []string{"error datadog-json/bad-json"}},
	{name: "bad number", in: `{"m":"x","v":01,"e":1700000000}`, diags: []string{"error datadog-json/bad-json"}},
	{name: "missing value", in: `{"m":"x","e":1700000000}`, diags: []string{"error datadog-json/missing-value"}},
	{name: "string value", in: `{"m":"x","v":"1.5","e":1700000000}`, diags: []string{"error datadog-json/bad-value"}},
	{name: "null value", in: `{"m":"x","v":null,"e":1700000000}`, diags: []string{"error datadog-json/bad-value"}},
	{name: "overflow value", in: `{"m":"x","v":1e400,"e":1700000000}`, diags: []string{"error datadog-json/non-finite-value"}},
	{name: "name not string", in: `{"m":7,"v":1,"e":1700000000}`, diags: []string{"error datadog-json/bad-name"}},
	{name: "empty name", in: `{"m":"","v":1,"e":1700000000}`, diags: []string{"error datadog-json/empty-name"}},
	{name: "missing timestamp", in: `{"m":"x","v":1}`, diags: []string{"error datadog-json/missing-timestamp"}},
	{name: "string timestamp", in: `{"m":"x","v":1,"e":"now"}`, diags: []string{"error datadog-json/bad-timestamp"}},
	{name: "negative timestamp", in: `{"m":"x","v":1,"e":-1}`, diags: []string{"error datadog-json/bad-timestamp"}},
	{name: "tags not array", in: `{"m":"x","v":1,"e":1700000000,"t":"env:prod"}`, diags: []string{"error datadog-json/bad-tags"}},
	{name: "tags not strings", in: `{"m":"x","v":1,"e":1700000000,"t":["a",1]}`, diags: []string{"error datadog-json/bad-tags"}},
	{name: "several errors", in: `{"m":"x","v":"a","e":"b"}`, diags: []string{"error datadog-json/bad-value", "error datadog-json/bad-timestamp"}},
}

func TestJSON(t *testing.T) {
	p := NewParser()
	for _, tc := range jsonCases {
		t.Run(tc.name, func(t *testing.T) { run(t, tc, metric.FormatDatadogJSON, p.JSON) })
	}
}

var datagramCases = []tcase{
	{name: "count with tags", in: "foo1:100|c|#tag1:bar,tag2:baz",
		points: []metric.Point{{Name: "foo1", Kind: metric.Counter, Values: vals(100), Labels: lbl("tag1", "bar", "tag2", "baz")}}},
	{name: "negative count", in: "stock:1:-5:-2|c|@0.5",
		points: []metric.Point{{Name: "stock", Kind: metric.Counter, Values: vals(1, -5, -2), SampleRate: 0.5}},
		diags:  []string{"warning dogstatsd/negative-count"}},
	{name: "gauge", in: "temp:-1.5|g", points: []metric.Point{{Name: "temp", Kind: metric.Gauge, Values: vals(-1.5)}}},
	{name: "histogram", in: "size:512|h|@0.5",
		points: []metric.Point{{Name: "size", Kind: metric.Histogram, Values: vals(512), SampleRate: 0.5}}},
	{name: "distribution", in: "lat:0.25|d|#a", points: []metric.Point{{Name: "lat", Kind: metric.Distribution, Values: vals(0.25), Labels: lbl("a", "")}}},
	{name: "timer", in: "db.query:12|ms|@1",
		points: []metric.Point{{Name: "db.query", Kind: metric.Timer, Unit: "Milliseconds", Values: vals(12), SampleRate: 1}}},
	{name: "set", in: "users:alice|s|#env:prod", points: []metric.Point{{Name: "users", Kind: metric.Set, Members: []string{"alice"}, Labels: lbl("env", "prod")}}},
	{name: "set numeric member", in: "ids:42|s", points: []metric.Point{{Name: "ids", Kind: metric.Set, Members: []string{"42"}}}},
	{name: "multi value", in: "lat:1:2.5:3|h|@0.1|#a:b",
		points: []metric.Point{{Name: "lat", Kind: metric.Histogram, Values: vals(1, 2.5, 3), SampleRate: 0.1, Labels: lbl("a", "b")}}},
	{name: "multi value empty skipped", in: "lat:1::2:|d", points: []metric.Point{{Name: "lat", Kind: metric.Distribution, Values: vals(1, 2)}}},
	{name: "tag value with colon", in: "x:1|c|#url:http://h:80/p,k:", points: []metric.Point{{Name: "x", Kind: metric.Counter, Values: vals(1), Labels: lbl("url", "http://h:80/p", "k", "")}}},
	{name: "empty tags skipped", in: "x:1|c|#,a,,b:c,", points: []metric.Point{{Name: "x", Kind: metric.Counter, Values: vals(1), Labels: lbl("a", "", "b", "c")}}},
	{name: "last tag field wins", in: "x:1|c|#a|#b", points: []metric.Point{{Name: "x", Kind: metric.Counter, Values: vals(1), Labels: lbl("b", "")}}},
	{name: "container id", in: "x:1|c|#a|c:ci-1234abcd", points: []metric.Point{{Name: "x", Kind: metric.Counter, Values: vals(1), Labels: lbl("a", "")}}},
	{name: "origin fields", in: "x:1|c|e:it-false,cn-a|card:high", points: []metric.Point{{Name: "x", Kind: metric.Counter, Values: vals(1)}}},
	{name: "timestamp gauge", in: "x:1|g|T1700000000", points: []metric.Point{{Name: "x", Kind: metric.Gauge, Values: vals(1), TimeMs: ts * 1000}}},
	{name: "timestamp count", in: "x:2|c|#a|T1700000000|c:abc", points: []metric.Point{{Name: "x", Kind: metric.Counter, Values: vals(2), TimeMs: ts * 1000, Labels: lbl("a", "")}}},
	{name: "trailing pipe", in: "x:1|c|", points: []metric.Point{{Name: "x", Kind: metric.Counter, Values: vals(1)}}},
	{name: "hex float like the agent", in: "x:0x1p-2|g", points: []metric.Point{{Name: "x", Kind: metric.Gauge, Values: vals(0.25)}}},

	{name: "event", in: "_e{5,4}:title|text|d:1700000000|h:host1|k:key1|p:low|s:my_apps|t:warning|#env:prod,a",
		points: []metric.Point{{Name: "title", Kind: metric.Event, Values: vals(1), TimeMs: ts * 1000,
			Labels: lbl("env", "prod", "a", "", "alert_type", "warning", "priority", "low", "source_type_name", "my_apps", "host", "host1", "aggregation_key", "key1")}}},
	{name: "event minimal", in: "_e{2,0}:hi|", points: []metric.Point{{Name: "hi", Kind: metric.Event, Values: vals(1)}}},
	{name: "event without text bar", in: "_e{2,0}:hi", diags: []string{"error dogstatsd/event-length"}},
	{name: "event pipes in text", in: "_e{3,5}:a|b|c|d|e|t:error", points: []metric.Point{{Name: "a|b", Kind: metric.Event, Values: vals(1), Labels: lbl("alert_type", "error")}}},
	{name: "event utf8 lengths in bytes", in: "_e{6,2}:héllo|ok", points: []metric.Point{{Name: "héllo", Kind: metric.Event, Values: vals(1)}}},
	{name: "event escaped newline in title", in: `_e{4,4}:a\nb|x\ny`, points: []metric.Point{{Name: "a\nb", Kind: metric.Event, Values: vals(1)}}},
	{name: "event bad priority", in: "_e{1,1}:a|b|p:urgent", points: []metric.Point{{Name: "a", Kind: metric.Event, Values: vals(1)}},
		diags: []string{"warning dogstatsd/bad-event-field"}},
	{name: "event bad alert type", in: "_e{1,1}:a|b|t:fatal", points: []metric.Point{{Name: "a", Kind: metric.Event, Values: vals(1)}},
		diags: []string{"warning dogstatsd/bad-event-field"}},
	{name: "event bad date", in: "_e{1,1}:a|b|d:today", points: []metric.Point{{Name: "a", Kind: metric.Event, Values: vals(1)}},
		diags: []string{"warning dogstatsd/bad-event-field"}},
	{name: "event title length in characters", in: "_e{5,2}:héllo|ok", points: []metric.Point{{Name: "héll", Kind: metric.Event, Values: vals(1)}},
		diags: []string{"warning dogstatsd/event-length-mismatch", "warning dogstatsd/event-length-mismatch", "warning dogstatsd/unknown-field"}},
	{name: "event text shorter than written", in: "_e{1,2}:a|bcd|#x", points: []metric.Point{{Name: "a", Kind: metric.Event, Values: vals(1), Labels: lbl("x", "")}},
		diags: []string{"warning dogstatsd/event-length-mismatch", "warning dogstatsd/unknown-field"}},
	{name: "event header no lengths", in: "_e{}:a|b", diags: []string{"error dogstatsd/bad-event-header"}},
	{name: "event header not numbers", in: "_e{a,b}:a|b", diags: []string{"error dogstatsd/bad-event-header"}},
	{name: "event header negative", in: "_e{-1,1}:a|b", diags: []string{"error dogstatsd/bad-event-header"}},
	{name: "event header unclosed", in: "_e{1,1:a|b", diags: []string{"error dogstatsd/bad-event-header"}},
	{name: "event no colon", in: "_e{1,1}", diags: []string{"error dogstatsd/bad-event-header"}},
	{name: "event empty title", in: "_e{0,1}:|b", diags: []string{"error dogstatsd/bad-event-header"}},
	{name: "event too short", in: "_e{10,10}:a|b", diags: []string{"error dogstatsd/event-length"}},
	{name: "event huge length", in: "_e{9223372036854775807,9223372036854775807}:a|b", diags: []string{"error dogstatsd/event-length"}},

	{name: "service check", in: "_sc|db.up|1|d:1700000000|h:host1|#env:prod|m:slow replies",
		points: []metric.Point{{Name: "db.up", Kind: metric.ServiceCheck, Values: vals(1), TimeMs: ts * 1000, Labels: lbl("env", "prod", "host", "host1")}}},
	{name: "service check minimal", in: "_sc|db.up|3", points: []metric.Point{{Name: "db.up", Kind: metric.ServiceCheck, Values: vals(3)}}},
	{name: "service check bad status", in: "_sc|db.up|4", diags: []string{"error dogstatsd/bad-check-status"}},
	{name: "service check word status", in: "_sc|db.up|OK|#a", diags: []string{"error dogstatsd/bad-check-status"}},
	{name: "service check no status", in: "_sc|db.up", diags: []string{"error dogstatsd/bad-service-check"}},
	{name: "service check empty name", in: "_sc||0", diags: []string{"error dogstatsd/empty-name"}},
	{name: "service check bad date", in: "_sc|db.up|0|d:x", points: []metric.Point{{Name: "db.up", Kind: metric.ServiceCheck, Values: vals(0)}},
		diags: []string{"warning dogstatsd/bad-check-field"}},
	{name: "service check unknown field", in: "_sc|db.up|0|z:1", points: []metric.Point{{Name: "db.up", Kind: metric.ServiceCheck, Values: vals(0)}},
		diags: []string{"warning dogstatsd/unknown-field"}},

	{name: "unknown extension", in: "x:1|c|x:whatever", points: []metric.Point{{Name: "x", Kind: metric.Counter, Values: vals(1)}},
		diags: []string{"warning dogstatsd/unknown-field"}},
	{name: "tags without hash", in: "x:1|c|env:prod", points: []metric.Point{{Name: "x", Kind: metric.Counter, Values: vals(1)}},
		diags: []string{"warning dogstatsd/unknown-field"}},
	{name: "empty container id", in: "x:1|c|c:", points: []metric.Point{{Name: "x", Kind: metric.Counter, Values: vals(1)}},
		diags: []string{"warning dogstatsd/bad-container-id"}},
	{name: "set with colon", in: "s1:a:b|s", points: []metric.Point{{Name: "s1", Kind: metric.Set, Members: []string{"a:b"}}},
		diags: []string{"warning dogstatsd/set-multi-value"}},
	{name: "name chars", in: "my-metric:1|c", points: []metric.Point{{Name: "my-metric", Kind: metric.Counter, Values: vals(1)}},
		diags: []string{"warning dogstatsd/name-chars"}},
	{name: "name starts with digit", in: "1x:1|c", points: []metric.Point{{Name: "1x", Kind: metric.Counter, Values: vals(1)}},
		diags: []string{"warning dogstatsd/name-chars"}},
	{name: "name too long", in: strings.Repeat("a", 201) + ":1|c", points: []metric.Point{{Name: strings.Repeat("a", 201), Kind: metric.Counter, Values: vals(1)}},
		diags: []string{"warning dogstatsd/name-chars"}},

	{name: "no pipe", in: "foo:1", diags: []string{"error dogstatsd/bad-line"}},
	{name: "gibberish", in: "hello world", diags: []string{"error dogstatsd/bad-line"}},
	{name: "no colon", in: "foo|c", diags: []string{"error dogstatsd/missing-value"}},
	{name: "empty value", in: "foo:|c", diags: []string{"error dogstatsd/missing-value"}},
	{name: "only colons", in: "foo:::|c", diags: []string{"error dogstatsd/missing-value"}},
	{name: "empty name", in: ":1|c", diags: []string{"error dogstatsd/empty-name"}},
	{name: "unknown type", in: "foo:1|x", diags: []string{"error dogstatsd/unknown-type"}},
	{name: "empty type", in: "foo:1||#a", diags: []string{"error dogstatsd/unknown-type"}},
	{name: "uppercase type", in: "foo:1|C", diags: []string{"error dogstatsd/unknown-type"}},
	// The agent's nextMessage drops a '\r' before the '\n' (TestNextMessage).
	{name: "crlf ending", in: "foo:1|c\r", points: []metric.Point{{Name: "foo", Kind: metric.Counter, Values: vals(1)}}},
	{name: "crlf after tags", in: "foo:1|g|#env:dev\r", points: []metric.Point{{Name: "foo", Kind: metric.Gauge, Values: vals(1), Labels: lbl("env", "dev")}}},
	{name: "crlf after service check", in: "_sc|db.up|0|#env:dev\r", points: []metric.Point{{Name: "db.up", Kind: metric.ServiceCheck, Values: vals(0), Labels: lbl("env", "dev")}}},
	// The agent removes its origin-detection tags (TestEnrichTags).
	{name: "internal tags removed", in: "foo:1|c|#a:b,dd.internal.entity_id:foo,dd.internal.card:none,c",
		points: []metric.Point{{Name: "foo", Kind: metric.Counter, Values: vals(1), Labels: lbl("a", "b", "c", "")}}},
	{name: "internal tags removed from event", in: "_e{1,1}:a|b|#dd.internal.entity_id:x,t",
		points: []metric.Point{{Name: "a", Kind: metric.Event, Values: vals(1), Labels: lbl("t", "")}}},
	// An empty host tag means no host (TestConvertParseSingleWithEmptyHostTags).
	{name: "empty host tag", in: "foo:1|g|#protocol:http,host:,bench",
		points: []metric.Point{{Name: "foo", Kind: metric.Gauge, Values: vals(1), Labels: lbl("protocol", "http", "bench", "")}}},
	{name: "host tag kept", in: "foo:1|g|#host:custom-host",
		points: []metric.Point{{Name: "foo", Kind: metric.Gauge, Values: vals(1), Labels: lbl("host", "custom-host")}}},
	{name: "empty host tag on check", in: "_sc|agent.up|0|#host:,other:tag",
		points: []metric.Point{{Name: "agent.up", Kind: metric.ServiceCheck, Values: vals(0), Labels: lbl("other", "tag")}}},
	{name: "bad value", in: "foo:abc|c", diags: []string{"error dogstatsd/bad-value"}},
	{name: "one bad in multi value", in: "foo:1:x:3|h", diags: []string{"error dogstatsd/bad-value"}},
	{name: "nan", in: "foo:nan|g", diags: []string{"error dogstatsd/non-finite-value"}},
	{name: "inf", in: "foo:-Inf|g", diags: []string{"error dogstatsd/non-finite-value"}},
	{name: "overflow", in: "foo:1e400|g", diags: []string{"error dogstatsd/non-finite-value"}},
	{name: "sample rate zero", in: "foo:1|c|@0", diags: []string{"error dogstatsd/bad-sample-rate"}},
	{name: "sample rate above one", in: "foo:1|c|@1.5", diags: []string{"error dogstatsd/bad-sample-rate"}},
	{name: "sample rate negative", in: "foo:1|c|@-0.5", diags: []string{"error dogstatsd/bad-sample-rate"}},
	{name: "sample rate word", in: "foo:1|c|@half", diags: []string{"error dogstatsd/bad-sample-rate"}},
	{name: "sample rate nan", in: "foo:1|c|@NaN", diags: []string{"error dogstatsd/bad-sample-rate"}},
	{name: "timestamp word", in: "foo:1|g|Tnow", diags: []string{"error dogstatsd/bad-timestamp"}},
	{name: "timestamp zero", in: "foo:1|g|T0", diags: []string{"error dogstatsd/bad-timestamp"}},
	{name: "timestamp on histogram", in: "foo:1|h|T1700000000", diags: []string{"error dogstatsd/timestamp-type"}},
	{name: "timestamp on distribution", in: "foo:1|d|T1700000000", diags: []string{"error dogstatsd/timestamp-type"}},
	{name: "timestamp on set", in: "foo:a|s|T1700000000", diags: []string{"error dogstatsd/timestamp-type"}},
}

func TestDatagramLines(t *testing.T) {
	p := NewParser()
	for _, tc := range datagramCases {
		t.Run(tc.name, func(t *testing.T) {
			run(t, tc, metric.FormatDogStatsD, func(b *metric.Batch, line []byte, o metric.Origin) bool {
				p.Datagram(b, line, o)
				return true
			})
		})
	}
}

// A payload of several lines: bad lines do not stop the others, empty lines
// are skipped, and every line gets its own line number.
func TestDatagramPayload(t *testing.T) {
	payload := "a:1|c\n\nb:x|g\n_sc|chk|0\nc:2|ms|@0.5|zz\n"
	for _, tt := range []struct {
		name  string
		first int
		want  []int // lines of a, chk, c; then of the two diagnostics
	}{
		{"file line given", 7, []int{7, 10, 11, 9, 11}},
		{"socket", 0, []int{1, 4, 5, 3, 5}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b metric.Batch
			NewParser().Datagram(&b, []byte(payload), metric.Origin{Source: "udp", Line: tt.first})
			if len(b.Points) != 3 || len(b.Diags) != 2 {
				t.Fatalf("got %d points, %d diags, want 3, 2:\n%s", len(b.Points), len(b.Diags), diagStrings(&b))
			}
			got := []int{b.Points[0].Origin.Line, b.Points[1].Origin.Line, b.Points[2].Origin.Line, b.Diags[0].Origin.Line, b.Diags[1].Origin.Line}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
			if b.Diags[0].Rule != RuleDSDBadValue || b.Diags[1].Rule != RuleDSDUnknownField {
				t.Errorf("rules: %s", diagStrings(&b))
			}
		})
	}
}

// The batch keeps points valid across later parses into it (arena slices are
// capped) and strings survive Reset.
func TestBatchReuse(t *testing.T) {
	p := NewParser()
	var b metric.Batch
	p.Datagram(&b, []byte("a:1:2|h|#x:1,y:2"), testOrigin)
	first := b.Points[0].Clone()
	for i := 0; i < 100; i++ {
		p.Datagram(&b, []byte("b:3:4:5|h|#z:3,w:4,v:5"), testOrigin)
	}
	if diff := cmp.Diff(first, b.Points[0]); diff != "" {
		t.Errorf("first point changed (-want +got):\n%s", diff)
	}
	b.Reset()
	p.Datagram(&b, []byte("c:1|c|#k:v"), testOrigin)
	if b.Points[0].Labels[0].Name != "k" || first.Labels[0].Name != "x" {
		t.Errorf("labels: %v %v", b.Points[0].Labels, first.Labels)
	}
}

// The intern table stays bounded however many distinct names pass.
func TestInternBounded(t *testing.T) {
	p := NewParser()
	var b metric.Batch
	for i := 0; i < 3*internMaxEntries; i++ {
		b.Reset()
		p.Datagram(&b, []byte("m"+itoa(i)+":1|c|#t:"+itoa(i)), testOrigin)
		if len(b.Points) != 1 || b.Points[0].Name != "m"+itoa(i) || b.Points[0].Labels[0].Value != itoa(i) {
			t.Fatalf("point %d: %+v", i, b.Points)
		}
	}
	if len(p.intern) > internMaxEntries {
		t.Errorf("intern table has %d entries, bound %d", len(p.intern), internMaxEntries)
	}
}

// Every rule of the table is exercised by a case, and ids are unique.
func TestRulesCovered(t *testing.T) {
	seen := map[string]bool{}
	for _, cs := range [][]tcase{monitoringCases, jsonCases, datagramCases} {
		for _, tc := range cs {
			for _, d := range tc.diags {
				seen[d[strings.IndexByte(d, ' ')+1:]] = true
			}
		}
	}
	ids := map[string]bool{}
	for _, r := range Rules {
		if ids[r.ID] {
			t.Errorf("duplicate rule %s", r.ID)
		}
		ids[r.ID] = true
		if !seen[r.ID] {
			t.Errorf("rule %s has no table case", r.ID)
		}
	}
}

func TestSteadyStateAllocs(t *testing.T) {
	p := NewParser()
	var b metric.Batch
	line := []byte("foo1:100|c|#tag1:bar,tag2:baz")
	mon := []byte("MONITORING|1700000000|1|count|orders.placed|#env:prod,team")
	js := []byte(`{"m":"checkout.latency","v":1.5,"e":1700000000,"t":["env:prod","team"]}`)
	set := []byte("users:alice|s|#env:prod")
	for i := 0; i < 10; i++ {
		b.Reset()
		p.Datagram(&b, line, testOrigin)
		p.Monitoring(&b, mon, testOrigin)
		p.JSON(&b, js, testOrigin)
		p.Datagram(&b, set, testOrigin)
	}
	n := testing.AllocsPerRun(200, func() {
		b.Reset()
		p.Datagram(&b, line, testOrigin)
		p.Monitoring(&b, mon, testOrigin)
		p.JSON(&b, js, testOrigin)
		p.Datagram(&b, set, testOrigin)
	})
	if n != 0 {
		t.Errorf("steady state allocates %v times per run, want 0", n)
	}
}
