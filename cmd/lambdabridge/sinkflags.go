package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/lambdabridge/lambdabridge/catalog"
	"github.com/lambdabridge/lambdabridge/config"
	"github.com/lambdabridge/lambdabridge/pipeline"
	"github.com/lambdabridge/lambdabridge/pushgw"
	"github.com/lambdabridge/lambdabridge/remotewrite"
)

// sinkFlags are the flags every command that delivers metrics shares (run,
// tail): the config file, and flags for the common sinks.
type sinkFlags struct {
	config         string
	listen         string
	remoteWrite    stringList
	rwInterval     time.Duration
	sigv4Region    string
	pushgateway    string
	pushJob        string
	pushInterval   time.Duration
	pushDelete     bool
	perEnvironment bool
	catalog        string
	drain          time.Duration
	verbose        bool
}

const defaultListen = "127.0.0.1:9464"

func (s *sinkFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.config, "config", "", "configuration file (functions, sinks, mapping rules); see 'lambdabridge check-config'")
	fs.StringVar(&s.listen, "listen", defaultListen, "serve /metrics on this loopback address; 'none' to turn off")
	fs.Var(&s.remoteWrite, "remote-write", "Prometheus remote_write URL (repeatable)")
	fs.DurationVar(&s.drain, "drain-timeout", 10*time.Second, "at the end (or on SIGINT/SIGTERM), how long the sinks may take to deliver what they hold")
	fs.DurationVar(&s.rwInterval, "remote-write-interval", 0, "gather and send to the remote_write URLs every `interval` (default 15s, or remote_write_interval in the config file)")
	fs.StringVar(&s.sigv4Region, "sigv4-region", "", "sign --remote-write requests with AWS SigV4 for this region (Amazon Managed Prometheus)")
	fs.StringVar(&s.pushgateway, "pushgateway", "", "Pushgateway URL to push to")
	fs.StringVar(&s.pushJob, "pushgateway-job", "lambdabridge", "job label of the Pushgateway grouping key")
	fs.DurationVar(&s.pushInterval, "pushgateway-interval", 0, "push every interval instead of after every invocation")
	fs.BoolVar(&s.pushDelete, "pushgateway-delete", false, "delete the Pushgateway group when the run ends instead of pushing a last time")
	fs.BoolVar(&s.perEnvironment, "per-environment", false, "keep one series per execution environment (label environment) instead of summing per function")
	fs.StringVar(&s.catalog, "catalog", "", "write the catalog of every metric family seen to this JSON file (input of 'lambdabridge dashboard')")
	fs.BoolVar(&s.verbose, "v", false, "log what the sinks do")
}

// load reads the config file (if any) and lays the flags over it.
func (s *sinkFlags) load(fs *flag.FlagSet) (*config.File, error) {
	f := &config.File{}
	if s.config != "" {
		var err error
		if f, err = config.Load(s.config); err != nil {
			return nil, usageErrorf("%v", err)
		}
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if set["listen"] || f.Scrape == nil {
		f.Scrape = &config.Scrape{Listen: s.listen}
	}
	for _, u := range s.remoteWrite {
		rc, err := remotewrite.URLConfig(u, s.sigv4Region)
		if err != nil {
			return nil, usageErrorf("--remote-write %s: %v", u, err)
		}
		f.RemoteWrite = append(f.RemoteWrite, rc)
	}
	if set["remote-write-interval"] {
		if s.rwInterval <= 0 {
			return nil, usageErrorf("--remote-write-interval must be positive")
		}
		f.RemoteWriteInterval = s.rwInterval
	}
	if s.sigv4Region != "" && len(s.remoteWrite) == 0 {
		return nil, usageErrorf("--sigv4-region needs --remote-write URL")
	}
	if s.pushgateway != "" {
		f.Pushgateway = append(f.Pushgateway, pushgw.Config{
			URL: s.pushgateway, Job: s.pushJob, Interval: s.pushInterval, DeleteOnEnd: s.pushDelete,
		})
	}
	if set["per-environment"] {
		f.Aggregation.PerEnvironment = s.perEnvironment
	}
	return f, nil
}

// build turns the config into pipeline options. A busy default scrape port
// is only a warning (the user did not ask for it); an explicit one is an
// error.
func (s *sinkFlags) build(m *Main, fs *flag.FlagSet, f *config.File) (*config.Built, *catalog.Catalog, error) {
	logger := slog.New(slog.DiscardHandler)
	if s.verbose {
		logger = slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	explicit := false
	fs.Visit(func(fl *flag.Flag) { explicit = explicit || fl.Name == "listen" })
	b, err := f.Build(logger, version)
	if err != nil && !explicit && s.config == "" && f.Scrape != nil && f.Scrape.Listen == defaultListen {
		fmt.Fprintf(m.Stderr, "lambdabridge: warning: %v; /metrics is off\n", err)
		f.Scrape.Listen = config.ListenNone
		b, err = f.Build(logger, version)
	}
	if err != nil {
		return nil, nil, usageErrorf("%v", err)
	}
	if s.drain > 0 {
		b.Options = append(b.Options, pipeline.WithDrainTimeout(s.drain))
	}
	var cat *catalog.Catalog
	if s.catalog != "" {
		cat = catalog.New()
		b.Options = append(b.Options, pipeline.WithCatalog(cat))
	}
	return b, cat, nil
}

// writeCatalog writes cat to the --catalog file.
func (s *sinkFlags) writeCatalog(cat *catalog.Catalog) error {
	if cat == nil {
		return nil
	}
	f, err := os.Create(s.catalog)
	if err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	if err := cat.Write(f); err != nil {
		f.Close()
		return fmt.Errorf("catalog %s: %w", s.catalog, err)
	}
	return f.Close()
}
