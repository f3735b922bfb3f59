package analysis

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/lambdabridge/lambdabridge/compare/report"
)

// Analyze compares what the function emitted with what each strategy made
// visible, and prices each strategy.
func Analyze(obs Observations) *report.Report {
	w := obs.Workload
	rep := &report.Report{
		Function: obs.Function, Start: obs.Start, End: obs.End, WorkloadSeconds: obs.DriveEnd.Sub(obs.Start).Seconds(),
		Concurrency: w.Concurrency, Rate: w.Rate, BurstSeconds: w.Burst.Seconds(), QuietSeconds: w.Quiet.Seconds(),
		IdleTimeoutSeconds: w.IdleTimeout.Seconds(), ScrapeIntervalSecs: w.ScrapeInterval.Seconds(),
		Environments: len(obs.Environments), MemoryMB: obs.MemoryMB, Architecture: obs.Architecture,
		MonthlyInvocations: obs.MonthlyInvocations, Prices: PricesFor(obs.Architecture),
		Notes: append(durationNotes(w), obs.Notes...),
	}
	countInvocations(rep, obs.Invocations)
	dead := endedBefore(obs.Environments, obs.End)
	rep.EnvironmentsEnded = len(dead)
	ems := append([]Emission(nil), obs.Emissions...)
	sort.SliceStable(ems, func(i, j int) bool { return ems[i].T.Before(ems[j].T) })
	for _, st := range obs.Strategies {
		res := report.StrategyResult{Name: st.Name, Query: st.Query, Requests: st.Requests, BytesSent: st.Bytes}
		fams, vt := readBack(&res, obs.Truth, st.Samples, obs.Start)
		compareFamilies(&res, obs.Truth, fams)
		res.Series, res.StaleSeries = presentSeries(st, dead)
		res.P50VisibilitySeconds, res.P99VisibilitySeconds = visibility(ems, vt, obs.Start)
		res.Timeline = timeline(ems, vt, obs.Start, obs.End)
		inlineCost(&res, st)
		monthlyCost(&res, st, obs, rep.Prices)
		rep.Strategies = append(rep.Strategies, res)
	}
	return rep
}

