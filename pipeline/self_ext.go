//go:build lambdabridge_extension

package pipeline

// The Lambda extension's build has no registry of lambdabridge's own
// metrics and no scrape sink (self_prom.go has them): it serves no
// /metrics and delivers its own counters with the metrics.

type registry struct{}

func newRegistry() *registry { return nil }

type scrapeSpec struct{}

func (p *Pipeline) registerSelf() error { return nil }

func (p *Pipeline) registerSink(Sink) error { return nil }
