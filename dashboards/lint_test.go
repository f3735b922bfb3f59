package dashboards_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/lambdabridge/lambdabridge/catalog/catalogtest"
	"github.com/lambdabridge/lambdabridge/dashboards"
)

// The rules of grafana/dashboard-linter (docs/index.md, docs/rules/*.md),
// checked on the JSON Grafana reads. The linter itself is not served by the
// Go module proxy here, so its documented rules are implemented below. Rules
// left out, with the reason the linter's docs accept for an exclusion:
//   - template-job-rule, template-instance-rule, target-job-rule,
//     target-instance-rule: series sent by remote_write carry no job or
//     instance label; every query filters on function_name instead (the
//     "multi data source" exception of docs/index.md).
//   - target-rate-interval-rule allows increase() over $__range in stat
//     panels: they show totals over the dashboard's time range, the
//     exception docs/rules/target-rate-interval-rule.md names.

// lintDashboard is the part of the dashboard JSON the rules read.
type lintDashboard struct {
	Title      string      `json:"title"`
	Panels     []lintPanel `json:"panels"`
	Templating struct {
		List []struct {
			Type, Name, Label string
			Query             any             `json:"query"`
			Datasource        *lintDatasource `json:"datasource"`
			Refresh           int             `json:"refresh"`
		} `json:"list"`
	} `json:"templating"`
}

type lintDatasource struct{ Type, UID string }

type lintPanel struct {
	Type        string          `json:"type"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Datasource  *lintDatasource `json:"datasource"`
	Panels      []lintPanel     `json:"panels"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []struct {
		Datasource *lintDatasource `json:"datasource"`
		Expr       string          `json:"expr"`
	} `json:"targets"`
}

func (d lintDashboard) panels() []lintPanel {
	var out []lintPanel
	for _, p := range d.Panels {
		if p.Type != "row" {
			out = append(out, p)
		}
		out = append(out, p.Panels...)
	}
	return out
}

// Sentinel durations the rate-interval rule recognises after expansion.
const (
	sentinelRateInterval = 1234 * time.Second
	sentinelRange        = 4321 * time.Second
)

var lintVars = map[string]string{"__rate_interval": "1234s", "__range": "4321s", "__interval": "60s"}

func lint(t *testing.T, raw []byte, flavour string) []string {
	t.Helper()
	var d lintDashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	var problems []string
	add := func(rule, format string, args ...any) {
		problems = append(problems, rule+": "+fmt.Sprintf(format, args...))
	}
	// template-datasource-rule: precisely one datasource variable, named
	// datasource, labelled "Data Source".
	nds := 0
	for _, v := range d.Templating.List {
		if v.Type == "datasource" {
			nds++
			if v.Name != "datasource" || v.Label != "Data Source" || v.Query != flavour {
				add("template-datasource-rule", "variable %s (%q) query %v", v.Name, v.Label, v.Query)
			}
		}
	}
	if nds != 1 {
		add("template-datasource-rule", "%d datasource variables", nds)
	}
	p := parser.NewParser(parser.Options{})
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		// template-on-time-change-reload-rule
		if v.Refresh != 2 {
			add("template-on-time-change-reload-rule", "variable %s refresh %d", v.Name, v.Refresh)
		}
		if v.Datasource == nil || v.Datasource.UID != "${datasource}" && v.Datasource.UID != "$datasource" {
			add("template-datasource-rule", "variable %s does not use the datasource variable", v.Name)
		}
		// template-label-promql-rule
		if q, ok := v.Query.(string); ok && flavour != "cloudwatch" {
			if err := labelValuesParses(p, q); err != nil {
				add("template-label-promql-rule", "variable %s: %s: %v", v.Name, q, err)
			}
		}
	}
	for _, pn := range d.panels() {
		// panel-datasource-rule
		if pn.Datasource == nil || pn.Datasource.UID != "${datasource}" {
			add("panel-datasource-rule", "panel %q datasource %+v", pn.Title, pn.Datasource)
		}
		// panel-title-description-rule
		if pn.Title == "" || pn.Description == "" {
			add("panel-title-description-rule", "panel %q has no title or description", pn.Title)
		}
		// panel-units-rule
		if (pn.Type == "stat" || pn.Type == "timeseries") && pn.FieldConfig.Defaults.Unit == "" {
			add("panel-units-rule", "panel %q has no unit", pn.Title)
		}
		for _, tg := range pn.Targets {
			if tg.Datasource != nil && tg.Datasource.UID != "${datasource}" {
				add("panel-datasource-rule", "panel %q target datasource %+v", pn.Title, tg.Datasource)
			}
			if flavour == "cloudwatch" {
				continue
			}
			// target-promql-rule
			e := dashboards.Expand(tg.Expr, lintVars)
			expr, err := p.ParseExpr(e)
			if err != nil {
				add("target-promql-rule", "panel %q: %s: %v", pn.Title, e, err)
				continue
			}
			// target-rate-interval-rule
			for _, r := range rangesOf(expr) {
				if r.range_ != sentinelRateInterval && !(r.fn == "increase" && pn.Type == "stat" && r.range_ == sentinelRange) {
					add("target-rate-interval-rule", "panel %q: %s over %v, want $__rate_interval: %s", pn.Title, r.fn, r.range_, tg.Expr)
				}
			}
		}
	}
	return problems
}

