package listen

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"
)

// udpSocket is a listener's bound UDP socket and how it is read: each
// datagram as it comes, in the Go runtime's poller, or with WithPolling
// every interval and at Drain, until a read finds its receive buffer
// filling (a quarter full, or a datagram dropped by the kernel); then it
// moves into the poller for good. DogStatsD and the EMF agent's UDP side
// are read through one. handle gets each datagram, one at a time, after it
// is counted.
type udpSocket struct {
	name   string       // in warnings: dogstatsd, emf agent
	conn   *net.UDPConn // the socket in the poller; nil while polled
	opts   options
	stats  *counters
	handle func(b []byte, from netip.AddrPort)
	drops  *kernelDrops

	// WithPolling: the socket outside the poller (nil without), read by
	// Drain and every opts.poll by serve until a read finds its buffer
	// filling; then serve moves it into the poller (conn).
	mu      sync.Mutex // serializes the reads of polled, the move and close
	polled  *polledUDP
	moved   bool          // conn is polled's socket in the poller
	stuck   bool          // the move failed: polled for good
	hurry   bool          // a Drain found the buffer filling: serve moves the socket
	kick    chan struct{} // wakes serve's poll loop (hurry, close)
	closed  bool
	pollBuf []byte

	once sync.Once
}

func newUDPSocket(name string, conn *net.UDPConn, o options, stats *counters, handle func([]byte, netip.AddrPort)) *udpSocket {
	if o.readBuffer > 0 {
		_ = conn.SetReadBuffer(o.readBuffer) // best effort: bursts from many environments
	}
	u := &udpSocket{name: name, conn: conn, opts: o, stats: stats, handle: handle, kick: make(chan struct{}, 1)}
	if o.poll > 0 {
		if p, err := newPolledUDP(conn); err != nil {
			o.logger.Warn(name+": reading each datagram as it comes, not every "+o.poll.String(), "err", err)
		} else {
			u.conn, u.polled, u.pollBuf = nil, p, make([]byte, maxDatagram)
			u.drops = &kernelDrops{rc: p.rc}
		}
	}
	if u.drops == nil {
		u.drops = newKernelDrops(conn)
	}
	return u
}

func (u *udpSocket) deliver(b []byte, from netip.AddrPort) {
	u.stats.datagrams.Add(1)
	u.stats.bytes.Add(uint64(len(b)))
	u.handle(b, from)
}

// isPolled reports whether the socket is still read at intervals.
func (u *udpSocket) isPolled() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.polled != nil && !u.moved && !u.closed
}

// drain reads what the socket holds now while it is polled; otherwise
// serve reads each datagram as it comes and drain does nothing.
func (u *udpSocket) drain() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.polled == nil || u.moved || u.closed {
		return
	}
	u.drainPolled()
}

// drainPolled reads what the polled socket holds; if its buffer was
// filling, it sets hurry and wakes serve, which moves the socket into the
// poller. The caller holds u.mu.
func (u *udpSocket) drainPolled() {
	if !u.hurry && !u.stuck && u.polled.filling() {
		u.hurry = true
		select {
		case u.kick <- struct{}{}:
		default:
		}
	}
	u.polled.r.drain(u.pollBuf, func(n int, from netip.AddrPort) { u.deliver(u.pollBuf[:n], from) })
}

// close releases the socket (the kernel's drop count is read a last
// time); serve returns. It is safe to call more than once.
func (u *udpSocket) close() error {
	var err error
	u.once.Do(func() {
		u.mu.Lock()
		defer u.mu.Unlock()
		u.closed = true
		select {
		case u.kick <- struct{}{}:
		default:
		}
		err = u.drops.close(func() error {
			var errs []error
			if u.conn != nil {
				errs = append(errs, u.conn.Close())
			}
			if u.polled != nil {
				errs = append(errs, u.polled.close())
			}
			return errors.Join(errs...)
		})
	})
	return err
}

// serve reads datagrams until ctx ends or close is called. When ctx ends
// it first reads what the socket already holds (datagrams sent before the
// end are not lost to a slow reader), then returns; it does not close the
// socket. Read errors are counted and reading goes on. While polled it
// reads at intervals (servePolled), then as datagrams come.
func (u *udpSocket) serve(ctx context.Context) {
	if u.polled != nil && !u.servePolled(ctx) {
		return
	}
	// Wake the blocked read: a deadline now, not a close, so the buffer
	// can still be drained.
	woken := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		u.conn.SetReadDeadline(time.Now())
		close(woken)
	})
	defer stop()
	buf := make([]byte, maxDatagram)
	r := newUDPReader(u.conn)
	handle := func(n int, from netip.AddrPort) { u.deliver(buf[:n], from) }
	for {
		n, from, err := r.read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if ctx.Err() != nil {
				<-woken // the deadline is set: clear it to drain
				u.conn.SetReadDeadline(time.Time{})
				r.drain(buf, handle)
				return
			}
			u.stats.errors.Add(1)
			u.opts.logger.Warn(u.name+": read", "err", err)
			continue
		}
		handle(n, from)
	}
}

// servePolled reads the polled socket every opts.poll until ctx ends
// (having read what the socket holds) or close: then it returns false.
// When a read finds the socket's buffer filling, it moves the socket into
// the poller and returns true: serve then reads each datagram as it comes.
func (u *udpSocket) servePolled(ctx context.Context) bool {
	t := time.NewTimer(u.opts.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			u.drain()
			return false
		case <-t.C:
		case <-u.kick:
		}
		u.mu.Lock()
		if u.closed {
			u.mu.Unlock()
			return false
		}
		u.drainPolled()
		if u.hurry {
			conn, err := u.polled.pollerConn()
			if err == nil {
				u.conn, u.moved = conn, true
				u.mu.Unlock()
				u.opts.logger.Warn(u.name + ": reading each datagram as it comes from now on, not every " + u.opts.poll.String() +
					": its socket's receive buffer was a quarter full at a read, or the kernel dropped a datagram")
				return true
			}
			u.hurry, u.stuck = false, true
			u.opts.logger.Warn(u.name+": cannot read each datagram as it comes; reading every "+u.opts.poll.String()+" on", "err", err)
		}
		u.mu.Unlock()
		t.Reset(u.opts.poll)
	}
}
