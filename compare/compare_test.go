package compare

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/lambdabridge/lambdabridge/compare/analysis"
)

func TestParseStrategies(t *testing.T) {
	tests := []struct {
		in      string
		want    []Strategy
		wantErr bool
	}{
		{"", AllStrategies, false},
		{"all", AllStrategies, false},
		{"scrape", []Strategy{Scrape}, false},
		{"remote-write, pushgateway-instance,remote-write", []Strategy{RemoteWrite, PushgatewayInstance}, false},
		{"pushgateway,aggregate", []Strategy{Pushgateway, Aggregate}, false},
		{"remote_write", nil, true},
		{"scrape,", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseStrategies(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseStrategies(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.want, got); !tt.wantErr && diff != "" {
			t.Errorf("ParseStrategies(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

// TestFamilies checks the ground truth read from the aggregation: sums
// per family, and a gauge's last emitted value.
func TestFamilies(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	mfs := []*dto.MetricFamily{
		{Name: proto.String("a_total"), Type: dto.MetricType_COUNTER.Enum(), Metric: []*dto.Metric{
			{Counter: &dto.Counter{Value: f(3)}}, {Counter: &dto.Counter{Value: f(4)}}}},
		{Name: proto.String("b_seconds"), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{
			{Histogram: &dto.Histogram{SampleCount: proto.Uint64(5), SampleSum: f(1.5)}},
			{Histogram: &dto.Histogram{SampleCount: proto.Uint64(1), SampleSum: f(0.5)}}}},
		{Name: proto.String("c"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: f(9)}}}},
		{Name: proto.String("d"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: f(1)}}}},
		{Name: proto.String("e"), Type: dto.MetricType_SUMMARY.Enum(), Metric: []*dto.Metric{
			{Summary: &dto.Summary{SampleCount: proto.Uint64(2), SampleSum: f(4)}}}},
	}
	got := families(mfs, map[string]float64{"c": 2})
	want := []analysis.Family{
		{Name: "a_total", Type: "counter", Count: 7},
		{Name: "b_seconds", Type: "histogram", Count: 6, Sum: 2},
		{Name: "c", Type: "gauge", Last: f(2)}, // the last emitted, not the aggregation's
		{Name: "d", Type: "gauge", Last: f(1)},
		{Name: "e", Type: "summary", Count: 2, Sum: 4},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestClientEnv checks that an environment's DogStatsD clients are pointed
// at its listener whichever variables they read (hot-shots reads
// DD_AGENT_HOST and DD_DOGSTATSD_PORT).
func TestClientEnv(t *testing.T) {
	got := clientEnv(netip.MustParseAddrPort("127.0.0.1:40125"))
	want := []string{"DD_AGENT_HOST=127.0.0.1", "DD_DOGSTATSD_PORT=40125", "DD_DOGSTATSD_URL=udp://127.0.0.1:40125"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestStrategyProperties(t *testing.T) {
	tests := []struct {
		st                   Strategy
		inline, scrapeDriven bool
		envLabel             string
	}{
		{Scrape, false, true, "lambda_environment"},
		{Aggregate, false, true, ""},
		{RemoteWrite, true, false, "lambda_environment"},
		{Pushgateway, true, true, ""},
		{PushgatewayInstance, true, true, "instance"},
	}
	for _, tt := range tests {
		if tt.st.inline() != tt.inline || tt.st.scrapeDriven() != tt.scrapeDriven || tt.st.envLabel() != tt.envLabel {
			t.Errorf("%s: inline %v, scrape-driven %v, environment label %q", tt.st, tt.st.inline(), tt.st.scrapeDriven(), tt.st.envLabel())
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{PrometheusURL: "http://127.0.0.1:9090"}
	if err := c.defaults(); err == nil {
		t.Error("no function: want an error")
	}
}
