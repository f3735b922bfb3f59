package listen

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"
	"github.com/google/go-cmp/cmp"
)

// collector keeps copies of what a listener hands out.
type collector struct {
	mu    sync.Mutex
	items []string
	from  []netip.AddrPort
}

func (c *collector) add(b []byte, from netip.AddrPort) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.items = append(c.items, string(b)) // copy: b is reused
	c.from = append(c.from, from)
}

// waitFor polls until n items arrived and returns them.
func (c *collector) waitFor(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		got := slices.Clone(c.items)
		c.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out: got %d items, want %d: %q", len(got), n, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// serve runs Serve in the background and checks it returns nil once the
// test's ctx is cancelled.
func serve(t *testing.T, s interface{ Serve(context.Context) error }) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not stop with its context")
		}
	})
}

// TestDogStatsDIPv6: a datagram to an IPv6 loopback listener arrives
// with its sender's address.
func TestDogStatsDIPv6(t *testing.T) {
	var c collector
	l, err := NewDogStatsD("[::1]:0", c.add)
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	serve(t, l)
	conn, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("a:1|c")); err != nil {
		t.Fatal(err)
	}
	if got := c.waitFor(t, 1); got[0] != "a:1|c" {
		t.Errorf("payload %q", got[0])
	}
	if want := conn.LocalAddr().(*net.UDPAddr).AddrPort(); c.from[0] != want {
		t.Errorf("from = %v, want the sender's %v", c.from[0], want)
	}
}

func TestDogStatsDDatagrams(t *testing.T) {
	var c collector
	l, err := NewDogStatsD("127.0.0.1:0", c.add)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, l)
	big := "big:" + strings.Repeat("1", 60000) + "|c"
	payloads := []string{
		"page.views:1|c",
		"a:1|c\nb:2|g|#env:dev",
		big,
	}
	conn, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, p := range payloads {
		if _, err := conn.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	got := c.waitFor(t, len(payloads))
	if diff := cmp.Diff(payloads, got); diff != "" {
		t.Errorf("payloads (-want +got):\n%s", diff)
	}
	if want := conn.LocalAddr().(*net.UDPAddr).AddrPort(); c.from[0] != want {
		t.Errorf("from = %v, want the sender's %v", c.from[0], want)
	}
	st := l.Stats()
	wantBytes := uint64(0)
	for _, p := range payloads {
		wantBytes += uint64(len(p))
	}
	if st.Datagrams != 3 || st.Bytes != wantBytes || st.Errors != 0 {
		t.Errorf("stats = %+v, want 3 datagrams, %d bytes", st, wantBytes)
	}
}

// TestDogStatsDClient sends with the real datadog-go client, the way the
// example function does, and checks every metric arrives.
func TestDogStatsDClient(t *testing.T) {
	var c collector
	l, err := NewDogStatsD("127.0.0.1:0", c.add)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, l)
	client, err := statsd.New(l.Addr().String(), statsd.WithoutTelemetry(), statsd.WithoutOriginDetection())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	tags := []string{"service:checkout"}
	must(t, client.Incr("checkout.requests", tags, 1))
	must(t, client.Gauge("checkout.queue_depth", 7, tags, 1))
	must(t, client.Histogram("checkout.item_price", 9.5, tags, 1))
	must(t, client.Distribution("checkout.payload_bytes", 2048, tags, 1))
	must(t, client.Timing("checkout.db_query", 15*time.Millisecond, tags, 1))
	must(t, client.Event(statsd.NewEvent("deploy", "v2 is out")))
	must(t, client.SimpleServiceCheck("checkout.up", statsd.Ok))
	must(t, client.Flush())

	want := []string{
		"checkout.requests:1|c|#service:checkout",
		"checkout.queue_depth:7|g|#service:checkout",
		"checkout.item_price:9.5|h|#service:checkout",
		"checkout.payload_bytes:2048|d|#service:checkout",
		"checkout.db_query:15.000000|ms|#service:checkout",
		"_e{6,9}:deploy|v2 is out",
		"_sc|checkout.up|0",
	}
	deadline := time.Now().Add(5 * time.Second)
	var lines []string
	for {
		lines = lines[:0]
		for _, p := range c.waitFor(t, 1) {
			for l := range strings.SplitSeq(strings.TrimRight(p, "\n"), "\n") {
				lines = append(lines, l)
			}
		}
		if len(lines) >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	slices.Sort(lines)
	slices.Sort(want)
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDogStatsDBusyPort(t *testing.T) {
	first, err := NewDogStatsD("127.0.0.1:0", func([]byte, netip.AddrPort) {})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	addr := first.Addr().String()
	_, err = NewDogStatsD(addr, func([]byte, netip.AddrPort) {})
	if err == nil {
		t.Fatal("second listener on a busy port: no error")
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("err = %v, want EADDRINUSE wrapped", err)
	}
	for _, s := range []string{addr, "--dogstatsd-addr", "already in use"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("err = %q, want it to name %q", err, s)
		}
	}
}

