package aggregate

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/lambdabridge/lambdabridge/metric"
)

// check gathers agg through a fresh pedantic registry (prometheus.Gatherers
// checks the consistency of what the aggregator returns), compares the
// exposition text and lints it.
func check(t *testing.T, agg *Aggregator, want string, names ...string) {
	t.Helper()
	g := prometheus.Gatherers{prometheus.NewPedanticRegistry(), agg}
	if err := testutil.GatherAndCompare(g, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	problems, err := testutil.GatherAndLint(g)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		// the test metrics are not all named by the book
		if strings.Contains(p.Text, "counter metrics should have \"_total\" suffix") {
			continue
		}
		t.Errorf("lint %s: %s", p.Metric, p.Text)
	}
}

func emf(ns, name, unit string, values []float64, labels ...string) metric.Point {
	p := metric.Point{Format: metric.FormatEMF, Namespace: ns, Name: name, Unit: unit, Kind: metric.EMFKind(unit), Values: values}
	for i := 0; i+1 < len(labels); i += 2 {
		p.Labels = append(p.Labels, metric.Label{Name: labels[i], Value: labels[i+1]})
	}
	return p
}

func dd(kind metric.Kind, name string, values []float64, tags ...string) metric.Point {
	p := metric.Point{Format: metric.FormatDogStatsD, Name: name, Kind: kind, Values: values}
	for _, t := range tags {
		n, v, _ := strings.Cut(t, ":")
		p.Labels = append(p.Labels, metric.Label{Name: n, Value: v})
	}
	return p
}

// bucketMapper is the default mapper with fixed histogram buckets, so the
// expected texts stay short.
type bucketMapper struct {
	m  *TranslateMapper
	mu sync.Mutex
	c  map[*Family]*Family
	b  []float64
}

func newBucketMapper(b ...float64) *bucketMapper {
	return &bucketMapper{m: NewTranslateMapper(), c: map[*Family]*Family{}, b: b}
}

func (m *bucketMapper) Map(dst []metric.Label, p *metric.Point) (*Family, []metric.Label) {
	f, dst := m.m.Map(dst, p)
	m.mu.Lock()
	defer m.mu.Unlock()
	g := m.c[f]
	if g == nil {
		c := *f
		c.Buckets = m.b
		g = &c
		m.c[f] = g
	}
	return g, dst
}

func TestEMFExample(t *testing.T) {
	agg := New()
	p := emf("Shop", "Latency", "Milliseconds", []float64{100, 200}, "Service", "checkout")
	agg.Add(&p)
	check(t, agg, `
# HELP shop_latency_seconds EMF metric Shop Latency (Milliseconds)
# TYPE shop_latency_seconds histogram
shop_latency_seconds_bucket{service="checkout",le="0.001"} 0
shop_latency_seconds_bucket{service="checkout",le="0.0025"} 0
shop_latency_seconds_bucket{service="checkout",le="0.005"} 0
shop_latency_seconds_bucket{service="checkout",le="0.01"} 0
shop_latency_seconds_bucket{service="checkout",le="0.025"} 0
shop_latency_seconds_bucket{service="checkout",le="0.05"} 0
shop_latency_seconds_bucket{service="checkout",le="0.1"} 1
shop_latency_seconds_bucket{service="checkout",le="0.25"} 2
shop_latency_seconds_bucket{service="checkout",le="0.5"} 2
shop_latency_seconds_bucket{service="checkout",le="1"} 2
shop_latency_seconds_bucket{service="checkout",le="2.5"} 2
shop_latency_seconds_bucket{service="checkout",le="5"} 2
shop_latency_seconds_bucket{service="checkout",le="10"} 2
shop_latency_seconds_bucket{service="checkout",le="30"} 2
shop_latency_seconds_bucket{service="checkout",le="60"} 2
shop_latency_seconds_bucket{service="checkout",le="120"} 2
shop_latency_seconds_bucket{service="checkout",le="300"} 2
shop_latency_seconds_bucket{service="checkout",le="600"} 2
shop_latency_seconds_bucket{service="checkout",le="900"} 2
shop_latency_seconds_bucket{service="checkout",le="+Inf"} 2
shop_latency_seconds_sum{service="checkout"} 0.30000000000000004
shop_latency_seconds_count{service="checkout"} 2
`)
	fams, _ := agg.Gather()
	h := fams[0].Metric[0].Histogram
	if h.GetSampleCount() != 2 || math.Abs(h.GetSampleSum()-0.3) > 1e-12 {
		t.Errorf("count %d sum %g, want 2 and 0.3", h.GetSampleCount(), h.GetSampleSum())
	}
	if h.GetSchema() != 3 || len(h.PositiveSpan) == 0 {
		t.Errorf("native histogram missing: schema %d spans %v", h.GetSchema(), h.PositiveSpan)
	}
}

