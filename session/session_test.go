package session

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/model"

	"github.com/lambdabridge/lambdabridge/config"
	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/internal/testenv"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/pipeline"
	"github.com/lambdabridge/lambdabridge/pushgw"
	"github.com/lambdabridge/lambdabridge/remotewrite"
	"github.com/lambdabridge/lambdabridge/runner"
)

// closedPort returns a loopback address nobody listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func remoteWrite(t *testing.T, url string) remotewrite.Config {
	t.Helper()
	rc, err := remotewrite.URLConfig(url, "")
	if err != nil {
		t.Fatal(err)
	}
	rc.QueueConfig.MinBackoff = model.Duration(5 * time.Millisecond)
	rc.QueueConfig.MaxBackoff = model.Duration(20 * time.Millisecond)
	return rc
}

const emfLine = `{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"%s","Unit":"Count"}]}]},"Service":"checkout","%s":%d}`

func emf(name string, v int) string {
	return fmt.Sprintf(emfLine, time.Now().UnixMilli(), name, name, v)
}

// recorder is an in-process sink: it records when it was shut down and
// what the aggregation held then.
type recorder struct {
	events *events
	final  map[string]bool
}

func (r *recorder) Name() string { return "recorder" }
func (r *recorder) Run(ctx context.Context, _ *pipeline.Env) error {
	<-ctx.Done()
	return nil
}
func (r *recorder) Shutdown(_ context.Context, g pipeline.Gatherer) error {
	r.events.add("sink shutdown")
	mfs, err := g.Gather()
	r.final = map[string]bool{}
	for _, mf := range mfs {
		r.final[mf.GetName()] = true
	}
	return err
}

type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	e.list = append(e.list, s)
	e.mu.Unlock()
}

// source stands for the runner: when closed, its last environment's output
// reaches the pipeline before Close returns.
type source struct {
	events *events
	p      *pipeline.Pipeline
}

func (s *source) Close() error {
	s.p.Line(metric.Origin{Source: "fn", Line: 1, Function: "fn"}, "stdout", []byte(emf("LastWords", 1)))
	s.events.add("source closed")
	return nil
}

