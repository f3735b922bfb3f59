package compare

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lambdabridge/lambdabridge/extension"
)

// Strategy is one way of delivering a function's metrics to Prometheus.
type Strategy string

// The strategies, by the names users give in --strategies.
const (
	// Scrape: every execution environment serves its own /metrics, which
	// answers only while the environment is thawed and alive; Prometheus
	// finds the environments by file service discovery.
	Scrape Strategy = "scrape"
	// Aggregate: lambdabridge sums across environments and is scraped (the
	// sidecar or aggregation-gateway route; the shape of EMF -> CloudWatch
	// -> exporter).
	Aggregate Strategy = "aggregate"
	// RemoteWrite: every environment sends its series with remote_write at
	// the end of every invocation, inside the billed duration.
	RemoteWrite Strategy = "remote-write"
	// Pushgateway: every environment pushes at the end of every invocation
	// with the grouping key users usually pick, job=<function>: pushers
	// overwrite each other.
	Pushgateway Strategy = "pushgateway"
	// PushgatewayInstance: as Pushgateway with an instance label per
	// environment: nothing is overwritten, but dead environments' groups
	// stay.
	PushgatewayInstance Strategy = "pushgateway-instance"
	// Extension: every environment runs the lambdabridge Lambda extension
	// (package extension) from a layer; it reads the function's log through
	// the Telemetry API and its DogStatsD datagrams, and delivers by
	// remote_write with its own flush strategy (periodic or invocation).
	// The time it adds to each invocation is what the runner measures
	// after the runtime's answer.
	Extension Strategy = "extension"
)

// AllStrategies lists every strategy in report order.
var AllStrategies = []Strategy{Scrape, Aggregate, RemoteWrite, Pushgateway, PushgatewayInstance, Extension}

// Label is the label compare adds to every series it delivers, naming the
// strategy, so that the strategies' series stay apart in one Prometheus.
const Label = "strategy"

// ParseStrategies parses a comma-separated list of strategy names ("" or
// "all": every strategy).
func ParseStrategies(s string) ([]Strategy, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "all" {
		return slices.Clone(AllStrategies), nil
	}
	var out []Strategy
	for _, name := range strings.Split(s, ",") {
		st := Strategy(strings.TrimSpace(name))
		if !slices.Contains(AllStrategies, st) {
			return nil, fmt.Errorf("unknown strategy %q: want a comma-separated list of %s", name, joinStrategies(AllStrategies))
		}
		if !slices.Contains(out, st) {
			out = append(out, st)
		}
	}
	return out, nil
}

func joinStrategies(ss []Strategy) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// inline reports whether compare delivers the strategy's series inside
// every invocation (and so adds to the billed duration).
func (s Strategy) inline() bool {
	return s == RemoteWrite || s == Pushgateway || s == PushgatewayInstance
}

// billed reports whether the strategy adds to every invocation's billed
// duration: compare's inline deliveries, and the invoke phase after the
// runtime's answer with the extension (its work before its call to next
// with the invocation flush; with periodic it takes no INVOKE).
func (s Strategy) billed() bool { return s.inline() || s == Extension }

// scrapeDriven reports whether Prometheus ingests the strategy's series by
// scraping, once per scrape interval (the Pushgateway too), rather than at
// every invocation or flush.
func (s Strategy) scrapeDriven() bool { return s != RemoteWrite && s != Extension }

// timeDriven reports whether the strategy's samples are sent on a clock
// rather than at every invocation: the scrape-driven ones, and the
// extension with its periodic flush.
func (s Strategy) timeDriven(flush string) bool {
	return s.scrapeDriven() || s == Extension && flush == extension.FlushPeriodic
}

// envLabel is the label naming the environment a series of the strategy
// came from ("" when its series do not say); the extension's values name
// the environment by its log stream (extensionEnvs maps them).
func (s Strategy) envLabel() string {
	switch s {
	case Scrape, RemoteWrite, Extension:
		return "lambda_environment"
	case PushgatewayInstance:
		return "instance"
	}
	return ""
}
