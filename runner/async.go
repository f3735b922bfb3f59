package runner

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Asynchronous (Event) invocations as Lambda runs them: an event whose
// invocation fails (a function error, a timeout, a crash) is retried
// MaximumRetryAttempts times (EventInvokeConfig; default 2), with the same
// request id; a throttled event goes back to the queue and is tried again
// with a growing delay; an event older than MaximumEventAgeInSeconds
// (default 6 hours) is discarded. Every accepted event ends succeeded,
// failed (its retries used up), expired or dropped (the runner stopped
// while it waited), counted in Stats.Async.
//
// Lambda waits about one minute before the first retry and two before the
// second; lambdabridge waits WithAsyncRetryDelay (default 1 s) and twice
// that, so that a local run ends.

// AsyncStats accounts for the Event invocations of a function:
// Accepted = Succeeded + Failed + Expired + Dropped + Pending.
type AsyncStats struct {
	Accepted, Succeeded, Failed, Expired, Dropped, Pending int64
	// Retries counts the invocations that retried an event; Requeued the
	// times a throttled event went back to the queue.
	Retries, Requeued int64
}

// WithAsyncRetryDelay sets the wait before the first retry of a failed
// Event invocation (the second waits twice that; default 1 s, where
// Lambda waits about a minute).
func WithAsyncRetryDelay(d time.Duration) Option { return func(c *config) { c.asyncDelay = d } }

// Throttled events are requeued after a delay that doubles from
// requeueMin up to requeueMax.
const (
	requeueMin = 50 * time.Millisecond
	requeueMax = 2 * time.Second
)

// runAsync runs one accepted event to its end (see above).
func (f *fn) runAsync(req Request) {
	accepted := time.Now()
	req.id = newRequestID()
	cfg := f.def.EventInvoke
	retries, requeue := 0, requeueMin
	for {
		res, err := f.invoke(context.Background(), req)
		var wait time.Duration
		switch {
		case errors.Is(err, ErrThrottled):
			f.asyncCount(func(a *AsyncStats) { a.Requeued++ })
			wait, requeue = requeue, min(2*requeue, requeueMax)
		case err != nil:
			f.asyncEnd(func(a *AsyncStats) { a.Dropped++ }, "dropped: "+err.Error(), req.id)
			return
		case !res.Failed():
			f.asyncEnd(func(a *AsyncStats) { a.Succeeded++ }, "", req.id)
			return
		case retries >= cfg.Retries():
			f.asyncEnd(func(a *AsyncStats) { a.Failed++ }, "failed after "+strconv.Itoa(retries)+" retries: "+res.ErrorType, req.id)
			return
		default:
			retries++
			f.asyncCount(func(a *AsyncStats) { a.Retries++ })
			wait = time.Duration(retries) * f.r.cfg.asyncDelay
		}
		if time.Since(accepted)+wait > cfg.MaxAge() {
			f.asyncEnd(func(a *AsyncStats) { a.Expired++ }, "expired: older than MaximumEventAgeInSeconds", req.id)
			return
		}
		select {
		case <-time.After(wait):
		case <-f.r.stopping:
			f.asyncEnd(func(a *AsyncStats) { a.Dropped++ }, "dropped: the runner stopped while the event waited", req.id)
			return
		}
	}
}

func (f *fn) asyncCount(do func(*AsyncStats)) {
	f.mu.Lock()
	do(&f.async)
	f.mu.Unlock()
}

// asyncEnd counts an event's end; why, when set, is logged.
func (f *fn) asyncEnd(do func(*AsyncStats), why, id string) {
	f.mu.Lock()
	do(&f.async)
	f.async.Pending--
	f.mu.Unlock()
	if why != "" {
		f.r.cfg.logger.Warn("async event "+why, "function", f.def.Name, "request_id", id)
	}
}

// asyncLine accounts for a function's Event invocations in the summary
// ("" without any): "hello: 5 async events: 3 succeeded, 1 failed after
// its retries, 1 dropped at shutdown; 4 retries, 2 requeued after a
// throttle".
func asyncLine(s Stats) string {
	a := s.Async
	if a.Accepted == 0 {
		return ""
	}
	parts := []string{strconv.FormatInt(a.Succeeded, 10) + " succeeded"}
	for _, p := range []struct {
		n    int64
		what string
	}{{a.Failed, "failed after their retries"}, {a.Expired, "expired (MaximumEventAgeInSeconds)"}, {a.Dropped, "dropped when the runner stopped"}, {a.Pending, "pending"}} {
		if p.n > 0 {
			parts = append(parts, strconv.FormatInt(p.n, 10)+" "+p.what)
		}
	}
	return s.Function + ": " + plural(a.Accepted, "async event") + ": " + strings.Join(parts, ", ") +
		"; " + plural(a.Retries, "retry invocation") + ", " + strconv.FormatInt(a.Requeued, 10) + " requeued after a throttle"
}