func TestAddresses(t *testing.T) {
	nop := func([]byte, netip.AddrPort) {}
	tests := []struct {
		addr     string
		opts     []Option
		wantErr  error
		wantText string
	}{
		{addr: "127.0.0.1:0"},
		{addr: "localhost:0"},
		{addr: "[::1]:0"},
		{addr: ":0", wantErr: ErrNotLoopback},
		{addr: "0.0.0.0:0", wantErr: ErrNotLoopback},
		{addr: "192.0.2.1:8125", wantErr: ErrNotLoopback},
		{addr: "0.0.0.0:0", opts: []Option{AllowNonLoopback()}},
		{addr: "127.0.0.1", wantText: "missing port"},
		{addr: "127.0.0.1:x", wantText: "bad port"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			for _, kind := range []string{"dogstatsd", "emf"} {
				var err error
				var closer interface{ Close() error }
				if kind == "dogstatsd" {
					var l *DogStatsD
					l, err = NewDogStatsD(tt.addr, nop, tt.opts...)
					if err == nil {
						closer = l
					}
				} else {
					var a *EMFAgent
					a, err = NewEMFAgent(tt.addr, nop, tt.opts...)
					if err == nil {
						closer = a
					}
				}
				if closer != nil {
					closer.Close()
				}
				switch {
				case tt.wantErr != nil:
					if !errors.Is(err, tt.wantErr) {
						t.Errorf("%s: err = %v, want %v", kind, err, tt.wantErr)
					}
				case tt.wantText != "":
					if err == nil || !strings.Contains(err.Error(), tt.wantText) {
						t.Errorf("%s: err = %v, want %q", kind, err, tt.wantText)
					}
				case err != nil:
					if strings.Contains(tt.addr, "::1") && strings.Contains(err.Error(), "assign") {
						t.Skip("no IPv6 loopback here")
					}
					t.Errorf("%s: %v", kind, err)
				}
			}
		})
	}
}