// The whole life of a session: agent listeners and the variables that
// point clients at them, /metrics served, a log stream read, shutdown in
// order, and a summary naming a dead remote_write's URL (without its
// credentials) and its last error.
func TestLifecycle(t *testing.T) {
	dead := "http://user:secret@" + closedPort(t) + "/api/v1/write"
	cfg := &config.File{
		Scrape:      &config.Scrape{Listen: "127.0.0.1:0"},
		RemoteWrite: []remotewrite.Config{remoteWrite(t, dead)},
	}
	ev := &events{}
	rec := &recorder{events: ev}
	var finishDiags []string
	s, err := New(cfg,
		WithAgents(Agents{DogStatsD: "127.0.0.1:0", EMF: "127.0.0.1:0"}),
		WithFunction("fn"),
		WithDrainTimeout(300*time.Millisecond),
		WithPipelineOptions(pipeline.WithSink(rec)),
		WithDiagnosticHandler(func(d *metric.Diagnostic) { finishDiags = append(finishDiags, d.Rule) }))
	if err != nil {
		t.Fatal(err)
	}
	env := s.Env()
	for _, k := range []string{"DD_DOGSTATSD_URL", "DD_AGENT_HOST", "DD_DOGSTATSD_PORT", "AWS_EMF_AGENT_ENDPOINT", "AWS_EMF_ENVIRONMENT"} {
		if env[k] == "" {
			t.Errorf("Env() lacks %s: %v", k, env)
		}
	}
	defs := s.Apply([]function.Definition{{Name: "fn", Env: map[string]string{"DD_AGENT_HOST": "mine"}}})
	if got := defs[0].Env["DD_AGENT_HOST"]; got != "mine" {
		t.Errorf("Apply overrode the user's DD_AGENT_HOST: %q", got)
	}
	if got := defs[0].Env["DD_DOGSTATSD_PORT"]; got != env["DD_DOGSTATSD_PORT"] {
		t.Errorf("Apply: DD_DOGSTATSD_PORT = %q, want %q", got, env["DD_DOGSTATSD_PORT"])
	}
	s.AddSource(&source{events: ev, p: s.Pipeline()})
	s.Start(context.Background())

	if err := s.ReadLog(context.Background(), "app.log", strings.NewReader("hello\n"+emf("Orders", 3)+"\n")); err != nil {
		t.Fatal(err)
	}
	body := get(t, "http://"+s.ScrapeAddr()+"/metrics")
	if !strings.Contains(body, "shop_orders_total") {
		t.Errorf("/metrics lacks the EMF counter:\n%s", body)
	}
	// A datagram and an EMF agent line sent just before the end.
	send(t, "udp", strings.TrimPrefix(env["DD_DOGSTATSD_URL"], "udp://"), "checkout.latency:12|d|#route:/buy")
	send(t, "tcp", strings.TrimPrefix(env["AWS_EMF_AGENT_ENDPOINT"], "tcp://"), emf("AgentOrders", 2)+"\n")

	sum := s.Shutdown()
	if diff := cmp.Diff([]string{"source closed", "sink shutdown"}, ev.list); diff != "" {
		t.Errorf("shutdown order (-want +got):\n%s", diff)
	}
	for _, fam := range []string{"shop_last_words_total", "shop_agent_orders_total", "checkout_latency"} {
		if !rec.final[fam] {
			t.Errorf("the sinks' last gather lacks %s (got %v)", fam, rec.final)
		}
	}
	if sum.Input.Lines != 4 || sum.Input.Datagrams != 1 || sum.Input.MetricLines["emf"] != 3 {
		t.Errorf("Input = %+v, want 4 lines (3 EMF) and 1 datagram", sum.Input)
	}
	rw := sum.Sinks[0]
	if rw.Kind != "remote_write" || strings.Contains(rw.URL, "secret") || rw.LastError != "connection refused" || rw.DroppedTotal() == 0 {
		t.Errorf("remote_write status = %+v, want its URL without credentials, samples dropped and last error connection refused", rw)
	}
	if !sum.Failed() {
		t.Error("Failed() = false after remote_write dropped samples")
	}
	var out strings.Builder
	sum.WriteSinks(&out)
	if !strings.Contains(out.String(), "last error: connection refused") || strings.Contains(out.String(), "secret") {
		t.Errorf("WriteSinks:\n%s", out.String())
	}
	if again := s.Shutdown(); again.Input.Lines != sum.Input.Lines {
		t.Error("a second Shutdown gave another summary")
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func send(t *testing.T, network, addr, payload string) {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(payload)); err != nil {
		t.Fatal(err)
	}
}

// A hanging remote_write must not take the Pushgateway's time: each sink
// drains on its own, so the group is deleted although remote_write never
// answers within the drain timeout.
func TestHangingSinkDoesNotStarveOthers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Pushgateway")
	}
	pg := testenv.StartPushgateway(t)
	stop := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer hang.Close()
	defer close(stop)
	rc := remoteWrite(t, hang.URL+"/api/v1/write")
	rc.RemoteTimeout = model.Duration(time.Minute)
	cfg := &config.File{
		RemoteWrite: []remotewrite.Config{rc},
		Pushgateway: []pushgw.Config{{URL: pg.URL, Job: "hang-test", DeleteOnEnd: true, Timeout: 5 * time.Second}},
	}
	s, err := New(cfg, WithDrainTimeout(1500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	s.Start(context.Background())
	if err := s.ReadLog(context.Background(), "app.log", strings.NewReader(emf("Orders", 1)+"\n")); err != nil {
		t.Fatal(err)
	}
	s.Pipeline().InvocationDone() // the Pushgateway pushes after an invocation
	waitFor(t, func() bool { return groupExists(t, pg, "hang-test") })
	sum := s.Shutdown()
	if groupExists(t, pg, "hang-test") {
		t.Errorf("the Pushgateway group survived the shutdown; sinks: %+v", sum.Sinks)
	}
	if rw := sum.Sinks[0]; rw.Dropped["shutdown"] == 0 {
		t.Errorf("remote_write status = %+v, want samples dropped at shutdown", rw)
	}
	if pgs := sum.Sinks[1]; pgs.Err != nil || pgs.Sent == 0 {
		t.Errorf("pushgateway status = %+v, want pushed and deleted", pgs)
	}
}

func groupExists(t *testing.T, pg *testenv.Pushgateway, job string) bool {
	t.Helper()
	mfs, err := pg.Families(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mfs["push_time_seconds"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "job" && l.GetValue() == job {
				return true
			}
		}
	}
	return false
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 10s")
}

// A busy port is an error naming the address and the flag, or with
// WithScrapeOptional a warning that turns /metrics off.
func TestBusyPorts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().String()
	cfg := &config.File{Scrape: &config.Scrape{Listen: busy}}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), busy) || !strings.Contains(err.Error(), "--listen") {
		t.Errorf("New with a busy scrape port: %v, want an error naming %s and --listen", err, busy)
	}
	s, err := New(cfg, WithScrapeOptional())
	if err != nil {
		t.Fatalf("WithScrapeOptional: %v", err)
	}
	if w := s.Warnings(); len(w) != 1 || !strings.Contains(w[0], "/metrics is off") || s.ScrapeAddr() != "" {
		t.Errorf("Warnings() = %q, ScrapeAddr() = %q", w, s.ScrapeAddr())
	}
	s.Shutdown()

	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	_, err = New(nil, WithAgents(Agents{DogStatsD: pc.LocalAddr().String(), DogStatsDFlag: "--dogstatsd-addr"}))
	if err == nil || !strings.Contains(err.Error(), "--dogstatsd-addr") {
		t.Errorf("New with a busy DogStatsD port: %v, want an error naming --dogstatsd-addr", err)
	}
	if _, err := New(&config.File{Scrape: &config.Scrape{Listen: "0.0.0.0:0"}}); err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Errorf("New with 0.0.0.0: %v, want a loopback error", err)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"valid", "scrape: {listen: 127.0.0.1:9464}\nremote_write:\n  - url: http://127.0.0.1:9090/api/v1/write\npushgateway:\n  - {url: http://127.0.0.1:9091, job: j}\n", ""},
		{"not loopback", "scrape: {listen: 0.0.0.0:9464}\n", "not a loopback address"},
		{"pushgateway without job", "pushgateway:\n  - {url: http://127.0.0.1:9091}\n", "job is required"},
		{"bad mapping", "defaults: {match_type: fuzzy}\n", "match_type"},
	}
	for _, tt := range tests {
		cfg, err := config.Parse([]byte(tt.yaml))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		err = Check(cfg)
		if (tt.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: Check = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

// boundedSource stands for a runner with Shutdown(ctx): it is stopped with
// the drain deadline, not closed.
type boundedSource struct {
	closed   bool
	deadline time.Time
}

func (b *boundedSource) Close() error { b.closed = true; return nil }
func (b *boundedSource) Shutdown(ctx context.Context) error {
	b.deadline, _ = ctx.Deadline()
	return nil
}

func TestSourceShutdownWithinDrain(t *testing.T) {
	s, err := New(nil, WithDrainTimeout(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	src := &boundedSource{}
	s.AddSource(src)
	s.Start(context.Background())
	before := time.Now()
	s.Shutdown()
	if src.closed || src.deadline.IsZero() || src.deadline.Before(before) || src.deadline.After(time.Now().Add(time.Hour)) {
		t.Errorf("source closed %v, deadline %v: want Shutdown with the drain deadline", src.closed, src.deadline)
	}
}

// A --remote-write flag repeating an entry of the file would make two
// writers with one "remote" label: refused before anything is built.
func TestDuplicateRemoteWrite(t *testing.T) {
	rc := remoteWrite(t, "http://"+closedPort(t)+"/api/v1/write")
	_, err := New(&config.File{RemoteWrite: []remotewrite.Config{rc, rc}})
	if err == nil || !strings.Contains(err.Error(), "are the same") {
		t.Errorf("New with one remote_write entry twice: %v", err)
	}
}

// A second Ctrl-C: ShutdownWithin a context that ends cuts the drain short
// (the hanging remote_write's samples are counted as dropped at shutdown)
// instead of waiting out the drain timeout.
func TestShutdownCutShort(t *testing.T) {
	stop := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer hang.Close()
	defer close(stop)
	rc := remoteWrite(t, hang.URL+"/api/v1/write")
	rc.RemoteTimeout = model.Duration(time.Hour)
	s, err := New(&config.File{RemoteWrite: []remotewrite.Config{rc}}, WithDrainTimeout(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	src := &boundedSource{}
	s.AddSource(src)
	s.Start(context.Background())
	if err := s.ReadLog(context.Background(), "app.log", strings.NewReader(emf("Orders", 1)+"\n")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the second signal came
	done := make(chan Summary, 1)
	go func() { done <- s.ShutdownWithin(ctx) }()
	select {
	case sum := <-done:
		if rw := sum.Sinks[0]; rw.Dropped["shutdown"] == 0 || !sum.Failed() {
			t.Errorf("remote_write status %+v, want its samples dropped at shutdown", rw)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ShutdownWithin a cancelled context waited for the drain timeout (1h)")
	}
}

// An environment recycled during the run ends its per-environment series;
// those of environments the run's end closes stay.
func TestLifecycleEndsRecycledEnvironments(t *testing.T) {
	cfg := &config.File{Aggregation: config.Aggregation{PerEnvironment: true}}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{"env-1", "env-2"} {
		o := metric.Origin{Source: "fn", Line: 1, Function: "fn", Environment: env}
		s.Pipeline().Line(o, "stdout", []byte(emf("Orders", 1)))
	}
	s.Lifecycle(runner.EnvEvent{Kind: runner.EnvEnded, Function: "fn", Environment: "env-1", Reason: runner.EndIdle})
	s.Lifecycle(runner.EnvEvent{Kind: runner.EnvEnded, Function: "fn", Environment: "env-2", Reason: runner.EndClosed})
	if sum := s.Shutdown(); sum.Series != 1 {
		t.Errorf("%d series at the end, want 1 (env-2's: closed by the run's end, not recycled)", sum.Series)
	}
}
