package listen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// DogStatsD is a UDP listener for DogStatsD datagrams. Create it with
// NewDogStatsD (which binds the port, so a busy port is reported at once),
// then run Serve.
type DogStatsD struct {
	conn  *net.UDPConn
	fn    PacketFunc
	opts  options
	stats counters
	drops *kernelDrops

	once sync.Once
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
	if o.readBuffer > 0 {
		_ = conn.SetReadBuffer(o.readBuffer) // best effort: bursts from many environments
	}
	return &DogStatsD{conn: conn, fn: fn, opts: o, drops: newKernelDrops(conn)}, nil
}

// Addr is the bound address (useful with port 0).
func (l *DogStatsD) Addr() netip.AddrPort {
	return l.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Stats returns the counters so far, the kernel's drops included (read
// from the kernel now, or the last value before Close).
func (l *DogStatsD) Stats() Stats {
	s := l.stats.snapshot()
	s.KernelDropped = l.drops.read()
	return s
}

// Close releases the socket; Serve returns. It is safe to call more than
// once and without Serve.
func (l *DogStatsD) Close() error {
	var err error
	l.once.Do(func() { err = l.drops.close(l.conn.Close) })
	return err
}

// Serve reads datagrams and hands each to the PacketFunc, one at a time,
// until ctx ends or Close is called. When ctx ends it first reads what the
// socket already holds (datagrams sent before the end are not lost to a
// slow reader), then closes the socket and returns nil. Read errors are
// counted and reading goes on.
func (l *DogStatsD) Serve(ctx context.Context) error {
	defer l.Close()
	// Wake the blocked read: a deadline now, not a close, so the buffer
	// can still be drained.
	woken := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		l.conn.SetReadDeadline(time.Now())
		close(woken)
	})
	defer stop()
	buf := make([]byte, maxDatagram)
	r := newUDPReader(l.conn)
	handle := func(n int, from netip.AddrPort) {
		l.stats.datagrams.Add(1)
		l.stats.bytes.Add(uint64(n))
		l.fn(buf[:n], from)
	}
	for {
		n, from, err := r.read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			if ctx.Err() != nil {
				<-woken // the deadline is set: clear it to drain
				l.conn.SetReadDeadline(time.Time{})
				r.drain(buf, handle)
				return nil
			}
			l.stats.errors.Add(1)
			l.opts.logger.Warn("dogstatsd: read", "err", err)
			continue
		}
		handle(n, from)
	}
}

// Env returns DogStatsDClientEnv of the bound address: the variables that
// point every DogStatsD client library at this listener.
func (l *DogStatsD) Env() map[string]string { return DogStatsDClientEnv(l.Addr()) }
