package remotewrite

import (
	"context"
	"math"
	"time"
)

// How resharding decides, after Prometheus' queue manager
// (storage/remote/queue_manager.go): rates are exponentially weighted moving
// averages updated every shardUpdateInterval; the shards wanted are the time
// one sample takes to send times the samples to send per second (the incoming
// rate plus the backlog spread over backlogCatchUp); a change within
// shardTolerance of the current count is not made. Prometheus updates every
// 10 s; a bridge's runs are short, so it updates every second with a
// smaller weight for the newest second.
const (
	shardUpdateInterval = time.Second
	shardEWMAWeight     = 0.2
	shardTolerance      = 0.3
	backlogCatchUp      = 5 * time.Second
)

// startSenders starts the senders of the min_shards shards and the goroutine
// that reshards.
func (w *Writer) startSenders() {
	if w.shardUpdate == 0 {
		w.shardUpdate = shardUpdateInterval
	}
	for i := range w.q.numShards() {
		w.startSender(i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.reshardStop = cancel
	w.reshardDone = make(chan struct{})
	go w.reshardLoop(ctx)
	go func() {
		<-w.reshardDone
		w.senders.Wait()
		close(w.done)
	}()
}

func (w *Writer) startSender(i int) {
	w.senders.Add(1)
	go w.sendLoop(i)
}

// sendLoop is the sender of shard i: it takes the shard's batches in order and
// sends each until it is delivered or dropped, so per-series order holds
// across retries. It returns when the shard is retired, the queue closed and
// the shard empty, or the writer killed.
func (w *Writer) sendLoop(i int) {
	defer w.senders.Done()
	qc := w.cfg.QueueConfig
	buf := make([]sample, 0, qc.MaxSamplesPerSend)
	var enc shardEncoders
	for {
		batch, ok := w.q.next(w.kill, i, buf[:0], qc.MaxSamplesPerSend, time.Duration(qc.BatchSendDeadline))
		if !ok {
			return
		}
		start := time.Now()
		w.sendBatch(&enc, batch)
		w.cnt.sendNanos.Add(int64(time.Since(start)))
		w.q.resolve(len(batch))
		clear(batch)
		buf = batch
	}
}

// drain sends what is queued within ctx, with as many shards as the backlog
// needs (one batch each, up to max_shards, unless sending fails), stops the
// senders, and drops
// what is left with reason "shutdown". It returns ctx's error when the drain
// was cut short.
func (w *Writer) drain(ctx context.Context) error {
	w.reshardStop()
	<-w.reshardDone
	qc := w.cfg.QueueConfig
	want := (w.q.waitingCount() + qc.MaxSamplesPerSend - 1) / qc.MaxSamplesPerSend
	want = min(max(want, w.q.numShards()), qc.MaxShards)
	if w.cnt.failing.Load() {
		want = w.q.numShards() // more shards would not help a receiver that is down
	}
	if _, err := w.q.reshard(ctx, want, w.startSender); err != nil {
		w.log.Debug("remote write reshard at close cut short", "err", err)
	}
	w.q.close()
	var cut error
	select {
	case <-w.done:
	case <-ctx.Done():
		cut = ctx.Err()
		w.killFunc()
		<-w.done
	}
	w.killFunc()
	if n := w.q.drainAll(); n > 0 {
		w.drop(reasonShutdown, n, nil)
	}
	return cut
}

// rates are the moving averages resharding reads.
type rates struct {
	in, out, busy float64 // samples in and sent per second, sender seconds per second
	lastIn        int64
	lastOut       int64
	lastBusy      int64
	started       bool
}

// update folds the counts since the previous update (dt apart) into the
// averages.
func (r *rates) update(in, out, busyNanos int64, dt time.Duration) {
	sec := dt.Seconds()
	di := float64(in-r.lastIn) / sec
	do := float64(out-r.lastOut) / sec
	db := float64(busyNanos-r.lastBusy) / float64(time.Second) / sec
	r.lastIn, r.lastOut, r.lastBusy = in, out, busyNanos
	if !r.started {
		r.in, r.out, r.busy, r.started = di, do, db, true
		return
	}
	r.in += shardEWMAWeight * (di - r.in)
	r.out += shardEWMAWeight * (do - r.out)
	r.busy += shardEWMAWeight * (db - r.busy)
}

// desiredShards is the shard count wanted for the rates and a backlog of
// waiting samples, within [minShards, maxShards]; current when nothing was
// sent lately (nothing to measure) or the change is within the tolerance.
func desiredShards(r *rates, backlog, current, minShards, maxShards int) int {
	if r.out <= 0 || r.busy <= 0 {
		return current
	}
	timePerSample := r.busy / r.out
	want := timePerSample * (r.in + float64(backlog)/backlogCatchUp.Seconds())
	lo, hi := float64(current)*(1-shardTolerance), float64(current)*(1+shardTolerance)
	if want >= lo && want <= hi {
		return current
	}
	return min(max(int(math.Ceil(want)), minShards), maxShards)
}

// reshardLoop updates the rates and reshards until ctx ends. It does not
// reshard while sending fails (more shards would not help a receiver that
// is down).
func (w *Writer) reshardLoop(ctx context.Context) {
	defer close(w.reshardDone)
	qc := w.cfg.QueueConfig
	t := time.NewTicker(w.shardUpdate)
	defer t.Stop()
	var r rates
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			r.update(w.cnt.emitted.Load(), w.cnt.sent.Load(), w.cnt.sendNanos.Load(), now.Sub(last))
			last = now
			if w.cnt.failing.Load() {
				continue
			}
			cur := w.q.numShards()
			want := desiredShards(&r, w.q.waitingCount(), cur, qc.MinShards, qc.MaxShards)
			if want == cur {
				continue
			}
			if _, err := w.q.reshard(ctx, want, w.startSender); err == nil {
				w.log.Debug("remote write resharded", "from", cur, "to", want)
			}
		}
	}
}
