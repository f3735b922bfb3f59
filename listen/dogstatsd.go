package listen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// DogStatsD is a UDP listener for DogStatsD datagrams. Create it with
// NewDogStatsD (which binds the port, so a busy port is reported at once),
// then run Serve.
type DogStatsD struct {
	sock  *udpSocket
	addr  netip.AddrPort
	fn    PacketFunc
	stats counters
}

// NewDogStatsD binds addr (host:port, loopback unless AllowNonLoopback;
// port 0 picks a free one) for UDP and returns the listener. A busy port is
// an error that names the port and the --dogstatsd-addr flag.
func NewDogStatsD(addr string, fn PacketFunc, opts ...Option) (*DogStatsD, error) {
	if fn == nil {
		return nil, errors.New("dogstatsd: nil PacketFunc")
	}
	o := defaults(opts)
	if _, _, err := checkAddr(addr, o.anyAddr); err != nil {
		return nil, fmt.Errorf("dogstatsd: %w", err)
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, bindError("dogstatsd", addr, o.flagDogAddr, err)
	}
	conn := pc.(*net.UDPConn)
	l := &DogStatsD{addr: conn.LocalAddr().(*net.UDPAddr).AddrPort(), fn: fn}
	l.sock = newUDPSocket("dogstatsd", conn, o, &l.stats, func(b []byte, from netip.AddrPort) { l.fn(b, from) })
	return l, nil
}

// Addr is the bound address (useful with port 0).
func (l *DogStatsD) Addr() netip.AddrPort { return l.addr }

// Polled reports whether the socket is still read at intervals
// (WithPolling), not at each datagram.
func (l *DogStatsD) Polled() bool { return l.sock.isPolled() }

// Drain hands the PacketFunc the datagrams the socket holds now, while it
// is polled (WithPolling); otherwise Serve reads each datagram as it comes
// and Drain does nothing. A reader that is awake anyway (before a flush)
// calls it, so the flush holds what was sent so far. If the socket's
// buffer was filling, Serve stops polling.
func (l *DogStatsD) Drain() { l.sock.drain() }

// Stats returns the counters so far, the kernel's drops included (read
// from the kernel now, or the last value before Close).
func (l *DogStatsD) Stats() Stats {
	s := l.stats.snapshot()
	s.KernelDropped = l.sock.drops.read()
	return s
}

// Close releases the socket; Serve returns. It is safe to call more than
// once and without Serve.
func (l *DogStatsD) Close() error { return l.sock.close() }

// Serve reads datagrams and hands each to the PacketFunc, one at a time,
// until ctx ends or Close is called. When ctx ends it first reads what the
// socket already holds (datagrams sent before the end are not lost to a
// slow reader), then closes the socket and returns nil. Read errors are
// counted and reading goes on. With WithPolling it reads at intervals
// until the socket's buffer fills, then as datagrams come.
func (l *DogStatsD) Serve(ctx context.Context) error {
	defer l.Close()
	l.sock.serve(ctx)
	return nil
}

// Env returns DogStatsDClientEnv of the bound address: the variables that
// point every DogStatsD client library at this listener.
func (l *DogStatsD) Env() map[string]string { return DogStatsDClientEnv(l.Addr()) }
