package dashboards

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cloudwatch"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"

	"github.com/lambdabridge/lambdabridge/catalog"
	"github.com/lambdabridge/lambdabridge/metric"
)

// LambdaNamespace is where Lambda publishes its own metrics.
const LambdaNamespace = "AWS/Lambda"

// AWSLambdaMetrics maps the AWS/Lambda metrics the CloudWatch flavour
// queries to the platform family that stands for them locally.
var AWSLambdaMetrics = map[string]string{
	"Invocations":          famInvocations,
	"Errors":               famErrors,
	"Throttles":            famThrottles,
	"Duration":             famDuration,
	"ConcurrentExecutions": famConcurrent,
}

// CloudWatch builds the CloudWatch flavour: the metrics as CloudWatch would
// hold them. An overview row from AWS/Lambda (for the platform metrics the
// catalog holds), then a row per EMF namespace with a panel per metric and
// one query per declared dimension set and statistic (Sum for Count, p99
// and Average for times, Average otherwise). Datadog metrics are not in
// CloudWatch and are left out. Template variables: datasource, function
// (AWS/Lambda FunctionName) and one per namespace and dimension key.
func CloudWatch(c *catalog.Catalog, opts ...Option) (dashboard.Dashboard, error) {
	cfg := newConfig(opts)
	if cfg.datasource == "" {
		cfg.datasource = CloudWatchDatasourceUID
	}
	fams := c.Families()
	g := &cwGen{cfg: cfg, layout: layout{ds: dsRef("cloudwatch")}, fams: map[string]bool{}, vars: map[[2]string]string{}}
	for _, f := range fams {
		g.fams[f.Name] = true
	}
	g.db = newBuilder(cfg, fams, FlavourCloudWatch, "CloudWatch", "as CloudWatch holds them")

	nss := emfMetrics(fams)
	g.variables(nss)
	g.overview()
	for _, ns := range slices.Sorted(maps.Keys(nss)) {
		g.id++
		g.db.WithRow(dashboard.NewRowBuilder("EMF: " + ns).Id(g.id).GridPos(g.grid.row()))
		for _, m := range nss[ns] {
			g.metricPanel(m)
		}
	}
	return g.db.Build()
}

// emfMetric is one CloudWatch metric: a namespace, name and unit with the
// dimension sets declared for it.
type emfMetric struct {
	src    catalog.Source
	family string
}

// emfMetrics returns the EMF sources with a unit CloudWatch accepts, by
// namespace, ordered by name and unit.
func emfMetrics(fams []catalog.Family) map[string][]emfMetric {
	out := map[string][]emfMetric{}
	for _, f := range fams {
		for _, s := range f.Sources {
			if s.Format != metric.FormatEMF.String() || !metric.ValidUnit(s.Unit) {
				continue // CloudWatch rejects an unknown unit: there is nothing to query
			}
			out[s.Namespace] = append(out[s.Namespace], emfMetric{src: s, family: f.Name})
		}
	}
	for _, ms := range out {
		slices.SortFunc(ms, func(a, b emfMetric) int {
			if c := strings.Compare(a.src.Name, b.src.Name); c != 0 {
				return c
			}
			return strings.Compare(a.src.Unit, b.src.Unit)
		})
	}
	return out
}

type cwGen struct {
	cfg config
	db  *dashboard.DashboardBuilder
	layout
	fams map[string]bool
	vars map[[2]string]string // namespace, dimension key -> variable name
}

// functionKeys are dimension keys that hold the function name; they are
// bound to $function.
var functionKeys = map[string]bool{"FunctionName": true, "functionName": true, "function_name": true, "function": true}

func (g *cwGen) variables(nss map[string][]emfMetric) {
	g.db.WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").
		Label("Data Source").
		Type("cloudwatch").
		Current(option(g.cfg.datasource, g.cfg.datasource)))
	g.db.WithVariable(g.dimensionVariable("function", "Function", LambdaNamespace, "Invocations", "FunctionName"))

	used := map[string]bool{"datasource": true, "function": true}
	for _, ns := range slices.Sorted(maps.Keys(nss)) {
		first := map[string]string{} // key -> first metric declaring it
		for _, m := range nss[ns] {
			for _, ds := range m.src.DimensionSets {
				for _, k := range ds {
					if _, ok := first[k]; !ok && !functionKeys[k] {
						first[k] = m.src.Name
					}
				}
			}
		}
		for _, k := range slices.Sorted(maps.Keys(first)) {
			name := metric.SnakeCase(ns) + "_" + metric.SnakeCase(k)
			for used[name] {
				name += "_"
			}
			used[name] = true
			g.vars[[2]string{ns, k}] = name
			g.db.WithVariable(g.dimensionVariable(name, ns+" "+k, ns, first[k], k))
		}
	}
}

