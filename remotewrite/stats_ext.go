//go:build lambdabridge_extension

package remotewrite

// collector is nothing in the Lambda extension's build: it serves no
// /metrics (stats_prom.go has the collector of the other builds).
type collector struct{}

func newCollector(*counters, *queue, func() string, int) *collector { return nil }