func TestServeStopsAndCloses(t *testing.T) {
	l, err := NewDogStatsD("127.0.0.1:0", func([]byte, netip.AddrPort) {})
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Serve(ctx) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	// The port is free again.
	l2, err := NewDogStatsD(addr, func([]byte, netip.AddrPort) {})
	if err != nil {
		t.Fatalf("port not released: %v", err)
	}
	l2.Close()
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestEMFAgentTCP(t *testing.T) {
	var c collector
	a, err := NewEMFAgent("127.0.0.1:0", c.add, WithMaxLine(100*1024))
	if err != nil {
		t.Fatal(err)
	}
	serve(t, a)
	if got, want := a.Endpoint(), "tcp://"+a.Addr().String(); got != want {
		t.Errorf("Endpoint() = %q, want %q", got, want)
	}
	if env := a.Env(); env["AWS_EMF_AGENT_ENDPOINT"] != a.Endpoint() || env["AWS_EMF_ENVIRONMENT"] != "Agent" {
		t.Errorf("Env() = %v", env)
	}
	long := `{"_aws":{},"pad":"` + strings.Repeat("p", 90*1024) + `"}`
	tooLong := `{"pad":"` + strings.Repeat("q", 200*1024) + `"}`
	// Two connections; lines split across writes, CRLF, blank lines, a line
	// too long (skipped, connection kept), a last line without newline.
	conn1 := dial(t, "tcp", a.Addr())
	conn2 := dial(t, "tcp", a.Addr())
	write(t, conn1, `{"a":1}`+"\n"+`{"a"`)
	write(t, conn1, `:2}`+"\r\n\n")
	write(t, conn1, tooLong+"\n"+long+"\n")
	write(t, conn2, `{"b":1}`)
	conn2.Close()
	write(t, conn1, `{"a":3}`)
	conn1.Close()
	got := c.waitFor(t, 5)
	want := []string{`{"a":1}`, `{"a":2}`, long, `{"a":3}`, `{"b":1}`}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	deadline := time.Now().Add(5 * time.Second)
	for a.Stats().Errors == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	st := a.Stats()
	if st.Connections != 2 || st.Lines != 5 || st.Errors != 1 {
		t.Errorf("stats = %+v, want 2 connections, 5 lines, 1 error (the long line)", st)
	}
}

func TestEMFAgentUDP(t *testing.T) {
	var c collector
	a, err := NewEMFAgent("127.0.0.1:0", c.add)
	if err != nil {
		t.Fatal(err)
	}
	serve(t, a)
	conn := dial(t, "udp", a.Addr())
	defer conn.Close()
	write(t, conn, `{"u":1}`+"\n")
	write(t, conn, `{"u":2}`+"\n"+`{"u":3}`)
	got := c.waitFor(t, 3)
	if diff := cmp.Diff([]string{`{"u":1}`, `{"u":2}`, `{"u":3}`}, got); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	if st := a.Stats(); st.Datagrams != 2 || st.Lines != 3 {
		t.Errorf("stats = %+v", st)
	}
}

// TestEMFAgentStopsWithOpenConnection: a connection the function never
// closes does not keep Serve running.
func TestEMFAgentStopsWithOpenConnection(t *testing.T) {
	var c collector
	a, err := NewEMFAgent("127.0.0.1:0", c.add)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	conn := dial(t, "tcp", a.Addr())
	defer conn.Close()
	write(t, conn, `{"x":1}`+"\n")
	c.waitFor(t, 1)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return with a connection open")
	}
}

func TestEMFAgentBusyPort(t *testing.T) {
	first, err := NewEMFAgent("127.0.0.1:0", func([]byte, netip.AddrPort) {})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	_, err = NewEMFAgent(first.Addr().String(), func([]byte, netip.AddrPort) {})
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), "--emf-agent-addr") {
		t.Errorf("err = %v, want EADDRINUSE naming --emf-agent-addr", err)
	}
	_, err = NewEMFAgent(first.Addr().String(), func([]byte, netip.AddrPort) {}, WithFlagName("--emf-addr"))
	if err == nil || !strings.Contains(err.Error(), "--emf-addr") {
		t.Errorf("err = %v, want it to name --emf-addr", err)
	}
}

func dial(t *testing.T, network string, addr netip.AddrPort) net.Conn {
	t.Helper()
	c, err := net.Dial(network, addr.String())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func write(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := c.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if c.LocalAddr().Network() == "tcp" {
		time.Sleep(2 * time.Millisecond) // let split writes arrive as separate reads
	}
}

func BenchmarkDogStatsD(b *testing.B) {
	var n int
	l, err := NewDogStatsD("127.0.0.1:0", func(p []byte, _ netip.AddrPort) { n += len(p) })
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Serve(ctx)
	conn, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	payload := bytes.Repeat([]byte("checkout.requests:1|c|#service:checkout\n"), 20)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := conn.Write(payload); err != nil {
			b.Fatal(err)
		}
	}
}
