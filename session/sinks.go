package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"syscall"

	"github.com/lambdabridge/lambdabridge/aggregate"
	"github.com/lambdabridge/lambdabridge/config"
	"github.com/lambdabridge/lambdabridge/internal/loopback"
	"github.com/lambdabridge/lambdabridge/pipeline"
	"github.com/lambdabridge/lambdabridge/pushgw"
	"github.com/lambdabridge/lambdabridge/remotewrite"
)

// ListenNone turns /metrics off (`--listen none`, `scrape: {listen: none}`).
const ListenNone = "none"

// sinks is what buildSinks made of a config: pipeline options, and what
// must be released when the pipeline never runs.
type sinks struct {
	options    []pipeline.Option
	names      []string
	scrapeAddr string
	scrapeLn   net.Listener
	writers    []*remotewrite.Writer
}

// close releases the scrape listener and stops the writers' senders.
func (s *sinks) close() {
	if s.scrapeLn != nil {
		s.scrapeLn.Close()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // nothing was gathered: stop the senders at once
	for _, w := range s.writers {
		_, _ = w.Close(ctx)
	}
}

// buildSinks turns the config's aggregation settings and sinks into
// pipeline options, binding the scrape address now.
func buildSinks(cfg *config.File, o *options) (*sinks, []string, error) {
	aggOpts, err := aggregateOptions(cfg)
	if err != nil {
		return nil, nil, err
	}
	s := &sinks{options: []pipeline.Option{pipeline.WithAggregateOptions(aggOpts...)}}
	var warns []string
	if cfg.Scrape != nil && cfg.Scrape.Listen != "" && cfg.Scrape.Listen != ListenNone {
		ln, err := listenScrape(cfg.Scrape.Listen, o.scrapeFlag)
		switch {
		case err != nil && o.scrapeOptional && errors.Is(err, syscall.EADDRINUSE):
			warns = append(warns, fmt.Sprintf("%v; /metrics is off", err))
		case err != nil:
			return nil, nil, err
		default:
			s.scrapeLn, s.scrapeAddr = ln, ln.Addr().String()
			opt, err := withScrape(ln)
			if err != nil {
				s.close()
				return nil, nil, err
			}
			s.options = append(s.options, opt)
			s.names = append(s.names, "scrape http://"+s.scrapeAddr+"/metrics")
		}
	}
	if err := s.addRemoteWrite(cfg, o); err != nil {
		s.close()
		return nil, nil, err
	}
	for i, pc := range cfg.Pushgateway {
		ps, err := pushgw.New(pc, pushgw.WithLogger(o.log))
		if err != nil {
			s.close()
			return nil, nil, fmt.Errorf("pushgateway[%d]: %w", i, err)
		}
		s.options = append(s.options, pipeline.WithSink(pipeline.Pushgateway(ps, pc.Interval > 0)))
		s.names = append(s.names, "pushgateway "+ps.GroupURL())
	}
	return s, warns, nil
}

func (s *sinks) addRemoteWrite(cfg *config.File, o *options) error {
	// Entries from the file and from flags together: two writers with one
	// "remote" label would collide.
	if err := remotewrite.CheckNames(cfg.RemoteWrite); err != nil {
		return err
	}
	for i, rc := range cfg.RemoteWrite {
		rwOpts := []remotewrite.Option{remotewrite.WithLogger(o.log), remotewrite.WithVersion(o.version), remotewrite.WithExternalLabels(cfg.ExternalLabels)}
		if cfg.RemoteWriteInterval > 0 {
			rwOpts = append(rwOpts, remotewrite.WithInterval(cfg.RemoteWriteInterval))
		}
		w, err := remotewrite.New(rc, rwOpts...)
		if err != nil {
			return fmt.Errorf("remote_write[%d]: %w", i, err)
		}
		s.writers = append(s.writers, w)
		s.options = append(s.options, pipeline.WithSink(pipeline.RemoteWrite(w)))
		s.names = append(s.names, "remote_write "+w.URL())
	}
	return nil
}

// aggregateOptions turns the aggregation settings and mapping rules into
// aggregator options.
func aggregateOptions(cfg *config.File) ([]aggregate.Option, error) {
	a := cfg.Aggregation
	opts := []aggregate.Option{aggregate.WithPerEnvironment(a.PerEnvironment)}
	if a.MaxSeries > 0 {
		opts = append(opts, aggregate.WithMaxSeries(a.MaxSeries))
	}
	if a.MaxSeriesPerFamily > 0 {
		opts = append(opts, aggregate.WithMaxSeriesPerFamily(a.MaxSeriesPerFamily))
	}
	if a.TTL > 0 {
		opts = append(opts, aggregate.WithTTL(a.TTL))
	}
	m, err := cfg.Mapper()
	if err != nil {
		return nil, err
	}
	if m != nil {
		opts = append(opts, aggregate.WithMapper(m))
	}
	return opts, nil
}

// listenScrape binds the /metrics address, refusing addresses beyond
// loopback; a busy port names the flag that changes it.
func listenScrape(addr, flag string) (net.Listener, error) {
	if err := loopback.Check(addr); err != nil {
		return nil, fmt.Errorf("scrape: listen %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("scrape: %s is in use by another program; pick another with %s ADDR (or %s none): %w", addr, flag, flag, err)
	}
	if err != nil {
		return nil, fmt.Errorf("scrape: %w", err)
	}
	return ln, nil
}

// Check checks what New would build from cfg without binding any port or
// sending anything (`lambdabridge check-config`): the aggregation and
// mapping rules, the /metrics address, every remote_write and Pushgateway
// entry.
func Check(cfg *config.File) error {
	if cfg.Scrape != nil && cfg.Scrape.Listen != "" && cfg.Scrape.Listen != ListenNone {
		if err := loopback.Check(cfg.Scrape.Listen); err != nil {
			return fmt.Errorf("scrape: listen %w", err)
		}
	}
	noScrape := *cfg
	noScrape.Scrape = nil
	s, _, err := buildSinks(&noScrape, &options{log: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	s.close()
	return nil
}