func (g *cwGen) dimensionVariable(name, label, ns, metricName, key string) *dashboard.QueryVariableBuilder {
	q := map[string]any{
		"queryType":    "dimensionValues",
		"namespace":    ns,
		"metricName":   metricName,
		"dimensionKey": key,
		"region":       g.cfg.region,
		"refId":        "CloudWatchVariableQueryEditor-VariableQuery",
	}
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Datasource(g.ds).
		Query(dashboard.StringOrMap{Map: q}).
		Definition(fmt.Sprintf("dimension_values(%s, %s, %s, %s)", g.cfg.region, ns, metricName, key)).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue("*").
		Current(allOption())
}

// query is one CloudWatch metric query.
func (g *cwGen) query(i int, ns, name string, dims map[string]string, statistic, label string) *cloudwatch.MetricsQueryOrLogsQueryOrAnnotationQueryBuilder {
	d := cloudwatch.Dimensions{}
	for k, v := range dims {
		d[k] = cloudwatch.StringOrArrayOfString{String: ptr(v)}
	}
	mq := cloudwatch.NewMetricsQueryBuilder().
		RefId(refID(i)).
		Id(fmt.Sprintf("q%d", i+1)).
		Datasource(g.ds).
		QueryMode(cloudwatch.QueryModeMetrics).
		MetricQueryType(cloudwatch.MetricQueryTypeSearch).
		MetricEditorMode(cloudwatch.MetricEditorModeBuilder).
		Region(g.cfg.region).
		Namespace(ns).
		MetricName(name).
		Dimensions(d).
		MatchExact(true).
		Statistic(statistic).
		Period("").
		Label(label)
	return cloudwatch.NewMetricsQueryOrLogsQueryOrAnnotationQueryBuilder().MetricsQuery(mq)
}

func (g *cwGen) stat(title, desc, unit, calc string, target cog.Builder[variants.Dataquery]) *stat.PanelBuilder {
	g.id++
	return stat.NewPanelBuilder().
		Id(g.id).Title(title).Description(desc).Datasource(g.ds).Unit(unit).
		GridPos(g.grid.place(8, 4)).
		GraphMode(common.BigValueGraphModeArea).
		ColorMode(common.BigValueColorModeValue).
		Orientation(common.VizOrientationAuto).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{calc}).Values(false)).
		WithTarget(target)
}

