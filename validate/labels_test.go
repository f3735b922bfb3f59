package validate

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lambdabridge/lambdabridge/metric"
)

// quadraticClashes is the pairwise definition of a label clash that
// checkLabels implements in linear time: for each i, the first j < i whose
// key translates to the same label name with another spelling, reported once
// per label name.
func quadraticClashes(f metric.Format, labels []metric.Label) []string {
	names := make([]string, len(labels))
	for i, l := range labels {
		names[i] = metric.LabelName(f, l.Name)
	}
	done := map[string]bool{}
	var out []string
	for i := 1; i < len(labels); i++ {
		for j := 0; j < i; j++ {
			if names[i] != names[j] || labels[i].Name == labels[j].Name || done[names[i]] {
				continue
			}
			done[names[i]] = true
			out = append(out, fmt.Sprintf("keys %q and %q of %q both become Prometheus label %q; the first one's value is kept",
				labels[j].Name, labels[i].Name, "X", names[i]))
		}
	}
	return out
}

func clashMessages(labels []metric.Label, f metric.Format) []string {
	var b metric.Batch
	b.AddPoint(metric.Point{Format: f, Namespace: "A", Name: "X", Labels: labels})
	New().Check(&b)
	var got []string
	for _, d := range b.Diags {
		if d.Rule == RuleLabelClash {
			got = append(got, d.Message)
		}
	}
	return got
}

// TestLabelClashDuplicates checks the linear label-clash check against the
// pairwise definition on lines full of repeated and clashing keys, below
// and above the size where it switches from a scan to a map.
func TestLabelClashDuplicates(t *testing.T) {
	spellings := []string{"Service", "service", "SERVICE", "env", "Env", "ENV", "aB", "a_b", "a.b", "x", "y", "z"}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{2, 3, 5, 16, 17, 40, 300} {
		for round := range 50 {
			labels := make([]metric.Label, n)
			for i := range labels {
				labels[i] = metric.Label{Name: spellings[rng.IntN(len(spellings))], Value: strconv.Itoa(i)}
			}
			for _, f := range []metric.Format{metric.FormatEMF, metric.FormatDogStatsD} {
				want := quadraticClashes(f, labels)
				if diff := cmp.Diff(want, clashMessages(labels, f)); diff != "" {
					t.Fatalf("%d labels, round %d, %s %v (-want +got):\n%s", n, round, f, labels, diff)
				}
			}
		}
	}
}

func TestLabelClashCases(t *testing.T) {
	many := func(extra ...string) []metric.Label {
		var ls []metric.Label
		for i := range 20 {
			ls = append(ls, metric.Label{Name: "k" + strconv.Itoa(i)})
		}
		for _, e := range extra {
			ls = append(ls, metric.Label{Name: e})
		}
		return ls
	}
	tests := []struct {
		name   string
		labels []metric.Label
		want   []string // the two keys of each clash
	}{
		{"repeated key is no clash", []metric.Label{{Name: "Service"}, {Name: "Service"}}, nil},
		{"clash after a repeat pairs the first key", []metric.Label{{Name: "Service"}, {Name: "Service"}, {Name: "service"}}, []string{"Service", "service"}},
		{"one report per label name", []metric.Label{{Name: "Service"}, {Name: "service"}, {Name: "SERVICE"}}, []string{"Service", "service"}},
		{"two label names", []metric.Label{{Name: "Env"}, {Name: "Service"}, {Name: "env"}, {Name: "service"}}, []string{"Env", "env", "Service", "service"}},
		{"many labels, repeat then clash", many("Service", "Service", "service", "k3"), []string{"Service", "service"}},
		{"many labels, no clash", many("k1", "k2", "k19"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			for i := 0; i < len(tt.want); i += 2 {
				want = append(want, fmt.Sprintf("keys %q and %q of %q both become Prometheus label %q; the first one's value is kept",
					tt.want[i], tt.want[i+1], "X", metric.LabelName(metric.FormatEMF, tt.want[i])))
			}
			if diff := cmp.Diff(want, clashMessages(tt.labels, metric.FormatEMF)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
