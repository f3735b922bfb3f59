//go:build lambdabridge_extension

package session

import (
	"errors"
	"net"

	"github.com/lambdabridge/lambdabridge/listen"
	"github.com/lambdabridge/lambdabridge/pipeline"
)

// The Lambda extension serves no /metrics: it delivers its agents' kernel
// drop counters with its metrics (self_prom.go has the other builds').

func registerEMFAgent(*pipeline.Pipeline, *listen.EMFAgent) error { return nil }

func registerDogStatsDDrops(*pipeline.Pipeline, func() uint64) error { return nil }

func withScrape(net.Listener) (pipeline.Option, error) {
	return nil, errors.New("session: the Lambda extension's build serves no /metrics (scrape)")
}
