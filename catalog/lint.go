package catalog

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/lambdabridge/lambdabridge/metric"
)

// Rule ids of the catalog's warnings: what makes a generated dashboard less
// useful than it could be.
const (
	// RuleNoUsefulLabel: a family without a label that tells series apart
	// (none, or only valueless tags or unbounded values): its panel is one
	// unnamed line that no dashboard variable filters.
	RuleNoUsefulLabel = "catalog/no-useful-label"
	// RuleHighCardinality: a label with more distinct values than a dashboard
	// variable or a legend can show (request ids, timestamps).
	RuleHighCardinality = "catalog/high-cardinality-label"
	// RuleUnitUnknown: a declared unit CloudWatch does not know; the metric
	// is stored as None and Grafana shows plain numbers.
	RuleUnitUnknown = "catalog/unit-unknown"
	// RuleUnitMissing: the name says what the values measure (ms, bytes, ...)
	// but no unit was declared, so Grafana cannot format them.
	RuleUnitMissing = "catalog/unit-missing"
	// RuleHistogramBuckets: the histogram's buckets are too few, or end below
	// the values observed, for the quantiles the dashboards ask for.
	RuleHistogramBuckets = "catalog/histogram-buckets"
	// RuleLabelSets: a Datadog family is written with several label-name
	// sets (tags that vary from point to point). Each set is its own series,
	// so sum() over the family adds series that describe the same events.
	// EMF families with several DimensionSets are not reported: each set is
	// its own CloudWatch metric by design.
	RuleLabelSets = "catalog/label-sets"
	// RuleTypeConflict: one Prometheus name stands for families of
	// different types; one panel will be wrong.
	RuleTypeConflict = "catalog/type-conflict"
)

// DefaultQuantiles are the quantiles the generated dashboards show
// (metric.DefaultQuantiles).
var DefaultQuantiles = metric.DefaultQuantiles

// DefaultBuckets returns the bucket bounds Lint assumes for a histogram
// whose buckets were not recorded (SetBuckets) nor given (WithBuckets):
// metric.DefaultBuckets, the ones the aggregator fills.
func DefaultBuckets(unit string) []float64 { return metric.DefaultBuckets(unit) }

// LintOption configures Lint.
type LintOption func(*lintConfig)

type lintConfig struct {
	quantiles []float64
	buckets   func(family, unit string) []float64
}

// WithQuantiles sets the quantiles dashboards ask for (default p50, p90, p99).
func WithQuantiles(qs ...float64) LintOption {
	return func(c *lintConfig) { c.quantiles = slices.Clone(qs) }
}

// WithBuckets tells Lint the bucket bounds (base unit, +Inf excluded) the
// aggregation uses for a histogram family (name, Prometheus base unit) whose
// buckets the catalog does not hold; nil from fn means DefaultBuckets(unit).
func WithBuckets(fn func(family, unit string) []float64) LintOption {
	return func(c *lintConfig) { c.buckets = fn }
}

// Lint returns the warnings about the catalog that matter for dashboards,
// sorted by family name, as diagnostics with rule ids "catalog/<name>".
func (c *Catalog) Lint(opts ...LintOption) []metric.Diagnostic {
	cfg := lintConfig{quantiles: DefaultQuantiles}
	for _, o := range opts {
		o(&cfg)
	}
	var out []metric.Diagnostic
	for _, f := range c.Families() {
		out = lintFamily(out, &f, &cfg)
	}
	return out
}

