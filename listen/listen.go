// Package listen serves the endpoints a Lambda function's metric agents send
// to: a DogStatsD UDP listener (the Datadog extension's 127.0.0.1:8125) and a
// CloudWatch EMF agent endpoint (TCP and UDP 127.0.0.1:25888, newline
// delimited JSON). It only moves bytes: parsing is the callers' business.
//
//	l, err := listen.NewDogStatsD("127.0.0.1:8125", func(p []byte, from netip.AddrPort) { parse(p) })
//	if err != nil { return err }      // busy port: says so and names --dogstatsd-addr
//	go l.Serve(ctx)                   // until ctx ends
package listen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lambdabridge/lambdabridge/internal/loopback"
)

// Default addresses: what the Datadog extension and the CloudWatch agent
// offer a function.
const (
	DefaultDogStatsDAddr = "127.0.0.1:8125"
	DefaultEMFAddr       = "127.0.0.1:25888"
	// EnvEMFAgentEndpoint is the variable the EMF client libraries read.
	EnvEMFAgentEndpoint = "AWS_EMF_AGENT_ENDPOINT"
	// DefaultMaxLine bounds one EMF line (CloudWatch's event limit is 1 MB;
	// a little more leaves room for the newline and for a line the parser
	// will report as too large).
	DefaultMaxLine = 1<<20 + 1024
	// maxDatagram is the largest UDP payload (65,507 for IPv4, 65,527 for IPv6).
	maxDatagram = 64 * 1024
)

// ErrNotLoopback is wrapped by the error for an address that is not on the
// loopback interface when AllowNonLoopback was not given.
var ErrNotLoopback = loopback.ErrNotLoopback

// PacketFunc receives one DogStatsD datagram. payload is only valid during
// the call (the buffer is reused): copy what you keep. Calls are never
// concurrent.
type PacketFunc func(payload []byte, from netip.AddrPort)

// LineFunc receives one EMF line without its newline. line is only valid
// during the call: copy what you keep. Calls are never concurrent.
type LineFunc func(line []byte, from netip.AddrPort)

// Stats counts what a listener received. The fields are read atomically by
// Stats methods, so a snapshot is consistent per field.
type Stats struct {
	Datagrams   uint64 // UDP datagrams read
	Connections uint64 // TCP connections accepted
	Lines       uint64 // lines handed to a LineFunc
	Bytes       uint64 // payload bytes read
	Errors      uint64 // read errors, over-long lines
	// KernelDropped counts the UDP datagrams the kernel dropped because the
	// socket's receive buffer was full (a flood faster than the reader):
	// they never reach a read. Linux only (0 elsewhere).
	KernelDropped uint64
}

type counters struct {
	datagrams, connections, lines, bytes, errors atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Datagrams:   c.datagrams.Load(),
		Connections: c.connections.Load(),
		Lines:       c.lines.Load(),
		Bytes:       c.bytes.Load(),
		Errors:      c.errors.Load(),
	}
}

// Option configures a listener.
type Option func(*options)

type options struct {
	logger      *slog.Logger
	maxLine     int
	anyAddr     bool
	readBuffer  int
	poll        time.Duration
	flagDogAddr string
	flagEMFAddr string
}

func defaults(opts []Option) options {
	o := options{
		logger:      slog.New(slog.DiscardHandler),
		maxLine:     DefaultMaxLine,
		readBuffer:  4 << 20,
		flagDogAddr: "--dogstatsd-addr",
		flagEMFAddr: "--emf-agent-addr",
	}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// WithLogger logs listener problems (read errors, over-long lines); the
// default discards them.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithMaxLine bounds one EMF line; longer lines are counted as errors and
// skipped. The default is DefaultMaxLine.
func WithMaxLine(n int) Option { return func(o *options) { o.maxLine = n } }

// WithReadBuffer sets the UDP socket's receive buffer (SO_RCVBUF, capped by
// net.core.rmem_max; the kernel doubles it). The default, 4 MiB, absorbs
// bursts from many environments; what overflows it is counted in
// Stats.KernelDropped.
func WithReadBuffer(bytes int) Option { return func(o *options) { o.readBuffer = bytes } }

// WithPolling makes a DogStatsD listener, or the EMF agent's UDP socket,
// read its socket every interval, and at each Drain, instead of at each
// datagram (on Linux; elsewhere it is ignored): a datagram then wakes no thread, neither the reader's nor, for
// the wakeup, the sender's. For a reader that shares the sender's CPU
// share, a Lambda extension. Polling ends for good at the first read that
// finds the socket's receive buffer a quarter full or a datagram dropped by
// the kernel: from then on each datagram is read as it comes, as without
// this option.
func WithPolling(interval time.Duration) Option { return func(o *options) { o.poll = interval } }

// AllowNonLoopback lets a listener bind an address off the loopback
// interface (":8125", "0.0.0.0:8125"). Without it such an address is an error.
func AllowNonLoopback() Option { return func(o *options) { o.anyAddr = true } }

// WithFlagName names the flag that changes the address, for the busy-port
// error (defaults: --dogstatsd-addr and --emf-agent-addr).
func WithFlagName(flag string) Option {
	return func(o *options) { o.flagDogAddr, o.flagEMFAddr = flag, flag }
}

// checkAddr parses host:port and enforces loopback unless allowed.
// "localhost" counts as loopback.
func checkAddr(addr string, anyAddr bool) (host string, port int, err error) {
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("address %q: %w", addr, err)
	}
	port, err = strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("address %q: bad port", addr)
	}
	if !anyAddr && !loopback.Host(host) {
		return "", 0, fmt.Errorf("%w: %q: lambdabridge listens on loopback only (127.0.0.1); functions run on this machine", ErrNotLoopback, addr)
	}
	return host, port, nil
}

// bindError explains a failed bind, naming the flag that changes the address
// when the port is busy.
func bindError(what, addr, flag string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%s: %s is already in use (another DogStatsD/CloudWatch agent, statsd_exporter or lambdabridge?): stop it or choose another address with %s: %w", what, addr, flag, err)
	}
	return fmt.Errorf("%s: listen on %s: %w", what, addr, err)
}

// ListenTCP listens on addr (host:port) with plain TCP. Go listens with
// Multipath TCP by default where the kernel has it (since Go 1.24); the
// agents' clients are on the same host, where MPTCP brings nothing, and an
// MPTCP listener costs more to open (here 16-18 µs of CPU against 10-11 µs)
// and to accept on.
func ListenTCP(addr string) (net.Listener, error) {
	var lc net.ListenConfig
	lc.SetMultipathTCP(false)
	return lc.Listen(context.Background(), "tcp", addr)
}
