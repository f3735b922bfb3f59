package dashboards_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/lambdabridge/lambdabridge/catalog"
	"github.com/lambdabridge/lambdabridge/catalog/catalogtest"
	"github.com/lambdabridge/lambdabridge/dashboards"
	"github.com/lambdabridge/lambdabridge/metric"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestMain(m *testing.M) {
	plugins.RegisterDefaultPlugins()
	os.Exit(m.Run())
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

type flavour struct {
	name  string
	build func(*catalog.Catalog, ...dashboards.Option) (dashboard.Dashboard, error)
}

var flavours = []flavour{
	{"prometheus", dashboards.Prometheus},
	{"cloudwatch", dashboards.CloudWatch},
}

func build(t *testing.T, f flavour, c *catalog.Catalog) (dashboard.Dashboard, []byte) {
	t.Helper()
	d, err := f.build(c)
	if err != nil {
		t.Fatal(err)
	}
	b, err := dashboards.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return d, b
}

func TestGolden(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			_, b := build(t, f, catalogtest.Catalog())
			golden(t, f.name+".golden", b)
		})
	}
}

// The same catalog, built in another order or read back from its JSON,
// gives byte-identical dashboards.
func TestStable(t *testing.T) {
	var buf bytes.Buffer
	if err := catalogtest.Catalog().Write(&buf); err != nil {
		t.Fatal(err)
	}
	read, err := catalog.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rev := catalog.New()
	ps := catalogtest.Points()
	for i := len(ps) - 1; i >= 0; i-- {
		rev.Add(&ps[i])
	}
	for _, f := range flavours {
		_, want := build(t, f, catalogtest.Catalog())
		for name, c := range map[string]*catalog.Catalog{"read": read, "reversed": rev} {
			if _, got := build(t, f, c); !bytes.Equal(want, got) {
				t.Errorf("%s %s: output differs", f.name, name)
			}
		}
	}
}

// The output unmarshals with the SDK (plugins registered) and marshals back
// to the same bytes: nothing is lost.
func TestRoundTripSDK(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			_, want := build(t, f, catalogtest.Catalog())
			var d dashboard.Dashboard
			if err := json.Unmarshal(want, &d); err != nil {
				t.Fatal(err)
			}
			got, err := dashboards.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			// The typed queries survive: the round-tripped dashboard lists
			// the same queries as the built one.
			built, _ := f.build(catalogtest.Catalog())
			if diff := cmp.Diff(dashboards.PromQueries(built), dashboards.PromQueries(d)); diff != "" {
				t.Errorf("prometheus queries (-built +read):\n%s", diff)
			}
			if diff := cmp.Diff(dashboards.CloudWatchQueries(built), dashboards.CloudWatchQueries(d)); diff != "" {
				t.Errorf("cloudwatch queries (-built +read):\n%s", diff)
			}
			if f.name == "prometheus" && len(dashboards.PromQueries(d)) == 0 ||
				f.name == "cloudwatch" && len(dashboards.CloudWatchQueries(d)) == 0 {
				t.Error("no typed queries after unmarshalling")
			}
		})
	}
}

func TestPromQLParses(t *testing.T) {
	d, _ := build(t, flavours[0], catalogtest.Catalog())
	p := parser.NewParser(parser.Options{})
	qs := dashboards.PromQueries(d)
	if len(qs) < 20 {
		t.Fatalf("only %d queries", len(qs))
	}
	for _, q := range qs {
		e := dashboards.Expand(q.Expr, map[string]string{"function": "shop"})
		if strings.Contains(e, "$") {
			t.Errorf("%s: variable left in %s", q.Panel, e)
		}
		if _, err := p.ParseExpr(e); err != nil {
			t.Errorf("%s %s: %s: %v", q.Panel, q.RefID, e, err)
		}
	}
	// Every label variable's label_values selector parses too.
	for _, v := range dashboards.Variables(d) {
		if v.Type != "query" {
			continue
		}
		in := strings.TrimSuffix(strings.TrimPrefix(v.Query, "label_values("), ")")
		if i := strings.LastIndex(in, ","); i >= 0 {
			in = in[:i]
		}
		if strings.Contains(in, "{") || strings.HasPrefix(in, "lambda_") {
			if _, err := p.ParseMetricSelector(dashboards.Expand(in, nil)); err != nil {
				t.Errorf("variable %s: %s: %v", v.Name, v.Query, err)
			}
		}
	}
}

