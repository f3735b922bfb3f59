package compare

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/lambdabridge/lambdabridge/aggregate"
	"github.com/lambdabridge/lambdabridge/internal/loopback"
	"github.com/lambdabridge/lambdabridge/listen"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/pushgw"
	"github.com/lambdabridge/lambdabridge/remotewrite"
	"github.com/lambdabridge/lambdabridge/scrape"
)

// syncPrefix starts the datagram compare sends to an environment's own
// DogStatsD listener after an invocation: once it is read, every datagram
// the function sent before it has been handled.
var syncPrefix = []byte("lambdabridge.compare.sync:")

// envState is what compare keeps for one execution environment: its own
// aggregations (one per per-environment strategy), its /metrics endpoint,
// its DogStatsD listener, its remote_write writer and its Pushgateway
// pushers.
type envState struct {
	id string
	s  *experiment

	mu        sync.Mutex
	alive     bool
	thawed    bool
	thawCh    chan struct{} // closed when thawed; replaced when frozen
	endCh     chan struct{} // closed when the environment ended
	started   time.Time
	ended     time.Time
	endReason string
	stream    string // its log stream name

	aggs map[Strategy]*aggregate.Aggregator

	metricsLn  net.Listener
	metricsSrv *http.Server
	metricsH   http.Handler

	dsd       *listen.DogStatsD
	dsdCancel context.CancelFunc
	syncMu    sync.Mutex
	syncSeq   uint64
	syncWait  map[uint64]chan struct{}

	rw  *remotewrite.Writer
	pg  *pushgw.Sink
	pgi *pushgw.Sink
	// ext forwards the function's datagrams to the environment's
	// extension (extension strategy).
	ext net.Conn
}

// perEnvAggregator is the aggregation of one environment for strategy st:
// with the strategy label, and with the environment label
// (lambda_environment) where the strategy keeps environments apart by
// series rather than by grouping key.
func perEnvAggregator(st Strategy) *aggregate.Aggregator {
	opts := []aggregate.Option{
		aggregate.WithMixedLabelSets(true),
		aggregate.WithFunctionLabel("function_name"),
		aggregate.WithConstLabels(metric.Label{Name: Label, Value: string(st)}),
	}
	if st == Scrape || st == RemoteWrite {
		opts = append(opts, aggregate.WithPerEnvironment(true))
	}
	return aggregate.New(opts...)
}

// newEnvState sets up everything an environment needs before its process
// starts.
func (s *experiment) newEnvState(id string) (*envState, error) {
	e := &envState{id: id, s: s, thawCh: make(chan struct{}), endCh: make(chan struct{}),
		aggs: map[Strategy]*aggregate.Aggregator{}, syncWait: map[uint64]chan struct{}{}}
	for _, st := range s.strategies {
		if st != Aggregate && st != Extension {
			e.aggs[st] = perEnvAggregator(st)
		}
	}
	// Before the listener serves: its datagrams are forwarded to the
	// extension.
	if s.cfg.has(Extension) {
		if err := e.dialExtension(); err != nil {
			return nil, fmt.Errorf("environment %s: extension: %w", id, err)
		}
	}
	var err error
	e.dsd, err = listen.NewDogStatsD("127.0.0.1:0", e.datagram, listen.WithLogger(s.log))
	if err != nil {
		return nil, fmt.Errorf("environment %s: %w", id, err)
	}
	dctx, cancel := context.WithCancel(context.Background())
	e.dsdCancel = cancel
	go e.dsd.Serve(dctx) //nolint:errcheck // returns nil when closed
	if agg := e.aggs[Scrape]; agg != nil {
		if e.metricsLn, err = net.Listen("tcp4", "127.0.0.1:0"); err != nil {
			e.close()
			return nil, fmt.Errorf("environment %s: metrics listener: %w", id, err)
		}
		srv, err := scrape.New(e.metricsLn.Addr().String(), scrape.WithGatherers(agg))
		if err != nil {
			e.close()
			return nil, fmt.Errorf("environment %s: %w", id, err)
		}
		e.metricsH = srv.Handler()
		e.metricsSrv = &http.Server{Handler: http.HandlerFunc(e.serveMetrics), ReadHeaderTimeout: 10 * time.Second}
		go e.metricsSrv.Serve(e.metricsLn) //nolint:errcheck // ends when closed
	}
	if agg := e.aggs[RemoteWrite]; agg != nil {
		cfg, err := remotewrite.URLConfig(s.rwURL, s.cfg.SigV4Region)
		if err != nil {
			e.close()
			return nil, fmt.Errorf("environment %s: remote write: %w", id, err)
		}
		cfg.Name = "compare-" + id
		if e.rw, err = remotewrite.New(cfg, remotewrite.WithGatherer(agg), remotewrite.WithLogger(s.log), remotewrite.WithExternalLabels(s.cfg.ExternalLabels)); err != nil {
			e.close()
			return nil, fmt.Errorf("environment %s: %w", id, err)
		}
	}
	if e.aggs[Pushgateway] != nil {
		if e.pg, err = pushgw.New(pushgw.Config{URL: s.pgURL[Pushgateway], Job: s.cfg.Function}, pushgw.WithLogger(s.log)); err != nil {
			e.close()
			return nil, fmt.Errorf("environment %s: %w", id, err)
		}
	}
	if e.aggs[PushgatewayInstance] != nil {
		if e.pgi, err = pushgw.New(pushgw.Config{URL: s.pgURL[PushgatewayInstance], Job: s.cfg.Function,
			Grouping: map[string]string{"instance": id}}, pushgw.WithLogger(s.log)); err != nil {
			e.close()
			return nil, fmt.Errorf("environment %s: %w", id, err)
		}
	}
	return e, nil
}

