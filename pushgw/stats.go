package pushgw

import (
	"maps"
	"sync"
	"time"
)

// Stats is a snapshot of what a sink has pushed.
type Stats struct {
	Pushes        uint64            // successful pushes
	SamplesPushed uint64            // samples in successful pushes
	Failures      map[string]uint64 // failed pushes by reason
	SamplesFailed map[string]uint64 // samples in failed pushes by reason
	Deletes       map[string]uint64 // deletes by result ("ok" or a reason)
}

type stats struct {
	gateway, group string // the const labels of its metrics (Collector)

	mu          sync.Mutex
	s           Stats
	byMethod    map[string]uint64 // successful pushes by method
	lastSuccess time.Time
}

func newStats(gateway, group string) *stats {
	return &stats{
		gateway: gateway, group: group,
		s:        Stats{Failures: map[string]uint64{}, SamplesFailed: map[string]uint64{}, Deletes: map[string]uint64{}},
		byMethod: map[string]uint64{},
	}
}

func (st *stats) pushed(method string, samples int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s.Pushes++
	st.s.SamplesPushed += uint64(samples)
	st.byMethod[method]++
	st.lastSuccess = time.Now()
}

func (st *stats) failed(reason string, samples int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s.Failures[reason]++
	st.s.SamplesFailed[reason] += uint64(samples)
}

func (st *stats) deleted(result string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s.Deletes[result]++
}

// snapshot returns the counts, the pushes by method and the time of the
// last successful push.
func (st *stats) snapshot() (Stats, map[string]uint64, time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := st.s
	out.Failures = maps.Clone(st.s.Failures)
	out.SamplesFailed = maps.Clone(st.s.SamplesFailed)
	out.Deletes = maps.Clone(st.s.Deletes)
	return out, maps.Clone(st.byMethod), st.lastSuccess
}

// Stats returns a snapshot of the sink's counts.
func (s *Sink) Stats() Stats {
	out, _, _ := s.stats.snapshot()
	return out
}
