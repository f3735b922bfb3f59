package compare

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/lambdabridge/lambdabridge/extension"
	"github.com/lambdabridge/lambdabridge/function"
)

// Config is one comparison run.
type Config struct {
	// Defs are the functions the runner knows; Function is the one to run.
	Defs     []function.Definition
	Function string
	// Events are the payloads, used in turn (none: "{}").
	Events [][]byte
	// Strategies to compare (default AllStrategies).
	Strategies []Strategy

	// Duration of the workload (default 30s): bursts of Burst (default 3s)
	// separated by quiet periods of Quiet (default IdleTimeout + 1s, so
	// that every environment is recycled between bursts).
	Duration, Burst, Quiet time.Duration
	// Concurrency is the number of environments that may run at once
	// (default 4); during a burst that many callers invoke back to back,
	// unless Rate (invocations per second) is set.
	Concurrency int
	Rate        float64
	// IdleTimeout recycles idle environments (default 2s, far shorter than
	// Lambda's, so that recycling happens within the run).
	IdleTimeout time.Duration
	// ScrapeInterval of Prometheus (default 5s).
	ScrapeInterval time.Duration
	// Settle is how long to wait after the workload before reading the
	// results (default 2 scrape intervals + 2s).
	Settle time.Duration
	// MonthlyInvocations scales the cost estimate (default 10 million).
	MonthlyInvocations int64
	// Region is the AWS_REGION given to the function.
	Region string

	// PrometheusURL and PushgatewayURL use running backends instead of
	// starting them. A Prometheus given by URL must read FileSD (a
	// file_sd_configs job with honor_labels: true) to scrape the targets
	// and must have the remote-write receiver on. The backends compare
	// starts itself run in new directories under os.TempDir() ($TMPDIR).
	PrometheusURL, PushgatewayURL string
	FileSD                        string
	// RemoteWriteURL overrides Prometheus' receiver (for example Amazon
	// Managed Prometheus, with SigV4Region); results are still read from
	// PrometheusURL.
	RemoteWriteURL, SigV4Region string
	// ExternalLabels are added to the remote-write strategy's series (to
	// tell runs apart in a shared backend), as Prometheus' external_labels.
	ExternalLabels map[string]string

	// Extension is the lambdabridge extension the extension strategy runs
	// in every environment: its layer is built once per run with
	// Extension.Build (the code of `lambdabridge layer build`) for the
	// host's architecture (Arch and Config are ignored: compare gives the
	// configuration by LAMBDABRIDGE_CONFIG): Binary is a built extension
	// (lambdabridge-extension, or the lambdabridge executable, which runs
	// as the extension under that name); without it, Source is a
	// lambdabridge checkout to build it from (needs Go; "" is the working
	// directory).
	Extension extension.Layer
	// ExtensionFlush is the extension's flush strategy: extension.FlushPeriodic
	// (the default) or extension.FlushInvocation; ExtensionFlushInterval
	// the periodic strategy's period (default extension.DefaultFlushPeriod).
	ExtensionFlush         string
	ExtensionFlushInterval time.Duration

	// Logger (default: discard); Progress, when set, gets a line per phase.
	Logger   *slog.Logger
	Progress func(msg string)
}

func (c *Config) defaults() error {
	if c.Function == "" {
		if len(c.Defs) != 1 {
			return errors.New("compare: no function given")
		}
		c.Function = c.Defs[0].Name
	}
	if !slices.ContainsFunc(c.Defs, func(d function.Definition) bool { return d.Name == c.Function }) {
		return fmt.Errorf("compare: no function %q", c.Function)
	}
	if len(c.Strategies) == 0 {
		c.Strategies = slices.Clone(AllStrategies)
	}
	orDefault(&c.Duration, 30*time.Second)
	orDefault(&c.Concurrency, 4)
	orDefault(&c.IdleTimeout, 2*time.Second)
	orDefault(&c.Burst, 3*time.Second)
	orDefault(&c.Quiet, c.IdleTimeout+time.Second)
	orDefault(&c.ScrapeInterval, 5*time.Second)
	orDefault(&c.Settle, 2*c.ScrapeInterval+2*time.Second)
	orDefault(&c.MonthlyInvocations, 10_000_000)
	if c.ExtensionFlush == "" {
		c.ExtensionFlush = extension.FlushPeriodic
	}
	if c.ExtensionFlush != extension.FlushPeriodic && c.ExtensionFlush != extension.FlushInvocation {
		return fmt.Errorf("compare: extension flush %q: want %s or %s", c.ExtensionFlush, extension.FlushPeriodic, extension.FlushInvocation)
	}
	orDefault(&c.ExtensionFlushInterval, extension.DefaultFlushPeriod)
	if c.ExtensionFlushInterval < time.Second {
		return fmt.Errorf("compare: extension flush interval %v: want 1s or more", c.ExtensionFlushInterval)
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Progress == nil {
		c.Progress = func(string) {}
	}
	if c.PrometheusURL != "" && c.FileSD == "" && slices.ContainsFunc(c.Strategies, Strategy.scrapeDriven) {
		return errors.New("compare: with a Prometheus given by URL, give the file-SD file it reads (FileSD) so that it scrapes the environments, the aggregate and the Pushgateway")
	}
	return nil
}

// orDefault sets *v to def when it is not positive.
func orDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

func (c *Config) has(s Strategy) bool { return slices.Contains(c.Strategies, s) }
