package remotewrite

import (
	"context"
	"sync"
	"time"
)

// entry is one waiting sample. keep marks samples that are never coalesced:
// a series' first sample (where increase() starts) and stale markers.
type entry struct {
	sample
	keep bool
}

// shardQueue is the FIFO of one shard: every sample of a series goes to the
// shard of its label hash, so one sender sends a series' samples in order.
type shardQueue struct {
	fifo    []*entry
	firstAt time.Time // when the oldest waiting sample arrived (approximately)
}

// queue holds what waits to be sent, for an aggregating bridge: the latest
// value of a series is what matters. Up to capacity samples wait in arrival
// order; beyond, a new sample of a series that already waits replaces the
// waiting one in place (coalesced: counted, not lost, the newer value goes
// in the older one's place). A series' first sample and stale markers are
// never replaced. So memory is bounded by capacity plus the series count,
// pushing never blocks and never drops, and the last value of every series
// is delivered while the drain deadline allows.
//
// Samples are sharded by series hash; one sender per shard takes batches.
// Resharding waits for the batches in flight, then redistributes what waits,
// keeping each series' order.
type queue struct {
	mu         sync.Mutex
	capacity   int
	shards     []*shardQueue
	wakes      []chan struct{} // one per possible shard (max_shards)
	waiting    int             // samples in all shards
	inFlight   int             // samples taken by senders, not yet resolved
	pushed     uint64          // samples accepted so far
	resolved   uint64          // samples sent, dropped or coalesced
	flushTo    uint64          // send partial batches while resolved < flushTo
	closing    bool
	resharding bool
	progress   chan struct{} // closed and replaced when resolved grows or inFlight falls
}

func newQueue(capacity, shards, maxShards int) *queue {
	q := &queue{capacity: capacity, progress: make(chan struct{})}
	q.wakes = make([]chan struct{}, maxShards)
	for i := range q.wakes {
		q.wakes[i] = make(chan struct{}, 1)
	}
	q.shards = make([]*shardQueue, shards)
	for i := range q.shards {
		q.shards[i] = &shardQueue{}
	}
	return q
}

func (q *queue) signal(i int) {
	select {
	case q.wakes[i] <- struct{}{}:
	default:
	}
}

func (q *queue) signalAll() {
	for i := range q.wakes {
		q.signal(i)
	}
}

// progressLocked wakes the waiters of wait and reshard.
func (q *queue) progressLocked() {
	close(q.progress)
	q.progress = make(chan struct{})
}

// push enqueues samples and returns how many replaced a waiting sample of
// their series (coalesced). first tells whether a sample is its series'
// first.
func (q *queue) push(samples []sample, now time.Time) (coalesced int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.shards)
	woken := make([]bool, n)
	for _, s := range samples {
		q.pushed++
		keep := s.first || isStaleSample(s)
		if w := s.s.waiting; w != nil && !w.keep && !keep && q.waiting >= q.capacity {
			w.sample = s
			coalesced++
			continue
		}
		i := int(s.s.hash % uint64(n))
		sh := q.shards[i]
		if len(sh.fifo) == 0 {
			sh.firstAt = now
		}
		e := &entry{sample: s, keep: keep}
		sh.fifo = append(sh.fifo, e)
		s.s.waiting = e
		q.waiting++
		if !woken[i] {
			woken[i] = true
			// a full batch goes at once, a partial one arms its deadline timer
			q.signal(i)
		}
	}
	if coalesced > 0 {
		q.resolved += uint64(coalesced)
		q.progressLocked()
	}
	return coalesced
}

func isStaleSample(s sample) bool {
	if s.h != nil {
		return isStaleNaN(s.h.sum)
	}
	return isStaleNaN(s.v)
}

// requestFlush asks the senders to send everything pushed so far without
// waiting for full batches, and returns the count to wait for.
func (q *queue) requestFlush() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.flushTo = max(q.flushTo, q.pushed)
	q.signalAll()
	return q.pushed
}

// close makes the senders send what is queued at once and stop when empty.
func (q *queue) close() {
	q.mu.Lock()
	q.closing = true
	q.mu.Unlock()
	q.signalAll()
}