func TestSemantics(t *testing.T) {
	tests := []struct {
		name   string
		opts   []Option
		points []metric.Point
		want   string
		names  []string
		drops  []Drop
	}{
		{
			name: "counter sums with sample rate",
			points: []metric.Point{
				dd(metric.Counter, "page.views", []float64{1}, "route:/a"),
				func() metric.Point {
					p := dd(metric.Counter, "page.views", []float64{1, 2}, "route:/a")
					p.SampleRate = 0.1
					return p
				}(),
				dd(metric.Counter, "page.views", []float64{5}, "route:/b"),
			},
			want: `
# HELP page_views_total Datadog counter page.views
# TYPE page_views_total counter
page_views_total{route="/a"} 31
page_views_total{route="/b"} 5
`,
		},
		{
			name: "negative and non-finite counter increments are dropped",
			points: []metric.Point{
				dd(metric.Counter, "jobs", []float64{3, -1, math.NaN(), math.Inf(1), 2}),
			},
			want: `
# HELP jobs_total Datadog counter jobs
# TYPE jobs_total counter
jobs_total 5
`,
			drops: []Drop{{ReasonNegativeCounter, "jobs_total", 1}, {ReasonNonFinite, "jobs_total", 2}},
		},
		{
			name: "gauge keeps the last value, newer timestamps win",
			points: []metric.Point{
				dd(metric.Gauge, "queue.depth", []float64{4, 7}),
				func() metric.Point { p := dd(metric.Gauge, "temp", []float64{20}); p.TimeMs = 2000; return p }(),
				func() metric.Point { p := dd(metric.Gauge, "temp", []float64{10}); p.TimeMs = 1000; return p }(),
				func() metric.Point { p := dd(metric.Gauge, "temp", []float64{30}); p.TimeMs = 2000; return p }(),
			},
			want: `
# HELP queue_depth Datadog gauge queue.depth
# TYPE queue_depth gauge
queue_depth 7
# HELP temp Datadog gauge temp
# TYPE temp gauge
temp 30
`,
			drops: []Drop{{ReasonOutOfOrder, "temp", 1}},
		},
		{
			name: "a series with no usable value is not created",
			points: []metric.Point{
				dd(metric.Gauge, "never", []float64{math.NaN()}),
				dd(metric.Counter, "down", []float64{-1}),
				dd(metric.Gauge, "ok", []float64{1}),
				func() metric.Point {
					p := dd(metric.Counter, "odd.rate", []float64{2})
					p.SampleRate = math.NaN()
					return p
				}(),
			},
			want: `
# HELP odd_rate_total Datadog counter odd.rate
# TYPE odd_rate_total counter
odd_rate_total 2
# HELP ok Datadog gauge ok
# TYPE ok gauge
ok 1
`,
			drops: []Drop{{ReasonNegativeCounter, "down_total", 1}, {ReasonNonFinite, "never", 1}},
		},
		{
			name: "too many labels",
			opts: []Option{WithMaxLabels(2)},
			points: []metric.Point{
				dd(metric.Gauge, "wide", []float64{1}, "a:1", "b:2", "c:3"),
				dd(metric.Gauge, "wide", []float64{1}, "a:1", "b:2", "c:3", "d", "e", "f", "g", "h", "i"),
				dd(metric.Gauge, "narrow", []float64{1}, "a:1", "b:2"),
			},
			want: `
# HELP narrow Datadog gauge narrow
# TYPE narrow gauge
narrow{a="1",b="2"} 1
`,
			drops: []Drop{{ReasonLabelLimit, "wide", 2}},
		},
		{
			name: "EMF units: count, bytes, percent, none",
			points: []metric.Point{
				emf("MyApp/Orders", "Placed", "Count", []float64{1, 1, 1}, "Region", "eu"),
				emf("MyApp/Orders", "Payload", "Kilobytes", []float64{2}),
				emf("MyApp/Orders", "CPU", "Percent", []float64{50, 75}),
				emf("MyApp/Orders", "Queue", "", []float64{3}),
			},
			want: `
# HELP my_app_orders_cpu_percent EMF metric MyApp/Orders CPU (Percent)
# TYPE my_app_orders_cpu_percent gauge
my_app_orders_cpu_percent 75
# HELP my_app_orders_payload_bytes EMF metric MyApp/Orders Payload (Kilobytes)
# TYPE my_app_orders_payload_bytes gauge
my_app_orders_payload_bytes 2048
# HELP my_app_orders_placed_total EMF metric MyApp/Orders Placed (Count)
# TYPE my_app_orders_placed_total counter
my_app_orders_placed_total{region="eu"} 3
# HELP my_app_orders_queue EMF metric MyApp/Orders Queue
# TYPE my_app_orders_queue gauge
my_app_orders_queue 3
`,
		},
		{
			name: "timer in seconds with weight, histogram buckets overridable",
			opts: []Option{WithMapper(newBucketMapper(0.1, 1))},
			points: []metric.Point{
				func() metric.Point {
					p := dd(metric.Timer, "db.query", []float64{50, 500})
					p.SampleRate = 0.5
					return p
				}(),
				dd(metric.Distribution, "cart.size", []float64{0.5, 3}),
			},
			want: `
# HELP cart_size Datadog distribution cart.size
# TYPE cart_size histogram
cart_size_bucket{le="0.1"} 0
cart_size_bucket{le="1"} 1
cart_size_bucket{le="+Inf"} 2
cart_size_sum 3.5
cart_size_count 2
# HELP db_query_seconds Datadog timer db.query (milliseconds)
# TYPE db_query_seconds histogram
db_query_seconds_bucket{le="0.1"} 2
db_query_seconds_bucket{le="1"} 4
db_query_seconds_bucket{le="+Inf"} 4
db_query_seconds_sum 1.1
db_query_seconds_count 4
`,
		},
		{
			name: "sets count distinct members",
			points: []metric.Point{
				{Format: metric.FormatDogStatsD, Name: "users", Kind: metric.Set, Members: []string{"a", "b"}},
				{Format: metric.FormatDogStatsD, Name: "users", Kind: metric.Set, Members: []string{"b", "c"}},
			},
			want: `
# HELP users Datadog set users
# TYPE users gauge
users 3
`,
		},
		{
			name: "service checks and events",
			points: []metric.Point{
				{Format: metric.FormatDogStatsD, Name: "db.up", Kind: metric.ServiceCheck, Values: []float64{2}},
				{Format: metric.FormatDogStatsD, Name: "db.up", Kind: metric.ServiceCheck, Values: []float64{0}},
				{Format: metric.FormatDogStatsD, Name: "deploy", Kind: metric.Event, Values: []float64{1}},
				{Format: metric.FormatDogStatsD, Name: "deploy", Kind: metric.Event, Values: []float64{1}},
			},
			want: `
# HELP datadog_events_total Datadog events
# TYPE datadog_events_total counter
datadog_events_total 2
# HELP datadog_service_check_status Datadog service check status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN
# TYPE datadog_service_check_status gauge
datadog_service_check_status{check="db.up"} 0
`,
		},
		{
			name: "type conflict: EMF histogram vs Datadog gauge of the same name",
			opts: []Option{WithMapper(newBucketMapper(1))},
			points: []metric.Point{
				emf("Shop", "Latency", "Milliseconds", []float64{100}),
				dd(metric.Gauge, "shop.latency_seconds", []float64{1, 2}),
			},
			want: `
# HELP shop_latency_seconds EMF metric Shop Latency (Milliseconds)
# TYPE shop_latency_seconds histogram
shop_latency_seconds_bucket{le="1"} 1
shop_latency_seconds_bucket{le="+Inf"} 1
shop_latency_seconds_sum 0.1
shop_latency_seconds_count 1
`,
			drops: []Drop{{ReasonTypeConflict, "shop_latency_seconds", 2}},
		},
		{
			name: "label-name sets must agree by default",
			points: []metric.Point{
				emf("Shop", "Orders", "Count", []float64{1}, "Service", "checkout"),
				emf("Shop", "Orders", "Count", []float64{1}, "Service", "checkout", "Operation", "pay"),
			},
			want: `
# HELP shop_orders_total EMF metric Shop Orders (Count)
# TYPE shop_orders_total counter
shop_orders_total{service="checkout"} 1
`,
			drops: []Drop{{ReasonTypeConflict, "shop_orders_total", 1}},
		},
		{
			name: "mixed label sets when allowed",
			opts: []Option{WithMixedLabelSets(true)},
			points: []metric.Point{
				emf("Shop", "Orders", "Count", []float64{1}, "Service", "checkout"),
				emf("Shop", "Orders", "Count", []float64{1}, "Service", "checkout", "Operation", "pay"),
			},
			want: `
# HELP shop_orders_total EMF metric Shop Orders (Count)
# TYPE shop_orders_total counter
shop_orders_total{operation="pay",service="checkout"} 1
shop_orders_total{service="checkout"} 1
`,
		},
		{
			name: "name collision: histogram foo vs foo_count and foo_sum",
			opts: []Option{WithMapper(newBucketMapper(1))},
			points: []metric.Point{
				dd(metric.Histogram, "foo", []float64{0.5}),
				dd(metric.Counter, "foo_count", []float64{1}),
				dd(metric.Gauge, "foo_sum", []float64{1}),
				dd(metric.Gauge, "bar", []float64{1}),
				dd(metric.Counter, "bar", []float64{1}),
			},
			want: `
# HELP bar Datadog gauge bar
# TYPE bar gauge
bar 1
# HELP foo Datadog histogram foo
# TYPE foo histogram
foo_bucket{le="1"} 1
foo_bucket{le="+Inf"} 1
foo_sum 0.5
foo_count 1
`,
			drops: []Drop{
				{ReasonNameCollision, "bar_total", 1},
				{ReasonNameCollision, "foo_count_total", 1},
				{ReasonNameCollision, "foo_sum", 1},
			},
		},
		{
			name: "const labels, function and environment labels, reserved names",
			opts: []Option{
				WithConstLabels(metric.Label{Name: "region", Value: "local"}),
				WithFunctionLabel("function_name"),
				WithPerEnvironment(true),
				WithMapper(newBucketMapper(1)),
			},
			points: func() []metric.Point {
				a := dd(metric.Counter, "hits", []float64{1}, "region:ignored", "canary")
				a.Origin = metric.Origin{Function: "fn", Environment: "env-1"}
				b := a
				b.Origin.Environment = "env-2"
				h := dd(metric.Histogram, "size", []float64{2}, "le:5")
				h.Origin = metric.Origin{Function: "fn", Environment: "env-1"}
				return []metric.Point{a, b, b, h}
			}(),
			want: `
# HELP hits_total Datadog counter hits
# TYPE hits_total counter
hits_total{canary="true",function_name="fn",lambda_environment="env-1",region="local"} 1
hits_total{canary="true",function_name="fn",lambda_environment="env-2",region="local"} 2
# HELP size Datadog histogram size
# TYPE size histogram
size_bucket{exported_le="5",function_name="fn",lambda_environment="env-1",region="local",le="1"} 0
size_bucket{exported_le="5",function_name="fn",lambda_environment="env-1",region="local",le="+Inf"} 1
size_sum{exported_le="5",function_name="fn",lambda_environment="env-1",region="local"} 2
size_count{exported_le="5",function_name="fn",lambda_environment="env-1",region="local"} 1
`,
		},
		{
			name: "environments are summed by default",
			points: func() []metric.Point {
				a := dd(metric.Counter, "hits", []float64{1})
				a.Origin.Environment = "env-1"
				b := a
				b.Origin.Environment = "env-2"
				return []metric.Point{a, b}
			}(),
			want: `
# HELP hits_total Datadog counter hits
# TYPE hits_total counter
hits_total 2
`,
		},
		{
			name: "cardinality guard per family",
			opts: []Option{WithMaxSeriesPerFamily(2)},
			points: []metric.Point{
				dd(metric.Counter, "req", []float64{1}, "id:1", "route:/a"),
				dd(metric.Counter, "req", []float64{1}, "id:2", "route:/a"),
				dd(metric.Counter, "req", []float64{1, 1}, "id:3", "route:/a"),
				dd(metric.Counter, "req", []float64{1}, "id:1", "route:/a"),
			},
			want: `
# HELP req_total Datadog counter req
# TYPE req_total counter
req_total{id="1",route="/a"} 2
req_total{id="2",route="/a"} 1
`,
			drops: []Drop{{ReasonCardinalityLimit, "req_total", 2}},
		},
		{
			name: "cardinality guard in total",
			opts: []Option{WithMaxSeries(1)},
			points: []metric.Point{
				dd(metric.Counter, "a", []float64{1}),
				dd(metric.Counter, "b", []float64{1}),
			},
			want: `
# HELP a_total Datadog counter a
# TYPE a_total counter
a_total 1
`,
			drops: []Drop{{ReasonCardinalityLimit, "b_total", 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			agg := New(tt.opts...)
			for i := range tt.points {
				agg.Add(&tt.points[i])
			}
			check(t, agg, tt.want, tt.names...)
			st := agg.Stats()
			if diff := cmp.Diff(tt.drops, st.Dropped); diff != "" {
				t.Errorf("dropped (-want +got):\n%s", diff)
			}
			// every value is accounted for
			var in, acc uint64
			for i := range tt.points {
				in += uint64(valueCount(&tt.points[i]))
			}
			for _, f := range st.Families {
				acc += f.Values
			}
			if in != acc+st.DroppedTotal || acc != st.Values {
				t.Errorf("values in %d != accepted %d (%d) + dropped %d", in, acc, st.Values, st.DroppedTotal)
			}
		})
	}
}

func TestExplodedLabel(t *testing.T) {
	agg := New(WithMaxSeriesPerFamily(3))
	for _, id := range []string{"1", "2", "3", "4"} {
		p := dd(metric.Counter, "req", []float64{1}, "request_id:"+id, "route:/a")
		agg.Add(&p)
	}
	st := agg.Stats()
	f := st.Families[0]
	if f.ExplodedLabel != "request_id" || f.DistinctValues != 3 || f.Limited != 1 {
		t.Errorf("got %+v, want request_id exploded with 3 values, 1 limited", f)
	}
}

func TestTTLAndExpiry(t *testing.T) {
	now := time.Unix(1000, 0)
	var ended []*dto.MetricFamily
	agg := New(WithTTL(time.Minute), WithClock(func() time.Time { return now }),
		WithOnExpire(func(f []*dto.MetricFamily) { ended = append(ended, f...) }))
	a := dd(metric.Counter, "a", []float64{1}, "x:1")
	b := dd(metric.Counter, "a", []float64{1}, "x:2")
	agg.Add(&a)
	agg.Add(&b)
	now = now.Add(45 * time.Second)
	agg.Add(&b)
	now = now.Add(30 * time.Second)
	check(t, agg, `
# HELP a_total Datadog counter a
# TYPE a_total counter
a_total{x="2"} 2
`)
	if len(ended) != 1 || len(ended[0].Metric) != 1 || ended[0].GetName() != "a_total" ||
		ended[0].Metric[0].Label[0].GetValue() != "1" || ended[0].Metric[0].Counter.GetValue() != 1 {
		t.Fatalf("ended = %v", ended)
	}
	now = now.Add(time.Hour)
	if n := agg.Expire(); n != 1 {
		t.Errorf("Expire = %d, want 1", n)
	}
	if st := agg.Stats(); st.Series != 0 || len(st.Families) != 0 || st.Expired != 2 {
		t.Errorf("stats after expiry: %+v", st)
	}
	// the name is free again: another type may take it
	g := dd(metric.Gauge, "a", []float64{5})
	agg.Add(&g)
	check(t, agg, `
# HELP a Datadog gauge a
# TYPE a gauge
a 5
`)
}

// summaryMapper maps every histogram to a summary.
type summaryMapper struct{ fams sync.Map }

func (m *summaryMapper) Map(dst []metric.Label, p *metric.Point) (*Family, []metric.Label) {
	fam := metric.Translate(p)
	if v, ok := m.fams.Load(fam.Name); ok {
		return v.(*Family), metric.PromLabels(dst, p)
	}
	f := &Family{Family: fam, Objectives: map[float64]float64{0.5: 0.05}}
	if f.Type == metric.TypeHistogram {
		f.Type = metric.TypeSummary
	}
	v, _ := m.fams.LoadOrStore(fam.Name, f)
	return v.(*Family), metric.PromLabels(dst, p)
}

func TestSummary(t *testing.T) {
	agg := New(WithMapper(&summaryMapper{}))
	p := dd(metric.Histogram, "latency", []float64{1, 2, 3}, "quantile:x")
	agg.Add(&p)
	check(t, agg, `
# HELP latency Datadog histogram latency
# TYPE latency summary
latency{exported_quantile="x",quantile="0.5"} 2
latency_sum{exported_quantile="x"} 6
latency_count{exported_quantile="x"} 3
`)
}

func TestNativeHistogram(t *testing.T) {
	agg := New()
	// 1 and 2 are bucket boundaries; schema 3 has 8 buckets per power of 2
	p := dd(metric.Histogram, "h", []float64{1, 1, 2, 0, -1})
	agg.Add(&p)
	fams, _ := agg.Gather()
	h := fams[0].Metric[0].Histogram
	if h.GetSchema() != 3 || h.GetZeroCount() != 1 {
		t.Fatalf("schema %d zero %d", h.GetSchema(), h.GetZeroCount())
	}
	// key 0 holds (2^-1/8, 1], key 8 holds (2^7/8, 2]
	type span struct {
		Off int32
		Len uint32
	}
	var spans []span
	for _, s := range h.PositiveSpan {
		spans = append(spans, span{s.GetOffset(), s.GetLength()})
	}
	if diff := cmp.Diff([]span{{0, 1}, {7, 1}}, spans); diff != "" {
		t.Errorf("positive spans (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{2, -1}, h.PositiveDelta); diff != "" {
		t.Errorf("positive deltas (-want +got):\n%s", diff)
	}
	if len(h.NegativeSpan) != 1 || h.NegativeSpan[0].GetOffset() != 0 || h.NegativeDelta[0] != 1 {
		t.Errorf("negative: %v %v", h.NegativeSpan, h.NegativeDelta)
	}
}

func TestNativeHistogramResolutionReduced(t *testing.T) {
	agg := New(WithMapper(&fixedMapper{fam: &Family{
		Family:           metric.Family{Name: "wide", Type: metric.TypeHistogram, Scale: 1, Help: "h"},
		NativeMaxBuckets: 10,
	}}))
	var vs []float64
	for v := 1e-6; v < 1e6; v *= 1.3 {
		vs = append(vs, v)
	}
	p := dd(metric.Histogram, "wide", vs)
	agg.Add(&p)
	fams, _ := agg.Gather()
	h := fams[0].Metric[0].Histogram
	n := 0
	var total int64
	var run int64
	for _, s := range h.PositiveSpan {
		n += int(s.GetLength())
	}
	for _, d := range h.PositiveDelta {
		run += d
		total += run
	}
	if h.GetSchema() >= 3 || uint64(total) != uint64(len(vs)) {
		t.Errorf("schema %d, buckets %d, total %d of %d", h.GetSchema(), n, total, len(vs))
	}
}

type fixedMapper struct{ fam *Family }

func (m *fixedMapper) Map(dst []metric.Label, p *metric.Point) (*Family, []metric.Label) {
	return m.fam, metric.PromLabels(dst, p)
}

func TestMappingDropAndInvalidName(t *testing.T) {
	agg := New(WithMapper(&fixedMapper{}))
	p := dd(metric.Counter, "x", []float64{1, 2})
	agg.Add(&p)
	agg2 := New(WithMapper(&fixedMapper{fam: &Family{Family: metric.Family{Name: "1bad", Type: metric.TypeGauge}}}))
	agg2.Add(&p)
	if diff := cmp.Diff([]Drop{{ReasonMappingDrop, "x", 2}}, agg.Stats().Dropped); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]Drop{{ReasonInvalidName, "1bad", 2}}, agg2.Stats().Dropped); diff != "" {
		t.Error(diff)
	}
}

