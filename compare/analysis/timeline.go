package analysis

import (
	"math"
	"sort"
	"time"

	"github.com/lambdabridge/lambdabridge/compare/report"
)

// visibility returns the p50 and p99 (weighted by count units) of the time
// from an emission until the visible total first reached the cumulative
// emitted total that includes it; emissions never reached are left out
// (they are lost). -1 when nothing became visible.
func visibility(emissions []Emission, vt []report.TimePoint, start time.Time) (p50, p99 float64) {
	type d struct{ secs, w float64 }
	var ds []d
	cum, maxV := 0.0, 0.0
	j := 0
	for _, e := range emissions {
		cum += e.Units
		for j < len(vt) && maxV < cum-1e-9 {
			maxV = math.Max(maxV, vt[j].Visible)
			j++
		}
		if maxV < cum-1e-9 {
			break // never reached: this and every later emission are lost
		}
		at := 0.0
		if j > 0 {
			at = vt[j-1].Seconds
		}
		ds = append(ds, d{math.Max(0, at-e.T.Sub(start).Seconds()), e.Units})
	}
	if len(ds) == 0 {
		return -1, -1
	}
	sort.Slice(ds, func(a, b int) bool { return ds[a].secs < ds[b].secs })
	total := 0.0
	for _, x := range ds {
		total += x.w
	}
	q := func(p float64) float64 {
		acc := 0.0
		for _, x := range ds {
			acc += x.w
			if acc >= p*total-1e-9 {
				return x.secs
			}
		}
		return ds[len(ds)-1].secs
	}
	return q(0.5), q(0.99)
}

// timeline samples emitted and visible totals on a grid of about 200 steps.
func timeline(emissions []Emission, vt []report.TimePoint, start, end time.Time) []report.TimePoint {
	span := end.Sub(start).Seconds()
	if span <= 0 {
		return nil
	}
	const steps = 200
	out := make([]report.TimePoint, 0, steps+1)
	i, j := 0, 0
	cum, vis := 0.0, 0.0
	for k := 0; k <= steps; k++ {
		t := span * float64(k) / steps
		for i < len(emissions) && emissions[i].T.Sub(start).Seconds() <= t {
			cum += emissions[i].Units
			i++
		}
		for j < len(vt) && vt[j].Seconds <= t {
			vis = vt[j].Visible
			j++
		}
		out = append(out, report.TimePoint{Seconds: math.Round(t*1000) / 1000, Emitted: cum, Visible: vis})
	}
	return out
}
