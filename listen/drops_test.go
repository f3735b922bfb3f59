package listen

import (
	"bufio"
	"context"
	"net/netip"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/internal/testenv"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// udpListener is what the flood test needs of DogStatsD and EMFAgent.
type udpListener interface {
	Serve(ctx context.Context) error
	Stats() Stats
	Addr() netip.AddrPort
	Close() error
	prometheus.Collector
}

// TestFloodKernelDrops floods a listener whose reader is slowed and whose
// receive buffer is small: every datagram sent is either received or
// counted as dropped by the kernel (sent = received + kernel-dropped), in
// Stats and in the self-metric. Before, the kernel's drops were counted
// nowhere: received < sent and nothing said why.
func TestFloodKernelDrops(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the kernel drop counter is read on Linux only")
	}
	for _, tc := range []struct {
		name, addr string
		listen     func(addr string, fn func([]byte, netip.AddrPort)) (udpListener, error)
	}{
		{"dogstatsd", "127.0.0.1:0", func(addr string, fn func([]byte, netip.AddrPort)) (udpListener, error) {
			return NewDogStatsD(addr, fn, WithReadBuffer(4096))
		}},
		{"dogstatsd ipv6", "[::1]:0", func(addr string, fn func([]byte, netip.AddrPort)) (udpListener, error) {
			return NewDogStatsD(addr, fn, WithReadBuffer(4096))
		}},
		{"emf agent udp", "127.0.0.1:0", func(addr string, fn func([]byte, netip.AddrPort)) (udpListener, error) {
			return NewEMFAgent(addr, fn, WithReadBuffer(4096))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var received atomic.Uint64
			slow := func([]byte, netip.AddrPort) {
				if received.Add(1)%50 == 0 {
					time.Sleep(time.Millisecond) // a reader slower than the flood
				}
			}
			l, err := tc.listen(tc.addr, slow)
			if err != nil {
				if strings.Contains(tc.addr, "::1") {
					t.Skipf("no IPv6 loopback: %v", err)
				}
				t.Fatal(err)
			}
			serve(t, l)
			const sent = 20000
			testenv.SendUDP(t, l.Addr().String(), []byte(`flood.metric:1|c|#env:test,function:f`), sent)
			st := waitAccounted(t, l, sent)
			t.Logf("sent %d, received %d, kernel-dropped %d", sent, st.Datagrams, st.KernelDropped)
			if st.KernelDropped == 0 {
				t.Fatalf("no kernel drops under a flood with a 4 KiB buffer and a slowed reader: the test shows nothing")
			}
			if got := testutil.ToFloat64(l); uint64(got) != st.KernelDropped {
				t.Errorf("kernel drop self-metric = %v, Stats().KernelDropped = %d", got, st.KernelDropped)
			}
			// SO_MEMINFO and the fallback, /proc/net/udp, read one counter
			k := dropsOf(l)
			if k.proc {
				t.Logf("SO_MEMINFO unavailable: the counter came from /proc")
			}
			fallback := &kernelDrops{rc: k.rc}
			fallback.proc = true
			if got := fallback.read(); got != st.KernelDropped {
				t.Errorf("kernel drops from /proc/net/udp: %d, from Stats (SO_MEMINFO): %d", got, st.KernelDropped)
			}
			l.Close()
			if after := l.Stats().KernelDropped; after != st.KernelDropped {
				t.Errorf("after Close: KernelDropped = %d, want the last value %d", after, st.KernelDropped)
			}
		})
	}
}

func dropsOf(l udpListener) *kernelDrops {
	switch l := l.(type) {
	case *DogStatsD:
		return l.sock.drops
	case *EMFAgent:
		return l.udp.drops
	}
	panic("no kernel drop counter")
}

// waitAccounted polls until every datagram sent is received or dropped.
func waitAccounted(t *testing.T, l udpListener, sent uint64) Stats {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := l.Stats()
		if st.Datagrams+st.KernelDropped == sent {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("sent %d, received %d + kernel-dropped %d = %d: datagrams unaccounted for",
				sent, st.Datagrams, st.KernelDropped, st.Datagrams+st.KernelDropped)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestParseProcUDP(t *testing.T) {
	const proc = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: 0100007F:1FBD 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 41234 2 0000000000000000 0
  124: 0100007F:A2C1 00000000:0000 07 00000000:00000900 00:00000000 00000000     0        0 55555 2 0000000000000000 56230
`
	for _, tc := range []struct {
		inode uint64
		want  uint64
		ok    bool
	}{{41234, 0, true}, {55555, 56230, true}, {5555, 0, false}} {
		got, ok := parseProcUDP(bufio.NewScanner(strings.NewReader(proc)), tc.inode)
		if got != tc.want || ok != tc.ok {
			t.Errorf("inode %d: got %d, %v, want %d, %v", tc.inode, got, ok, tc.want, tc.ok)
		}
	}
}

// BenchmarkKernelDrops reads a socket's drop counter both ways, side by
// side: getsockopt(SO_MEMINFO) and the fallback, /proc/net/udp{,6}. The
// self-metrics read it at each gathering.
func BenchmarkKernelDrops(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("the kernel drop counter is read on Linux only")
	}
	l, err := NewDogStatsD("127.0.0.1:0", func([]byte, netip.AddrPort) {})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	for _, m := range []struct {
		name string
		proc bool
	}{{"so_meminfo", false}, {"proc", true}} {
		b.Run(m.name, func(b *testing.B) {
			k := newKernelDrops(l.sock.conn)
			k.proc = m.proc
			for b.Loop() {
				k.read()
			}
			if k.proc != m.proc {
				b.Fatal("SO_MEMINFO unavailable")
			}
		})
	}
}