func TestLabelValuesEscaped(t *testing.T) {
	agg := New()
	p := dd(metric.Gauge, "g", []float64{1}, "a:x\x00y\x01z", "b:\xff")
	agg.Add(&p)
	agg.Add(&p)
	fams, _ := agg.Gather()
	m := fams[0].Metric
	if len(m) != 1 || m[0].Label[0].GetValue() != "x\x00y\x01z" || m[0].Label[1].GetValue() != "\uFFFD" {
		t.Errorf("labels = %v", m)
	}
}

func TestDoesNotRetainPoint(t *testing.T) {
	agg := New()
	labels := []metric.Label{{Name: "k", Value: "v"}}
	vals := []float64{1}
	p := metric.Point{Format: metric.FormatDogStatsD, Name: "c", Kind: metric.Counter, Labels: labels, Values: vals}
	agg.Add(&p)
	labels[0].Value = "changed"
	vals[0] = 100
	check(t, agg, `
# HELP c_total Datadog counter c
# TYPE c_total counter
c_total{k="v"} 1
`)
}

func TestSelfCollector(t *testing.T) {
	agg := New(WithMaxSeriesPerFamily(1))
	for _, p := range []metric.Point{
		dd(metric.Counter, "req", []float64{1}, "id:1"),
		dd(metric.Counter, "req", []float64{1, 1}, "id:2"),
		dd(metric.Counter, "req", []float64{-1}, "id:1"),
	} {
		agg.Add(&p)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(agg.SelfCollector())
	want := `
# HELP lambdabridge_aggregate_cardinality_limited_label_values Distinct values of the label with the most values in a family that hit the cardinality guard.
# TYPE lambdabridge_aggregate_cardinality_limited_label_values gauge
lambdabridge_aggregate_cardinality_limited_label_values{family="req_total",label="id"} 1
# HELP lambdabridge_aggregate_dropped_values_total Values the aggregator dropped, by reason.
# TYPE lambdabridge_aggregate_dropped_values_total counter
lambdabridge_aggregate_dropped_values_total{reason="cardinality_limit"} 2
lambdabridge_aggregate_dropped_values_total{reason="negative_counter"} 1
# HELP lambdabridge_aggregate_series Live series held by the aggregator.
# TYPE lambdabridge_aggregate_series gauge
lambdabridge_aggregate_series 1
# HELP lambdabridge_aggregate_values_total Values accepted by the aggregator, per family.
# TYPE lambdabridge_aggregate_values_total counter
lambdabridge_aggregate_values_total{family="req_total"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"lambdabridge_aggregate_cardinality_limited_label_values", "lambdabridge_aggregate_dropped_values_total",
		"lambdabridge_aggregate_series", "lambdabridge_aggregate_values_total"); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

// TestConcurrentExpiry adds, gathers and expires at once, with families
// disappearing under concurrent Adds, and checks the accounting.
func TestConcurrentExpiry(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(0, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); now = now.Add(time.Millisecond); return now }
	var ended int
	agg := New(WithTTL(5*time.Millisecond), WithClock(clock), WithOnExpire(func(f []*dto.MetricFamily) {
		mu.Lock()
		defer mu.Unlock()
		for _, mf := range f {
			ended += len(mf.Metric)
		}
	}))
	var wg sync.WaitGroup
	const workers, per = 4, 3000
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				p := dd(metric.Counter, "c"+strconv.Itoa(i%7), []float64{1}, "w:"+strconv.Itoa(w))
				agg.Add(&p)
				if i%100 == 0 {
					agg.Gather()
				}
			}
		})
	}
	wg.Wait()
	st := agg.Stats()
	if st.Values+st.DroppedTotal != workers*per {
		t.Errorf("accepted %d + dropped %d != %d", st.Values, st.DroppedTotal, workers*per)
	}
	mu.Lock()
	defer mu.Unlock()
	if uint64(ended) != st.Expired {
		t.Errorf("handed %d ended series, expired %d", ended, st.Expired)
	}
}

func TestConcurrent(t *testing.T) {
	agg := New(WithTTL(time.Hour), WithMaxSeries(1000))
	var wg sync.WaitGroup
	const workers, per = 4, 2000
	for w := range workers {
		wg.Go(func() {
			var b metric.Batch
			for i := range per {
				b.Reset()
				b.AddPoint(metric.Point{Format: metric.FormatDogStatsD, Name: "hits", Kind: metric.Counter,
					Labels: b.Labels([]metric.Label{{Name: "w", Value: string(rune('a' + w))}}), Values: b.Values([]float64{1})})
				b.AddPoint(metric.Point{Format: metric.FormatDogStatsD, Name: "lat", Kind: metric.Histogram, Values: b.Values([]float64{float64(i)})})
				b.AddPoint(metric.Point{Format: metric.FormatDogStatsD, Name: "g", Kind: metric.Gauge, Values: b.Values([]float64{float64(i)})})
				for j := range b.Points {
					agg.Add(&b.Points[j])
				}
				if i%500 == 0 {
					if _, err := agg.Gather(); err != nil {
						t.Error(err)
					}
					agg.Stats()
				}
			}
		})
	}
	wg.Wait()
	fams, _ := agg.Gather()
	var hits float64
	var lat uint64
	for _, f := range fams {
		for _, m := range f.Metric {
			switch f.GetName() {
			case "hits_total":
				hits += m.Counter.GetValue()
			case "lat":
				lat += m.Histogram.GetSampleCount()
			}
		}
	}
	if hits != workers*per || lat != workers*per {
		t.Errorf("hits %g lat %d, want %d", hits, lat, workers*per)
	}
}

// TestDefaultCardinalityLimit: one tag with a value per request must not
// grow a family without end when no limit is configured. Every value is
// accepted or dropped with the reason naming the label that exploded.
func TestDefaultCardinalityLimit(t *testing.T) {
	agg := New()
	const ids = 2*DefaultMaxSeriesPerFamily + 500
	for i := range ids {
		p := dd(metric.Counter, "api.requests", []float64{1}, "request_id:"+strconv.Itoa(i), "route:/a")
		agg.Add(&p)
	}
	for _, route := range []string{"/a", "/b"} {
		p := dd(metric.Gauge, "queue.depth", []float64{3}, "route:"+route)
		agg.Add(&p)
	}
	st := agg.Stats()
	if want := DefaultMaxSeriesPerFamily + 2; st.Series != want {
		t.Errorf("series = %d, want %d (the default per-family limit, then the other family)", st.Series, want)
	}
	wantDropped := uint64(ids - DefaultMaxSeriesPerFamily)
	if diff := cmp.Diff(map[string]uint64{ReasonCardinalityLimit: wantDropped}, st.DroppedByReason); diff != "" {
		t.Errorf("DroppedByReason (-want +got):\n%s", diff)
	}
	if in := uint64(ids + 2); st.Values+st.DroppedTotal != in {
		t.Errorf("values in %d != accepted %d + dropped %d", in, st.Values, st.DroppedTotal)
	}
	want := fmt.Sprintf("cardinality_limit %d (api_requests_total: label request_id, %d values)", wantDropped, DefaultMaxSeriesPerFamily)
	if got := st.DropSummary(); got != want {
		t.Errorf("DropSummary() = %q, want %q", got, want)
	}
	if agg.maxSeries != DefaultMaxSeries {
		t.Errorf("default total limit = %d, want %d", agg.maxSeries, DefaultMaxSeries)
	}
}

func TestDropSummary(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   Stats
		want string
	}{
		{"nothing dropped", Stats{}, ""},
		{"most first, then by name", Stats{DroppedByReason: map[string]uint64{ReasonNegativeCounter: 3, ReasonNonFinite: 3, ReasonTypeConflict: 7}},
			"type_conflict 7, negative_counter 3, non_finite 3"},
		{"many exploded families", Stats{
			DroppedByReason: map[string]uint64{ReasonCardinalityLimit: 40},
			Families: []FamilyStats{
				{Name: "a", Limited: 10, ExplodedLabel: "id", DistinctValues: 5},
				{Name: "b", Limited: 10, ExplodedLabel: "user", DistinctValues: 6},
				{Name: "c"},
				{Name: "d", Limited: 10, ExplodedLabel: "id", DistinctValues: 7},
				{Name: "e", Limited: 10, ExplodedLabel: "id", DistinctValues: 8},
			}},
			"cardinality_limit 40 (a: label id, 5 values; b: label user, 6 values; d: label id, 7 values; 1 more families)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.st.DropSummary(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
