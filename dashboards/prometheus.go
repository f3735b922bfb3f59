package dashboards

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"

	"github.com/lambdabridge/lambdabridge/catalog"
	"github.com/lambdabridge/lambdabridge/metric"
)

// Quantiles are the quantiles histogram panels show (metric.DefaultQuantiles,
// the ones the catalog lint checks the buckets for).
var Quantiles = metric.DefaultQuantiles

// The platform families the runner emits; the overview row is built from them.
const (
	famInvocations = "lambda_invocations_total"
	famErrors      = "lambda_errors_total"
	famThrottles   = "lambda_throttles_total"
	famTimeouts    = "lambda_timeouts_total"
	famColdStarts  = "lambda_cold_starts_total"
	famDuration    = "lambda_duration_seconds"
	famInit        = "lambda_init_duration_seconds"
	famBilled      = "lambda_billed_duration_seconds_total"
	famConcurrent  = "lambda_concurrent_executions"
	famMemory      = "lambda_max_memory_used_bytes"
	famCost        = "lambda_estimated_cost_usd_total"
)

// Prometheus builds the Prometheus flavour: an overview row from the
// platform metrics, then a row per EMF namespace and Datadog source with a
// panel per family. Stat panels (the overview's counts and one per counter
// family) show exact totals over the dashboard's time range (see total);
// rates use $__rate_interval. Template variables: datasource, function, and
// one per label and source (row), whose label_values lists only that
// source's families, so values of different sources never mix; every query
// filters on the function and on the variables of its family's labels ("All"
// matches everything, series without the label included).
func Prometheus(c *catalog.Catalog, opts ...Option) (dashboard.Dashboard, error) {
	cfg := newConfig(opts)
	if cfg.datasource == "" {
		cfg.datasource = PrometheusDatasourceUID
	}
	fams := c.Families()
	g := &promGen{cfg: cfg, layout: layout{ds: dsRef(cfg.dsType)}, fams: map[string]*catalog.Family{}, vars: map[varKey]string{}}
	for i := range fams {
		g.fams[fams[i].Name] = &fams[i]
	}
	g.db = newBuilder(cfg, fams, FlavourPrometheus, "Prometheus", "as Prometheus families")
	g.variables(fams)
	used := g.overview()
	for _, r := range groupRows(fams, used) {
		g.id++
		g.db.WithRow(dashboard.NewRowBuilder(r.title).Id(g.id).GridPos(g.grid.row()))
		for _, f := range r.fams {
			g.familyPanel(f)
		}
	}
	return g.db.Build()
}

type promGen struct {
	cfg config
	db  *dashboard.DashboardBuilder
	layout
	fams map[string]*catalog.Family
	vars map[varKey]string // (row, label) -> variable name
}

// varKey names the variable of one label in one row (source): label values
// of different sources (EMF "PlaceOrder", Datadog "place_order") never mix
// in one variable.
type varKey struct{ row, label string }

// reservedVars are names a label variable must not take.
var reservedVars = map[string]bool{"datasource": true, "function": true}

func (g *promGen) variables(fams []catalog.Family) {
	g.db.WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").
		Label("Data Source").
		Type(g.cfg.dsType).
		Current(option(g.cfg.datasource, g.cfg.datasource)))

	fnQuery := "label_values(" + g.cfg.functionName + ")"
	if g.fams[famInvocations] != nil {
		fnQuery = "label_values(" + famInvocations + ", " + g.cfg.functionName + ")"
	}
	g.db.WithVariable(g.queryVariable("function", "Function", fnQuery))

	// One variable per label and source, over the source's families that
	// have the label; named after the label alone when one source has it.
	holders := map[varKey][]string{}
	rows := map[string][]string{} // label -> rows
	for _, f := range fams {
		if isPlatform(&f) {
			continue
		}
		_, row := rowOf(&f)
		for _, l := range f.Labels {
			if l.Name == g.cfg.functionName || l.Saturated {
				continue
			}
			k := varKey{row, l.Name}
			if holders[k] == nil {
				rows[l.Name] = append(rows[l.Name], row)
			}
			holders[k] = append(holders[k], seriesName(&f))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(rows)) {
		slices.Sort(rows[name])
		for _, row := range rows[name] {
			k := varKey{row, name}
			v, label := varName(name), name
			if len(rows[name]) > 1 {
				v, label = slugify(row, '_')+"_"+strings.TrimLeft(name, "_"), name+" ("+row+")"
			}
			g.vars[k] = v
			series := holders[k]
			sel := fmt.Sprintf(`{__name__=~"%s", %s=~"$function"}`, strings.Join(series, "|"), g.cfg.functionName)
			if len(series) == 1 {
				sel = fmt.Sprintf(`%s{%s=~"$function"}`, series[0], g.cfg.functionName)
			}
			g.db.WithVariable(g.queryVariable(v, label, "label_values("+sel+", "+name+")"))
		}
	}
}

