package listen

import (
	"context"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

// Datagrams already in the socket's receive buffer when Serve's ctx ends
// are read, not discarded with the socket: a function's last datagrams,
// sent before it ended, reach the pipeline however slow the reader is.
// Before, Serve closed the socket at once and they vanished uncounted
// (received + kernel-dropped < sent).
func TestServeDrainsAtStop(t *testing.T) {
	for _, tc := range []struct {
		name   string
		listen func(fn func([]byte, netip.AddrPort)) (udpListener, error)
	}{
		{"dogstatsd", func(fn func([]byte, netip.AddrPort)) (udpListener, error) { return NewDogStatsD("127.0.0.1:0", fn) }},
		{"emf agent udp", func(fn func([]byte, netip.AddrPort)) (udpListener, error) { return NewEMFAgent("127.0.0.1:0", fn) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var received atomic.Uint64
			slow := func([]byte, netip.AddrPort) {
				received.Add(1)
				time.Sleep(time.Millisecond) // a reader behind the sender
			}
			l, err := tc.listen(slow)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- l.Serve(ctx) }()
			c, err := net.Dial("udp", l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			const sent = 300
			for range sent {
				if _, err := c.Write([]byte("drain.metric:1|c")); err != nil {
					t.Fatal(err)
				}
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Serve did not return within 10s of its ctx ending")
			}
			st := l.Stats()
			if st.Datagrams+st.KernelDropped != sent || received.Load() != st.Datagrams {
				t.Errorf("sent %d, received %d (handed %d) + kernel-dropped %d: datagrams discarded at stop",
					sent, st.Datagrams, received.Load(), st.KernelDropped)
			}
		})
	}
}
