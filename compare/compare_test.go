package compare

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/lambdabridge/lambdabridge/compare/analysis"
	"github.com/lambdabridge/lambdabridge/extension"
	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/runner"
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
		{"extension", []Strategy{Extension}, false},
		{" remote-write ,extension", []Strategy{RemoteWrite, Extension}, false},
		{"extension-periodic", nil, true},
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
		st                           Strategy
		inline, billed, scrapeDriven bool
		envLabel                     string
		// timeDriven with the periodic and the invocation flush.
		periodic, invocation bool
	}{
		{Scrape, false, false, true, "lambda_environment", true, true},
		{Aggregate, false, false, true, "", true, true},
		{RemoteWrite, true, true, false, "lambda_environment", false, false},
		{Pushgateway, true, true, true, "", true, true},
		{PushgatewayInstance, true, true, true, "instance", true, true},
		{Extension, false, true, false, "lambda_environment", true, false},
	}
	for _, tt := range tests {
		got := []any{tt.st.inline(), tt.st.billed(), tt.st.scrapeDriven(), tt.st.envLabel(),
			tt.st.timeDriven(extension.FlushPeriodic), tt.st.timeDriven(extension.FlushInvocation)}
		want := []any{tt.inline, tt.billed, tt.scrapeDriven, tt.envLabel, tt.periodic, tt.invocation}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: inline, billed, scrape-driven, environment label, time-driven periodic/invocation (-want +got):\n%s", tt.st, diff)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{PrometheusURL: "http://127.0.0.1:9090"}
	if err := c.defaults(); err == nil {
		t.Error("no function: want an error")
	}
	defs := []function.Definition{{Name: "fn"}}
	tests := []struct {
		name         string
		cfg          Config
		wantFlush    string
		wantInterval time.Duration
		wantErr      string
	}{
		{"extension defaults", Config{Defs: defs}, extension.FlushPeriodic, extension.DefaultFlushPeriod, ""},
		{"invocation flush", Config{Defs: defs, ExtensionFlush: "invocation", ExtensionFlushInterval: 2 * time.Second}, extension.FlushInvocation, 2 * time.Second, ""},
		{"unknown flush", Config{Defs: defs, ExtensionFlush: "shutdown"}, "", 0, `extension flush "shutdown": want periodic or invocation`},
		{"interval too short", Config{Defs: defs, ExtensionFlushInterval: 500 * time.Millisecond}, "", 0, "extension flush interval 500ms: want 1s or more"},
		{"extension needs no file SD", Config{Defs: defs, Strategies: []Strategy{Extension}, PrometheusURL: "http://127.0.0.1:9090"}, extension.FlushPeriodic, extension.DefaultFlushPeriod, ""},
		{"scrape does", Config{Defs: defs, Strategies: []Strategy{Extension, Scrape}, PrometheusURL: "http://127.0.0.1:9090"}, "", 0, "give the file-SD file"},
	}
	for _, tt := range tests {
		err := tt.cfg.defaults()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || tt.cfg.ExtensionFlush != tt.wantFlush || tt.cfg.ExtensionFlushInterval != tt.wantInterval {
			t.Errorf("%s: error %v, flush %q every %v; want %q every %v", tt.name, err, tt.cfg.ExtensionFlush, tt.cfg.ExtensionFlushInterval, tt.wantFlush, tt.wantInterval)
		}
	}
}

// TestExtensionConfig checks the file every environment's extension reads:
// compare's receiver with the strategy label, the flush strategy, the run's
// external labels, as the extension parses it.
func TestExtensionConfig(t *testing.T) {
	cfg := Config{ExtensionFlush: extension.FlushInvocation, ExtensionFlushInterval: 3 * time.Second,
		ExternalLabels: map[string]string{"run": "r1"}}
	data, err := extensionConfig("http://127.0.0.1:9/api/v1/write", cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "lambdabridge.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{extension.EnvConfig: path, extension.EnvFunctionName: "fn"}
	got, err := extension.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if len(got.Sinks.RemoteWrite) != 1 {
		t.Fatalf("%d remote_write entries:\n%s", len(got.Sinks.RemoteWrite), data)
	}
	rw := got.Sinks.RemoteWrite[0]
	type view struct {
		URL, Flush string
		Interval   time.Duration
		Labels     map[string]string
		External   map[string]string
		SigV4      bool
	}
	want := view{URL: "http://127.0.0.1:9/api/v1/write", Flush: "invocation", Interval: 3 * time.Second,
		Labels: map[string]string{"strategy": "extension"}, External: map[string]string{"run": "r1"}}
	if diff := cmp.Diff(want, view{rw.URL, got.Flush, got.FlushInterval, rw.ExternalLabels, got.Sinks.ExternalLabels, rw.SigV4 != nil}); diff != "" {
		t.Errorf("(-want +got):\n%s\n%s", diff, data)
	}
	cfg.SigV4Region = "eu-west-1"
	if data, err = extensionConfig("https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write", cfg); err != nil || !strings.Contains(string(data), "region: eu-west-1") {
		t.Errorf("with SigV4: %v\n%s", err, data)
	}
}

// TestExtensionEnvs maps the extension's lambda_environment values (an
// extension process's instance) to compare's environments by log stream.
func TestExtensionEnvs(t *testing.T) {
	s := newExperiment(t.Context(), Config{})
	for id, stream := range map[string]string{"env-1": "2026/12/01/[$LATEST]aaa", "env-2": "2026/12/01/[$LATEST]bbb", "env-3": ""} {
		e := &envState{id: id, stream: stream}
		s.envs[id] = e
		s.order = append(s.order, e)
	}
	present := []map[string]string{
		{"lambda_environment": "aaa-0a0b0c"}, {"lambda_environment": "aaa-0d0e0f"}, // a crash restarted the extension
		{"lambda_environment": "bbb-000001"}, {"lambda_environment": "ccc-000002"}, {"other": "x"},
	}
	want := map[string]string{"aaa-0a0b0c": "env-1", "aaa-0d0e0f": "env-1", "bbb-000001": "env-2"}
	if diff := cmp.Diff(want, s.extensionEnvs(present)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestExtensionAdded records the extension's time after the runtime's
// answer, and only for invocations the runtime answered.
func TestExtensionAdded(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name       string
		strategies []Strategy
		res        runner.Result
		want       []analysis.Delivery
	}{
		{"answered", []Strategy{Extension}, runner.Result{Duration: 5 * ms, RuntimeDuration: 3 * ms}, []analysis.Delivery{{Invocation: 3 * ms, Took: 2 * ms}}},
		{"not answered (crash)", []Strategy{Extension}, runner.Result{Duration: 5 * ms}, nil},
		{"no extension strategy", []Strategy{RemoteWrite}, runner.Result{Duration: 5 * ms, RuntimeDuration: 3 * ms}, nil},
	}
	for _, tt := range tests {
		s := newExperiment(t.Context(), Config{Strategies: tt.strategies})
		s.extensionAdded(&tt.res)
		if diff := cmp.Diff(tt.want, s.deliveries[Extension]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}
