package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"syscall"

	"github.com/lambdabridge/lambdabridge/aggregate"
	"github.com/lambdabridge/lambdabridge/pipeline"
	"github.com/lambdabridge/lambdabridge/pushgw"
	"github.com/lambdabridge/lambdabridge/remotewrite"
)

// ListenNone disables the scrape endpoint (`--listen none`).
const ListenNone = "none"

// Built is what Build makes of a file: the pipeline options and what the
// caller must release if it does not run the pipeline.
type Built struct {
	Options []pipeline.Option
	// ScrapeAddr is the address /metrics is served on ("" when off).
	ScrapeAddr string
	// Sinks names every sink, for the user.
	Sinks     []string
	listeners []net.Listener
}

// Close releases what Build bound (the scrape listener) when the pipeline is
// not going to run.
func (b *Built) Close() {
	for _, ln := range b.listeners {
		ln.Close()
	}
}

// Build turns the file's sinks and aggregation settings into pipeline
// options. It binds the scrape address now, so a busy port is an error
// here, naming the address.
func (f *File) Build(log *slog.Logger, version string) (*Built, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Built{}
	var aggOpts []aggregate.Option
	a := f.Aggregation
	aggOpts = append(aggOpts, aggregate.WithPerEnvironment(a.PerEnvironment))
	if a.MaxSeries > 0 {
		aggOpts = append(aggOpts, aggregate.WithMaxSeries(a.MaxSeries))
	}
	if a.MaxSeriesPerFamily > 0 {
		aggOpts = append(aggOpts, aggregate.WithMaxSeriesPerFamily(a.MaxSeriesPerFamily))
	}
	if a.TTL > 0 {
		aggOpts = append(aggOpts, aggregate.WithTTL(a.TTL))
	}
	mapper, err := f.mapper()
	if err != nil {
		return nil, err
	}
	if mapper != nil {
		aggOpts = append(aggOpts, aggregate.WithMapper(mapper))
	}
	b.Options = append(b.Options, pipeline.WithAggregateOptions(aggOpts...), pipeline.WithLogger(log))

	if f.Scrape != nil && f.Scrape.Listen != "" && f.Scrape.Listen != ListenNone {
		ln, err := listenLoopback(f.Scrape.Listen)
		if err != nil {
			return nil, err
		}
		b.listeners = append(b.listeners, ln)
		b.ScrapeAddr = ln.Addr().String()
		b.Options = append(b.Options, pipeline.WithScrape(ln))
		b.Sinks = append(b.Sinks, "scrape http://"+b.ScrapeAddr+"/metrics")
	}
	for i, rc := range f.RemoteWrite {
		rwOpts := []remotewrite.Option{remotewrite.WithLogger(log), remotewrite.WithVersion(version), remotewrite.WithExternalLabels(f.ExternalLabels)}
		if f.RemoteWriteInterval > 0 {
			rwOpts = append(rwOpts, remotewrite.WithInterval(f.RemoteWriteInterval))
		}
		w, err := remotewrite.New(rc, rwOpts...)
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("remote_write[%d]: %w", i, err)
		}
		b.Options = append(b.Options, pipeline.WithSink(pipeline.RemoteWrite(w)))
		b.Sinks = append(b.Sinks, "remote_write "+w.Name())
	}
	for i, pc := range f.Pushgateway {
		s, err := pushgw.New(pc, pushgw.WithLogger(log))
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("pushgateway[%d]: %w", i, err)
		}
		b.Options = append(b.Options, pipeline.WithSink(pipeline.Pushgateway(s, pc.Interval > 0)))
		b.Sinks = append(b.Sinks, "pushgateway "+s.GroupURL())
	}
	return b, nil
}

// listenLoopback binds addr, refusing addresses beyond loopback: nothing
// lambdabridge serves is reachable from the network unless asked.
func listenLoopback(addr string) (net.Listener, error) {
	if err := CheckListen(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("scrape: %s is in use by another program; pick another with --listen ADDR (or --listen none): %w", addr, err)
		}
		return nil, fmt.Errorf("scrape: %w", err)
	}
	return ln, nil
}

// CheckListen checks a scrape listen address without binding it: host:port,
// and a loopback host.
func CheckListen(addr string) error {
	if addr == ListenNone {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("scrape listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("scrape listen address %q is not a loopback address (use 127.0.0.1 or [::1])", addr)
	}
	return nil
}
