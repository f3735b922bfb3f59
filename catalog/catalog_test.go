package catalog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lambdabridge/lambdabridge/aggregate"
	"github.com/lambdabridge/lambdabridge/catalog"
	"github.com/lambdabridge/lambdabridge/catalog/catalogtest"
	"github.com/lambdabridge/lambdabridge/metric"
)

var update = flag.Bool("update", false, "rewrite the golden files")

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

func encode(t *testing.T, c *catalog.Catalog) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriteGolden(t *testing.T) {
	golden(t, "fixture.json", encode(t, catalogtest.Catalog()))
}

func TestReadWriteRoundTrip(t *testing.T) {
	want := encode(t, catalogtest.Catalog())
	c, err := catalog.Read(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(encode(t, c))); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	// Reading it twice into one catalog (a merge with itself) keeps the
	// shape and doubles the counts.
	c2, _ := catalog.Read(bytes.NewReader(want))
	c.Merge(c2)
	f, ok := c.Family("shop_orders_total")
	if !ok || f.Sources[0].Points != 4 {
		t.Errorf("merged family = %+v, want 4 points", f)
	}
}

func TestDeterministicAndConcurrent(t *testing.T) {
	want := encode(t, catalogtest.Catalog())
	ps := catalogtest.Points()
	c := catalog.New()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := len(ps) - 1 - w; i >= 0; i -= 4 { // reverse order, interleaved
				c.Add(&ps[i])
			}
		}(w)
	}
	wg.Wait()
	if diff := cmp.Diff(string(want), string(encode(t, c))); diff != "" {
		t.Errorf("concurrent, reversed Add differs (-want +got):\n%s", diff)
	}
}

func TestAddDoesNotRetain(t *testing.T) {
	ps := catalogtest.Points()
	c := catalog.New()
	for i := range ps {
		c.Add(&ps[i])
	}
	want := encode(t, c)
	for i := range ps { // scribble over everything the points point to
		for j := range ps[i].Labels {
			ps[i].Labels[j] = metric.Label{Name: "X", Value: "Y"}
		}
		for j := range ps[i].Values {
			ps[i].Values[j] = -1
		}
	}
	if diff := cmp.Diff(string(want), string(encode(t, c))); diff != "" {
		t.Errorf("catalog changed with the points (-want +got):\n%s", diff)
	}
}

func TestMerge(t *testing.T) {
	ps := catalogtest.Points()
	a, b := catalog.New(), catalog.New()
	for i := range ps {
		if i%2 == 0 {
			a.Add(&ps[i])
		} else {
			b.Add(&ps[i])
		}
	}
	a.Merge(b)
	a.Merge(a) // no-op
	if diff := cmp.Diff(string(encode(t, catalogtest.Catalog())), string(encode(t, a))); diff != "" {
		t.Errorf("merge of halves differs from the whole (-want +got):\n%s", diff)
	}
}

