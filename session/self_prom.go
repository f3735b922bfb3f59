//go:build !lambdabridge_extension

package session

import (
	"net"

	"github.com/lambdabridge/lambdabridge/listen"
	"github.com/lambdabridge/lambdabridge/pipeline"
)

// The agents' kernel drop counters on /metrics, and /metrics itself: not
// in the Lambda extension's build (self_ext.go).

func registerEMFAgent(p *pipeline.Pipeline, l *listen.EMFAgent) error {
	return p.Registry().Register(l)
}

func registerDogStatsDDrops(p *pipeline.Pipeline, dropped func() uint64) error {
	return p.Registry().Register(listen.DogStatsDDrops(dropped))
}

func withScrape(ln net.Listener) (pipeline.Option, error) { return pipeline.WithScrape(ln), nil }