// Every query uses the function variable and the variables of its labels.
func TestPromQueriesUseVariables(t *testing.T) {
	d, _ := build(t, flavours[0], catalogtest.Catalog())
	var names []string
	for _, v := range dashboards.Variables(d) {
		names = append(names, v.Name)
	}
	// service is a label of three sources: one variable each, so that their
	// values never mix.
	want := []string{"datasource", "function", "canary", "db", "endpoint", "env", "operation", "provider", "reason", "route",
		"datadog_json_lines_service", "emf_myapp_payments_service", "emf_shop_service"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("variables (-want +got):\n%s", diff)
	}
	checkVariablesScoped(t, d, catalogtest.Catalog())
	for _, q := range dashboards.PromQueries(d) {
		if !strings.Contains(q.Expr, `function_name=~"$function"`) {
			t.Errorf("%s: %s does not filter on $function", q.Panel, q.Expr)
		}
	}
	exprs := strings.Join(dashboards.Exprs(d, nil), "\n")
	for _, want := range []string{
		`sum by (function_name, endpoint, env) (rate(checkout_requests_total{function_name=~".*", endpoint=~".*", env=~".*"}[5m]))`,
		`histogram_quantile(0.99, sum by (le, function_name, operation, service) (rate(shop_latency_seconds_bucket{`,
		`max by (function_name, env) (last_over_time(users_unique{`,
		`histogram_quantile(0.5, sum by (le, function_name) (rate(lambda_duration_seconds_bucket{function_name=~".*"}[5m])))`,
	} {
		if !strings.Contains(exprs, want) {
			t.Errorf("no query contains %s", want)
		}
	}
}

// checkVariablesScoped checks that every label variable lists the values of
// one source (format and EMF namespace) only.
func checkVariablesScoped(t *testing.T, d dashboard.Dashboard, c *catalog.Catalog) {
	t.Helper()
	source := map[string]string{} // series name -> source
	for _, f := range c.Families() {
		s := f.Sources[0].Format + " " + f.Sources[0].Namespace
		source[f.Name], source[f.Name+"_count"] = s, s
	}
	re := regexp.MustCompile(`label_values\((?:\{__name__=~"([^"]+)"|([a-zA-Z_:][a-zA-Z0-9_:]*)\{)`)
	for _, v := range dashboards.Variables(d) {
		if v.Type != "query" || v.Name == "function" {
			continue
		}
		m := re.FindStringSubmatch(v.Query)
		if m == nil {
			t.Errorf("variable %s: query %s names no series", v.Name, v.Query)
			continue
		}
		seen := map[string]bool{}
		for _, n := range strings.Split(m[1]+m[2], "|") {
			seen[source[n]] = true
		}
		if len(seen) != 1 {
			t.Errorf("variable %s mixes sources %v: %s", v.Name, slices.Sorted(maps.Keys(seen)), v.Query)
		}
	}
}

