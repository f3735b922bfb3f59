package listen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
)

// EMFAgent is a CloudWatch agent's EMF endpoint: TCP and UDP on the same
// port, newline-delimited JSON. Each line goes to the LineFunc. Create it
// with NewEMFAgent, run Serve, and give the function Endpoint() in
// AWS_EMF_AGENT_ENDPOINT (only when this listener is enabled).
//
// Inside Lambda (AWS_LAMBDA_FUNCTION_NAME set) the EMF client libraries write
// to stdout and ignore the agent unless told otherwise: aws-embedded-metrics
// needs AWS_EMF_ENVIRONMENT=Agent as well (see Env).
type EMFAgent struct {
	tcp   *net.TCPListener
	udp   *udpSocket
	fn    LineFunc
	opts  options
	stats counters

	mu    sync.Mutex // serialises fn
	once  sync.Once
	conns sync.Map // net.Conn -> struct{}, closed on stop
	wg    sync.WaitGroup
}

// NewEMFAgent binds addr (host:port, loopback unless AllowNonLoopback;
// port 0 picks a port free for both TCP and UDP) and returns the endpoint.
// A busy port is an error that names the port and the --emf-agent-addr flag.
func NewEMFAgent(addr string, fn LineFunc, opts ...Option) (*EMFAgent, error) {
	if fn == nil {
		return nil, errors.New("emf agent: nil LineFunc")
	}
	o := defaults(opts)
	host, port, err := checkAddr(addr, o.anyAddr)
	if err != nil {
		return nil, fmt.Errorf("emf agent: %w", err)
	}
	tries := 1
	if port == 0 {
		tries = 20 // a free TCP port may be taken for UDP; pick again
	}
	for i := 0; ; i++ {
		tl, uc, err := bindBoth(host, port)
		if err == nil {
			a := &EMFAgent{tcp: tl, fn: fn, opts: o}
			a.udp = newUDPSocket("emf agent", uc, o, &a.stats, a.datagram)
			return a, nil
		}
		if i+1 >= tries {
			return nil, bindError("emf agent", addr, o.flagEMFAddr, err)
		}
	}
}

func bindBoth(host string, port int) (*net.TCPListener, *net.UDPConn, error) {
	l, err := ListenTCP(net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, nil, err
	}
	tl := l.(*net.TCPListener)
	port = tl.Addr().(*net.TCPAddr).Port
	pc, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		tl.Close()
		return nil, nil, err
	}
	return tl, pc.(*net.UDPConn), nil
}

// Addr is the bound address (the same port for TCP and UDP).
func (a *EMFAgent) Addr() netip.AddrPort {
	return a.tcp.Addr().(*net.TCPAddr).AddrPort()
}

// Endpoint is the value for AWS_EMF_AGENT_ENDPOINT: tcp://127.0.0.1:25888
// (TCP is the client libraries' default; udp:// with the same address works
// too).
func (a *EMFAgent) Endpoint() string {
	return "tcp://" + a.Addr().String()
}

// Env returns the variables that make the EMF client libraries use this
// endpoint inside a function: AWS_EMF_AGENT_ENDPOINT and
// AWS_EMF_ENVIRONMENT=Agent (without which they detect Lambda and write to
// stdout).
func (a *EMFAgent) Env() map[string]string {
	return map[string]string{EnvEMFAgentEndpoint: a.Endpoint(), "AWS_EMF_ENVIRONMENT": "Agent"}
}

// Stats returns the counters so far; KernelDropped counts UDP datagrams
// only (TCP does not drop).
func (a *EMFAgent) Stats() Stats {
	s := a.stats.snapshot()
	s.KernelDropped = a.udp.drops.read()
	return s
}

// Polled reports whether the UDP socket is still read at intervals
// (WithPolling), not at each datagram.
func (a *EMFAgent) Polled() bool { return a.udp.isPolled() }

// Drain hands the LineFunc the lines of the datagrams the UDP socket holds
// now, while it is polled (WithPolling); otherwise Serve reads each
// datagram as it comes and Drain does nothing. TCP connections are read as
// their lines come.
func (a *EMFAgent) Drain() { a.udp.drain() }

// Close stops the listeners and closes open connections; Serve returns.
func (a *EMFAgent) Close() error {
	var err error
	a.once.Do(func() {
		err = errors.Join(a.tcp.Close(), a.udp.close())
		a.conns.Range(func(k, _ any) bool {
			k.(net.Conn).Close()
			return true
		})
	})
	return err
}

// Serve accepts TCP connections and reads UDP datagrams, handing every line
// to the LineFunc (one call at a time), until ctx ends or Close is called;
// then it closes everything, waits for its goroutines and returns nil.
// A line longer than the maximum is counted as an error and skipped; the
// connection goes on.
func (a *EMFAgent) Serve(ctx context.Context) error {
	// At the end, the UDP reader first drains what its socket holds, then
	// everything closes.
	udpDone := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		<-udpDone
		a.Close()
	})
	defer stop()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer close(udpDone)
		a.udp.serve(ctx)
	}()
	for {
		c, err := a.tcp.AcceptTCP()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				break
			}
			a.stats.errors.Add(1)
			a.opts.logger.Warn("emf agent: accept", "err", err)
			continue
		}
		a.stats.connections.Add(1)
		a.conns.Store(c, struct{}{})
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			defer a.conns.Delete(c)
			defer c.Close()
			a.serveConn(c)
		}()
	}
	a.Close()
	a.wg.Wait()
	return nil
}

// datagram hands the lines of one UDP datagram to the LineFunc.
func (a *EMFAgent) datagram(b []byte, from netip.AddrPort) {
	for line := range bytes.SplitSeq(b, []byte{'\n'}) {
		a.deliver(line, from)
	}
}

// serveConn reads one TCP connection line by line.
func (a *EMFAgent) serveConn(c *net.TCPConn) {
	from := c.RemoteAddr().(*net.TCPAddr).AddrPort()
	r := bufio.NewReaderSize(c, 64*1024)
	var line []byte
	for {
		line = line[:0]
		tooLong := false
		var err error
		for {
			var chunk []byte
			chunk, err = r.ReadSlice('\n')
			a.stats.bytes.Add(uint64(len(chunk)))
			if !tooLong {
				if len(line)+len(chunk) > a.opts.maxLine+1 {
					tooLong = true
				} else {
					line = append(line, chunk...)
				}
			}
			if err != bufio.ErrBufferFull {
				break
			}
		}
		if tooLong {
			a.stats.errors.Add(1)
			a.opts.logger.Warn("emf agent: line too long, skipped", "from", from, "max", a.opts.maxLine)
		} else {
			a.deliver(line, from)
		}
		if err != nil {
			if err != io.EOF && !errors.Is(err, net.ErrClosed) {
				a.stats.errors.Add(1)
				a.opts.logger.Warn("emf agent: tcp read", "from", from, "err", err)
			}
			return
		}
	}
}

// deliver trims the line ending and hands a non-empty line to fn.
func (a *EMFAgent) deliver(line []byte, from netip.AddrPort) {
	line = bytes.TrimRight(line, "\r\n")
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	a.stats.lines.Add(1)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fn(line, from)
}