// varName is the variable of a label held by one source: the label's name,
// unless Grafana or the dashboard reserve it.
func varName(label string) string {
	if reservedVars[label] || strings.HasPrefix(label, "__") {
		return "label_" + strings.TrimLeft(label, "_")
	}
	return label
}

func (g *promGen) queryVariable(name, label, query string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Datasource(g.ds).
		Query(dashboard.StringOrMap{String: ptr(query)}).
		Definition(query).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(".*").
		Current(allOption())
}

// seriesName is a series of the family that carries all its labels: the
// _count series of a histogram.
func seriesName(f *catalog.Family) string {
	if f.Type == metric.TypeHistogram.String() {
		return f.Name + "_count"
	}
	return f.Name
}

func isPlatform(f *catalog.Family) bool {
	return len(f.Sources) > 0 && f.Sources[0].Format == metric.FormatPlatform.String()
}

// labelsOf returns the labels a family's queries keep apart (sorted): every
// label but the function's and those with unbounded values.
func labelsOf(f *catalog.Family, function string) []string {
	var ls []string
	for _, l := range f.Labels {
		if !l.Saturated && l.Name != function {
			ls = append(ls, l.Name)
		}
	}
	return ls
}

// selector is name{function_name=~"$function", label=~"$label", ...} with
// the variables of row's labels.
func (g *promGen) selector(row, name string, labels []string) string {
	ms := []string{g.cfg.functionName + `=~"$function"`}
	for _, l := range labels {
		if v, ok := g.vars[varKey{row, l}]; ok && l != g.cfg.functionName {
			ms = append(ms, l+`=~"$`+v+`"`)
		}
	}
	return name + "{" + strings.Join(ms, ", ") + "}"
}

// total is the exact increase of the counters sel selects over the
// dashboard's time range, summed: the last value less the first in the
// range, for a series that starts from zero (the zero sample remote_write
// sends at a series' creation, or created-timestamp ingestion) its whole
// count. Unlike increase() it does not extrapolate to the range's ends, so
// it equals what ran; a series that was reset in the range falls back to
// increase().
func total(sel string) string {
	r := sel + "[$__range]"
	return "sum((max_over_time(" + r + ") - min_over_time(" + r + ")) unless resets(" + r + ") > 0 or increase(" + r + "))"
}

func by(labels ...string) string {
	ls := slices.DeleteFunc(slices.Clone(labels), func(s string) bool { return s == "" })
	if len(ls) == 0 {
		return ""
	}
	return "by (" + strings.Join(ls, ", ") + ") "
}

func legend(prefix string, labels []string) string {
	parts := []string{}
	if prefix != "" {
		parts = append(parts, prefix)
	}
	for _, l := range labels {
		parts = append(parts, "{{"+l+"}}")
	}
	if len(parts) == 0 {
		return "__auto"
	}
	return strings.Join(parts, " ")
}

func qname(q float64) string { return "p" + strconv.FormatFloat(q*100, 'g', -1, 64) }

