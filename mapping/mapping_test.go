package mapping

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"gopkg.in/yaml.v3"

	"github.com/lambdabridge/lambdabridge/aggregate"
	"github.com/lambdabridge/lambdabridge/metric"
)

var _ aggregate.Mapper = (*Mapper)(nil)

func dd(kind metric.Kind, name string, tags ...string) *metric.Point {
	p := &metric.Point{Format: metric.FormatDogStatsD, Name: name, Kind: kind, Values: []float64{1}}
	for _, t := range tags {
		n, v, _ := strings.Cut(t, ":")
		p.Labels = append(p.Labels, metric.Label{Name: n, Value: v})
	}
	return p
}

func emf(ns, name, unit string, dims ...string) *metric.Point {
	p := &metric.Point{Format: metric.FormatEMF, Namespace: ns, Name: name, Unit: unit, Kind: metric.EMFKind(unit), Values: []float64{1}}
	for i := 0; i+1 < len(dims); i += 2 {
		p.Labels = append(p.Labels, metric.Label{Name: dims[i], Value: dims[i+1]})
	}
	return p
}

// want is what one point maps to; Name "" means dropped.
type want struct {
	Name   string
	Type   metric.Type
	Labels []metric.Label
}

func lbl(kv ...string) []metric.Label {
	var ls []metric.Label
	for i := 0; i+1 < len(kv); i += 2 {
		ls = append(ls, metric.Label{Name: kv[i], Value: kv[i+1]})
	}
	return ls
}

