package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/lambdabridge/lambdabridge/compare"
	"github.com/lambdabridge/lambdabridge/compare/backend"
	"github.com/lambdabridge/lambdabridge/config"
	"github.com/lambdabridge/lambdabridge/extension"
)

const compareUsage = `--handler PATH | --template FILE [--function NAME]  [--event FILE | --events FILE | --event-template NAME] [flags]

Runs one workload of the function the way Lambda runs it (bursts at
--concurrency, cold starts, environments frozen between invocations and
recycled after --idle-timeout) and delivers the metrics it emits through
every strategy at once:

  scrape                every environment serves its own /metrics, reachable
                        only while it is thawed; Prometheus finds them by file SD
  aggregate             lambdabridge sums across environments and is scraped
  remote-write          every environment writes at the end of every invocation
  pushgateway           every environment pushes, grouping key job=<function>
  pushgateway-instance  the same with instance=<environment> in the grouping key
  extension             every environment runs the lambdabridge Lambda extension
                        (a layer built for the run), which writes with remote_write
                        (--extension-flush periodic or invocation)

Prometheus (with its remote-write receiver) and the Pushgateway are started
on loopback ports when 'prometheus' and 'prometheus-pushgateway' are on the
PATH, or given with --prometheus-url / --pushgateway-url. Every series gets a
label strategy="<name>". The results are read back through PromQL and
compared with what the function emitted: a table on standard output, and
--json / --report FILE.html.

The extension strategy runs --extension-binary, else lambdabridge-extension
beside this executable, else this executable itself (started under the name
lambdabridge-extension, lambdabridge is the extension).`

// compareCmd holds the flags of compare.
type compareCmd struct {
	fn                                              funcFlags
	event                                           eventFlags
	eventsFile, strategies                          string
	duration, burst, quiet, idle, scrapeInterval    time.Duration
	settle                                          time.Duration
	concurrency                                     int
	rate                                            float64
	monthly                                         int64
	jsonOut, htmlOut, promURL, fileSD, pgURL, rwURL string
	sigv4, region                                   string
	externalLabels                                  []string
	verbose                                         bool
	extBinary, extFlush                             string
	extInterval                                     time.Duration
}

func registerCompare(c *cli) {
	v := &compareCmd{}
	cmd := c.command("compare", "compare scrape, aggregate, remote-write, Pushgateway and extension delivery on your function, with a real Prometheus", compareUsage, v.run)
	v.fn.register(cmd)
	v.event.register(cmd)
	eventsFileFlag(cmd, &v.eventsFile)
	cmd.Flag("strategies", "comma-separated list of strategies: all, or scrape, aggregate, remote-write, pushgateway, pushgateway-instance, extension").Default("all").PlaceHolder("LIST").StringVar(&v.strategies)
	cmd.Flag("duration", "how long the workload runs").Default("30s").DurationVar(&v.duration)
	cmd.Flag("concurrency", "execution environments that may run at once (callers per burst)").Default("4").IntVar(&v.concurrency)
	cmd.Flag("rate", "during bursts, start this many invocations per second (default: --concurrency callers back to back)").PlaceHolder("PER_SECOND").Float64Var(&v.rate)
	cmd.Flag("burst", "length of a burst of invocations").Default("3s").DurationVar(&v.burst)
	cmd.Flag("quiet", "pause between bursts (default --idle-timeout + 1s, so environments are recycled)").PlaceHolder("DURATION").DurationVar(&v.quiet)
	cmd.Flag("idle-timeout", "recycle an environment idle for this long (Lambda: minutes; short here so recycling happens)").Default("2s").DurationVar(&v.idle)
	cmd.Flag("scrape-interval", "Prometheus scrape interval (and timeout)").Default("5s").DurationVar(&v.scrapeInterval)
	cmd.Flag("settle", "wait after the workload before reading results (default 2 scrape intervals + 2s)").PlaceHolder("DURATION").DurationVar(&v.settle)
	cmd.Flag("monthly-invocations", "invocations per month for the cost estimate").Default("10000000").Int64Var(&v.monthly)
	stdinFlag(cmd.Flag("json", "write the report as JSON to file (- for standard output)").PlaceHolder("FILE"), &v.jsonOut)
	cmd.Flag("report", "write the report as one self-contained HTML file").PlaceHolder("FILE").StringVar(&v.htmlOut)
	cmd.Flag("prometheus-url", "use this Prometheus (remote-write receiver on) instead of starting one; needs --file-sd").PlaceHolder("URL").StringVar(&v.promURL)
	cmd.Flag("file-sd", "with --prometheus-url: the file_sd file its scrape job (honor_labels: true) reads").PlaceHolder("FILE").StringVar(&v.fileSD)
	cmd.Flag("pushgateway-url", "use this Pushgateway instead of starting one").PlaceHolder("URL").StringVar(&v.pgURL)
	cmd.Flag("remote-write-url", "remote_write here instead of Prometheus' receiver (e.g. Amazon Managed Prometheus; results are still read from Prometheus)").PlaceHolder("URL").StringVar(&v.rwURL)
	cmd.Flag("sigv4-region", "sign remote_write with AWS SigV4 for this region").PlaceHolder("REGION").StringVar(&v.sigv4)
	externalLabelFlag(cmd, &v.externalLabels)
	cmd.Flag("extension-binary", "the extension strategy's extension (Linux, this machine's architecture; default: lambdabridge-extension beside lambdabridge, else lambdabridge itself)").PlaceHolder("FILE").StringVar(&v.extBinary)
	enum(cmd.Flag("extension-flush", "the extension strategy's flush strategy"), &v.extFlush, extension.FlushPeriodic, extension.FlushPeriodic, extension.FlushInvocation)
	cmd.Flag("extension-flush-interval", "the period of --extension-flush periodic").Default(extension.DefaultFlushPeriod.String()).DurationVar(&v.extInterval)
	regionFlag(cmd, "AWS_REGION given to the function").StringVar(&v.region)
	cmd.Flag("verbose", "log what compare does").Short('v').BoolVar(&v.verbose)
}

