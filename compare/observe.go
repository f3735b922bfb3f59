package compare

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"slices"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"

	"github.com/lambdabridge/lambdabridge/compare/analysis"
	"github.com/lambdabridge/lambdabridge/function"
)

// observations collects what the run recorded and reads back through
// PromQL what Prometheus holds of each strategy: the raw input of the
// analysis.
func (s *experiment) observations(ctx context.Context, def function.Definition, start, driveEnd, end time.Time) (analysis.Observations, error) {
	cfg := s.cfg
	obs := analysis.Observations{
		Function: cfg.Function, Start: start, DriveEnd: driveEnd, End: end,
		Workload: analysis.Workload{Duration: cfg.Duration, Burst: cfg.Burst, Quiet: cfg.Quiet, IdleTimeout: cfg.IdleTimeout,
			ScrapeInterval: cfg.ScrapeInterval, Concurrency: cfg.Concurrency, Rate: cfg.Rate},
		MemoryMB: def.MemoryMB, Architecture: def.Architecture, MonthlyInvocations: cfg.MonthlyInvocations,
	}
	var err error
	if obs.Truth, err = s.truthFamilies(); err != nil {
		return obs, err
	}
	s.emitMu.Lock()
	obs.Emissions = slices.Clone(s.emissions)
	s.emitMu.Unlock()
	for _, e := range s.environments() {
		e.mu.Lock()
		obs.Environments = append(obs.Environments, analysis.Environment{ID: e.id, Started: e.started, Ended: e.ended})
		e.mu.Unlock()
	}
	s.envMu.Lock()
	lastPusher := s.lastPusher
	s.envMu.Unlock()
	s.obsMu.Lock()
	obs.Invocations = slices.Clone(s.invocations)
	obs.Notes = s.notes()
	deliveries := cloneDeliveries(s.deliveries)
	s.obsMu.Unlock()
	for _, st := range s.strategies {
		so := analysis.Strategy{Name: string(st), Inline: st.billed(), ScrapeDriven: st.timeDriven(cfg.ExtensionFlush), EnvLabel: st.envLabel(),
			Deliveries: deliveries[st], Requests: s.traffic[st].requests.Load(), Bytes: s.traffic[st].bytes.Load()}
		if st == Pushgateway {
			so.Pusher = lastPusher
		}
		if err := s.readBack(ctx, st, &so, start, end); err != nil {
			return obs, err
		}
		if st == Extension {
			so.EnvOf = s.extensionEnvs(so.Present)
		}
		obs.Strategies = append(obs.Strategies, so)
	}
	return obs, nil
}

func cloneDeliveries(m map[Strategy][]analysis.Delivery) map[Strategy][]analysis.Delivery {
	out := make(map[Strategy][]analysis.Delivery, len(m))
	for k, v := range m {
		out[k] = slices.Clone(v)
	}
	return out
}

// notes are the experiment's remarks: what it could not count or run.
// obsMu is held.
func (s *experiment) notes() []string {
	var notes []string
	writes := s.cfg.has(RemoteWrite) || s.cfg.has(Extension)
	if !s.rwCounted && writes {
		notes = append(notes, "remote_write is signed or carries credentials: its requests and bytes are not counted")
	}
	if s.cfg.RemoteWriteURL != "" && writes {
		notes = append(notes, "remote_write went to "+redact(s.cfg.RemoteWriteURL)+"; visible counts are read from the Prometheus queried, so they are only meaningful if that Prometheus holds what was written")
	}
	if s.cfg.has(Extension) {
		notes = append(notes, extensionNote(s.cfg))
	}
	if s.invokeErrs > 0 {
		notes = append(notes, fmt.Sprintf("%d invocations could not run (first error: %v)", s.invokeErrs, s.firstErr))
	}
	if s.throttled > 0 {
		notes = append(notes, fmt.Sprintf("%d invocations were throttled: --rate asked for more than concurrency %d serves", s.throttled, s.cfg.Concurrency))
	}
	return notes
}

// readBack queries the strategy's series: every raw sample over the run
// (and a minute before it), and the series present at end.
func (s *experiment) readBack(ctx context.Context, st Strategy, so *analysis.Strategy, start, end time.Time) error {
	window := int(math.Ceil(end.Sub(start).Seconds())) + 60
	sel := fmt.Sprintf(`{%s=%q}`, Label, st)
	so.Query = fmt.Sprintf("last_over_time(%s[%ds])", sel, window)
	raw, err := s.prom.RangeVector(ctx, fmt.Sprintf("%s[%ds]", sel, window), end)
	if err != nil {
		return fmt.Errorf("compare: read back %s: %w", st, err)
	}
	for _, ser := range raw {
		out := analysis.Series{Labels: labels(ser.Metric)}
		for _, p := range ser.Values {
			out.Points = append(out.Points, analysis.Point{T: p.Timestamp.Time(), V: float64(p.Value)})
		}
		so.Samples = append(so.Samples, out)
	}
	present, err := s.prom.Instant(ctx, sel, end)
	if err != nil {
		return fmt.Errorf("compare: read back %s: %w", st, err)
	}
	for _, smp := range present {
		so.Present = append(so.Present, labels(smp.Metric))
	}
	return nil
}

func labels(m model.Metric) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[string(k)] = string(v)
	}
	return out
}

// truthFamilies is what the function emitted, per family, from the
// ground-truth aggregation; a gauge's last value is the last one emitted.
func (s *experiment) truthFamilies() ([]analysis.Family, error) {
	mfs, err := s.truth.Gather()
	if err != nil && len(mfs) == 0 {
		return nil, fmt.Errorf("compare: ground truth: %w", err)
	}
	s.emitMu.Lock()
	defer s.emitMu.Unlock()
	return families(mfs, s.lastGauge), nil
}

// families sums the gathered families: counters' values, histograms' and
// summaries' counts and sums, gauges' (and untyped) last value, which
// lastGauge overrides.
func families(mfs []*dto.MetricFamily, lastGauge map[string]float64) []analysis.Family {
	var out []analysis.Family
	for _, mf := range mfs {
		f := analysis.Family{Name: mf.GetName(), Type: typeName(mf.GetType())}
		for _, m := range mf.GetMetric() {
			switch f.Type {
			case analysis.Counter:
				f.Count += m.GetCounter().GetValue()
			case analysis.Histogram:
				f.Count += float64(m.GetHistogram().GetSampleCount())
				f.Sum += m.GetHistogram().GetSampleSum()
			case analysis.Summary:
				f.Count += float64(m.GetSummary().GetSampleCount())
				f.Sum += m.GetSummary().GetSampleSum()
			default:
				v := m.GetGauge().GetValue()
				if m.GetUntyped() != nil {
					v = m.GetUntyped().GetValue()
				}
				f.Last = &v
			}
		}
		if v, ok := lastGauge[f.Name]; ok && f.Last != nil {
			f.Last = &v
		}
		out = append(out, f)
	}
	return out
}

func typeName(t dto.MetricType) string {
	switch t {
	case dto.MetricType_COUNTER:
		return analysis.Counter
	case dto.MetricType_GAUGE:
		return analysis.Gauge
	case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
		return analysis.Histogram
	case dto.MetricType_SUMMARY:
		return analysis.Summary
	}
	return analysis.Untyped
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
