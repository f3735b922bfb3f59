package dashboards_test

import (
	"context"
	"math"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lambdabridge/lambdabridge/aggregate"
	"github.com/lambdabridge/lambdabridge/catalog/catalogtest"
	"github.com/lambdabridge/lambdabridge/dashboards"
	"github.com/lambdabridge/lambdabridge/internal/testenv"
)

// TestPromQueriesReturnData feeds the fixture's points through the
// aggregator into a real Prometheus and checks that every query of the
// Prometheus dashboard returns data: no empty panel.
func TestPromQueriesReturnData(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts Prometheus")
	}
	agg := aggregate.New(aggregate.WithFunctionLabel("function_name"))
	feed := func() {
		ps := catalogtest.Points()
		for i := range ps {
			agg.Add(&ps[i])
		}
	}
	feed()
	srv := httptest.NewServer(promhttp.HandlerFor(agg, promhttp.HandlerOpts{}))
	defer srv.Close()
	prom := testenv.StartPrometheus(t, testenv.WithScrapeInterval(time.Second), testenv.WithScrape(testenv.ScrapeConfig{
		Job: "lambdabridge", Targets: []string{strings.TrimPrefix(srv.URL, "http://")},
	}))
	prom.WaitTargetsUp(t, "lambdabridge", 1, 30*time.Second)
	start := time.Now()
	for time.Since(start) < 8*time.Second { // invocations keep coming
		time.Sleep(500 * time.Millisecond)
		feed()
	}
	time.Sleep(1500 * time.Millisecond) // one more scrape

	d, err := dashboards.Prometheus(catalogtest.Catalog())
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"__rate_interval": "4s", "__range": "30s"}
	ctx := context.Background()
	end := time.Now()
	for _, q := range dashboards.PromQueries(d) {
		e := dashboards.Expand(q.Expr, vars)
		m, err := prom.QueryRange(ctx, e, end.Add(-10*time.Second), end, time.Second)
		if err != nil {
			t.Errorf("%s %s: %v", q.Panel, q.RefID, err)
			continue
		}
		n := 0
		for _, pts := range m {
			for _, p := range pts {
				if !math.IsNaN(p.V) {
					n++
				}
			}
		}
		if n == 0 {
			t.Errorf("panel %q query %s returns no data: %s", q.Panel, q.RefID, e)
		}
	}
	// Every label variable lists values: its label_values selector, as a
	// PromQL count by the label, finds series carrying the label. Labels
	// missing from some label set of their family may be absent: by default
	// the aggregator keeps only the first label set (catalog/label-sets).
	partial := map[string]bool{}
	for _, f := range catalogtest.Catalog().Families() {
		for _, set := range f.LabelSets {
			for _, l := range f.Labels {
				if !slices.Contains(set, l.Name) {
					partial[l.Name] = true
				}
			}
		}
	}
	for _, v := range dashboards.Variables(d) {
		if v.Type != "query" || partial[v.Name] {
			continue
		}
		in := strings.TrimSuffix(strings.TrimPrefix(v.Query, "label_values("), ")")
		i := strings.LastIndex(in, ", ")
		if i < 0 {
			in = "{" + in + `=~".+"}, ` + in // label_values(label)
			i = strings.LastIndex(in, ", ")
		}
		sel, label := in[:i], in[i+2:]
		e := "count by (" + label + ") (" + dashboards.Expand(sel, nil) + ")"
		vec, err := prom.Query(ctx, e)
		if err != nil || !strings.Contains(vec.String(), label+"=") {
			t.Errorf("variable %s (%s): %s = %v, %v", v.Name, v.Query, e, vec, err)
		}
	}
	// The function variable works: filtering on one function keeps data.
	e := dashboards.Expand(`sum(rate(lambda_invocations_total{function_name=~"$function"}[$__rate_interval]))`,
		map[string]string{"function": "shop", "__rate_interval": "4s"})
	if v, err := prom.Query(ctx, e); err != nil || len(v) == 0 {
		t.Errorf("%s: %v %v", e, v, err)
	}
}