func (g *promGen) query(i int, expr, legendFormat string, instant bool) *prometheus.DataqueryBuilder {
	q := prometheus.NewDataqueryBuilder().RefId(refID(i)).Datasource(g.ds).Expr(expr).LegendFormat(legendFormat)
	if instant {
		return q.Instant()
	}
	return q.Range()
}

func (g *promGen) stat(title, desc, unit string, target cog.Builder[variants.Dataquery]) *stat.PanelBuilder {
	g.id++
	return stat.NewPanelBuilder().
		Id(g.id).Title(title).Description(desc).Datasource(g.ds).Unit(unit).
		GridPos(g.grid.place(3, 4)).
		GraphMode(common.BigValueGraphModeNone).
		ColorMode(common.BigValueColorModeValue).
		Orientation(common.VizOrientationAuto).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)).
		WithTarget(target)
}

// overview adds the overview row from the platform families the catalog
// holds and returns the families it used.
func (g *promGen) overview() map[string]bool {
	used := map[string]bool{}
	has := func(names ...string) bool {
		for _, n := range names {
			if g.fams[n] == nil {
				return false
			}
		}
		for _, n := range names {
			used[n] = true
		}
		return true
	}
	fn := g.cfg.functionName
	sel := func(name string) string { return g.selector("", name, nil) }
	inRange := func(name string) string { return total(sel(name)) }
	perSec := func(name string) string {
		return "sum " + by(fn) + "(rate(" + sel(name) + "[$__rate_interval]))"
	}
	quantiles := func(name string) []cog.Builder[variants.Dataquery] {
		var ts []cog.Builder[variants.Dataquery]
		for i, q := range Quantiles {
			e := fmt.Sprintf("histogram_quantile(%g, sum %s(rate(%s[$__rate_interval])))", q, by("le", fn), sel(name+"_bucket"))
			ts = append(ts, g.query(i, e, qname(q)+" {{"+fn+"}}", false))
		}
		return ts
	}

	var panels []func() cog.Builder[dashboard.Panel]
	addStat := func(title, desc, unit, expr string) {
		panels = append(panels, func() cog.Builder[dashboard.Panel] {
			return g.stat(title, desc, unit, g.query(0, expr, "__auto", true))
		})
	}
	if has(famInvocations) {
		addStat("Invocations", "Invocations in the time range (exact: no extrapolation).", "short", inRange(famInvocations))
	}
	if has(famErrors) {
		addStat("Errors", "Invocations that returned a function error, in the time range.", "short", inRange(famErrors))
	}
	if has(famErrors, famInvocations) {
		addStat("Error rate", "Errors per invocation in the time range.", "percent",
			"100 * "+inRange(famErrors)+" / "+inRange(famInvocations))
	}
	if has(famThrottles) {
		addStat("Throttles", "Invocations refused for lack of concurrency, in the time range.", "short", inRange(famThrottles))
	}
	if has(famTimeouts) {
		addStat("Timeouts", "Invocations that hit the function timeout, in the time range.", "short", inRange(famTimeouts))
	}
	if has(famColdStarts) {
		addStat("Cold starts", "Execution environments started (init phases), in the time range.", "short", inRange(famColdStarts))
	}
	if has(famBilled) {
		addStat("Billed duration", "Billed duration in the time range.", "s", inRange(famBilled))
	}
	if has(famCost) {
		addStat("Estimated cost", "Estimated Lambda cost (requests and GB-seconds) in the time range.", "currencyUSD", inRange(famCost))
	}

	var rates []cog.Builder[variants.Dataquery]
	for _, r := range []struct{ fam, what string }{
		{famInvocations, "invocations"}, {famErrors, "errors"}, {famThrottles, "throttles"},
		{famTimeouts, "timeouts"}, {famColdStarts, "cold starts"},
	} {
		if g.fams[r.fam] != nil {
			rates = append(rates, g.query(len(rates), perSec(r.fam), "{{"+fn+"}} "+r.what, false))
		}
	}
	if len(rates) > 0 {
		panels = append(panels, func() cog.Builder[dashboard.Panel] {
			return g.timeseries("Invocations, errors, throttles, timeouts, cold starts",
				"Per second, per function.", "reqps", rates...)
		})
	}
	if has(famErrors, famInvocations) {
		e := "100 * " + perSec(famErrors) + " / " + perSec(famInvocations)
		panels = append(panels, func() cog.Builder[dashboard.Panel] {
			return g.timeseries("Error rate", "Errors per invocation.", "percent",
				g.query(0, e, "{{"+fn+"}}", false)).Min(0).Max(100)
		})
	}
	if has(famDuration) {
		panels = append(panels, func() cog.Builder[dashboard.Panel] {
			return g.timeseries("Duration", "Invocation duration quantiles (histogram_quantile).", "s", quantiles(famDuration)...)
		})
	}
	if has(famInit) {
		panels = append(panels, func() cog.Builder[dashboard.Panel] {
			return g.timeseries("Init duration", "Init phase duration quantiles, cold starts only.", "s", quantiles(famInit)...)
		})
	}
	if has(famConcurrent) {
		// Summed: each execution environment that writes its own series
		// (the extension, --per-environment) counts its own invocations.
		e := "sum " + by(fn) + "(last_over_time(" + sel(famConcurrent) + "[$__rate_interval]))"
		panels = append(panels, func() cog.Builder[dashboard.Panel] {
			return g.timeseries("Concurrent executions", "Environments busy with an invocation, summed over the environments' series.", "short",
				g.query(0, e, "{{"+fn+"}}", false)).Min(0)
		})
	}
	if has(famMemory) {
		e := "max " + by(fn) + "(max_over_time(" + sel(famMemory) + "[$__rate_interval]))"
		panels = append(panels, func() cog.Builder[dashboard.Panel] {
			return g.timeseries("Max memory used", "Peak memory of the execution environments.", "bytes",
				g.query(0, e, "{{"+fn+"}}", false)).Min(0)
		})
	}
	if len(panels) == 0 {
		return used
	}
	g.id++
	g.db.WithRow(dashboard.NewRowBuilder("Overview").Id(g.id).GridPos(g.grid.row()))
	for _, p := range panels {
		g.db.WithPanel(p())
	}
	return used
}

