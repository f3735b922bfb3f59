package compare

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/lambdabridge/lambdabridge/compare/backend"
	"github.com/lambdabridge/lambdabridge/function"
)

// Report is the outcome of a comparison.
type Report struct {
	Function           string           `json:"function"`
	Start              time.Time        `json:"start"`
	End                time.Time        `json:"end"`
	WorkloadSeconds    float64          `json:"workload_seconds"`
	Concurrency        int              `json:"concurrency"`
	Rate               float64          `json:"rate,omitempty"`
	BurstSeconds       float64          `json:"burst_seconds"`
	QuietSeconds       float64          `json:"quiet_seconds"`
	IdleTimeoutSeconds float64          `json:"idle_timeout_seconds"`
	ScrapeIntervalSecs float64          `json:"scrape_interval_seconds"`
	Invocations        int              `json:"invocations"`
	ColdStarts         int              `json:"cold_starts"`
	Failed             int              `json:"failed_invocations"`
	Environments       int              `json:"environments"`
	EnvironmentsEnded  int              `json:"environments_ended"`
	MeanDurationMs     float64          `json:"mean_duration_ms"`
	MeanBilledMs       float64          `json:"mean_billed_ms"`
	MemoryMB           int              `json:"memory_mb"`
	Architecture       string           `json:"architecture"`
	MonthlyInvocations int64            `json:"monthly_invocations"`
	Prices             Prices           `json:"prices"`
	Strategies         []StrategyResult `json:"strategies"`
	// Notes say what the numbers do not cover.
	Notes []string `json:"notes,omitempty"`
}

// StrategyResult is what one strategy delivered. Emitted and Visible are
// count units: counter increments plus histogram observations, summed over
// families; gauges are compared by their last value (GaugesMatched).
type StrategyResult struct {
	Name                       string  `json:"name"`
	Emitted                    float64 `json:"emitted"`
	Visible                    float64 `json:"visible"`
	Lost                       float64 `json:"lost"`
	LostRatio                  float64 `json:"lost_ratio"`
	OverCounted                float64 `json:"over_counted"`
	OverCountedRatio           float64 `json:"over_counted_ratio"`
	GaugesMatched              int     `json:"gauges_matched"`
	Gauges                     int     `json:"gauges"`
	Series                     int     `json:"series"`
	StaleSeries                int     `json:"stale_series"`
	P50VisibilitySeconds       float64 `json:"p50_visibility_seconds"`
	P99VisibilitySeconds       float64 `json:"p99_visibility_seconds"`
	AddedBilledMsPerInvocation float64 `json:"added_billed_ms_per_invocation"`
	MeanInlineMs               float64 `json:"mean_inline_ms"`
	InlineErrors               int     `json:"inline_errors"`
	Requests                   int64   `json:"requests"`
	BytesSent                  int64   `json:"bytes_sent"`
	SamplesIngested            int     `json:"samples_ingested"`
	MonthlyLambdaUSD           float64 `json:"monthly_lambda_usd"`
	MonthlyIngestionUSD        float64 `json:"monthly_ingestion_usd"`
	MonthlyCostUSD             float64 `json:"monthly_cost_usd"`
	// Query is the PromQL that reads the strategy's series back.
	Query    string         `json:"query"`
	Families []FamilyResult `json:"families"`
	Timeline []TimePoint    `json:"timeline"`
}

// FamilyResult compares one metric family. For counters Count is the
// total; for histograms Count and Sum are the observations' count and sum;
// for gauges Last is the last value.
type FamilyResult struct {
	Name             string   `json:"name"`
	Type             string   `json:"type"`
	EmittedCount     float64  `json:"emitted_count"`
	VisibleCount     float64  `json:"visible_count"`
	EmittedSum       float64  `json:"emitted_sum,omitempty"`
	VisibleSum       float64  `json:"visible_sum,omitempty"`
	EmittedLast      *float64 `json:"emitted_last,omitempty"`
	VisibleLast      *float64 `json:"visible_last,omitempty"`
	LostRatio        float64  `json:"lost_ratio"`
	OverCountedRatio float64  `json:"over_counted_ratio"`
	Series           int      `json:"series"`
}

