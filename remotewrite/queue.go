package remotewrite

import (
	"context"
	"sync"
	"time"
)

// queue is the bounded FIFO between the callers (Append, Run, Flush) and the
// single sender goroutine. Pushing never blocks: a full queue drops.
type queue struct {
	mu       sync.Mutex
	buf      []sample // ring
	head, n  int
	pushed   uint64 // samples accepted so far
	popped   uint64 // samples taken by the sender so far
	resolved uint64 // samples sent or dropped after being popped
	flushTo  uint64 // send without waiting while popped < flushTo
	closing  bool
	firstAt  time.Time // when the oldest waiting sample arrived (approximately)
	wake     chan struct{}
	progress chan struct{} // closed and replaced when resolved grows
}

func newQueue(capacity int) *queue {
	return &queue{
		buf:      make([]sample, capacity),
		wake:     make(chan struct{}, 1),
		progress: make(chan struct{}),
	}
}

func (q *queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// push enqueues what fits and returns how many samples did not fit.
func (q *queue) push(samples []sample, now time.Time) (full int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 && len(samples) > 0 {
		q.firstAt = now
	}
	for _, s := range samples {
		if q.n == len(q.buf) {
			full++
			continue
		}
		q.buf[(q.head+q.n)%len(q.buf)] = s
		q.n++
		q.pushed++
	}
	// wake the sender: a full batch goes at once, a partial one arms its
	// batch_send_deadline timer
	q.signal()
	return full
}

// requestFlush asks the sender to send everything pushed so far without
// waiting for a full batch, and returns the count to wait for.
func (q *queue) requestFlush() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.flushTo = max(q.flushTo, q.pushed)
	q.signal()
	return q.pushed
}

// close makes the sender send what is queued at once and stop when empty.
func (q *queue) close() {
	q.mu.Lock()
	q.closing = true
	q.mu.Unlock()
	q.signal()
}

// next waits for a batch: max samples, or fewer once the oldest has waited
// deadline, a flush is pending or the queue is closing. ok is false when the
// queue is closed and empty, or kill is done; then rest holds the samples left
// (which the caller drops).
func (q *queue) next(kill context.Context, dst []sample, maxBatch int, deadline time.Duration) (batch, rest []sample, ok bool) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		q.mu.Lock()
		if kill.Err() != nil {
			dst = q.popLocked(dst, q.n)
			q.mu.Unlock()
			return nil, dst, false
		}
		if q.n > 0 {
			waited := time.Since(q.firstAt)
			if q.n >= maxBatch || q.closing || q.popped < q.flushTo || waited >= deadline {
				dst = q.popLocked(dst, min(q.n, maxBatch))
				if q.n > 0 {
					q.firstAt = time.Now()
				}
				q.mu.Unlock()
				return dst, nil, true
			}
			if timer == nil {
				timer = time.NewTimer(deadline - waited)
			} else {
				timer.Reset(deadline - waited)
			}
		} else if q.closing {
			q.mu.Unlock()
			return nil, nil, false
		}
		q.mu.Unlock()
		var tc <-chan time.Time
		if timer != nil {
			tc = timer.C
		}
		select {
		case <-q.wake:
		case <-tc:
		case <-kill.Done():
		}
	}
}

func (q *queue) popLocked(dst []sample, n int) []sample {
	for range n {
		i := q.head
		dst = append(dst, q.buf[i])
		q.buf[i] = sample{}
		q.head = (i + 1) % len(q.buf)
	}
	q.n -= n
	q.popped += uint64(n)
	return dst
}

// depth returns the samples waiting in the queue (at most its capacity) and
// those taken by the sender and not yet sent or dropped.
func (q *queue) depth() (queued, inFlight int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n, int(q.popped - q.resolved)
}

// resolve records that n popped samples were sent or dropped.
func (q *queue) resolve(n int) {
	q.mu.Lock()
	q.resolved += uint64(n)
	close(q.progress)
	q.progress = make(chan struct{})
	q.mu.Unlock()
}

// wait blocks until target samples are resolved or ctx is done.
func (q *queue) wait(ctx context.Context, target uint64) error {
	for {
		q.mu.Lock()
		if q.resolved >= target {
			q.mu.Unlock()
			return nil
		}
		ch := q.progress
		q.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