// metricsAddr is the environment's /metrics address (scrape strategy).
func (e *envState) metricsAddr() string {
	if e.metricsLn == nil {
		return ""
	}
	return e.metricsLn.Addr().String()
}

// datagram handles one datagram of the environment's DogStatsD listener.
func (e *envState) datagram(payload []byte, from netip.AddrPort) {
	if rest, ok := bytes.CutPrefix(payload, syncPrefix); ok {
		n, _ := strconv.ParseUint(string(rest), 10, 64)
		e.syncMu.Lock()
		if ch := e.syncWait[n]; ch != nil {
			close(ch)
			delete(e.syncWait, n)
		}
		e.syncMu.Unlock()
		return
	}
	if e.ext != nil {
		_, _ = e.ext.Write(payload) // lost like any datagram when the extension is not listening
	}
	e.s.datagram(e.id, payload, from)
}

// dialExtension picks the address the environment's extension serves
// DogStatsD on, and connects to it.
func (e *envState) dialExtension() error {
	port, err := loopback.AgentPort()
	if err != nil {
		return err
	}
	e.ext, err = net.Dial("udp4", "127.0.0.1:"+strconv.Itoa(port))
	return err
}

// syncDatagrams waits (at most d) until the datagrams the function sent so
// far have been handled: loopback UDP is queued in order at send time, so
// a datagram sent now is read after them.
func (e *envState) syncDatagrams(d time.Duration) {
	e.syncMu.Lock()
	e.syncSeq++
	n := e.syncSeq
	ch := make(chan struct{})
	e.syncWait[n] = ch
	e.syncMu.Unlock()
	conn, err := net.Dial("udp4", e.dsd.Addr().String())
	if err != nil {
		return
	}
	defer conn.Close()
	if _, err := conn.Write(append(bytes.Clone(syncPrefix), strconv.FormatUint(n, 10)...)); err != nil {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	}
}

// serveMetrics is the environment's /metrics: it answers only while the
// environment is thawed. A request to a frozen environment waits (as the
// kernel would queue it) until the environment thaws, ends, or the
// scraper gives up.
func (e *envState) serveMetrics(w http.ResponseWriter, r *http.Request) {
	for {
		e.mu.Lock()
		alive, thawed, ch := e.alive, e.thawed, e.thawCh
		e.mu.Unlock()
		if !alive {
			http.Error(w, "execution environment ended", http.StatusServiceUnavailable)
			return
		}
		if thawed {
			break
		}
		select {
		case <-ch:
		case <-e.endCh:
		case <-r.Context().Done():
			return
		}
	}
	cw := &countingWriter{ResponseWriter: w}
	e.metricsH.ServeHTTP(cw, r)
	t := e.s.traffic[Scrape]
	t.requests.Add(1)
	t.bytes.Add(cw.n)
}

func (e *envState) setStarted(t time.Time, stream string) {
	e.mu.Lock()
	e.alive, e.thawed, e.started, e.stream = true, true, t, stream
	e.mu.Unlock()
}

// setThawed marks the environment thawed; it reports whether it was
// frozen.
func (e *envState) setThawed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.thawed || !e.alive {
		return false
	}
	e.thawed = true
	close(e.thawCh)
	return true
}

func (e *envState) setFrozen() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.thawed {
		e.thawed = false
		e.thawCh = make(chan struct{})
	}
}

// setEnded marks the environment dead and closes its endpoints (its
// remote_write writer stays until the run ends: a killed environment
// delivers nothing more).
func (e *envState) setEnded(t time.Time, reason string) {
	e.mu.Lock()
	if !e.alive && !e.ended.IsZero() {
		e.mu.Unlock()
		return
	}
	e.alive, e.thawed, e.ended, e.endReason = false, false, t, reason
	close(e.endCh)
	e.mu.Unlock()
	if e.metricsSrv != nil {
		_ = e.metricsSrv.Close()
	}
	if e.dsd != nil {
		e.dsdCancel()
	}
}

// close releases everything (the run is over).
func (e *envState) close() {
	if e.metricsSrv != nil {
		_ = e.metricsSrv.Close()
	} else if e.metricsLn != nil {
		_ = e.metricsLn.Close()
	}
	if e.dsdCancel != nil {
		e.dsdCancel()
	}
	if e.dsd != nil {
		_ = e.dsd.Close()
	}
	if e.ext != nil {
		_ = e.ext.Close()
	}
	if e.rw != nil {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // drop what is queued: what a dead environment never sends
		if _, err := e.rw.Close(ctx); err != nil && !errors.Is(err, remotewrite.ErrDropped) && !errors.Is(err, context.Canceled) {
			e.s.log.Debug("closing remote writer", "environment", e.id, "err", err)
		}
	}
}