// row is a group of families shown together.
type row struct {
	rank  int
	title string
	fams  []*catalog.Family
}

// groupRows groups the families not in skip by where they came from: one
// row per EMF namespace, per Datadog format, then the platform and the rest.
func groupRows(fams []catalog.Family, skip map[string]bool) []*row {
	rows := map[string]*row{}
	for i := range fams {
		f := &fams[i]
		if skip[f.Name] {
			continue
		}
		rank, title := rowOf(f)
		r := rows[title]
		if r == nil {
			r = &row{rank: rank, title: title}
			rows[title] = r
		}
		r.fams = append(r.fams, f)
	}
	out := make([]*row, 0, len(rows))
	for _, r := range rows {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *row) int {
		if a.rank != b.rank {
			return a.rank - b.rank
		}
		return strings.Compare(a.title, b.title)
	})
	return out
}

// rowOf returns the row of a family (by its first source) and the row's
// rank: one row per EMF namespace, per Datadog format, then the platform,
// lambdabridge's own families and the rest.
func rowOf(f *catalog.Family) (rank int, title string) {
	if len(f.Sources) == 0 {
		return 5, "Other metrics"
	}
	s := f.Sources[0]
	switch s.Format {
	case metric.FormatEMF.String():
		return 0, "EMF: " + s.Namespace
	case metric.FormatDogStatsD.String():
		return 1, "Datadog: DogStatsD"
	case metric.FormatMonitoring.String():
		return 1, "Datadog: MONITORING lines"
	case metric.FormatDatadogJSON.String():
		return 1, "Datadog: JSON lines"
	case metric.FormatPlatform.String():
		if strings.HasPrefix(f.Name, "lambdabridge_") {
			return 4, "lambdabridge" // its own: the extension's init time and overhead
		}
		return 3, "Lambda platform"
	}
	return 5, "Other metrics"
}

