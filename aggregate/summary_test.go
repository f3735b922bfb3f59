package aggregate

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/testing/protocmp"
)

// TestSummaryMatchesClientGolang: within one time slot of the window, the
// summary gives exactly client_golang's Summary's count, sum and quantiles
// for the same observations, read at the same points, for default and
// other objectives, buffer sizes below and above the number observed, and
// no objectives at all.
func TestSummaryMatchesClientGolang(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	clock := time.Unix(1_700_000_000, 0)
	now := func() time.Time { return clock } // within the first slot: no rotation on either side
	for _, fam := range []Family{
		{},
		{BufCap: 7},
		{Objectives: map[float64]float64{0.25: 0.02, 0.75: 0.02, 0.999: 0.0001}, BufCap: 100},
		{Objectives: map[float64]float64{}},
	} {
		o := newSummaryOpts(&fam)
		ours := newSummary(&o, now)
		objectives := fam.Objectives
		if objectives == nil {
			objectives = DefaultObjectives
		}
		theirs := prometheus.NewSummary(prometheus.SummaryOpts{Name: "s", Help: "h", Objectives: objectives, BufCap: fam.BufCap})
		for round := range 8 {
			for range rng.IntN(3000) {
				v := rng.ExpFloat64() * 100
				if rng.IntN(10) == 0 {
					v = -v
				}
				ours.observe(v)
				theirs.Observe(v)
			}
			var m dto.Metric
			if err := theirs.Write(&m); err != nil {
				t.Fatal(err)
			}
			m.Summary.CreatedTimestamp = nil
			if diff := cmp.Diff(m.Summary, ours.write(), protocmp.Transform(), cmp.Comparer(func(a, b float64) bool {
				return a == b || math.IsNaN(a) && math.IsNaN(b)
			})); diff != "" {
				t.Fatalf("objectives %v, buffer %d, read %d (-client_golang +ours):\n%s", fam.Objectives, fam.BufCap, round, diff)
			}
		}
	}
}

// TestSummaryWindow: the quantiles cover the last MaxAge, in AgeBuckets
// steps; the count and sum cover everything.
func TestSummaryWindow(t *testing.T) {
	clock := time.Unix(1_700_000_000, 0)
	o := newSummaryOpts(&Family{Objectives: map[float64]float64{0.5: 0.01}, MaxAge: 10 * time.Minute, AgeBuckets: 5})
	s := newSummary(&o, func() time.Time { return clock })
	median := func() float64 { return s.write().Quantile[0].GetValue() }
	s.observe(100) // slot 0
	clock = clock.Add(3 * time.Minute)
	s.observe(200) // slot 1
	for _, step := range []struct {
		after time.Duration
		want  float64 // NaN: no observation in the window
	}{
		{0, 100},                      // both in the window; the median of two is the first
		{6 * time.Minute, 100},        // 9 min after the first: still in
		{2 * time.Minute, 200},        // 11 min: the first left the window
		{1 * time.Minute, 200},        // 12 min
		{1 * time.Minute, math.NaN()}, // 13 min: the second is 10 min old, out too
	} {
		clock = clock.Add(step.after)
		if got := median(); got != step.want && !(math.IsNaN(got) && math.IsNaN(step.want)) {
			t.Errorf("at +%v: median %v, want %v", clock.Sub(time.Unix(1_700_000_000, 0)), got, step.want)
		}
	}
	if d := s.write(); d.GetSampleCount() != 2 || d.GetSampleSum() != 300 {
		t.Errorf("count %d, sum %v: want 2 and 300 (all time)", d.GetSampleCount(), d.GetSampleSum())
	}
}