// next waits for a batch of shard i: max samples, or fewer once the oldest
// has waited deadline, a flush is pending or the queue is closing. ok is
// false when the shard was retired by a reshard, the queue is closed and
// the shard empty, or kill is done.
func (q *queue) next(kill context.Context, i int, dst []sample, maxBatch int, deadline time.Duration) (batch []sample, ok bool) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		q.mu.Lock()
		if kill.Err() != nil || i >= len(q.shards) {
			q.mu.Unlock()
			return nil, false
		}
		sh := q.shards[i]
		if n := len(sh.fifo); n > 0 && !q.resharding {
			waited := time.Since(sh.firstAt)
			if n >= maxBatch || q.closing || q.resolved < q.flushTo || waited >= deadline {
				dst = q.popLocked(sh, dst, min(n, maxBatch))
				q.mu.Unlock()
				return dst, true
			}
			if timer == nil {
				timer = time.NewTimer(deadline - waited)
			} else {
				timer.Reset(deadline - waited)
			}
		} else if n == 0 && q.closing {
			q.mu.Unlock()
			return nil, false
		}
		q.mu.Unlock()
		var tc <-chan time.Time
		if timer != nil {
			tc = timer.C
		}
		select {
		case <-q.wakes[i]:
		case <-tc:
		case <-kill.Done():
		}
	}
}

func (q *queue) popLocked(sh *shardQueue, dst []sample, n int) []sample {
	for j, e := range sh.fifo[:n] {
		if e.s.waiting == e {
			e.s.waiting = nil
		}
		dst = append(dst, e.sample)
		sh.fifo[j] = nil
	}
	sh.fifo = sh.fifo[n:]
	if len(sh.fifo) == 0 {
		sh.fifo = nil // let the backing array go
	} else {
		sh.firstAt = time.Now()
	}
	q.waiting -= n
	q.inFlight += n
	return dst
}

// drainAll empties the queue (after the senders stopped) and returns how many
// samples it held.
func (q *queue) drainAll() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := q.waiting
	for _, sh := range q.shards {
		for _, e := range sh.fifo {
			if e.s.waiting == e {
				e.s.waiting = nil
			}
		}
		sh.fifo = nil
	}
	q.waiting = 0
	q.resolved += uint64(n)
	q.progressLocked()
	return n
}

// depth returns the samples waiting in the queue and those taken by the
// senders and not yet sent or dropped.
func (q *queue) depth() (queued, inFlight int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.waiting, q.inFlight
}

// numShards returns the current shard count.
func (q *queue) numShards() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.shards)
}

// resolve records that n taken samples were sent or dropped.
func (q *queue) resolve(n int) {
	q.mu.Lock()
	q.resolved += uint64(n)
	q.inFlight -= n
	q.progressLocked()
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

// reshard changes the shard count to n: it stops handing out batches, waits
// for those in flight (or ctx), and redistributes the waiting samples by
// series hash, each shard's order kept (a series' samples were all in one
// shard, in order). It returns the old count; start must start the senders
// of new shards (indices old..n-1); senders of retired shards stop.
func (q *queue) reshard(ctx context.Context, n int, start func(i int)) (old int, err error) {
	q.mu.Lock()
	old = len(q.shards)
	if n == old || q.closing || q.resharding {
		q.mu.Unlock()
		return old, nil
	}
	q.resharding = true
	for q.inFlight > 0 {
		ch := q.progress
		q.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			q.mu.Lock()
			q.resharding = false
			q.mu.Unlock()
			q.signalAll()
			return old, ctx.Err()
		}
		q.mu.Lock()
	}
	shards := make([]*shardQueue, n)
	for i := range shards {
		shards[i] = &shardQueue{}
	}
	for _, sh := range q.shards {
		for _, e := range sh.fifo {
			ns := shards[e.s.hash%uint64(n)]
			if len(ns.fifo) == 0 || sh.firstAt.Before(ns.firstAt) {
				ns.firstAt = sh.firstAt
			}
			ns.fifo = append(ns.fifo, e)
		}
	}
	q.shards = shards
	q.resharding = false
	for i := old; i < n; i++ {
		start(i)
	}
	q.mu.Unlock()
	q.signalAll()
	return old, nil
}

// waitingCount returns the samples waiting (not in flight).
func (q *queue) waitingCount() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.waiting
}