// overview adds the AWS/Lambda row for the platform metrics the catalog holds.
func (g *cwGen) overview() {
	fn := map[string]string{"FunctionName": "$function"}
	lambda := func(i int, name, statistic, label string) *cloudwatch.MetricsQueryOrLogsQueryOrAnnotationQueryBuilder {
		return g.query(i, LambdaNamespace, name, fn, statistic, label)
	}
	var panels []func() cog.Builder[dashboard.Panel]
	for _, s := range []struct{ metric, title, desc string }{
		{"Invocations", "Invocations", "AWS/Lambda Invocations, Sum over the time range."},
		{"Errors", "Errors", "AWS/Lambda Errors (function errors), Sum over the time range."},
		{"Throttles", "Throttles", "AWS/Lambda Throttles, Sum over the time range."},
	} {
		if g.fams[AWSLambdaMetrics[s.metric]] {
			panels = append(panels, func() cog.Builder[dashboard.Panel] {
				return g.stat(s.title, s.desc, "short", "sum",
					lambda(0, s.metric, "Sum", "${PROP('Dim.FunctionName')}"))
			})
		}
	}
	var counts []cog.Builder[variants.Dataquery]
	for _, m := range []string{"Invocations", "Errors", "Throttles"} {
		if g.fams[AWSLambdaMetrics[m]] {
			counts = append(counts, lambda(len(counts), m, "Sum", "${PROP('Dim.FunctionName')} "+m))
		}
	}
	if len(counts) > 0 {
		panels = append(panels, func() cog.Builder[dashboard.Panel] {
			return g.timeseries("Invocations, errors, throttles", "AWS/Lambda, Sum per period.", "short", counts...)
		})
	}
	if g.fams[famErrors] && g.fams[famInvocations] {
		errs := cloudwatch.NewMetricsQueryBuilder().RefId("A").Id("errors").Datasource(g.ds).
			QueryMode(cloudwatch.QueryModeMetrics).MetricQueryType(cloudwatch.MetricQueryTypeSearch).
			MetricEditorMode(cloudwatch.MetricEditorModeBuilder).Region(g.cfg.region).
			Namespace(LambdaNamespace).MetricName("Errors").
			Dimensions(cloudwatch.Dimensions{"FunctionName": {String: ptr("$function")}}).
			MatchExact(true).Statistic("Sum").Period("").Hide(true)
		invs := cloudwatch.NewMetricsQueryBuilder().RefId("B").Id("invocations").Datasource(g.ds).
			QueryMode(cloudwatch.QueryModeMetrics).MetricQueryType(cloudwatch.MetricQueryTypeSearch).
			MetricEditorMode(cloudwatch.MetricEditorModeBuilder).Region(g.cfg.region).
			Namespace(LambdaNamespace).MetricName("Invocations").
			Dimensions(cloudwatch.Dimensions{"FunctionName": {String: ptr("$function")}}).
			MatchExact(true).Statistic("Sum").Period("").Hide(true)
		rate := cloudwatch.NewMetricsQueryBuilder().RefId("C").Id("error_rate").Datasource(g.ds).
			QueryMode(cloudwatch.QueryModeMetrics).MetricQueryType(cloudwatch.MetricQueryTypeSearch).
			MetricEditorMode(cloudwatch.MetricEditorModeCode).Region(g.cfg.region).
			Namespace("").Expression("100 * errors / invocations").Label("error rate")
		wrap := func(b *cloudwatch.MetricsQueryBuilder) cog.Builder[variants.Dataquery] {
			return cloudwatch.NewMetricsQueryOrLogsQueryOrAnnotationQueryBuilder().MetricsQuery(b)
		}
		panels = append(panels, func() cog.Builder[dashboard.Panel] {
			return g.timeseries("Error rate", "100 * Errors / Invocations (metric math).", "percent",
				wrap(errs), wrap(invs), wrap(rate)).Min(0).Max(100)
		})
	}
	if g.fams[famDuration] {
		var ts []cog.Builder[variants.Dataquery]
		for i, st := range []string{"p50", "p90", "p99", "Average"} {
			ts = append(ts, lambda(i, "Duration", st, "${PROP('Dim.FunctionName')} "+st))
		}
		panels = append(panels, func() cog.Builder[dashboard.Panel] {
			return g.timeseries("Duration", "AWS/Lambda Duration (milliseconds).", "ms", ts...)
		})
	}
	if g.fams[famConcurrent] {
		panels = append(panels, func() cog.Builder[dashboard.Panel] {
			return g.timeseries("Concurrent executions", "AWS/Lambda ConcurrentExecutions, Maximum.", "short",
				lambda(0, "ConcurrentExecutions", "Maximum", "${PROP('Dim.FunctionName')}")).Min(0)
		})
	}
	if len(panels) == 0 {
		return
	}
	g.id++
	g.db.WithRow(dashboard.NewRowBuilder("Overview (AWS/Lambda)").Id(g.id).GridPos(g.grid.row()))
	for _, p := range panels {
		g.db.WithPanel(p())
	}
}

// Statistics returns the CloudWatch statistics a metric of unit u is shown
// with: Sum for counts, p99 and Average for times, Average otherwise.
func Statistics(unit string) []string {
	switch metric.EMFKind(unit) {
	case metric.Counter:
		return []string{"Sum"}
	case metric.Histogram:
		return []string{"p99", "Average"}
	}
	return []string{"Average"}
}

func (g *cwGen) metricPanel(m emfMetric) {
	s := m.src
	var ts []cog.Builder[variants.Dataquery]
	for _, ds := range s.DimensionSets {
		dims := map[string]string{}
		var lbl []string
		for _, k := range ds {
			if functionKeys[k] {
				dims[k] = "$function"
			} else {
				dims[k] = "$" + g.vars[[2]string{s.Namespace, k}]
			}
			lbl = append(lbl, "${PROP('Dim."+k+"')}")
		}
		for _, st := range Statistics(s.Unit) {
			label := strings.TrimSpace(strings.Join(lbl, " ") + " " + st)
			ts = append(ts, g.query(len(ts), s.Namespace, s.Name, dims, st, label))
		}
	}
	var sets []string
	for _, ds := range s.DimensionSets {
		sets = append(sets, "["+strings.Join(ds, ", ")+"]")
	}
	unit := s.Unit
	if unit == "" {
		unit = "None"
	}
	desc := fmt.Sprintf("CloudWatch %s/%s (%s), dimension sets %s; Prometheus %s.",
		s.Namespace, s.Name, unit, strings.Join(sets, " "), m.family)
	g.db.WithPanel(g.timeseries(s.Name, desc, cloudWatchUnits[s.Unit], ts...))
}
