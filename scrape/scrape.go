// Package scrape is the /metrics sink: an HTTP server that serves one or more
// prometheus.Gatherers (the aggregation and lambdabridge's own registry) with
// client_golang's promhttp, so that the Prometheus text format, OpenMetrics
// and the protobuf format (with native histograms) are negotiated with the
// scraper.
//
//	srv, err := scrape.New("127.0.0.1:9464", scrape.WithGatherers(agg, self))
//	if err != nil { return err }
//	return srv.Serve(ctx) // until ctx ends
//
// Besides /metrics it serves a small index at / and /-/healthy. It listens on
// loopback only unless WithAllowRemote is given, and answers only requests
// addressed to it (Host localhost, a loopback address or the listen
// address; see WithAllowedHosts), which a web page cannot forge through a
// browser (DNS rebinding).
package scrape

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lambdabridge/lambdabridge/internal/httpguard"
	"github.com/lambdabridge/lambdabridge/internal/loopback"
)

// DefaultAddr is the listen address when New is given "".
const DefaultAddr = "127.0.0.1:9464"

// ErrNotLoopback is returned by New for a listen address that is not on a
// loopback interface (":9464" included) unless WithAllowRemote is given.
var ErrNotLoopback = loopback.ErrNotLoopback

// Option configures a Server.
type Option func(*Server)

// WithGatherers adds gatherers whose families are served, merged, on
// /metrics. A family name may appear in only one of them (with the same
// help and type); see prometheus.Gatherers.
func WithGatherers(gs ...prometheus.Gatherer) Option {
	return func(s *Server) { s.gatherers = append(s.gatherers, gs...) }
}

// WithLogger sets the logger for serving errors (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(s *Server) { s.log = l }
}

// WithAllowRemote permits a listen address that is not loopback.
func WithAllowRemote() Option {
	return func(s *Server) { s.allowRemote = true }
}

// WithRegisterer registers the handler's own metrics
// (promhttp_metric_handler_requests_total, ..._requests_in_flight and
// promhttp_metric_handler_errors_total by cause) in r. Pass lambdabridge's
// self registry, which is usually also one of the gatherers.
func WithRegisterer(r prometheus.Registerer) Option {
	return func(s *Server) { s.reg = r }
}

// WithTimeout bounds the time one scrape may take (default 10s); a slower
// gather is answered with 503.
func WithTimeout(d time.Duration) Option {
	return func(s *Server) { s.timeout = d }
}

// WithCreatedSamples adds the created timestamps of counters, histograms
// and summaries to the OpenMetrics text format as "_created" samples. The
// protobuf format always carries them (Prometheus 2.50+ ingests them with
// --enable-feature=created-timestamp-zero-ingestion); in the text format they
// are off by default because Prometheus before 2.50 stores every "_created"
// sample as a series of its own.
func WithCreatedSamples() Option {
	return func(s *Server) { s.created = true }
}

// Server serves /metrics. Create it with New.
type Server struct {
	addr        string
	gatherers   prometheus.Gatherers
	log         *slog.Logger
	allowRemote bool
	reg         prometheus.Registerer
	timeout     time.Duration
	created     bool
	// allowedHosts are extra names accepted in Host and Origin headers.
	allowedHosts []string

	handler http.Handler

	mu    sync.Mutex
	bound net.Addr
}

// New returns a server for addr (host:port; "" means DefaultAddr). It does
// not listen yet; see Serve.
func New(addr string, opts ...Option) (*Server, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	s := &Server{
		addr:    addr,
		log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		timeout: 10 * time.Second,
	}
	for _, o := range opts {
		o(s)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("scrape: listen address %q: %w", addr, err)
	}
	if !s.allowRemote && !isLoopback(host) {
		return nil, fmt.Errorf("scrape: %q: %w (give a 127.0.0.1 or [::1] address, or allow remote scrapes explicitly)", addr, ErrNotLoopback)
	}
	if s.handler, err = s.buildHandler(); err != nil {
		return nil, err
	}
	return s, nil
}

func isLoopback(host string) bool { return loopback.Host(host) }

// Handler returns the HTTP handler: /metrics, / and /-/healthy.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) buildHandler() (http.Handler, error) {
	opts := promhttp.HandlerOpts{
		ErrorLog:          errorLog{s.log},
		ErrorHandling:     promhttp.ContinueOnError,
		Registry:          s.reg,
		EnableOpenMetrics: true,
		Timeout:           s.timeout,

		EnableOpenMetricsTextCreatedSamples: s.created,
	}
	metrics := promhttp.HandlerFor(s.gatherers, opts)
	if s.reg != nil {
		metrics = promhttp.InstrumentMetricHandler(s.reg, metrics)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "OK\n")
	})
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, indexHTML)
	})
	g, err := httpguard.New(httpguard.WithAddr(s.addr), httpguard.WithHosts(s.allowedHosts...), httpguard.WithReadsGuarded())
	if err != nil {
		return nil, fmt.Errorf("scrape: %w", err)
	}
	return g.Handler(mux), nil
}

const indexHTML = `<!DOCTYPE html>
<html><head><title>lambdabridge</title></head>
<body>
<h1>lambdabridge</h1>
<p>Metrics of the AWS Lambda functions run locally, in the Prometheus formats.</p>
<ul>
<li><a href="/metrics">/metrics</a> (text, OpenMetrics or protobuf, negotiated)</li>
<li><a href="/-/healthy">/-/healthy</a></li>
</ul>
</body></html>
`

// Serve listens on the server's address and serves until ctx ends; then it
// shuts down (waiting up to 5 s for scrapes in flight) and returns nil. A
// failure to listen or serve is returned.
func (s *Server) Serve(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("scrape: listen on %s: %w", s.addr, err)
	}
	return s.ServeListener(ctx, ln)
}

// ServeListener is Serve on a listener the caller opened (for example on
// 127.0.0.1:0 in tests). It closes ln.
func (s *Server) ServeListener(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	s.bound = ln.Addr()
	s.mu.Unlock()
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("serving metrics", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("scrape: serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("scrape: serve on %s: %w", ln.Addr(), err)
	}
	return nil
}

// Addr is the address listened on once Serve has started, else the
// configured address.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bound != nil {
		return s.bound.String()
	}
	return s.addr
}

// errorLog adapts slog to promhttp.Logger, flattening a MultiError of
// several gatherers into one line.
type errorLog struct{ l *slog.Logger }

func (e errorLog) Println(v ...any) {
	var what []string
	var errText string
	for _, x := range v {
		err, ok := x.(error)
		if !ok {
			what = append(what, strings.TrimSuffix(fmt.Sprint(x), ":"))
			continue
		}
		var me prometheus.MultiError
		if errors.As(err, &me) {
			parts := make([]string, len(me))
			for i, err := range me {
				parts[i] = err.Error()
			}
			errText = strings.Join(parts, "; ")
		} else {
			errText = err.Error()
		}
	}
	e.l.Error("serving metrics", "what", strings.Join(what, " "), "err", errText)
}
