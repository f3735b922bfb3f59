package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/lambdabridge/lambdabridge/compare"
	"github.com/lambdabridge/lambdabridge/compare/backend"
)

func init() {
	register(command{
		name:    "compare",
		summary: "compare scrape, aggregate, remote-write and Pushgateway delivery on your function, with a real Prometheus",
		run:     runCompare,
	})
}

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

Prometheus (with its remote-write receiver) and the Pushgateway are started
on loopback ports when 'prometheus' and 'prometheus-pushgateway' are on the
PATH, or given with --prometheus-url / --pushgateway-url. Every series gets a
label strategy="<name>". The results are read back through PromQL and
compared with what the function emitted: a table on standard output, and
--json / --report FILE.html.`

func runCompare(ctx context.Context, m *Main, args []string) error {
	fs := newFlagSet(m.Stderr, "compare", compareUsage)
	ff := addFuncFlags(fs)
	ef := addEventFlags(fs)
	eventsFile := fs.String("events", "", "`file` of events, JSON lines (one event per line), - for standard input")
	strategies := fs.String("strategies", "all", "comma-separated `list` of strategies: scrape, aggregate, remote-write, pushgateway, pushgateway-instance")
	duration := fs.Duration("duration", 30*time.Second, "how long the workload runs")
	concurrency := fs.Int("concurrency", 4, "execution environments that may run at once (callers per burst)")
	rate := fs.Float64("rate", 0, "during bursts, start this many invocations per second (default: --concurrency callers back to back)")
	burst := fs.Duration("burst", 3*time.Second, "length of a burst of invocations")
	quiet := fs.Duration("quiet", 0, "pause between bursts (default --idle-timeout + 1s, so environments are recycled)")
	idle := fs.Duration("idle-timeout", 2*time.Second, "recycle an environment idle for this long (Lambda: minutes; short here so recycling happens)")
	scrapeInterval := fs.Duration("scrape-interval", 5*time.Second, "Prometheus scrape interval (and timeout)")
	settle := fs.Duration("settle", 0, "wait after the workload before reading results (default 2 scrape intervals + 2s)")
	monthly := fs.Int64("monthly-invocations", 10_000_000, "invocations per month for the cost estimate")
	jsonOut := fs.String("json", "", "write the report as JSON to `file` (- for standard output)")
	htmlOut := fs.String("report", "", "write the report as one self-contained HTML `file`")
	promURL := fs.String("prometheus-url", "", "use this Prometheus (remote-write receiver on) instead of starting one; needs --file-sd")
	fileSD := fs.String("file-sd", "", "with --prometheus-url: the file_sd `file` its scrape job (honor_labels: true) reads")
	pgURL := fs.String("pushgateway-url", "", "use this Pushgateway instead of starting one")
	rwURL := fs.String("remote-write-url", "", "remote_write here instead of Prometheus' receiver (e.g. Amazon Managed Prometheus; results are still read from Prometheus)")
	sigv4 := fs.String("sigv4-region", "", "sign remote_write with AWS SigV4 for this region")
	region := fs.String("region", "us-east-1", "AWS_REGION given to the function")
	verbose := fs.Bool("v", false, "log what compare does")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("compare: unexpected argument %q", fs.Arg(0))
	}
	if *concurrency < 1 || *rate < 0 || *duration <= 0 || *scrapeInterval <= 0 || *idle <= 0 || *burst <= 0 {
		return usageErrorf("compare: --concurrency must be at least 1; --duration, --burst, --idle-timeout and --scrape-interval positive; --rate not negative")
	}
	sts, err := compare.ParseStrategies(*strategies)
	if err != nil {
		return usageErrorf("compare: --strategies: %v", err)
	}
	if *sigv4 != "" && *rwURL == "" {
		return usageErrorf("compare: --sigv4-region needs --remote-write-url")
	}
	if *promURL != "" && *fileSD == "" {
		return usageErrorf("compare: --prometheus-url needs --file-sd FILE (the file_sd file its scrape job reads)")
	}
	if ff.exec {
		return usageErrorf("compare: --exec runs a new process per invocation: there is no execution environment to keep, freeze or recycle; give a Runtime API bootstrap")
	}
	defs, target, err := ff.definitions()
	if err != nil {
		return err
	}
	if target == "" {
		return usageErrorf("compare: the template defines several functions, pick one with --function")
	}
	one, err := ef.payload(m.Stdin)
	if err != nil {
		return err
	}
	var evs [][]byte
	if one != nil {
		evs = append(evs, one)
	}
	if *eventsFile != "" {
		if one != nil {
			return usageErrorf("compare: give --event/--event-template or --events, not both")
		}
		if evs, err = readEvents(m, *eventsFile); err != nil {
			return err
		}
	}
	logger := slog.New(slog.DiscardHandler)
	if *verbose {
		logger = slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	rep, err := compare.Run(ctx, compare.Config{
		Defs: defs, Function: target, Events: evs, Strategies: sts,
		Duration: *duration, Burst: *burst, Quiet: *quiet, Concurrency: *concurrency, Rate: *rate,
		IdleTimeout: *idle, ScrapeInterval: *scrapeInterval, Settle: *settle, MonthlyInvocations: *monthly,
		Region: *region, PrometheusURL: *promURL, FileSD: *fileSD, PushgatewayURL: *pgURL,
		RemoteWriteURL: *rwURL, SigV4Region: *sigv4, Logger: logger,
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
	if *jsonOut != "" {
		if err := writeFileWith(m, *jsonOut, rep.WriteJSON); err != nil {
			return err
		}
	}
	if *htmlOut != "" {
		if err := writeFileWith(m, *htmlOut, rep.WriteHTML); err != nil {
			return err
		}
	}
	return nil
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
