package remotewrite

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/internal/proc"
	"github.com/lambdabridge/lambdabridge/internal/testenv"
)

// Backends built from the Go module proxy by scripts/build-go-backends.sh,
// cached under ~/.cache/lambdabridge/<name>-<version>/.
const (
	prometheus3Version = "v0.316.0" // Prometheus 3.16: the Remote Write 2.0 receiver
	thanosVersion      = "v0.40.1"
)

// cachedBinary returns the cached binary, or skips the test naming the
// script that builds it (fails when CI is set: install-test-deps.sh runs
// the script).
func cachedBinary(t testing.TB, name, version string) string {
	t.Helper()
	dir, err := os.UserCacheDir()
	if err != nil {
		t.Skipf("no cache directory: %v", err)
	}
	p := filepath.Join(dir, "lambdabridge", name+"-"+version, name)
	if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
		return p
	}
	msg := fmt.Sprintf("%s %s is not built at %s: run scripts/build-go-backends.sh %s once (several minutes)", name, version, p, name)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// startProcess starts bin in dir on a free loopback HTTP port (ready at
// /-/ready); stopped when the test ends.
func startProcess(t testing.TB, name, bin, dir string, args func(port int) []string) *proc.Process {
	t.Helper()
	p, err := proc.Start(context.Background(), proc.Spec{Name: name, Bin: bin, Dir: dir, Args: args,
		Env: []string{"GOMAXPROCS=2"}, Ready: proc.HTTPReady("/-/ready"), Timeout: 3 * time.Minute}, nil)
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("%s log tail:\n%s", name, p.LogTail(4096))
		}
	})
	return p
}