// Every CloudWatch query names a namespace, metric and dimension set the
// catalog holds (AWS/Lambda metrics stand for platform families).
func TestCloudWatchQueriesInCatalog(t *testing.T) {
	c := catalogtest.Catalog()
	d, _ := build(t, flavours[1], c)
	type key struct{ ns, name, dims string }
	held := map[key]string{} // -> unit
	for _, f := range c.Families() {
		for _, s := range f.Sources {
			if s.Format != metric.FormatEMF.String() {
				continue
			}
			for _, ds := range s.DimensionSets {
				sorted := slices.Sorted(slices.Values(ds))
				held[key{s.Namespace, s.Name, strings.Join(sorted, ",")}] = s.Unit
			}
		}
	}
	qs := dashboards.CloudWatchQueries(d)
	ids := map[string]bool{}
	seen := map[key]bool{}
	for _, q := range qs {
		ids[q.ID] = true
	}
	for _, q := range qs {
		switch {
		case q.Expression != "":
			for _, w := range strings.FieldsFunc(q.Expression, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r == '_') }) {
				if !ids[w] {
					t.Errorf("%s: expression %q names unknown query %q", q.Panel, q.Expression, w)
				}
			}
		case q.Namespace == dashboards.LambdaNamespace:
			fam, ok := dashboards.AWSLambdaMetrics[q.MetricName]
			if _, held := c.Family(fam); !ok || !held {
				t.Errorf("%s: AWS/Lambda %s stands for no platform family in the catalog", q.Panel, q.MetricName)
			}
			if q.Dimensions["FunctionName"] != "$function" || len(q.Dimensions) != 1 {
				t.Errorf("%s: dimensions %v", q.Panel, q.Dimensions)
			}
		default:
			k := key{q.Namespace, q.MetricName, strings.Join(q.DimensionKeys(), ",")}
			unit, ok := held[k]
			if !ok {
				t.Errorf("%s: %v is not in the catalog", q.Panel, k)
				continue
			}
			seen[k] = true
			if !slices.Contains(dashboards.Statistics(unit), q.Statistic) {
				t.Errorf("%s: statistic %s for unit %s", q.Panel, q.Statistic, unit)
			}
			for dk, v := range q.Dimensions {
				if !strings.HasPrefix(v, "$") {
					t.Errorf("%s: dimension %s = %q is not a variable", q.Panel, dk, v)
				}
			}
		}
	}
	// And every valid metric and dimension set of the catalog is shown.
	for k, unit := range held {
		if !seen[k] && metric.ValidUnit(unit) {
			t.Errorf("%v not queried", k)
		}
	}
}

func TestUID(t *testing.T) {
	for in, want := range map[string]string{
		"Lambda: shop (Prometheus)": "lambda-shop-prometheus",
		"":                          "lambdabridge-e3b0c442",
		"A very long dashboard title that goes on and on": "a-very-long-dashboard-title-tha-",
	} {
		got := dashboards.UID(in)
		if len(got) > 40 || !strings.HasPrefix(got, strings.TrimSuffix(want, "-")) {
			t.Errorf("UID(%q) = %q, want %q...", in, got, want)
		}
	}
}

func TestGrafanaVars(t *testing.T) {
	from := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		name   string
		to     time.Time
		scrape time.Duration
		want   map[string]string
	}{
		{"short run, 1s scrape", from.Add(62500 * time.Millisecond), time.Second, map[string]string{
			"__range": "63s", "__range_s": "63", "__range_ms": "62500", "__interval": "1s", "__interval_ms": "1000", "__rate_interval": "4s"}},
		{"an hour, default scrape", from.Add(time.Hour), 0, map[string]string{
			"__range": "3600s", "__range_s": "3600", "__range_ms": "3600000", "__interval": "15s", "__interval_ms": "15000", "__rate_interval": "60s"}},
		{"a day: interval above the scrape interval", from.Add(24 * time.Hour), 15 * time.Second, map[string]string{
			"__range": "86400s", "__range_s": "86400", "__range_ms": "86400000", "__interval": "87s", "__interval_ms": "87000", "__rate_interval": "102s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, dashboards.GrafanaVars(from, tc.to, tc.scrape, 1000)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for in, want := range map[string]string{"": ".*", "go-emf": "go-emf", "a.b|go-emf": `(a\\.b|go-emf)`} {
		var vals []string
		if in != "" {
			vals = strings.Split(in, "|")
		}
		if got := dashboards.RegexValues(vals...); got != want {
			t.Errorf("RegexValues(%q) = %s, want %s", vals, got, want)
		}
	}
}
