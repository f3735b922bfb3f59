package main

import (
	"fmt"
	"log/slog"
	"maps"
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/lambdabridge/lambdabridge/aggregate"
	"github.com/lambdabridge/lambdabridge/catalog"
	"github.com/lambdabridge/lambdabridge/config"
	"github.com/lambdabridge/lambdabridge/pushgw"
	"github.com/lambdabridge/lambdabridge/remotewrite"
	"github.com/lambdabridge/lambdabridge/session"
)

// sinkFlags are the flags every command that delivers metrics shares (run,
// tail): the config file, and flags for the common sinks.
type sinkFlags struct {
	config         string
	listen         string
	remoteWrite    []string
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
	externalLabels []string // NAME=VALUE
	rwHeaders      []string // Name: value
	// set records the flags given on the command line: they override the
	// configuration file.
	set struct{ listen, rwInterval, perEnvironment bool }
}

const defaultListen = "127.0.0.1:9464"

func (s *sinkFlags) register(cmd *kingpin.CmdClause) {
	cmd.Flag("config", "configuration file (functions, sinks, mapping rules); see 'lambdabridge check-config'").PlaceHolder("FILE").StringVar(&s.config)
	cmd.Flag("listen", "serve /metrics on this loopback address; 'none' to turn off").Default(defaultListen).IsSetByUser(&s.set.listen).StringVar(&s.listen)
	cmd.Flag("remote-write", "Prometheus remote_write URL (repeatable)").PlaceHolder("URL").StringsVar(&s.remoteWrite)
	cmd.Flag("drain-timeout", "at the end (or on SIGINT/SIGTERM), how long the sinks may take to deliver what they hold").Default("10s").DurationVar(&s.drain)
	cmd.Flag("remote-write-interval", "gather and send to the remote_write URLs every interval (default 15s, or remote_write_interval in the config file)").PlaceHolder("INTERVAL").IsSetByUser(&s.set.rwInterval).DurationVar(&s.rwInterval)
	externalLabelFlag(cmd, &s.externalLabels)
	cmd.Flag("remote-write-header", "HTTP header 'Name: value' sent with every --remote-write request (repeatable), e.g. 'X-Scope-OrgID: tenant' or 'THANOS-TENANT: tenant'").PlaceHolder("'NAME: VALUE'").StringsVar(&s.rwHeaders)
	cmd.Flag("sigv4-region", "sign --remote-write requests with AWS SigV4 for this region (Amazon Managed Prometheus)").PlaceHolder("REGION").StringVar(&s.sigv4Region)
	cmd.Flag("pushgateway", "Pushgateway URL to push to").PlaceHolder("URL").StringVar(&s.pushgateway)
	cmd.Flag("pushgateway-job", "job label of the Pushgateway grouping key").Default("lambdabridge").StringVar(&s.pushJob)
	cmd.Flag("pushgateway-interval", "push every interval instead of after every invocation").PlaceHolder("INTERVAL").DurationVar(&s.pushInterval)
	cmd.Flag("pushgateway-delete", "delete the Pushgateway group when the run ends instead of pushing a last time").BoolVar(&s.pushDelete)
	cmd.Flag("per-environment", "keep one series per execution environment (label "+aggregate.EnvironmentLabel+") instead of summing per function").IsSetByUser(&s.set.perEnvironment).BoolVar(&s.perEnvironment)
	cmd.Flag("catalog", "write the catalog of every metric family seen to this JSON file (input of 'lambdabridge dashboard')").PlaceHolder("FILE").StringVar(&s.catalog)
	cmd.Flag("verbose", "log what the sinks do").Short('v').BoolVar(&s.verbose)
}

