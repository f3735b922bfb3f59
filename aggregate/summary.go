package aggregate

import (
	"math"
	"slices"
	"time"

	"github.com/beorn7/perks/quantile"
	dto "github.com/prometheus/client_model/go"
)

// The defaults of a summary family's window, client_golang's (DefMaxAge,
// DefAgeBuckets, DefBufCap).
const (
	defaultMaxAge     = 10 * time.Minute
	defaultAgeBuckets = 5
	defaultBufCap     = 500
)

// summaryOpts are a summary family's settings, with defaults applied.
type summaryOpts struct {
	objectives map[float64]float64
	ranks      []float64 // the objectives' quantiles, sorted
	maxAge     time.Duration
	ageBuckets int
	bufCap     int
}

func newSummaryOpts(fam *Family) summaryOpts {
	o := summaryOpts{
		objectives: fam.Objectives, maxAge: fam.MaxAge,
		ageBuckets: int(fam.AgeBuckets), bufCap: int(fam.BufCap),
	}
	if o.objectives == nil {
		o.objectives = DefaultObjectives
	}
	for q := range o.objectives {
		o.ranks = append(o.ranks, q)
	}
	slices.Sort(o.ranks)
	if o.maxAge <= 0 {
		o.maxAge = defaultMaxAge
	}
	if o.ageBuckets == 0 {
		o.ageBuckets = defaultAgeBuckets
	}
	if o.bufCap == 0 {
		o.bufCap = defaultBufCap
	}
	return o
}

// summary is one series of a summary family: the count and sum of its
// observations, and their quantiles (the family's objectives) over a
// sliding window, computed as client_golang's Summary computes them: the
// window (maxAge) is covered by ageBuckets targeted quantile streams
// (beorn7/perks), each observation goes into every stream, and every
// maxAge/ageBuckets the oldest stream, the one read, is reset and becomes
// the newest. Observations wait in a buffer until it holds bufCap or
// their time slot ends. Its family's mutex guards it.
type summary struct {
	o       *summaryOpts
	now     func() time.Time
	streams []*quantile.Stream // none without objectives
	head    int                // the stream read: the oldest
	headExp time.Time          // when head is reset
	bufExp  time.Time          // when buf's slot ends
	slot    time.Duration
	buf     []float64
	count   uint64
	sum     float64
}

func newSummary(o *summaryOpts, now func() time.Time) *summary {
	s := &summary{o: o, now: now}
	if len(o.objectives) == 0 {
		return s
	}
	s.slot = o.maxAge / time.Duration(o.ageBuckets)
	s.headExp = now().Add(s.slot)
	s.bufExp = s.headExp
	s.buf = make([]float64, 0, o.bufCap)
	for range o.ageBuckets {
		s.streams = append(s.streams, quantile.NewTargeted(o.objectives))
	}
	return s
}

func (s *summary) observe(v float64) {
	if len(s.streams) == 0 {
		s.count++
		s.sum += v
		return
	}
	now := s.now()
	if now.After(s.bufExp) {
		s.flush(now)
	}
	s.buf = append(s.buf, v)
	if len(s.buf) == cap(s.buf) {
		s.flush(now)
	}
}

// flush moves the buffer's slot past now, inserts the buffered
// observations into every stream, then rotates the streams whose time is
// up (client_golang's swapBufs, flushColdBuf and maybeRotateStreams).
func (s *summary) flush(now time.Time) {
	for now.After(s.bufExp) {
		s.bufExp = s.bufExp.Add(s.slot)
	}
	for _, v := range s.buf {
		for _, st := range s.streams {
			st.Insert(v)
		}
		s.count++
		s.sum += v
	}
	s.buf = s.buf[:0]
	for !s.bufExp.Equal(s.headExp) {
		s.streams[s.head].Reset()
		s.head = (s.head + 1) % len(s.streams)
		s.headExp = s.headExp.Add(s.slot)
	}
}

// write returns the series' dto summary now: NaN quantiles when the window
// holds no observation.
func (s *summary) write() *dto.Summary {
	if len(s.streams) > 0 {
		s.flush(s.now())
	}
	d := &dto.Summary{SampleCount: new(s.count), SampleSum: new(s.sum)}
	if len(s.streams) == 0 {
		return d
	}
	head := s.streams[s.head]
	d.Quantile = make([]*dto.Quantile, len(s.o.ranks))
	for i, r := range s.o.ranks {
		q := math.NaN()
		if head.Count() > 0 {
			q = head.Query(r)
		}
		d.Quantile[i] = &dto.Quantile{Quantile: new(r), Value: new(q)}
	}
	return d
}