// familyPanel adds the panel of one family: rate() for counters,
// histogram_quantile for histograms, the last value for gauges. Series are
// kept apart by the function and by every label of the family.
func (g *promGen) familyPanel(f *catalog.Family) {
	_, row := rowOf(f)
	labels := labelsOf(f, g.cfg.functionName)
	group := append([]string{g.cfg.functionName}, labels...)
	title, desc := describe(f)
	unit := promUnit(f.Unit)
	if strings.HasSuffix(strings.TrimSuffix(f.Name, "_total"), "_usd") {
		unit = "currencyUSD"
	}
	leg := func(prefix string) string {
		l := legend(prefix, group)
		if len(labels) == 0 && prefix == "" {
			l += " " + title
		}
		return l
	}
	switch f.Type {
	case metric.TypeCounter.String():
		if unit == "short" {
			unit = "ops"
		}
		sel := g.selector(row, f.Name, labels)
		g.db.WithPanel(g.stat(title+" total", desc+" Total in the time range (exact: no extrapolation).",
			strings.Replace(unit, "ops", "short", 1), g.query(0, total(sel), "__auto", true)))
		e := "sum " + by(group...) + "(rate(" + sel + "[$__rate_interval]))"
		g.db.WithPanel(g.timeseries(title, desc+" Per second.", unit, g.query(0, e, leg(""), false)))
	case metric.TypeHistogram.String():
		var ts []cog.Builder[variants.Dataquery]
		for i, q := range Quantiles {
			e := fmt.Sprintf("histogram_quantile(%g, sum %s(rate(%s[$__rate_interval])))",
				q, by(append([]string{"le"}, group...)...), g.selector(row, f.Name+"_bucket", labels))
			ts = append(ts, g.query(i, e, leg(qname(q)), false))
		}
		g.db.WithPanel(g.timeseries(title, desc+" Quantiles by histogram_quantile.", unit, ts...))
	default:
		e := "max " + by(group...) + "(last_over_time(" + g.selector(row, f.Name, labels) + "[$__rate_interval]))"
		g.db.WithPanel(g.timeseries(title, desc+" Last value.", unit, g.query(0, e, leg(""), false)))
	}
}

// describe returns a panel title (the name as the producer wrote it) and a
// description of where the family comes from.
func describe(f *catalog.Family) (title, desc string) {
	title = f.Name
	var parts []string
	for i, s := range f.Sources {
		if i == 0 {
			title = s.Name
		}
		src := s.Format + " " + s.Name
		if s.Namespace != "" {
			src = s.Format + " " + s.Namespace + "/" + s.Name
		}
		if s.Unit != "" {
			src += " (" + s.Unit + ")"
		}
		for _, ds := range s.DimensionSets {
			src += " [" + strings.Join(ds, ", ") + "]"
		}
		if len(s.TagKeys) > 0 {
			src += " tags " + strings.Join(s.TagKeys, ", ")
		}
		parts = append(parts, src)
	}
	desc = "Prometheus " + f.Type + " " + f.Name
	if len(parts) > 0 {
		desc += " from " + strings.Join(parts, "; ")
	}
	return title, desc + "."
}

// newBuilder starts a dashboard of one flavour: its title and uid from the
// options (by default from the catalog, with the flavour's label), tags,
// time range and refresh.
func newBuilder(cfg config, fams []catalog.Family, flavour Flavour, label, what string) *dashboard.DashboardBuilder {
	title := cfg.title
	if title == "" {
		title = defaultTitle(fams) + " (" + label + ")"
	}
	uid := cfg.uid
	if uid == "" {
		uid = UID(title)
	}
	db := dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description("Generated by lambdabridge from a metric catalog: the metrics a Lambda function emitted, "+what+".").
		Tags([]string{"lambdabridge", "lambda", string(flavour)}).
		Time(cfg.from, cfg.to).
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Editable()
	if cfg.refresh != "" {
		db.Refresh(cfg.refresh)
	}
	return db
}