// TimePoint is one step of the emitted-vs-visible timeline (count units,
// cumulative), Seconds after the workload started.
type TimePoint struct {
	Seconds float64 `json:"t"`
	Emitted float64 `json:"emitted"`
	Visible float64 `json:"visible"`
}

// truthFamily is what the function emitted for one family.
type truthFamily struct {
	name  string
	typ   dto.MetricType
	count float64
	sum   float64
	last  *float64
}

func (s *session) truthFamilies() ([]truthFamily, error) {
	mfs, err := s.truth.Gather()
	if err != nil && len(mfs) == 0 {
		return nil, fmt.Errorf("compare: ground truth: %w", err)
	}
	s.emitMu.Lock()
	defer s.emitMu.Unlock()
	var out []truthFamily
	for _, mf := range mfs {
		tf := truthFamily{name: mf.GetName(), typ: mf.GetType()}
		for _, m := range mf.GetMetric() {
			switch tf.typ {
			case dto.MetricType_COUNTER:
				tf.count += m.GetCounter().GetValue()
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				tf.count += float64(m.GetHistogram().GetSampleCount())
				tf.sum += m.GetHistogram().GetSampleSum()
			case dto.MetricType_SUMMARY:
				tf.count += float64(m.GetSummary().GetSampleCount())
				tf.sum += m.GetSummary().GetSampleSum()
			default:
				v := m.GetGauge().GetValue()
				if m.GetUntyped() != nil {
					v = m.GetUntyped().GetValue()
				}
				tf.last = &v
			}
		}
		if v, ok := s.lastGauge[tf.name]; ok && tf.last != nil {
			tf.last = &v
		}
		out = append(out, tf)
	}
	return out, nil
}

func (t truthFamily) counted() bool {
	return t.typ == dto.MetricType_COUNTER || t.typ == dto.MetricType_HISTOGRAM ||
		t.typ == dto.MetricType_GAUGE_HISTOGRAM || t.typ == dto.MetricType_SUMMARY
}

func typeName(t dto.MetricType) string {
	switch t {
	case dto.MetricType_COUNTER:
		return "counter"
	case dto.MetricType_GAUGE:
		return "gauge"
	case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
		return "histogram"
	case dto.MetricType_SUMMARY:
		return "summary"
	}
	return "untyped"
}

// seriesRole says what a series read back from Prometheus is: the family
// it belongs to and whether it is a count (counter value, histogram
// _count), a histogram _sum, a gauge, or nothing compare compares (buckets).
func seriesRole(name string, fams map[string]*truthFamily) (*truthFamily, string) {
	if f := fams[name]; f != nil {
		if f.counted() {
			return f, "count"
		}
		return f, "gauge"
	}
	for _, suf := range []string{"_count", "_sum", "_bucket"} {
		if base, ok := strings.CutSuffix(name, suf); ok {
			if f := fams[base]; f != nil && f.counted() && f.typ != dto.MetricType_COUNTER {
				return f, suf[1:]
			}
		}
	}
	return nil, ""
}

