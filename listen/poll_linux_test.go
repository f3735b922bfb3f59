package listen

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// inPoller reports whether the socket behind fd is in an epoll set of this
// process (the Go runtime's poller is the one epoll instance here),
// through any descriptor: the epoll sets' entries name their files'
// inodes.
func inPoller(t *testing.T, fd int) bool {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	want := "ino:" + strconv.FormatUint(st.Ino, 16)
	links, _ := filepath.Glob("/proc/self/fd/*")
	for _, l := range links {
		if dst, err := os.Readlink(l); err != nil || dst != "anon_inode:[eventpoll]" {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc/self/fdinfo", filepath.Base(l)))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "tfd:") && slices.Contains(strings.Fields(line), want) {
				return true
			}
		}
	}
	return false
}

func connFD(t *testing.T, c *net.UDPConn) int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	fd := -1
	rc.Control(func(s uintptr) { fd = int(s) })
	return fd
}

// TestDogStatsDPolling: with WithPolling the socket is out of the Go
// runtime's poller (a datagram wakes no thread) and its datagrams are read
// at Drain and at each interval; at the first read that finds its buffer a
// quarter full it goes into the poller, and each datagram is read as it
// comes from then on.
func TestDogStatsDPolling(t *testing.T) {
	var c collector
	l, err := NewDogStatsD("127.0.0.1:0", c.add, WithPolling(time.Hour), WithReadBuffer(16<<10))
	must(t, err)
	if !l.Polled() {
		t.Fatal("not polled")
	}
	if inPoller(t, l.sock.polled.fd) {
		t.Fatal("the polled socket is in the poller")
	}
	serve(t, l)
	conn := dial(t, "udp", l.Addr())
	write(t, conn, "a:1|c")
	write(t, conn, "b:2|c")
	time.Sleep(50 * time.Millisecond)
	if st := l.Stats(); st.Datagrams != 0 {
		t.Fatalf("read %d datagrams before Drain or the interval", st.Datagrams)
	}
	l.Drain()
	if got := c.waitFor(t, 2); strings.Join(got, " ") != "a:1|c b:2|c" {
		t.Fatalf("after Drain: %q", got)
	}
	if !l.Polled() {
		t.Fatal("a near empty buffer ended polling")
	}

	// More than a quarter of the buffer: the next read moves the socket
	// into the poller.
	payload := strings.Repeat("x", 500)
	const burst = 20
	for i := range burst {
		write(t, conn, fmt.Sprintf("c%d:1|c|#p:%s", i, payload))
	}
	l.Drain()
	c.waitFor(t, 2+burst)
	deadline := time.Now().Add(5 * time.Second)
	for l.Polled() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if l.Polled() {
		t.Fatal("still polled after a read found the buffer a quarter full")
	}
	l.sock.mu.Lock()
	fd := connFD(t, l.sock.conn)
	l.sock.mu.Unlock()
	if !inPoller(t, fd) {
		t.Fatal("the socket is not in the poller after the move")
	}
	write(t, conn, "d:1|c") // read as it comes: no Drain
	got := c.waitFor(t, 3+burst)
	if got[len(got)-1] != "d:1|c" {
		t.Errorf("last datagram %q", got[len(got)-1])
	}
	if st := l.Stats(); st.Datagrams != 3+burst || st.KernelDropped != 0 {
		t.Errorf("stats %+v, want %d datagrams and no drops", st, 3+burst)
	}
}

// TestDogStatsDPollingInterval: a polled socket is read at its interval
// without a Drain, and what it holds when Serve's context ends is read
// before Serve returns.
func TestDogStatsDPollingInterval(t *testing.T) {
	var c collector
	l, err := NewDogStatsD("127.0.0.1:0", c.add, WithPolling(20*time.Millisecond))
	must(t, err)
	serve(t, l)
	conn := dial(t, "udp", l.Addr())
	write(t, conn, "a:1|c")
	c.waitFor(t, 1)

	// At the end: a long interval, so only the end reads it.
	var c2 collector
	l2, err := NewDogStatsD("127.0.0.1:0", c2.add, WithPolling(time.Hour))
	must(t, err)
	ctx2, cancel2 := context.WithCancel(context.Background())
	done2 := make(chan error, 1)
	go func() { done2 <- l2.Serve(ctx2) }()
	conn2 := dial(t, "udp", l2.Addr())
	write(t, conn2, "b:1|c")
	write(t, conn2, "b:2|c")
	time.Sleep(20 * time.Millisecond)
	cancel2()
	if err := <-done2; err != nil {
		t.Fatal(err)
	}
	if st := l2.Stats(); st.Datagrams != 2 {
		t.Errorf("Serve returned having read %d of 2 datagrams", st.Datagrams)
	}
	l2.Drain() // closed: nothing to do, no panic
}

// TestEMFAgentPolling: WithPolling keeps the EMF agent's UDP socket out of
// the poller too: its datagrams' lines are read at Drain (or the interval,
// or the end), while TCP lines come as they are written; a burst moves the
// UDP socket into the poller, as DogStatsD's.
func TestEMFAgentPolling(t *testing.T) {
	var c collector
	a, err := NewEMFAgent("127.0.0.1:0", c.add, WithPolling(time.Hour), WithReadBuffer(16<<10))
	must(t, err)
	if !a.Polled() || inPoller(t, a.udp.polled.fd) {
		t.Fatalf("polled %v: want the UDP socket polled, out of the poller", a.Polled())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	udp := dial(t, "udp", a.Addr())
	write(t, udp, "{\"u\":1}\n{\"u\":2}")
	tcp := dial(t, "tcp", a.Addr())
	write(t, tcp, "{\"t\":1}\n")
	if got := c.waitFor(t, 1); strings.Join(got, " ") != `{"t":1}` {
		t.Fatalf("before Drain: %q, want the TCP line only", got)
	}
	a.Drain()
	if got := c.waitFor(t, 3); strings.Join(got[1:], " ") != `{"u":1} {"u":2}` {
		t.Fatalf("after Drain: %q", got)
	}
	payload := strings.Repeat("x", 500)
	for i := range 20 {
		write(t, udp, fmt.Sprintf("{\"b\":%d,\"p\":%q}", i, payload))
	}
	a.Drain()
	c.waitFor(t, 23)
	deadline := time.Now().Add(5 * time.Second)
	for a.Polled() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if a.Polled() {
		t.Fatal("still polled after a read found the buffer a quarter full")
	}
	write(t, udp, `{"last":1}`) // as it comes, no Drain
	if got := c.waitFor(t, 24); got[23] != `{"last":1}` {
		t.Errorf("last line %q", got[23])
	}
	write(t, udp, `{"end":1}`)
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := a.Stats(); st.Datagrams != 23 || st.Lines != 25 || st.KernelDropped != 0 {
		t.Errorf("stats %+v, want 23 datagrams, 25 lines, no drops", st)
	}
}
