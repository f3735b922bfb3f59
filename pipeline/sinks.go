package pipeline

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/lambdabridge/lambdabridge/pushgw"
	"github.com/lambdabridge/lambdabridge/remotewrite"
)

// Env is what the pipeline gives a running sink.
type Env struct {
	// Gatherer holds the aggregation to deliver.
	Gatherer Gatherer
	// Invocations receives a (coalesced) signal whenever an invocation ends.
	Invocations <-chan struct{}
	Log         *slog.Logger
}

// Sink delivers the aggregation somewhere. Run delivers until ctx ends and
// must not block the caller's sources; Shutdown then delivers a last time
// within its ctx and reports what could not be delivered. The pipeline
// shuts every sink down at once, each with the whole drain deadline, so a
// hanging sink cannot take the others' time. A sink that also implements
// prometheus.Collector has its metrics registered on the pipeline's own
// registry; one that implements StatusReporter is in SinkStatus.
type Sink interface {
	Name() string
	Run(ctx context.Context, env *Env) error
	Shutdown(ctx context.Context, g Gatherer) error
}

// Status is what a sink delivered, for a run's summary.
type Status struct {
	Kind string // scrape, remote_write, pushgateway
	// URL is where the sink delivers, without credentials or query.
	URL string
	// Sent counts samples delivered (0 for scrape: Prometheus pulls).
	Sent int64
	// Coalesced counts remote_write samples replaced, while they waited for
	// a receiver that was behind, by a newer sample of their series: not
	// sent, not lost.
	Coalesced int64
	// Dropped counts samples lost, by reason (remote_write's reasons;
	// final_push for a Pushgateway whose last push failed).
	Dropped map[string]int64
	// LastError is the last failure in a few words ("connection refused",
	// "HTTP 400: out of order sample"), "" when none.
	LastError string
	// Err is the error the sink ended with (its drain cut short, ...).
	Err error
}

// DroppedTotal sums Dropped.
func (s Status) DroppedTotal() int64 {
	var n int64
	for _, v := range s.Dropped {
		n += v
	}
	return n
}

// StatusReporter is implemented by sinks that account for what they
// deliver.
type StatusReporter interface {
	Status() Status
}

// RemoteWrite ships the aggregation with a remote_write sender: every
// interval of the writer, and once more at shutdown (without stale markers:
// the series stay queryable after a finite run).
func RemoteWrite(w *remotewrite.Writer) Sink { return &rwSink{w: w} }

type rwSink struct{ w *remotewrite.Writer }

func (s *rwSink) Name() string { return "remote_write " + s.w.Name() }

func (s *rwSink) Run(ctx context.Context, env *Env) error { return s.w.Run(ctx, env.Gatherer) }

// Shutdown closes the writer: it gathers a last time and drains the queue
// within ctx.
func (s *rwSink) Shutdown(ctx context.Context, _ Gatherer) error {
	_, err := s.w.Close(ctx)
	return err
}

func (s *rwSink) Status() Status {
	st := s.w.Stats()
	return Status{Kind: "remote_write", URL: s.w.URL(), Sent: st.Sent, Coalesced: st.Coalesced, Dropped: maps.Clone(st.Dropped), LastError: s.w.LastError()}
}

// Pushgateway pushes the aggregation: every Config.Interval when interval is
// set (and the config has one), else after every invocation (coalesced: a
// push in flight covers the invocations that end meanwhile), and finishes at
// shutdown, within the drain deadline (a last push, or the group's deletion
// with delete_on_end). A failed push is carried by the next one; only a
// failed last push loses samples (reason final_push).
func Pushgateway(s *pushgw.Sink, interval bool) Sink {
	ps := &pushSink{s: s}
	if interval {
		ps.every = s.Interval()
	}
	return ps
}

type pushSink struct {
	s     *pushgw.Sink
	every time.Duration

	mu        sync.Mutex
	lostFinal int64
}

func (s *pushSink) Name() string { return "pushgateway " + s.s.GroupURL() }

func (s *pushSink) Run(ctx context.Context, env *Env) error {
	var tick <-chan time.Time
	if s.every > 0 {
		t := time.NewTicker(s.every)
		defer t.Stop()
		tick = t.C
	}
	push := func() {
		if err := s.s.Push(ctx, env.Gatherer); err != nil {
			env.Log.Warn("push failed", "sink", s.Name(), "err", err)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick:
			push()
		case <-env.Invocations:
			if s.every == 0 {
				push()
			}
		}
	}
}

func (s *pushSink) Shutdown(ctx context.Context, g Gatherer) error {
	before := failedSamples(s.s.Stats())
	err := s.s.Finish(ctx, g)
	if err != nil {
		s.mu.Lock()
		s.lostFinal = int64(failedSamples(s.s.Stats()) - before)
		s.mu.Unlock()
	}
	return err
}

func failedSamples(st pushgw.Stats) uint64 {
	var n uint64
	for _, v := range st.SamplesFailed {
		n += v
	}
	return n
}

func (s *pushSink) Status() Status {
	st := s.s.Stats()
	out := Status{Kind: "pushgateway", URL: s.s.GroupURL(), Sent: int64(st.SamplesPushed), LastError: s.s.LastError()}
	s.mu.Lock()
	if s.lostFinal > 0 {
		out.Dropped = map[string]int64{"final_push": s.lostFinal}
	}
	s.mu.Unlock()
	return out
}