// load reads the config file (if any) and lays the flags over it.
func (s *sinkFlags) load() (*config.File, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	f := &config.File{}
	if s.config != "" {
		var err error
		if f, err = config.Load(s.config); err != nil {
			return nil, usageErrorf("%v", err)
		}
	}
	if s.set.listen || f.Scrape == nil {
		f.Scrape = &config.Scrape{Listen: s.listen}
	}
	if err := s.loadRemoteWrite(f); err != nil {
		return nil, err
	}
	if s.set.rwInterval {
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
	if s.set.perEnvironment {
		f.Aggregation.PerEnvironment = s.perEnvironment
	}
	return f, nil
}

// loadRemoteWrite adds the --remote-write URLs with their
// --remote-write-header headers, and lays the --external-label labels over
// the file's global external_labels.
func (s *sinkFlags) loadRemoteWrite(f *config.File) error {
	headers := map[string]string{}
	for _, h := range s.rwHeaders {
		name, value, err := remotewrite.ParseHeader(h)
		if err != nil {
			return usageErrorf("--remote-write-header: %v", err)
		}
		headers[name] = value
	}
	if len(headers) > 0 && len(s.remoteWrite) == 0 {
		return usageErrorf("--remote-write-header needs --remote-write URL (a config file entry has its own headers:)")
	}
	for _, u := range s.remoteWrite {
		rc, err := remotewrite.URLConfig(u, s.sigv4Region)
		if err != nil {
			return usageErrorf("--remote-write %s: %v", u, err)
		}
		if len(headers) > 0 {
			rc.Headers = headers
		}
		f.RemoteWrite = append(f.RemoteWrite, rc)
	}
	labels, err := parseExternalLabels(s.externalLabels)
	if err != nil {
		return err
	}
	if len(labels) > 0 {
		f.ExternalLabels = mergeLabels(f.ExternalLabels, labels)
	}
	return nil
}

// externalLabelFlag registers --external-label (run, tail, compare).
func externalLabelFlag(cmd *kingpin.CmdClause, dst *[]string) {
	cmd.Flag("external-label", "label NAME=VALUE every remote_write series gets unless it has it (repeatable; over the config file's global external_labels), e.g. bridge=ci-42, or cluster=eu and __replica__=a for an HA pair").PlaceHolder("NAME=VALUE").StringsVar(dst)
}

// parseExternalLabels reads --external-label values.
func parseExternalLabels(flags []string) (map[string]string, error) {
	out := map[string]string{}
	for _, l := range flags {
		name, value, err := remotewrite.ParseExternalLabel(l)
		if err != nil {
			return nil, usageErrorf("--external-label: %v", err)
		}
		out[name] = value
	}
	return out, nil
}

func mergeLabels(base, over map[string]string) map[string]string {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, over)
	return out
}

// options turns the flags that shape a session (logging, drain, catalog)
// into session options. A busy default scrape port is only a warning (the
// user did not ask for it); an explicit one is an error.
func (s *sinkFlags) options(m *Main) ([]session.Option, *catalog.Catalog) {
	logger := slog.New(slog.DiscardHandler)
	if s.verbose {
		logger = slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	opts := []session.Option{session.WithLogger(logger), session.WithVersion(version)}
	if s.drain > 0 {
		opts = append(opts, session.WithDrainTimeout(s.drain))
	}
	if !s.set.listen && s.config == "" && s.listen == defaultListen {
		opts = append(opts, session.WithScrapeOptional())
	}
	var cat *catalog.Catalog
	if s.catalog != "" {
		cat = catalog.New()
		opts = append(opts, session.WithCatalog(cat))
	}
	return opts, cat
}

// newSession builds the session of cfg and says where it delivers; prefix
// starts its lines ("lambdabridge", "lambdabridge tail").
func newSession(m *Main, prefix string, cfg *config.File, opts ...session.Option) (*session.Session, error) {
	s, err := session.New(cfg, opts...)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	for _, w := range s.Warnings() {
		fmt.Fprintf(m.Stderr, "%s: warning: %s\n", prefix, w)
	}
	if names := s.Sinks(); len(names) > 0 {
		fmt.Fprintf(m.Stderr, "%s: delivering to %s\n", prefix, strings.Join(names, ", "))
	}
	return s, nil
}

// lost says what a session lost, for its exit message (Summary.Losses).
func lost(sum session.Summary) string { return strings.Join(sum.Losses(), "; ") }

// writeSinks prints what every sink delivered, its URL (credentials
// redacted) and its last error, when there is a sink to speak of.
func writeSinks(m *Main, sum session.Summary) {
	if len(sum.Sinks) == 0 {
		return
	}
	fmt.Fprintln(m.Stderr, "sinks:")
	sum.WriteSinks(m.Stderr)
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