type rangeUse struct {
	fn     string
	range_ time.Duration
}

// rangesOf lists the ranges rate, irate and increase are called with.
func rangesOf(e parser.Expr) []rangeUse {
	var out []rangeUse
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		c, ok := n.(*parser.Call)
		if !ok || c.Func.Name != "rate" && c.Func.Name != "irate" && c.Func.Name != "increase" {
			return nil
		}
		for _, a := range c.Args {
			if m, ok := a.(*parser.MatrixSelector); ok {
				out = append(out, rangeUse{c.Func.Name, m.Range})
			}
		}
		return nil
	})
	return out
}

var labelValuesRE = regexp.MustCompile(`^label_values\((?:(.*), )?([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

func labelValuesParses(p parser.Parser, q string) error {
	m := labelValuesRE.FindStringSubmatch(q)
	if m == nil {
		return fmt.Errorf("not label_values([selector, ]label)")
	}
	if m[1] == "" {
		return nil
	}
	_, err := p.ParseExpr(dashboards.Expand(m[1], lintVars))
	return err
}

// TestDashboardLinterRules: both flavours follow dashboard-linter's rules.
func TestDashboardLinterRules(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			_, b := build(t, f, catalogtest.Catalog())
			for _, p := range lint(t, b, f.name) {
				t.Error(p)
			}
		})
	}
	// Dashboards for Amazon Managed Prometheus list and use data sources
	// of the plugin's type.
	d, err := dashboards.Prometheus(catalogtest.Catalog(), dashboards.WithDatasourceType(dashboards.AMPType))
	if err != nil {
		t.Fatal(err)
	}
	b, err := dashboards.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range lint(t, b, dashboards.AMPType) {
		t.Error(p)
	}
	if n := strings.Count(string(b), `"type": "prometheus"`); n != 0 {
		t.Errorf("%d references to the core prometheus type in an AMP dashboard", n)
	}
}

// TestLintFindsProblems: each rule catches what it is about.
func TestLintFindsProblems(t *testing.T) {
	_, b := build(t, flavours[0], catalogtest.Catalog())
	for _, tc := range []struct {
		name, old, new, rule string
	}{
		{"fixed rate range", `[$__rate_interval]))`, `[5m]))`, "target-rate-interval-rule"},
		{"hard-coded datasource", `"uid": "${datasource}"`, `"uid": "my-prometheus"`, "panel-datasource-rule"},
		{"bad promql", `sum by (`, `sum by by (`, "target-promql-rule"},
		{"datasource label", `"label": "Data Source"`, `"label": "DS"`, "template-datasource-rule"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(string(b), tc.old, tc.new, 1)
			if bad == string(b) {
				t.Fatalf("%q not in the dashboard", tc.old)
			}
			found := false
			for _, p := range lint(t, []byte(bad), "prometheus") {
				found = found || strings.HasPrefix(p, tc.rule+":")
			}
			if !found {
				t.Errorf("%s not reported", tc.rule)
			}
		})
	}
}