func freePort(t testing.TB) int {
	t.Helper()
	port, err := proc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// prometheus3 is a Prometheus 3 with the Remote Write 1.0 and 2.0 receiver.
type prometheus3 struct {
	*testenv.PromQL
	url string
}

func (p *prometheus3) RemoteWriteURL() string { return p.url + "/api/v1/write" }

// startPrometheus3 starts Prometheus 3 accepting messages (both protobuf
// messages when none is given), with created-timestamp zero ingestion and
// type-and-unit labels (so the metadata a 2.0 request carries shows as
// __type__ and __unit__ labels).
func startPrometheus3(t testing.TB, messages ...string) *prometheus3 {
	t.Helper()
	if len(messages) == 0 {
		messages = []string{MessageV1, MessageV2}
	}
	bin := cachedBinary(t, "prometheus", prometheus3Version)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProcess(t, "prometheus3", bin, dir, func(port int) []string {
		args := []string{
			"--config.file=" + cfg,
			"--web.listen-address=127.0.0.1:" + strconv.Itoa(port),
			"--storage.tsdb.path=" + filepath.Join(dir, "data"),
			"--web.enable-remote-write-receiver",
			"--enable-feature=created-timestamp-zero-ingestion,metadata-wal-records,type-and-unit-labels",
		}
		for _, m := range messages {
			args = append(args, "--web.remote-write-receiver.accepted-protobuf-messages="+m)
		}
		return args
	})
	q, err := testenv.NewPromQL(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &prometheus3{PromQL: q, url: p.URL}
}

// thanosHashring is Thanos Receive as a hashring of 3 with replication
// factor 3, and a Thanos Query over the three (deduplicating the replicas).
type thanosHashring struct {
	t         testing.TB
	bin, ring string
	recv      []*thanosReceiver
	query     *testenv.PromQL
}

type thanosReceiver struct {
	dir           string
	grpc, rw, cap int
	mu            sync.Mutex
	p             *proc.Process
	replicaID     string
}

func startThanosHashring(t testing.TB) *thanosHashring {
	t.Helper()
	h := &thanosHashring{t: t, bin: cachedBinary(t, "thanos", thanosVersion)}
	dir := t.TempDir()
	var endpoints []string
	for i := range 3 {
		r := &thanosReceiver{dir: filepath.Join(dir, fmt.Sprint("r", i)), grpc: freePort(t), rw: freePort(t), cap: freePort(t), replicaID: fmt.Sprint("r", i)}
		endpoints = append(endpoints, "127.0.0.1:"+strconv.Itoa(r.grpc))
		h.recv = append(h.recv, r)
	}
	ring, _ := json.Marshal([]map[string]any{{"hashring": "default", "endpoints": endpoints}})
	h.ring = filepath.Join(dir, "hashrings.json")
	if err := os.WriteFile(h.ring, ring, 0o600); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range h.recv {
		wg.Add(1)
		go func() { defer wg.Done(); h.start(i) }()
	}
	wg.Wait()
	grpc := freePort(t)
	qdir := filepath.Join(dir, "query")
	if err := os.MkdirAll(qdir, 0o700); err != nil {
		t.Fatal(err)
	}
	q := startProcess(t, "thanos-query", h.bin, qdir, func(port int) []string {
		args := []string{"query", "--http-address=127.0.0.1:" + strconv.Itoa(port), "--grpc-address=127.0.0.1:" + strconv.Itoa(grpc),
			"--query.replica-label=receive_replica", "--store.response-timeout=10s"}
		for _, e := range endpoints {
			args = append(args, "--endpoint="+e)
		}
		return args
	})
	var err error
	if h.query, err = testenv.NewPromQL(q.URL); err != nil {
		t.Fatal(err)
	}
	return h
}

// start (re)starts receiver i on its gRPC and remote-write ports, on its
// data directory.
func (h *thanosHashring) start(i int) {
	r := h.recv[i]
	if err := os.MkdirAll(r.dir, 0o700); err != nil {
		h.t.Error(err)
		return
	}
	p := startProcess(h.t, "thanos-receive-"+r.replicaID, h.bin, r.dir, func(port int) []string {
		return []string{"receive",
			"--http-address=127.0.0.1:" + strconv.Itoa(port),
			"--grpc-address=127.0.0.1:" + strconv.Itoa(r.grpc),
			"--remote-write.address=127.0.0.1:" + strconv.Itoa(r.rw),
			"--receive.local-endpoint=127.0.0.1:" + strconv.Itoa(r.grpc),
			"--receive.capnproto-address=127.0.0.1:" + strconv.Itoa(r.cap),
			"--receive.hashrings-file=" + h.ring,
			"--receive.replication-factor=3",
			"--tsdb.path=" + filepath.Join(r.dir, "data"),
			`--label=receive_replica="` + r.replicaID + `"`,
		}
	})
	r.mu.Lock()
	r.p = p
	r.mu.Unlock()
}

// stop stops receiver i.
func (h *thanosHashring) stop(i int) {
	r := h.recv[i]
	r.mu.Lock()
	p := r.p
	r.mu.Unlock()
	if p != nil { // nil when its start failed (reported there)
		p.Stop()
	}
}

// RemoteWriteURL is receiver i's remote-write endpoint.
func (h *thanosHashring) RemoteWriteURL(i int) string {
	return "http://127.0.0.1:" + strconv.Itoa(h.recv[i].rw) + "/api/v1/receive"
}

// forwarder is a loopback TCP relay to a backend whose address changes when
// it restarts (as behind a load balancer); with no backend it refuses
// connections as a down receiver does (the client sees a reset).
type forwarder struct {
	ln     net.Listener
	target atomic.Pointer[string]
}

func newForwarder(t testing.TB) *forwarder {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go f.serve()
	return f
}

func (f *forwarder) set(addr string) { f.target.Store(&addr) }

func (f *forwarder) URL(path string) string { return "http://" + f.ln.Addr().String() + path }

func (f *forwarder) serve() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		go f.relay(c)
	}
}

func (f *forwarder) relay(c net.Conn) {
	defer c.Close()
	addr := f.target.Load()
	if addr == nil || *addr == "" {
		return
	}
	b, err := net.Dial("tcp", *addr)
	if err != nil {
		return
	}
	defer b.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(b, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, b); done <- struct{}{} }()
	<-done
}
