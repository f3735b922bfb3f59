package pipeline

import (
	"context"
	"errors"
	"fmt"
)

// Flusher is a sink that can deliver what the aggregation holds now and
// wait for it (remote_write, Pushgateway): the end of an invocation in an
// environment that is about to be frozen.
type Flusher interface {
	Flush(ctx context.Context, g Gatherer) error
}

// Flush delivers the aggregation now to every sink that can (a Flusher) and
// waits until each delivered it, dropped it (counted) or ctx ended. It
// returns the sinks' errors, joined. Call it while Run runs.
func (p *Pipeline) Flush(ctx context.Context) error {
	var errs []error
	for _, s := range p.sinks {
		if f, ok := s.(Flusher); ok {
			if err := f.Flush(ctx, p.agg); err != nil {
				errs = append(errs, fmt.Errorf("sink %s: flush: %w", s.Name(), err))
			}
		}
	}
	return errors.Join(errs...)
}

// Flush gathers the writer's aggregation and waits for its delivery.
func (s *rwSink) Flush(ctx context.Context, _ Gatherer) error { return s.w.Flush(ctx) }

// Flush pushes g now.
func (s *pushSink) Flush(ctx context.Context, g Gatherer) error { return s.s.Push(ctx, g) }