func TestBoundedExamples(t *testing.T) {
	c := catalog.New(catalog.WithMaxExamples(3), catalog.WithMaxDistinct(5))
	for i := 0; i < 50; i++ {
		p := metric.Point{Format: metric.FormatEMF, Namespace: "A", Name: "Req", Unit: "Count",
			Labels: []metric.Label{{Name: "RequestId", Value: fmt.Sprintf("r%02d", i)}}, Values: []float64{1}}
		c.Add(&p)
	}
	f, _ := c.Family("a_req_total")
	want := []catalog.Label{{Name: "request_id", Examples: []string{"r00", "r01", "r02"}, Distinct: 5, Saturated: true}}
	if diff := cmp.Diff(want, f.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if got := f.Sources[0].DimensionSets; !slices.EqualFunc(got, [][]string{{"RequestId"}}, slices.Equal) {
		t.Errorf("dimension sets = %v", got)
	}
}

func TestReadErrors(t *testing.T) {
	for name, in := range map[string]string{
		"newer version": `{"schema":"lambdabridge.catalog","version":2,"families":[]}`,
		"other schema":  `{"schema":"x","version":1,"families":[]}`,
		"unknown key":   `{"schema":"lambdabridge.catalog","version":1,"families":[],"extra":1}`,
		"bad type":      `{"schema":"lambdabridge.catalog","version":1,"families":[{"name":"a","type":"nope","labels":[],"sources":[]}]}`,
		"not json":      `nope`,
	} {
		_, err := catalog.Read(strings.NewReader(in))
		if err == nil {
			t.Errorf("%s: no error", name)
		}
		if strings.Contains(name, "version") && !errors.Is(err, catalog.ErrSchema) {
			t.Errorf("%s: %v is not ErrSchema", name, err)
		}
	}
}

func TestLint(t *testing.T) {
	c := catalogtest.Catalog()
	var got []string
	for _, d := range c.Lint() {
		if !strings.HasPrefix(d.Rule, "catalog/") || d.Severity != metric.Warning || d.Message == "" {
			t.Errorf("bad diagnostic %+v", d)
		}
		got = append(got, d.Rule+" "+strings.Fields(d.Message)[0])
	}
	want := []string{
		"catalog/unit-missing api_latency_ms",
		"catalog/histogram-buckets api_latency_ms",
		"catalog/unit-unknown metric",
		"catalog/no-useful-label shop_cart_value",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lint (-want +got):\n%s\nall: %v", diff, c.Lint())
	}

	// Datadog tags that vary make overlapping series; EMF dimension sets
	// (above: shop_latency_seconds) are series by design.
	dd := catalog.New()
	for _, tags := range [][]metric.Label{{{Name: "service", Value: "a"}}, {{Name: "service", Value: "a"}, {Name: "env", Value: "prod"}}} {
		dd.Add(&metric.Point{Format: metric.FormatDogStatsD, Name: "req", Kind: metric.Counter, Labels: tags, Values: []float64{1}})
	}
	var rules []string
	for _, d := range dd.Lint() {
		rules = append(rules, d.Rule)
	}
	if !slices.Contains(rules, catalog.RuleLabelSets) {
		t.Errorf("varying Datadog tags: lint = %v, want %s", rules, catalog.RuleLabelSets)
	}

	// The default buckets are the aggregator's.
	for _, u := range []string{"seconds", "bytes", "", "percent"} {
		if diff := cmp.Diff(aggregate.DefaultBuckets(u), catalog.DefaultBuckets(u)); diff != "" {
			t.Errorf("DefaultBuckets(%q) (-aggregate +catalog):\n%s", u, diff)
		}
	}
	// WithBuckets is asked for the histograms without recorded buckets.
	asked := map[string]string{}
	c.Lint(catalog.WithBuckets(func(name, unit string) []float64 { asked[name] = unit; return nil }))
	if asked["shop_latency_seconds"] != "seconds" || asked["cart_items"] != "" || len(asked) != 7 {
		t.Errorf("WithBuckets asked for %v", asked)
	}

	// Buckets that cover the values silence the bucket rule.
	c.SetBuckets("shop_latency_seconds", []float64{0.01, 0.05, 0.1, 0.5, 1, 2, 5})
	for _, d := range c.Lint() {
		if d.Rule == catalog.RuleHistogramBuckets && strings.HasPrefix(d.Message, "shop_latency_seconds") {
			t.Errorf("still warned: %s", d.String())
		}
	}
	// Values between two bounds.
	c.SetBuckets("shop_latency_seconds", []float64{0.001, 0.002, 5, 10})
	found := false
	for _, d := range c.Lint() {
		found = found || d.Rule == catalog.RuleHistogramBuckets && strings.Contains(d.Message, "interpolated within")
	}
	if !found {
		t.Error("values within one bucket not reported")
	}
	// Too few buckets for the quantiles asked.
	c.SetBuckets("shop_latency_seconds", []float64{1, 2})
	found = false
	for _, d := range c.Lint(catalog.WithQuantiles(0.5, 0.9, 0.99)) {
		found = found || d.Rule == catalog.RuleHistogramBuckets && strings.Contains(d.Message, "too few")
	}
	if !found {
		t.Error("two buckets not reported")
	}
}

// Add's cached label translation is metric.PromLabels.
func TestLabelsAsPromLabels(t *testing.T) {
	ps := catalogtest.Points()
	ps = append(ps, metric.Point{Format: metric.FormatDogStatsD, Kind: metric.ServiceCheck, Name: "db.up",
		Labels: []metric.Label{{Name: "env.name", Value: "prod"}, {Name: "check", Value: "x"}, {Name: "canary"}}})
	for i := range ps {
		c := catalog.New()
		c.Add(&ps[i])
		f := c.Families()[0]
		var got []metric.Label
		for _, l := range f.Labels {
			got = append(got, metric.Label{Name: l.Name, Value: l.Examples[0]})
		}
		want := metric.PromLabels(nil, &ps[i])
		slices.SortFunc(want, func(a, b metric.Label) int { return strings.Compare(a.Name, b.Name) })
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-PromLabels +catalog):\n%s", ps[i].String(), diff)
		}
	}
}

func TestUnmarshalIntoZero(t *testing.T) {
	b, _ := catalogtest.Catalog().MarshalJSON()
	var c catalog.Catalog
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if c.Len() != catalogtest.Catalog().Len() {
		t.Errorf("Len = %d", c.Len())
	}
	p := metric.Point{Format: metric.FormatEMF, Namespace: "X", Name: "Y", Unit: "Count", Values: []float64{1}}
	c.Add(&p) // usable afterwards
}

func TestBoundedSources(t *testing.T) {
	c := catalog.New()
	for i := 0; i < 200; i++ {
		ev := metric.Point{Format: metric.FormatDogStatsD, Kind: metric.Event, Name: fmt.Sprintf("deploy %d", i), Values: []float64{1}}
		sc := metric.Point{Format: metric.FormatDogStatsD, Kind: metric.ServiceCheck, Name: fmt.Sprintf("check%d", i), Values: []float64{0}}
		c.Add(&ev)
		c.Add(&sc)
	}
	ev, _ := c.Family("datadog_events_total")
	if len(ev.Sources) != 1 || ev.Sources[0].Points != 200 {
		t.Errorf("events: %d sources", len(ev.Sources))
	}
	sc, _ := c.Family("datadog_service_check_status")
	if len(sc.Sources) != catalog.MaxSources || !sc.SourcesSaturated {
		t.Errorf("service checks: %d sources, saturated %v", len(sc.Sources), sc.SourcesSaturated)
	}
	var buf bytes.Buffer
	c.Write(&buf)
	c2, err := catalog.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := c2.Family("datadog_service_check_status"); !f.SourcesSaturated {
		t.Error("saturation lost in JSON")
	}
}
