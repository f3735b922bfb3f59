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
	conn  *net.UDPConn // the socket in the Go runtime's poller; nil while polled
	addr  netip.AddrPort
	fn    PacketFunc
	opts  options
	stats counters
	drops *kernelDrops

	// WithPolling: the socket outside the poller (nil without), read by
	// Drain and every opts.poll by Serve until a read finds its buffer
	// filling; then Serve moves it into the poller (conn) and reads each
	// datagram as it comes.
	mu      sync.Mutex // serializes the reads of polled, the move and Close
	polled  *polledUDP
	moved   bool          // conn is polled's socket in the poller
	stuck   bool          // the move failed: polled for good
	hurry   bool          // a Drain found the buffer filling: Serve moves the socket
	kick    chan struct{} // wakes Serve's poll loop (hurry, Close)
	closed  bool
	pollBuf []byte

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
	l := &DogStatsD{conn: conn, addr: conn.LocalAddr().(*net.UDPAddr).AddrPort(), fn: fn, opts: o, kick: make(chan struct{}, 1)}
	if o.poll > 0 {
		if p, err := newPolledUDP(conn); err != nil {
			o.logger.Warn("dogstatsd: reading each datagram as it comes, not every "+o.poll.String(), "err", err)
		} else {
			l.conn, l.polled, l.pollBuf = nil, p, make([]byte, maxDatagram)
			l.drops = &kernelDrops{rc: p.rc}
		}
	}
	if l.drops == nil {
		l.drops = newKernelDrops(conn)
	}
	return l, nil
}

// Addr is the bound address (useful with port 0).
func (l *DogStatsD) Addr() netip.AddrPort { return l.addr }

// Polled reports whether the socket is still read at intervals
// (WithPolling), not at each datagram.
func (l *DogStatsD) Polled() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.polled != nil && !l.moved && !l.closed
}

// Drain hands the PacketFunc the datagrams the socket holds now, while it
// is polled (WithPolling); otherwise Serve reads each datagram as it comes
// and Drain does nothing. A reader that is awake anyway (before a flush)
// calls it, so the flush holds what was sent so far. If the socket's
// buffer was filling, Serve stops polling.
func (l *DogStatsD) Drain() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.polled == nil || l.moved || l.closed {
		return
	}
	l.drainPolled()
}

// drainPolled reads what the polled socket holds; if its buffer was
// filling, it sets hurry and wakes Serve, which moves the socket into the
// poller. The caller holds l.mu.
func (l *DogStatsD) drainPolled() {
	if !l.hurry && !l.stuck && l.polled.filling() {
		l.hurry = true
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
	l.polled.r.drain(l.pollBuf, l.handlePolled)
}

func (l *DogStatsD) handlePolled(n int, from netip.AddrPort) {
	l.stats.datagrams.Add(1)
	l.stats.bytes.Add(uint64(n))
	l.fn(l.pollBuf[:n], from)
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
	l.once.Do(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.closed = true
		select {
		case l.kick <- struct{}{}:
		default:
		}
		err = l.drops.close(func() error {
			var errs []error
			if l.conn != nil {
				errs = append(errs, l.conn.Close())
			}
			if l.polled != nil {
				errs = append(errs, l.polled.close())
			}
			return errors.Join(errs...)
		})
	})
	return err
}

// Serve reads datagrams and hands each to the PacketFunc, one at a time,
// until ctx ends or Close is called. When ctx ends it first reads what the
// socket already holds (datagrams sent before the end are not lost to a
// slow reader), then closes the socket and returns nil. Read errors are
// counted and reading goes on. With WithPolling it reads at intervals
// until the socket's buffer fills (servePolled), then as datagrams come.
func (l *DogStatsD) Serve(ctx context.Context) error {
	defer l.Close()
	if l.polled != nil && !l.servePolled(ctx) {
		return nil
	}
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

// servePolled reads the polled socket every opts.poll until ctx ends
// (having read what the socket holds) or Close: then it returns false.
// When a read finds the socket's buffer filling (a quarter full, or a
// datagram dropped), it moves the socket into the poller and returns true:
// Serve then reads each datagram as it comes.
func (l *DogStatsD) servePolled(ctx context.Context) bool {
	t := time.NewTimer(l.opts.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			l.Drain()
			return false
		case <-t.C:
		case <-l.kick:
		}
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return false
		}
		l.drainPolled()
		if l.hurry {
			conn, err := l.polled.pollerConn()
			if err == nil {
				l.conn, l.moved = conn, true
				l.mu.Unlock()
				l.opts.logger.Warn("dogstatsd: reading each datagram as it comes from now on, not every " + l.opts.poll.String() +
					": its socket's receive buffer was a quarter full at a read, or the kernel dropped a datagram")
				return true
			}
			l.hurry, l.stuck = false, true
			l.opts.logger.Warn("dogstatsd: cannot read each datagram as it comes; reading every "+l.opts.poll.String()+" on", "err", err)
		}
		l.mu.Unlock()
		t.Reset(l.opts.poll)
	}
}

// Env returns DogStatsDClientEnv of the bound address: the variables that
// point every DogStatsD client library at this listener.
func (l *DogStatsD) Env() map[string]string { return DogStatsDClientEnv(l.Addr()) }