func (v *compareCmd) run(ctx context.Context, m *Main) error {
	if err := firstErr(checkFlag("--concurrency", v.concurrency, config.CheckConcurrency),
		checkFlag("--idle-timeout", v.idle, config.CheckIdleTimeout)); err != nil {
		return err
	}
	if v.rate < 0 || v.duration <= 0 || v.scrapeInterval <= 0 || v.burst <= 0 {
		return usageErrorf("compare: --duration, --burst and --scrape-interval must be positive; --rate not negative")
	}
	sts, err := compare.ParseStrategies(v.strategies)
	if err != nil {
		return usageErrorf("compare: --strategies: %v", err)
	}
	if v.sigv4 != "" && v.rwURL == "" {
		return usageErrorf("compare: --sigv4-region needs --remote-write-url")
	}
	if v.promURL != "" && v.fileSD == "" {
		return usageErrorf("compare: --prometheus-url needs --file-sd FILE (the file_sd file its scrape job reads)")
	}
	if v.fn.exec {
		return usageErrorf("compare: --exec runs a new process per invocation: there is no execution environment to keep, freeze or recycle; give a Runtime API bootstrap")
	}
	v.fn.region = v.region
	defs, target, err := v.fn.definitions()
	if err != nil {
		return err
	}
	if target == "" {
		return usageErrorf("compare: the template defines several functions, pick one with --function")
	}
	one, err := v.event.payload(m.Stdin)
	if err != nil {
		return err
	}
	var evs [][]byte
	if one != nil {
		evs = append(evs, one)
	}
	if v.eventsFile != "" {
		if one != nil {
			return usageErrorf("compare: give --event/--event-template or --events, not both")
		}
		if evs, err = readEvents(m, v.eventsFile); err != nil {
			return err
		}
	}
	logger := slog.New(slog.DiscardHandler)
	if v.verbose {
		logger = slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	labels, err := parseExternalLabels(v.externalLabels)
	if err != nil {
		return err
	}
	var ext extension.Layer
	if slices.Contains(sts, compare.Extension) {
		if ext.Binary, err = extensionBinary(v.extBinary); err != nil {
			return err
		}
	}
	rep, err := compare.Run(ctx, compare.Config{
		Defs: defs, Function: target, Events: evs, Strategies: sts,
		Duration: v.duration, Burst: v.burst, Quiet: v.quiet, Concurrency: v.concurrency, Rate: v.rate,
		IdleTimeout: v.idle, ScrapeInterval: v.scrapeInterval, Settle: v.settle, MonthlyInvocations: v.monthly,
		Region: v.region, PrometheusURL: v.promURL, FileSD: v.fileSD, PushgatewayURL: v.pgURL,
		RemoteWriteURL: v.rwURL, SigV4Region: v.sigv4, ExternalLabels: labels, Logger: logger,
		Extension: ext, ExtensionFlush: v.extFlush, ExtensionFlushInterval: v.extInterval,
		Progress: func(msg string) { fmt.Fprintln(m.Stderr, "lambdabridge compare:", msg) },
	})
	if err != nil {
		if errors.Is(err, backend.ErrNotFound) {
			return usageErrorf("%v", err)
		}
		return err
	}
	if err := rep.WriteTable(m.Stdout); err != nil {
		return err
	}
	if v.jsonOut != "" {
		if err := writeFileWith(m, v.jsonOut, rep.WriteJSON); err != nil {
			return err
		}
	}
	if v.htmlOut != "" {
		if err := writeFileWith(m, v.htmlOut, rep.WriteHTML); err != nil {
			return err
		}
	}
	return nil
}

// extensionBinary is the extension the extension strategy runs: flag when
// given; else lambdabridge-extension beside this executable (make build
// puts both in bin/); else this executable, which is the extension when it
// is started under that name (main).
func extensionBinary(flag string) (string, error) {
	if flag != "" {
		if fi, err := os.Stat(flag); err != nil || !fi.Mode().IsRegular() {
			return "", usageErrorf("compare: --extension-binary %s: not a file (build it with GOOS=linux CGO_ENABLED=0 go build ./cmd/lambdabridge-extension, or give lambdabridge itself)", flag)
		}
		return flag, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", usageErrorf("compare: the extension strategy: cannot find this executable (%v): give --extension-binary FILE", err)
	}
	return besideOrSelf(self), nil
}

// besideOrSelf is lambdabridge-extension in self's folder when there is
// one, else self.
func besideOrSelf(self string) string {
	beside := filepath.Join(filepath.Dir(self), extension.Name)
	if fi, err := os.Stat(beside); err == nil && fi.Mode().IsRegular() {
		return beside
	}
	return self
}

// writeFileWith writes a file (- : standard output) with fn.
func writeFileWith(m *Main, name string, fn func(io.Writer) error) error {
	if name == "-" {
		return fn(m.Stdout)
	}
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	if err := fn(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	return nil
}
