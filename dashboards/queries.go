package dashboards

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cloudwatch"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
)

// PromQuery is one PromQL query of a dashboard.
type PromQuery struct {
	Panel   string // panel title
	RefID   string
	Expr    string // as in the dashboard, with template variables
	Instant bool
}

// panels returns every panel of d, those inside collapsed rows included,
// in order.
func panels(d dashboard.Dashboard) []dashboard.Panel {
	var out []dashboard.Panel
	for _, p := range d.Panels {
		if p.Panel != nil {
			out = append(out, *p.Panel)
		}
		if p.RowPanel != nil {
			out = append(out, p.RowPanel.Panels...)
		}
	}
	return out
}

func title(p dashboard.Panel) string {
	if p.Title == nil {
		return ""
	}
	return *p.Title
}

// PromQueries lists the PromQL queries of d in panel order.
func PromQueries(d dashboard.Dashboard) []PromQuery {
	var out []PromQuery
	for _, p := range panels(d) {
		for _, t := range p.Targets {
			var q *prometheus.Dataquery
			switch v := t.(type) {
			case prometheus.Dataquery:
				q = &v
			case *prometheus.Dataquery:
				q = v
			default:
				continue
			}
			pq := PromQuery{Panel: title(p), Expr: q.Expr, Instant: q.Instant != nil && *q.Instant}
			if q.RefId != nil {
				pq.RefID = *q.RefId
			}
			out = append(out, pq)
		}
	}
	return out
}

// Exprs returns every PromQL expression of d with its template variables
// substituted (see Expand), ready to send to Prometheus' query API.
func Exprs(d dashboard.Dashboard, vars map[string]string) []string {
	qs := PromQueries(d)
	out := make([]string, len(qs))
	for i, q := range qs {
		out[i] = Expand(q.Expr, vars)
	}
	return out
}

// BuiltinVars are the values Expand gives Grafana's built-in variables
// unless vars overrides them.
var BuiltinVars = map[string]string{
	"__rate_interval": "5m",
	"__interval":      "1m",
	"__interval_ms":   "60000",
	"__range":         "1h",
	"__range_s":       "3600",
	"__range_ms":      "3600000",
}

// GrafanaVars returns the values Grafana gives its built-in variables for a
// panel showing from..to: $__range (whole seconds, as "<n>s"), $__interval
// (the range over maxDataPoints, at least the data source's scrape interval,
// rounded up to the second) and $__rate_interval, which Grafana defines as
// max($__interval + scrape interval, 4 * scrape interval). scrapeInterval is
// the data source's "Scrape interval" (jsonData.timeInterval; Grafana's
// default is 15s).
func GrafanaVars(from, to time.Time, scrapeInterval time.Duration, maxDataPoints int) map[string]string {
	if scrapeInterval <= 0 {
		scrapeInterval = 15 * time.Second
	}
	if maxDataPoints <= 0 {
		maxDataPoints = 1000
	}
	rng := to.Sub(from)
	rangeS := int64(math.Round(rng.Seconds()))
	interval := max(scrapeInterval, rng/time.Duration(maxDataPoints))
	interval = (interval + time.Second - 1).Truncate(time.Second)
	rate := max(interval+scrapeInterval, 4*scrapeInterval)
	secs := func(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) + "s" }
	return map[string]string{
		"__range":         strconv.FormatInt(rangeS, 10) + "s",
		"__range_s":       strconv.FormatInt(rangeS, 10),
		"__range_ms":      strconv.FormatInt(rng.Milliseconds(), 10),
		"__interval":      secs(interval),
		"__interval_ms":   strconv.FormatInt(interval.Milliseconds(), 10),
		"__rate_interval": secs(rate),
	}
}

// RegexValues formats the values of a multi-value variable as Grafana's
// Prometheus data source does in a regex matcher: one value escaped, several
// as an alternation "(a|b)", none (All) as ".*"; escaped for a PromQL
// double-quoted string.
func RegexValues(values ...string) string {
	if len(values) == 0 {
		return ".*"
	}
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = strings.ReplaceAll(regexp.QuoteMeta(v), `\`, `\\`)
	}
	if len(q) == 1 {
		return q[0]
	}
	return "(" + strings.Join(q, "|") + ")"
}

var varRE = regexp.MustCompile(`\$\{(\w+)(?::[\w]+)?\}|\$(\w+)|\[\[(\w+)\]\]`)

// Expand substitutes Grafana template variables ($name, ${name},
// ${name:format}, [[name]]) in a query: from vars, then BuiltinVars, and
// ".*" (the dashboards' "All" value) for any other variable.
func Expand(expr string, vars map[string]string) string {
	return varRE.ReplaceAllStringFunc(expr, func(m string) string {
		sub := varRE.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[3]
		if v, ok := vars[name]; ok {
			return v
		}
		if v, ok := BuiltinVars[name]; ok {
			return v
		}
		return ".*"
	})
}

// CloudWatchQuery is one CloudWatch metrics query of a dashboard.
type CloudWatchQuery struct {
	Panel      string
	RefID, ID  string
	Namespace  string
	MetricName string
	// Dimensions maps each dimension key to its value (a variable such as
	// "$function" or "*").
	Dimensions map[string]string
	Statistic  string
	Expression string // metric math; Namespace and MetricName are empty
	Hidden     bool
}

// DimensionKeys returns the query's dimension keys, sorted.
func (q CloudWatchQuery) DimensionKeys() []string {
	keys := make([]string, 0, len(q.Dimensions))
	for k := range q.Dimensions {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// CloudWatchQueries lists the CloudWatch metric queries of d in panel order.
func CloudWatchQueries(d dashboard.Dashboard) []CloudWatchQuery {
	var out []CloudWatchQuery
	for _, p := range panels(d) {
		for _, t := range p.Targets {
			var u *cloudwatch.MetricsQueryOrLogsQueryOrAnnotationQuery
			switch v := t.(type) {
			case cloudwatch.MetricsQueryOrLogsQueryOrAnnotationQuery:
				u = &v
			case *cloudwatch.MetricsQueryOrLogsQueryOrAnnotationQuery:
				u = v
			default:
				continue
			}
			m := u.MetricsQuery
			if m == nil {
				continue
			}
			q := CloudWatchQuery{Panel: title(p), ID: m.Id, Namespace: m.Namespace, Dimensions: map[string]string{}}
			if m.RefId != nil {
				q.RefID = *m.RefId
			}
			if m.MetricName != nil {
				q.MetricName = *m.MetricName
			}
			if m.Statistic != nil {
				q.Statistic = *m.Statistic
			}
			if m.Expression != nil {
				q.Expression = *m.Expression
			}
			q.Hidden = m.Hide != nil && *m.Hide
			if m.Dimensions != nil {
				for k, v := range *m.Dimensions {
					switch {
					case v.String != nil:
						q.Dimensions[k] = *v.String
					default:
						q.Dimensions[k] = strings.Join(v.ArrayOfString, ",")
					}
				}
			}
			out = append(out, q)
		}
	}
	return out
}

// Variable is one template variable of a dashboard.
type Variable struct {
	Name  string
	Type  string
	Query string // the query as a string (a map query is its "query" or JSON-less summary)
}

// Variables lists the template variables of d.
func Variables(d dashboard.Dashboard) []Variable {
	var out []Variable
	for _, v := range d.Templating.List {
		tv := Variable{Name: v.Name, Type: string(v.Type)}
		if v.Definition != nil {
			tv.Query = *v.Definition
		}
		if v.Query != nil && v.Query.String != nil {
			tv.Query = *v.Query.String
		}
		out = append(out, tv)
	}
	return out
}