// countInvocations fills the invocation counts and mean durations.
func countInvocations(rep *report.Report, invs []Invocation) {
	var dur, billed time.Duration
	for _, in := range invs {
		rep.Invocations++
		if in.ColdStart {
			rep.ColdStarts++
		}
		if in.Failed {
			rep.Failed++
		}
		dur += in.Duration
		billed += in.Billed
	}
	if n := float64(len(invs)); n > 0 {
		rep.MeanDurationMs = ms(dur) / n
		rep.MeanBilledMs = ms(billed) / n
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// endedBefore is the set of environments that ended before t.
func endedBefore(envs []Environment, t time.Time) map[string]bool {
	dead := map[string]bool{}
	for _, e := range envs {
		if !e.Ended.IsZero() && e.Ended.Before(t) {
			dead[e.ID] = true
		}
	}
	return dead
}

// minScrapes is how many scrape intervals a workload should last at least
// for the scrape-driven strategies' figures to mean something.
const minScrapes = 3

// durationNotes warn when the workload was too short for the scrape
// interval.
func durationNotes(w Workload) []string {
	if msg := DurationWarning(w.Duration, w.ScrapeInterval); msg != "" {
		return []string{msg}
	}
	return nil
}

// DurationWarning says why a workload of duration is too short for the
// scrape interval ("" when it is not): it should last minScrapes scrape
// intervals at least.
func DurationWarning(duration, scrapeInterval time.Duration) string {
	if scrapeInterval <= 0 || duration <= 0 || duration >= minScrapes*scrapeInterval {
		return ""
	}
	return fmt.Sprintf("the workload (%v) lasted fewer than %d scrape intervals (%v): the scrape-driven strategies "+
		"were scraped only a few times, so their loss, visibility and samples are rough; give --duration %v or more",
		duration, minScrapes, scrapeInterval, minScrapes*scrapeInterval)
}

// counted reports whether a family is compared by its count (counters,
// histograms, summaries) rather than by its last value.
func (f Family) counted() bool { return f.Type == Counter || f.Type == Histogram || f.Type == Summary }

// seriesRole says what a series read back is: the family it belongs to
// and whether it is a count (counter value, histogram _count), a histogram
// _sum, a gauge, or nothing compared (buckets).
func seriesRole(name string, fams map[string]*Family) (*Family, string) {
	if f := fams[name]; f != nil {
		if f.counted() {
			return f, "count"
		}
		return f, "gauge"
	}
	for _, suf := range []string{"_count", "_sum", "_bucket"} {
		if base, ok := strings.CutSuffix(name, suf); ok {
			if f := fams[base]; f != nil && f.counted() && f.Type != Counter {
				return f, suf[1:]
			}
		}
	}
	return nil, ""
}

// readBack sums the series read back per family (the last value of every
// count series, the newest gauge value), counts the samples ingested, and
// returns the visible total over time: at each change, the sum of the last
// value of every count series, in seconds since start. Samples before
// start are not the run's (a Prometheus given by URL may hold an earlier
// run's samples of the same series): they are left out.
func readBack(res *report.StrategyResult, truth []Family, samples []Series, start time.Time) (map[string]*report.FamilyResult, []report.TimePoint) {
	fams := map[string]*Family{}
	out := map[string]*report.FamilyResult{}
	for i, f := range truth {
		fams[f.Name] = &truth[i]
		out[f.Name] = &report.FamilyResult{Name: f.Name, Type: f.Type, EmittedCount: f.Count, EmittedSum: f.Sum, EmittedLast: f.Last}
	}
	type change struct {
		t      time.Time
		series int
		v      float64
	}
	var changes []change
	newest := map[string]time.Time{}
	for i, ser := range samples {
		ser.Points = since(ser.Points, start)
		res.SamplesIngested += len(ser.Points)
		tf, role := seriesRole(ser.Labels["__name__"], fams)
		if tf == nil || len(ser.Points) == 0 {
			continue
		}
		f, last := out[tf.Name], ser.Points[len(ser.Points)-1]
		switch role {
		case "count":
			f.VisibleCount += last.V
			f.Series++
			for _, p := range ser.Points {
				changes = append(changes, change{p.T, i, p.V})
			}
		case "sum":
			f.VisibleSum += last.V
		case "gauge":
			f.Series++
			if last.T.After(newest[tf.Name]) {
				newest[tf.Name] = last.T
				v := last.V
				f.VisibleLast = &v
			}
		}
	}
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].t.Before(changes[j].t) })
	lastV := map[int]float64{}
	var vt []report.TimePoint
	total := 0.0
	for _, c := range changes {
		total += c.v - lastV[c.series]
		lastV[c.series] = c.v
		vt = append(vt, report.TimePoint{Seconds: c.t.Sub(start).Seconds(), Visible: total})
	}
	return out, vt
}

// compareFamilies adds each family's loss and over-count to the strategy's
// (counted families) or checks its last value (gauges).
func compareFamilies(res *report.StrategyResult, truth []Family, fams map[string]*report.FamilyResult) {
	for _, tf := range truth {
		f := fams[tf.Name]
		if tf.counted() {
			res.Emitted += f.EmittedCount
			res.Visible += f.VisibleCount
			lost := math.Max(0, f.EmittedCount-f.VisibleCount)
			over := math.Max(0, f.VisibleCount-f.EmittedCount)
			res.Lost += lost
			res.OverCounted += over
			if f.EmittedCount > 0 {
				f.LostRatio, f.OverCountedRatio = lost/f.EmittedCount, over/f.EmittedCount
			}
		} else {
			res.Gauges++
			if f.EmittedLast != nil && f.VisibleLast != nil && almostEqual(*f.EmittedLast, *f.VisibleLast) {
				res.GaugesMatched++
			} else {
				f.LostRatio = 1
			}
		}
		res.Families = append(res.Families, *f)
	}
	if res.Emitted > 0 {
		res.LostRatio, res.OverCountedRatio = res.Lost/res.Emitted, res.OverCounted/res.Emitted
	}
}

// presentSeries counts the series present at the end (buckets left out)
// and those of them whose environment had ended: stale series.
func presentSeries(st Strategy, dead map[string]bool) (series, stale int) {
	for _, ls := range st.Present {
		if strings.HasSuffix(ls["__name__"], "_bucket") {
			continue
		}
		series++
		env := st.Pusher
		if st.EnvLabel != "" {
			env = ls[st.EnvLabel]
		}
		if id, ok := st.EnvOf[env]; ok {
			env = id
		}
		if env != "" && dead[env] {
			stale++
		}
	}
	return series, stale
}

func almostEqual(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// since returns the points at or after start (points are in time order).
func since(pts []Point, start time.Time) []Point {
	i := sort.Search(len(pts), func(i int) bool { return !pts[i].T.Before(start) })
	return pts[i:]
}
