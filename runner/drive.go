package runner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Load describes a series of invocations of one function for Drive.
type Load struct {
	Function string
	// Events are the payloads, used in turn; none means "{}".
	Events [][]byte
	// Invocations is how many to run; 0 means one per event, or no limit
	// when Until is set.
	Invocations int
	// Until, when set, is the time from which no invocation starts (those
	// running go on until they end).
	Until time.Time
	// Rate, when > 0, starts that many invocations per second whatever the
	// runner's state (the extra ones queue or are throttled); otherwise
	// Workers callers invoke back to back.
	Rate float64
	// Workers is the number of concurrent callers when Rate is 0; default
	// the runner's concurrency (or its reserved concurrency when higher).
	Workers int
	// OnResult, when set, is called after each invocation (concurrently).
	OnResult func(i int, res *Result, err error)
}

// Drive runs the invocations of l and returns the function's statistics
// when all have ended. Throttled invocations are counted, not errors. It
// stops starting new ones when ctx ends (and returns ctx's error) or the
// runner stops (Shutdown, Close); other
// errors (an environment that cannot be set up) are returned joined, after
// the run.
func (r *Runner) Drive(ctx context.Context, l Load) (Stats, error) {
	if _, ok := r.fns[l.Function]; !ok {
		return Stats{}, fmt.Errorf("%w: %s", ErrUnknownFunction, l.Function)
	}
	events := l.Events
	if len(events) == 0 {
		events = [][]byte{[]byte("{}")}
	}
	n := l.Invocations
	switch {
	case n <= 0 && !l.Until.IsZero():
		n = math.MaxInt
	case n <= 0:
		n = len(events)
	}
	// open: an invocation may start at t (Until, and the runner not stopping).
	open := func(t time.Time) bool { return !r.isStopping() && (l.Until.IsZero() || t.Before(l.Until)) }
	var (
		mu   sync.Mutex
		errs []error
	)
	one := func(i int) {
		res, err := r.Invoke(ctx, l.Function, Request{Payload: events[i%len(events)]})
		if err != nil && !errors.Is(err, ErrThrottled) && !errors.Is(err, ErrClosed) && ctx.Err() == nil {
			mu.Lock()
			if len(errs) < 10 {
				errs = append(errs, err)
			}
			mu.Unlock()
		}
		if l.OnResult != nil {
			l.OnResult(i, res, err)
		}
	}
	var wg sync.WaitGroup
	if l.Rate > 0 {
		interval := time.Duration(float64(time.Second) / l.Rate)
		start := time.Now()
		for i := 0; i < n && ctx.Err() == nil && open(start.Add(time.Duration(i)*interval)); i++ {
			if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
				}
				if ctx.Err() != nil {
					break
				}
			}
			wg.Add(1)
			go func() { defer wg.Done(); one(i) }()
		}
	} else {
		workers := l.Workers
		if workers <= 0 {
			workers = max(r.cfg.concurrency, r.cfg.reserved)
		}
		var next atomic.Int64
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil && open(time.Now()) {
					i := int(next.Add(1)) - 1
					if i >= n {
						return
					}
					one(i)
				}
			}()
		}
	}
	wg.Wait()
	st, _ := r.Stats(l.Function)
	if err := ctx.Err(); err != nil {
		return st, err
	}
	return st, errors.Join(errs...)
}
