package emf

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lambdabridge/lambdabridge/metric"
)

// randomWideEvent writes an event of several directives whose metric names,
// namespaces, resolutions and dimension sets repeat at random, with root
// members repeated and written with escapes, so that every cross-metric
// check (names defined twice, resolution conflicts, a metric in two
// directives, the last of repeated members) fires.
func randomWideEvent(rng *rand.Rand) []byte {
	names := []string{"A", "B", "C", "D", "E", "F", "G", "H"}
	dims := []string{`["Service"]`, `["Region"]`, `["Service","Region"]`, `["Region","Service"]`, `[]`,
		`["Service","Service"]`, `["Service","K1"]`, `["K1","K2","Service"]`, `["K2","K1","Service"]`, `["K2"]`}
	var b strings.Builder
	b.WriteString(`{"_aws":{"Timestamp":1714557600000,"CloudWatchMetrics":[`)
	nd := 1 + rng.IntN(6)
	for d := range nd {
		if d > 0 {
			b.WriteByte(',')
		}
		sets := make([]string, 1+rng.IntN(8))
		for i := range sets {
			sets[i] = dims[rng.IntN(len(dims))]
		}
		fmt.Fprintf(&b, `{"Namespace":"N%d","Dimensions":[%s],"Metrics":[`, rng.IntN(2), strings.Join(sets, ","))
		nm := 1 + rng.IntN(12)
		for m := range nm {
			if m > 0 {
				b.WriteByte(',')
			}
			res := ""
			switch rng.IntN(3) {
			case 0:
				res = `,"StorageResolution":1`
			case 1:
				res = `,"StorageResolution":60`
			}
			fmt.Fprintf(&b, `{"Name":"%s","Unit":"Count"%s}`, names[rng.IntN(len(names))], res)
		}
		b.WriteString(`]}`)
	}
	b.WriteString(`]},"Service":"s","Region":"r","K1":"1","K2":"2"`)
	for range 10 + rng.IntN(30) {
		n := names[rng.IntN(len(names))]
		if rng.IntN(4) == 0 {
			n = fmt.Sprintf(`\u00%x`, n[0]) // the same name, escaped
		}
		fmt.Fprintf(&b, `,"%s":%d`, n, rng.IntN(100))
	}
	for i := range rng.IntN(20) {
		fmt.Fprintf(&b, `,"pad%d":0`, i)
	}
	b.WriteString("}")
	return []byte(b.String())
}

// TestIndexesMatchScans parses random wide events with the indexes (names,
// root members, DimensionSets, dimension keys) in use from 2 entries on,
// and with them off, and wants the same points and diagnostics.
func TestIndexesMatchScans(t *testing.T) {
	defer func(e, r, s int) { evIndexAt, rootIndexAt, setIndexAt = e, r, s }(evIndexAt, rootIndexAt, setIndexAt)
	parse := func(line []byte, evAt, rootAt int) metric.Batch {
		evIndexAt, rootIndexAt, setIndexAt = evAt, rootAt, evAt
		var b metric.Batch
		NewParser(WithClock(testClock)).Parse(&b, line, metric.Origin{Source: "t", Line: 1})
		return b
	}
	rng := rand.New(rand.NewPCG(3, 4))
	fired := map[string]bool{}
	for range 2000 {
		line := randomWideEvent(rng)
		want := parse(line, 1<<30, 1<<30)
		got := parse(line, 2, 2)
		if diff := cmp.Diff(want.Points, got.Points); diff != "" {
			t.Fatalf("%s\npoints (-scan +index):\n%s", line, diff)
		}
		if diff := cmp.Diff(want.Diags, got.Diags); diff != "" {
			t.Fatalf("%s\ndiagnostics (-scan +index):\n%s", line, diff)
		}
		for _, d := range want.Diags {
			fired[d.Rule] = true
			if strings.Contains(d.Message, "with the same dimensions") {
				fired["across directives"] = true
			}
		}
	}
	for _, r := range []string{RuleDuplicateMetric, RuleResolutionConflict, RuleDuplicateDimSet, "across directives"} {
		if !fired[r] {
			t.Errorf("no event exercised %s", r)
		}
	}
}
