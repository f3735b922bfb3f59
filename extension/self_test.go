package extension_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lambdabridge/lambdabridge/catalog"
	"github.com/lambdabridge/lambdabridge/extension"
	"github.com/lambdabridge/lambdabridge/metric"
)

// TestDescribe: the extension's own families are catalogued for every
// function the catalog names (none named: without a function), with the
// type, unit and labels record delivers them with.
func TestDescribe(t *testing.T) {
	tests := []struct {
		name      string
		functions []string
		want      []string // functions of each family's source
	}{
		{"no function", nil, nil},
		{"one", []string{"orders"}, []string{"orders"}},
		{"two", []string{"payments", "orders", "orders"}, []string{"orders", "payments"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cat := catalog.New()
			for _, fn := range tc.functions {
				cat.Add(&metric.Point{Format: metric.FormatEMF, Namespace: "Shop", Name: "Orders", Kind: metric.Counter, Unit: "Count", Origin: metric.Origin{Function: fn}})
			}
			extension.Describe(cat)
			type fam struct {
				Type, Unit string
				Labels     []string
				Functions  []string
			}
			got := map[string]fam{}
			for _, name := range []string{extension.MetricInit, extension.MetricOverhead} {
				f, ok := cat.Family(name)
				if !ok || len(f.Sources) != 1 {
					t.Fatalf("%s: catalogued %v with %d sources", name, ok, len(f.Sources))
				}
				var ls []string
				for _, l := range f.Labels {
					ls = append(ls, l.Name+"="+strings.Join(l.Examples, ","))
				}
				got[name] = fam{f.Type, f.Unit, ls, f.Sources[0].Functions}
			}
			// function_name is the aggregator's label, not the family's
			want := map[string]fam{
				extension.MetricInit:     {"gauge", "seconds", nil, tc.want},
				extension.MetricOverhead: {"histogram", "seconds", []string{"strategy=invocation,periodic"}, tc.want},
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("catalogued families (-want +got):\n%s", d)
			}
		})
	}
}