func (s *session) analyze(ctx context.Context, def function.Definition, start, driveEnd, end time.Time) (*Report, error) {
	truth, err := s.truthFamilies()
	if err != nil {
		return nil, err
	}
	fams := map[string]*truthFamily{}
	for i := range truth {
		fams[truth[i].name] = &truth[i]
	}
	s.billedMu.Lock()
	rep := &Report{
		Function: s.cfg.Function, Start: start, End: end, WorkloadSeconds: driveEnd.Sub(start).Seconds(),
		Concurrency: s.cfg.Concurrency, Rate: s.cfg.Rate, BurstSeconds: s.cfg.Burst.Seconds(), QuietSeconds: s.cfg.Quiet.Seconds(),
		IdleTimeoutSeconds: s.cfg.IdleTimeout.Seconds(), ScrapeIntervalSecs: s.cfg.ScrapeInterval.Seconds(),
		Invocations: s.invocations, ColdStarts: s.coldStarts, Failed: s.failed,
		MemoryMB: def.MemoryMB, Architecture: def.Architecture, MonthlyInvocations: s.cfg.MonthlyInvocations,
		Prices: pricesFor(def.Architecture),
	}
	if s.invocations > 0 {
		rep.MeanDurationMs = float64(s.durationSum) / float64(time.Millisecond) / float64(s.invocations)
		rep.MeanBilledMs = float64(s.billedSum) / float64(time.Millisecond) / float64(s.invocations)
	}
	s.billedMu.Unlock()
	s.envMu.Lock()
	envs := slices.Clone(s.order)
	lastPusher := s.lastPusher
	s.envMu.Unlock()
	rep.Environments = len(envs)
	if !s.rwCounted && slices.Contains(s.strategies, RemoteWrite) {
		rep.Notes = append(rep.Notes, "remote_write is signed or carries credentials: its requests and bytes are not counted")
	}
	if s.cfg.RemoteWriteURL != "" && slices.Contains(s.strategies, RemoteWrite) {
		rep.Notes = append(rep.Notes, "remote_write went to "+redact(s.cfg.RemoteWriteURL)+"; visible counts are read from the Prometheus queried, so they are only meaningful if that Prometheus holds what was written")
	}
	dead := map[string]bool{}
	for _, e := range envs {
		if e.endedBefore(end) {
			dead[e.id] = true
			rep.EnvironmentsEnded++
		}
	}
	s.emitMu.Lock()
	emissions := slices.Clone(s.emissions)
	s.emitMu.Unlock()

	window := int(math.Ceil(end.Sub(start).Seconds())) + 60
	for _, st := range s.strategies {
		res := StrategyResult{Name: string(st)}
		sel := fmt.Sprintf(`{%s=%q}`, Label, st)
		res.Query = fmt.Sprintf("last_over_time(%s[%ds])", sel, window)
		raw, err := s.prom.QuerySeries(ctx, fmt.Sprintf("%s[%ds]", sel, window), end)
		if err != nil {
			return nil, fmt.Errorf("compare: read back %s: %w", st, err)
		}
		present, err := s.prom.Query(ctx, sel, end)
		if err != nil {
			return nil, fmt.Errorf("compare: read back %s: %w", st, err)
		}
		fr := map[string]*FamilyResult{}
		newest := map[string]time.Time{}
		for _, tf := range truth {
			f := &FamilyResult{Name: tf.name, Type: typeName(tf.typ), EmittedCount: tf.count, EmittedSum: tf.sum, EmittedLast: tf.last}
			fr[tf.name] = f
		}
		type ev struct {
			t   time.Time
			key int
			v   float64
		}
		var evs []ev
		for i, ser := range raw {
			res.SamplesIngested += len(ser.Points)
			if len(ser.Points) == 0 {
				continue
			}
			tf, role := seriesRole(ser.Labels["__name__"], fams)
			if tf == nil {
				continue
			}
			f := fr[tf.name]
			last := ser.Points[len(ser.Points)-1]
			switch role {
			case "count":
				if f.Type == "gauge" {
					break
				}
				f.VisibleCount += last.V
				f.Series++
				for _, p := range ser.Points {
					evs = append(evs, ev{p.T, i, p.V})
				}
			case "sum":
				f.VisibleSum += last.V
			case "gauge":
				f.Series++
				if last.T.After(newest[tf.name]) {
					newest[tf.name] = last.T
					v := last.V
					f.VisibleLast = &v
				}
			}
		}
		for _, tf := range truth {
			f := fr[tf.name]
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
		for _, smp := range present {
			if strings.HasSuffix(smp.Labels["__name__"], "_bucket") {
				continue
			}
			res.Series++
			env := ""
			switch st {
			case Scrape, RemoteWrite:
				env = smp.Labels["lambda_environment"]
			case PushgatewayInstance:
				env = smp.Labels["instance"]
			case Pushgateway:
				env = lastPusher
			}
			if env != "" && dead[env] {
				res.StaleSeries++
			}
		}

		// Timeline and time until visible: V(t) is the sum of the last
		// value of every count series at t.
		sort.Slice(evs, func(i, j int) bool { return evs[i].t.Before(evs[j].t) })
		lastV := map[int]float64{}
		var vt []TimePoint // V at each change, seconds since start
		total := 0.0
		for _, e := range evs {
			total += e.v - lastV[e.key]
			lastV[e.key] = e.v
			vt = append(vt, TimePoint{Seconds: e.t.Sub(start).Seconds(), Visible: total})
		}
		res.P50VisibilitySeconds, res.P99VisibilitySeconds = visibility(emissions, vt, start)
		res.Timeline = timeline(emissions, vt, start, end)

		s.billedMu.Lock()
		if st.inline() && s.inlineCount[st] > 0 {
			res.AddedBilledMsPerInvocation = s.billedAdded[st] / float64(s.inlineCount[st])
			res.MeanInlineMs = float64(s.inlineTime[st]) / float64(time.Millisecond) / float64(s.inlineCount[st])
			res.InlineErrors = s.inlineErrors[st]
		}
		invocations := s.invocations
		s.billedMu.Unlock()
		res.Requests = s.traffic[st].requests.Load()
		res.BytesSent = s.traffic[st].bytes.Load()
		if invocations > 0 {
			monthly := float64(s.cfg.MonthlyInvocations)
			res.MonthlyLambdaUSD = res.AddedBilledMsPerInvocation / 1000 * float64(def.MemoryMB) / 1024 * rep.Prices.LambdaUSDPerGBSecond * monthly
			samplesPerInvocation := float64(res.SamplesIngested) / float64(invocations)
			res.MonthlyIngestionUSD = samplesPerInvocation * monthly / 1e6 * rep.Prices.IngestionUSDPerMillion
			res.MonthlyCostUSD = res.MonthlyLambdaUSD + res.MonthlyIngestionUSD
		}
		rep.Strategies = append(rep.Strategies, res)
	}
	return rep, nil
}

// redact drops credentials and the query from a URL, for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}

func almostEqual(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// visibility returns the p50 and p99 (weighted by count units) of the time
// from an emission until the visible total first reached the cumulative
// emitted total that includes it; emissions never reached are left out
// (they are lost). -1 when nothing became visible.
func visibility(emissions []emission, vt []TimePoint, start time.Time) (p50, p99 float64) {
	type d struct{ secs, w float64 }
	var ds []d
	cum, maxV := 0.0, 0.0
	j := 0
	for _, e := range emissions {
		cum += e.units
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
		ds = append(ds, d{math.Max(0, at-e.t.Sub(start).Seconds()), e.units})
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
func timeline(emissions []emission, vt []TimePoint, start, end time.Time) []TimePoint {
	span := end.Sub(start).Seconds()
	if span <= 0 {
		return nil
	}
	const steps = 200
	out := make([]TimePoint, 0, steps+1)
	i, j := 0, 0
	cum, vis := 0.0, 0.0
	for k := 0; k <= steps; k++ {
		t := span * float64(k) / steps
		for i < len(emissions) && emissions[i].t.Sub(start).Seconds() <= t {
			cum += emissions[i].units
			i++
		}
		for j < len(vt) && vt[j].Seconds <= t {
			vis = vt[j].Visible
			j++
		}
		out = append(out, TimePoint{Seconds: math.Round(t*1000) / 1000, Emitted: cum, Visible: vis})
	}
	return out
}

var _ = backend.Sample{}