func lintFamily(out []metric.Diagnostic, f *Family, cfg *lintConfig) []metric.Diagnostic {
	d := metric.Diagnostic{Severity: metric.Warning, Effect: metric.EffectNone}
	platform := false
	if len(f.Sources) > 0 {
		s := f.Sources[0]
		d.Format, _ = metric.ParseFormat(s.Format)
		d.Origin = parseOrigin(s.FirstSeen)
		platform = d.Format == metric.FormatPlatform
	}
	if d.Origin.Source == "" {
		d.Origin.Source = f.Name
	}
	warn := func(rule, hint, format string, a ...any) {
		w := d
		w.Rule, w.Hint, w.Message = rule, hint, fmt.Sprintf(format, a...)
		out = append(out, w)
	}

	if len(f.Conflicts) > 0 {
		warn(RuleTypeConflict, "rename one of the metrics",
			"%s is a %s and also a %s: a dashboard panel can only treat it as one", f.Name, f.Type, strings.Join(f.Conflicts, " and a "))
	}

	// Labels.
	useful := 0
	for _, l := range f.Labels {
		switch {
		case l.Saturated:
			warn(RuleHighCardinality, "keep per-request values (ids, timestamps) out of dimensions and tags; log them as properties",
				"label %s of %s has more than %d distinct values (e.g. %s): a dashboard variable or legend cannot list them",
				l.Name, f.Name, l.Distinct, quoteList(l.Examples, 3))
		case len(l.Examples) == 1 && l.Examples[0] == metric.TagValueTrue && l.Distinct <= 1:
			// a valueless Datadog tag: always "true", splits nothing
		default:
			useful++
		}
	}
	if useful == 0 && !platform && f.Name != "datadog_events_total" {
		hint := "declare a dimension set (EMF) or tags (Datadog) such as the service or operation"
		warn(RuleNoUsefulLabel, hint,
			"%s has no label that tells series apart: its panel is one unnamed series and no dashboard variable filters it", f.Name)
	}

	allEMF := true
	for _, src := range f.Sources {
		allEMF = allEMF && src.Format == metric.FormatEMF.String()
	}
	if n := len(f.LabelSets); n > 1 && !allEMF {
		var sets []string
		for _, set := range f.LabelSets[:min(n, 3)] {
			sets = append(sets, "{"+strings.Join(set, ", ")+"}")
		}
		more := ""
		if n > 3 || f.LabelSetsSaturated {
			more = ", ..."
		}
		warn(RuleLabelSets, "send the same tag keys every time, or select one set before summing (a missing label matches \"\", e.g. {env=\"\"})",
			"%s is written with %d label sets (%s%s): each is its own series, so sum() over the family adds series that overlap",
			f.Name, n, strings.Join(sets, " "), more)
	}

	// Units.
	for _, s := range f.Sources {
		fmtS, _ := metric.ParseFormat(s.Format)
		if fmtS == metric.FormatEMF && !metric.ValidUnit(s.Unit) {
			warn(RuleUnitUnknown, "use one of the CloudWatch units, e.g. Milliseconds, Bytes, Count, Percent",
				"metric %s/%s declares unit %q, which CloudWatch does not know: it is stored without unit and Grafana shows plain numbers",
				s.Namespace, s.Name, s.Unit)
		}
	}
	if f.Unit == "" && f.Type != metric.TypeCounter.String() && len(f.Sources) > 0 && !platform {
		if want, hint := unitFromName(f.Sources[0].Name); want != "" {
			warn(RuleUnitMissing, hint,
				"%s looks like it measures %s but declares no unit: Grafana cannot format its values", f.Name, want)
		}
	}

	// Histogram buckets.
	if f.Type == metric.TypeHistogram.String() && len(cfg.quantiles) > 0 {
		bounds, assumed := f.Buckets, ""
		if len(bounds) == 0 && cfg.buckets != nil {
			bounds = cfg.buckets(f.Name, f.Unit)
		}
		if len(bounds) == 0 {
			bounds, assumed = DefaultBuckets(f.Unit), " (the default buckets)"
		}
		bounds = finiteSorted(bounds)
		qs := quantileNames(cfg.quantiles)
		need := len(cfg.quantiles) + 1
		hint := "set histogram buckets that cover the values observed (statsd_exporter-style mapping: histogram_options.buckets)"
		switch {
		case len(bounds) < need:
			warn(RuleHistogramBuckets, hint, "%s has %d buckets%s, too few to tell %s apart",
				f.Name, len(bounds), assumed, qs)
		case f.Observed != nil && f.Observed.Count > 0:
			o := f.Observed
			top := bounds[len(bounds)-1]
			in := 0
			for _, b := range bounds {
				if b >= o.Min && b <= o.Max {
					in++
				}
			}
			switch {
			case o.Max > top:
				warn(RuleHistogramBuckets, hint,
					"%s observed values up to %s but its largest bucket is %s%s: histogram_quantile reports at most %s for %s",
					f.Name, fmtVal(o.Max, f.Unit), fmtVal(top, f.Unit), assumed, fmtVal(top, f.Unit), qs)
			case o.Max > o.Min && in+1 < len(cfg.quantiles):
				warn(RuleHistogramBuckets, hint,
					"%s observed values from %s to %s, a range only %d of its %d bucket bounds%s fall in: %s are interpolated within the same bucket",
					f.Name, fmtVal(o.Min, f.Unit), fmtVal(o.Max, f.Unit), in, len(bounds), assumed, qs)
			}
		}
	}
	return out
}

func finiteSorted(bs []float64) []float64 {
	out := make([]float64, 0, len(bs))
	for _, b := range bs {
		if !math.IsInf(b, 0) && !math.IsNaN(b) {
			out = append(out, b)
		}
	}
	slices.Sort(out)
	return out
}

func quantileNames(qs []float64) string {
	s := make([]string, len(qs))
	for i, q := range qs {
		s[i] = "p" + strconv.FormatFloat(q*100, 'g', -1, 64)
	}
	return strings.Join(s, ", ")
}

func fmtVal(v float64, unit string) string {
	s := strconv.FormatFloat(v, 'g', 4, 64)
	if unit != "" {
		s += " " + unit
	}
	return s
}

func quoteList(vs []string, n int) string {
	if len(vs) > n {
		vs = vs[:n]
	}
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

// unitFromName guesses what a metric name says it measures from its last
// word: latency_ms, requestDuration, payload.bytes.
func unitFromName(name string) (what, hint string) {
	words := strings.Split(metric.SnakeCase(name), "_")
	last := words[len(words)-1]
	switch last {
	case "ms", "millis", "msec", "milliseconds":
		return "milliseconds", "declare Unit Milliseconds (EMF) or send it as a timer (DogStatsD ms)"
	case "s", "sec", "secs", "seconds", "latency", "duration", "time", "elapsed":
		return "time", "declare a time unit (EMF Seconds or Milliseconds) or send it as a timer (DogStatsD ms)"
	case "bytes", "kb", "mb", "kib", "mib":
		return "bytes", "declare a byte unit (EMF Bytes, Kilobytes, Megabytes)"
	case "percent", "pct":
		return "a percentage", "declare Unit Percent (EMF)"
	}
	return "", ""
}