// Configurations from statsd_exporter's README, plus lambdabridge's EMF rules.
func TestMap(t *testing.T) {
	tests := []struct {
		name   string
		config string
		point  *metric.Point
		want   want
	}{
		{
			name: "glob with labels (README)",
			config: `
mappings:
- match: "test.dispatcher.*.*.*"
  name: "dispatcher_events_total"
  labels:
    processor: "$1"
    action: "$2"
    outcome: "$3"
    job: "test_dispatcher"
- match: "*.signup.*.*"
  name: "signup_events_total"
  labels:
    provider: "$2"
    outcome: "$3"
    job: "${1}_server"
`,
			point: dd(metric.Counter, "test.dispatcher.FooProcessor.send.success"),
			want: want{"dispatcher_events_total", metric.TypeCounter,
				lbl("action", "send", "job", "test_dispatcher", "outcome", "success", "processor", "FooProcessor")},
		},
		{
			name: "glob ${1} substitution (README)",
			config: `
mappings:
- match: "*.signup.*.*"
  name: "signup_events_total"
  labels:
    provider: "$2"
    outcome: "$3"
    job: "${1}_server"
`,
			point: dd(metric.Counter, "foo_product.signup.facebook.failure"),
			want: want{"signup_events_total", metric.TypeCounter,
				lbl("job", "foo_product_server", "outcome", "failure", "provider", "facebook")},
		},
		{
			name: "no match: default translation",
			config: `
mappings:
- match: "*.signup.*.*"
  name: "signup_events_total"
`,
			point: dd(metric.Counter, "test.web-server.foo.bar", "env:prod"),
			want:  want{"test_web_server_foo_bar_total", metric.TypeCounter, lbl("env", "prod")},
		},
		{
			name: "glob star stays within one component",
			config: `
mappings:
- match: "a.*"
  name: "a_one"
`,
			point: dd(metric.Gauge, "a.b.c"),
			want:  want{"a_b_c", metric.TypeGauge, nil},
		},
		{
			name: "regex (README)",
			config: `
mappings:
- match: "(.*)\\.(.*)--(.*)\\.status\\.(.*)\\.count"
  match_type: regex
  name: "request_total"
  labels:
    hostname: "$1"
    exec: "$2"
    protocol: "$3"
    code: "$4"
`,
			point: dd(metric.Counter, "web01.nginx--http.status.200.count"),
			want: want{"request_total", metric.TypeCounter,
				lbl("code", "200", "exec", "nginx", "hostname", "web01", "protocol", "http")},
		},
		{
			name: "drop everything else (README)",
			config: `
mappings:
- match: "keep.*"
  name: "kept"
- match: "."
  match_type: regex
  action: drop
  name: "dropped"
`,
			point: dd(metric.Counter, "other.metric"),
			want:  want{},
		},
		{
			name: "globs before regexes",
			config: `
mappings:
- match: "."
  match_type: regex
  action: drop
- match: "keep.*"
  name: "kept"
`,
			point: dd(metric.Gauge, "keep.me"),
			want:  want{"kept", metric.TypeGauge, nil},
		},
		{
			name: "match_metric_type (README)",
			config: `
mappings:
- match: foo.*
  name: foo_counter
  match_metric_type: counter
- match: foo.*
  name: foo_gauge
  match_metric_type: gauge
`,
			point: dd(metric.Gauge, "foo.bar"),
			want:  want{"foo_gauge", metric.TypeGauge, nil},
		},
		{
			name: "observer_type summary (README)",
			config: `
mappings:
- match: "test.timing.*.*.*"
  observer_type: summary
  name: "my_timer"
  labels:
    provider: "$2"
    outcome: "$3"
    job: "${1}_server"
  summary_options:
    quantiles:
      - quantile: 0.99
        error: 0.001
      - quantile: 0.95
        error: 0.01
    max_age: 30s
    age_buckets: 3
    buf_cap: 1000
`,
			point: dd(metric.Timer, "test.timing.web.facebook.ok"),
			want: want{"my_timer", metric.TypeSummary,
				lbl("job", "web_server", "outcome", "ok", "provider", "facebook")},
		},
		{
			// statsd_exporter makes a summary here (observer_type defaults to
			// summary there); lambdabridge a histogram (mapping/doc.go).
			name: "observer without observer_type is a histogram",
			config: `
mappings:
- match: "db.*"
  name: "db_${1}_seconds"
`,
			point: dd(metric.Timer, "db.query"),
			want:  want{"db_query_seconds", metric.TypeHistogram, nil},
		},
		{
			name: "defaults observer_type summary applies to unmatched timers",
			config: `
defaults:
  observer_type: summary
mappings: []
`,
			point: dd(metric.Timer, "db.query"),
			want:  want{"db_query_seconds", metric.TypeSummary, nil},
		},
		{
			name: "rule labels override tags",
			config: `
mappings:
- match: "api.*"
  name: "api_${1}_total"
  labels:
    env: "fixed"
`,
			point: dd(metric.Counter, "api.calls", "env:prod", "route:/a"),
			want:  want{"api_calls_total", metric.TypeCounter, lbl("env", "fixed", "route", "/a")},
		},
		{
			// statsd_exporter (fsm/formatter.go, regexp.Expand) reads a
			// reference as the longest run of [A-Za-z0-9_]: "${0}_suffix"
			// appends, $0 is the whole name, an out-of-range $5 is empty.
			name: "references as statsd_exporter reads them",
			config: `
mappings:
- match: "test1.*.*"
  name: "name"
  labels:
    braced: "${0}_suffix"
    combined: "${0}_$1"
    original: "$0"
    outofrange: "$5"
`,
			point: dd(metric.Gauge, "test1.total_requests.count"),
			want: want{"name", metric.TypeGauge, lbl("braced", "test1.total_requests.count_suffix",
				"combined", "test1.total_requests.count_total_requests", "original", "test1.total_requests.count", "outofrange", "")},
		},
		{
			name: "regex named group",
			config: `
mappings:
- match: "(?P<svc>[a-z]+)\\.(.*)"
  match_type: regex
  name: "${svc}_$2"
`,
			point: dd(metric.Gauge, "api.calls"),
			want:  want{"api_calls", metric.TypeGauge, nil},
		},
		{
			name: "honor_labels keeps tags",
			config: `
mappings:
- match: "api.*"
  name: "api_${1}_total"
  honor_labels: true
  labels:
    env: "fixed"
    team: "core"
`,
			point: dd(metric.Counter, "api.calls", "env:prod"),
			want:  want{"api_calls_total", metric.TypeCounter, lbl("env", "prod", "team", "core")},
		},
		{
			name: "EMF namespace and metric globs",
			config: `
mappings:
- emf_namespace: "MyApp/*"
  emf_metric: "*Latency"
  name: "myapp_${2}_latency_seconds"
  labels:
    component: "$1"
`,
			point: emf("MyApp/Orders", "Checkout", "Milliseconds", "Service", "x"),
			want:  want{"emf_fallback", 0, nil},
		},
		{
			name: "EMF match with captures across namespace and metric",
			config: `
mappings:
- emf_namespace: "MyApp/*"
  emf_metric: "*Latency"
  name: "myapp_latency_seconds"
  labels:
    component: "$1"
    operation: "$2"
`,
			point: emf("MyApp/Orders", "CheckoutLatency", "Milliseconds", "Service", "x"),
			want: want{"myapp_latency_seconds", metric.TypeHistogram,
				lbl("component", "Orders", "operation", "Checkout", "service", "x")},
		},
		{
			name: "EMF type change and regex",
			config: `
mappings:
- emf_metric: "^(Queue|Backlog)Depth$"
  match_type: regex
  type: counter
  name: "queue_items_total"
  labels:
    queue: "$1"
`,
			point: emf("Shop", "QueueDepth", ""),
			want:  want{"queue_items_total", metric.TypeCounter, lbl("queue", "Queue")},
		},
		{
			name: "EMF rules ignore Datadog points",
			config: `
mappings:
- emf_metric: "*"
  action: drop
`,
			point: dd(metric.Gauge, "kept"),
			want:  want{"kept", metric.TypeGauge, nil},
		},
		{
			name: "match rules ignore EMF points",
			config: `
mappings:
- match: "*"
  action: drop
`,
			point: emf("Shop", "Orders", "Count"),
			want:  want{"shop_orders_total", metric.TypeCounter, nil},
		},
		{
			name: "name omitted keeps the translated name",
			config: `
mappings:
- match: "db.*"
  buckets: [0.1, 1]
`,
			point: dd(metric.Timer, "db.query"),
			want:  want{"db_query_seconds", metric.TypeHistogram, nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.config))
			if err != nil {
				t.Fatal(err)
			}
			if tt.want.Name == "emf_fallback" { // the metric glob did not match
				tt.want = want{"my_app_orders_checkout_seconds", metric.TypeHistogram, lbl("service", "x")}
			}
			fam, ls := m.Map(nil, tt.point)
			var got want
			if fam != nil {
				got = want{fam.Name, fam.Type, ls}
				slicesSort(got.Labels)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func slicesSort(ls []metric.Label) {
	for i := 1; i < len(ls); i++ {
		for j := i; j > 0 && ls[j].Name < ls[j-1].Name; j-- {
			ls[j], ls[j-1] = ls[j-1], ls[j]
		}
	}
}

func TestOptions(t *testing.T) {
	m, err := Parse([]byte(`
defaults:
  observer_type: histogram
  histogram_options:
    buckets: [.005, .01, .025, .05, .1, .25, .5, 1, 2.5]
  ttl: 45s
  glob_disable_ordering: false
  match_type: glob
mappings:
- match: "test.timing.*.*.*"
  observer_type: histogram
  histogram_options:
    buckets: [0.01, 0.025, 0.05, 0.1]
    native_histogram_bucket_factor: 1.05
    native_histogram_max_buckets: 256
  name: "my_timer"
  ttl: 1h
  help: "Timing of things."
- match: "legacy.*"
  timer_type: summary
  quantiles:
    - quantile: 0.5
      error: 0.05
  name: "legacy_$1"
- match: "scaled.*"
  scale: 0.001
  name: "scaled_seconds"
`))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := m.Map(nil, dd(metric.Timer, "test.timing.a.b.c"))
	if f.Type != metric.TypeHistogram || !cmp.Equal(f.Buckets, []float64{0.01, 0.025, 0.05, 0.1}) ||
		f.NativeBucketFactor != 1.05 || f.NativeMaxBuckets != 256 || f.TTL != time.Hour || f.Help != "Timing of things." || f.Scale != 1e-3 {
		t.Errorf("my_timer: %+v", f)
	}
	f, _ = m.Map(nil, dd(metric.Histogram, "other"))
	if f.Type != metric.TypeHistogram || len(f.Buckets) != 9 || f.TTL != 45*time.Second {
		t.Errorf("defaults: %+v", f)
	}
	f, _ = m.Map(nil, dd(metric.Timer, "legacy.op"))
	if f.Name != "legacy_op" || f.Type != metric.TypeSummary || !cmp.Equal(f.Objectives, map[float64]float64{0.5: 0.05}) {
		t.Errorf("legacy: %+v", f)
	}
	f, _ = m.Map(nil, dd(metric.Histogram, "scaled.x"))
	if f.Scale != 0.001 {
		t.Errorf("scaled: %+v", f)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ config, want string }{
		{"mappings:\n- match: a.b\n  nmae: x\n", `line 3: field nmae not found in mapping rule`},
		{"defaults:\n  observer: histogram\n", `line 2: field observer not found in defaults`},
		{"mappings:\n- match: a.b\n  histogram_options:\n    bucket: [1]\n", `line 4: field bucket not found in histogram_options`},
		{"mapings: []\n", `line 1: field mapings not found in mapping config`},
		{"mappings:\n- match: a.b\n  name: ok\n- match: c.d\n  match_type: fuzzy\n", `line 4: mappings[1]: match_type "fuzzy"`},
		{"mappings:\n- match: a.b\n  labels:\n    1bad: x\n", `line 2: mappings[0]: label name "1bad"`},
		{"mappings:\n- match: \"(\"\n  match_type: regex\n", `line 2: mappings[0]: error parsing regexp`},
		{"mappings:\n- name: x\n", `line 2: mappings[0]: a rule needs match`},
		{"mappings:\n- match: a\n  emf_metric: b\n", `exclude each other`},
		{"mappings:\n- match: a\n  action: keep\n", `action "keep"`},
		{"mappings:\n- match: a\n  name: \"bad-name\"\n", `name "bad-name" is not a valid metric name`},
		{"mappings:\n- match: a\n  buckets: [1, 0.5]\n", `strictly increasing`},
		{"mappings:\n- match: a\n  ttl: 60\n", `line 3: invalid duration "60"`},
		{"mappings:\n- match: a\n  type: timer\n", `type "timer"`},
		{"mappings:\n- match: a\n  observer_type: histogram\n  histogram_options: {buckets: [1]}\n  summary_options: {max_age: 1m}\n", `exclude each other`},
		{"mappings:\n- match: a\n  summary_options:\n    quantiles: [{quantile: 1.5, error: 0.1}]\n", `quantile 1.5`},
		{"mappings:\n- match: a\n  histogram_options: {native_histogram_bucket_factor: 0.5}\n", `native_histogram_bucket_factor`},
		{"mappings: {a: 1}\n", `line 1: `},
		// statsd_exporter reads $1_foo as a capture named "1_foo" and expands
		// it to "" (TestMetricMapperYAML "Config with bad regex reference"):
		// lambdabridge refuses such a reference, with the fix.
		{"mappings:\n- match: test.*\n  name: name\n  labels:\n    label: \"$1_foo\"\n",
			`line 2: mappings[0]: label "label": "$1_foo" refers to a capture named "1_foo", which does not exist (statsd_exporter expands it to ""); write ${1}_foo for capture 1 followed by "_foo"`},
		{"mappings:\n- match: api.*\n  name: api_$1_total\n", `name: "$1_total" refers to a capture named "1_total"`},
		{"mappings:\n- match: \"(?P<svc>.*)\"\n  match_type: regex\n  name: ${service}\n", `"${service}" refers to a capture named "service"`},
		{"defaults:\n  glob_disable_ordering: true\n", `glob_disable_ordering: true is not supported`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.config))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want error containing %q", tt.config, err, tt.want)
		}
	}
}

func TestEmptyConfig(t *testing.T) {
	m, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := m.Map(nil, dd(metric.Counter, "a.b"))
	if f.Name != "a_b_total" {
		t.Errorf("got %s", f.Name)
	}
}

// TestWithAggregator runs points through the aggregator with a mapping and
// checks the exposition.
func TestWithAggregator(t *testing.T) {
	m, err := Parse([]byte(`
mappings:
- match: "test.dispatcher.*.*.*"
  name: "dispatcher_events_total"
  labels:
    processor: "$1"
    action: "$2"
    outcome: "$3"
- match: "db.*"
  observer_type: histogram
  histogram_options:
    buckets: [0.01, 0.1]
  name: "db_${1}_seconds"
  help: "Database time."
- match: "noise.*"
  action: drop
- emf_namespace: Shop
  emf_metric: Latency
  buckets: [0.1, 1]
`))
	if err != nil {
		t.Fatal(err)
	}
	agg := aggregate.New(aggregate.WithMapper(m))
	points := []*metric.Point{
		dd(metric.Counter, "test.dispatcher.Foo.send.success"),
		dd(metric.Counter, "test.dispatcher.Foo.send.success"),
		func() *metric.Point { p := dd(metric.Timer, "db.query"); p.Values = []float64{50}; return p }(),
		dd(metric.Gauge, "noise.level"),
		func() *metric.Point {
			p := emf("Shop", "Latency", "Milliseconds", "Service", "checkout")
			p.Values = []float64{100, 200}
			return p
		}(),
	}
	for _, p := range points {
		agg.Add(p)
	}
	want := `
# HELP db_query_seconds Database time.
# TYPE db_query_seconds histogram
db_query_seconds_bucket{le="0.01"} 0
db_query_seconds_bucket{le="0.1"} 1
db_query_seconds_bucket{le="+Inf"} 1
db_query_seconds_sum 0.05
db_query_seconds_count 1
# HELP dispatcher_events_total Metrics matching "test.dispatcher.*.*.*" (glob), mapped by lambdabridge.
# TYPE dispatcher_events_total counter
dispatcher_events_total{action="send",outcome="success",processor="Foo"} 2
# HELP shop_latency_seconds EMF metric Shop Latency (Milliseconds)
# TYPE shop_latency_seconds histogram
shop_latency_seconds_bucket{service="checkout",le="0.1"} 1
shop_latency_seconds_bucket{service="checkout",le="1"} 2
shop_latency_seconds_bucket{service="checkout",le="+Inf"} 2
shop_latency_seconds_sum{service="checkout"} 0.30000000000000004
shop_latency_seconds_count{service="checkout"} 2
`
	g := prometheus.Gatherers{prometheus.NewPedanticRegistry(), agg}
	if err := testutil.GatherAndCompare(g, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.GatherAndLint(g); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
	st := agg.Stats()
	if diff := cmp.Diff([]aggregate.Drop{{Reason: aggregate.ReasonMappingDrop, Family: "noise.level", Values: 1}}, st.Dropped); diff != "" {
		t.Error(diff)
	}
}

func BenchmarkMap(b *testing.B) {
	m, err := Parse([]byte(`
mappings:
- match: "test.dispatcher.*.*.*"
  name: "dispatcher_events_total"
  labels:
    processor: "$1"
    action: "$2"
    outcome: "$3"
`))
	if err != nil {
		b.Fatal(err)
	}
	p := dd(metric.Counter, "test.dispatcher.Foo.send.success", "env:prod")
	dst := make([]metric.Label, 0, 16)
	b.ReportAllocs()
	for b.Loop() {
		_, dst = m.Map(dst[:0], p)
	}
}

// FuzzParse checks that no mapping file makes Parse or Map panic, and that
// what Map returns is usable by the aggregator.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"mappings:\n- match: \"test.dispatcher.*.*.*\"\n  name: \"dispatcher_events_total\"\n  labels:\n    processor: \"$1\"\n",
		"mappings:\n- match: \"(.*)\\\\.(.*)\"\n  match_type: regex\n  name: \"${1}_$2\"\n",
		"defaults:\n  observer_type: summary\n  ttl: 1m\nmappings:\n- emf_namespace: \"*\"\n  emf_metric: \"*\"\n  name: \"x_$1_$2\"\n",
		"mappings:\n- match: a\n  action: drop\n",
		"mappings: [{match: 'a.*', type: histogram, buckets: [1, 2]}]\n",
	} {
		f.Add([]byte(s), "a.b-c.d")
	}
	f.Fuzz(func(t *testing.T, config []byte, name string) {
		m, err := Parse(config)
		if err != nil {
			return
		}
		agg := aggregate.New(aggregate.WithMapper(m))
		for _, p := range []*metric.Point{
			dd(metric.Counter, name, "k:"+name),
			dd(metric.Timer, name),
			emf(name, name, "Milliseconds", "D", name),
		} {
			m.Map(nil, p)
			agg.Add(p)
		}
		if _, err := (prometheus.Gatherers{prometheus.NewPedanticRegistry(), agg}).Gather(); err != nil {
			t.Fatalf("inconsistent output: %v", err)
		}
	})
}

// TestFromNode parses the mapping section of a larger file, as the config
// package does, and keeps the file's line numbers in errors.
func TestFromNode(t *testing.T) {
	var doc yaml.Node
	src := "functions: []\nmappings:\n- match: a.*\n  name: a_$1\n- match: b\n  labels: {\"bad-label\": x}\n"
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	section := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: root.Content[2:4]}
	_, err := FromNode(section)
	if err == nil || !strings.Contains(err.Error(), "line 5: mappings[1]: label name \"bad-label\"") {
		t.Fatalf("err = %v", err)
	}
	section.Content[1].Content = section.Content[1].Content[:1]
	m, err := FromNode(section)
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := m.Map(nil, dd(metric.Gauge, "a.x")); f.Name != "a_x" {
		t.Errorf("got %s", f.Name)
	}
}
