package metric

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A batch is reused: Reset keeps its memory, and what a parser stores in
// its arena stays intact while later points are added.
func TestBatchResetAndReuse(t *testing.T) {
	var b Batch
	names := make([]string, 100)
	for i := range names {
		names[i] = string(rune('a' + i))
	}
	scratch := make([]Label, 1)
	values := make([]float64, 2)
	members := []string{"m"}
	fill := func(n int) {
		for i := range n {
			scratch[0] = Label{Name: "i", Value: names[i]}
			values[0], values[1] = float64(i), float64(i)+0.5
			b.AddPoint(Point{Name: "p", Labels: b.Labels(scratch), Values: b.Values(values), Members: b.Members(members)})
			scratch[0].Value = "overwritten" // the arena holds its own copy
		}
		b.AddDiag(Diagnostic{Severity: Error, Rule: "x/y"})
		b.AddDiag(Diagnostic{Severity: Warning, Rule: "x/z"})
	}
	fill(100)
	for i, p := range b.Points {
		want := Point{Name: "p", Labels: []Label{{Name: "i", Value: names[i]}}, Values: []float64{float64(i), float64(i) + 0.5}, Members: []string{"m"}}
		if diff := cmp.Diff(want, p); diff != "" {
			t.Fatalf("point %d after 100 appends (-want +got):\n%s", i, diff)
		}
	}
	if b.Errors() != 1 {
		t.Errorf("Errors() = %d, want 1", b.Errors())
	}
	pointsCap, labelsCap := cap(b.Points), cap(b.labels)

	b.Reset()
	if len(b.Points) != 0 || len(b.Diags) != 0 || b.Errors() != 0 {
		t.Fatalf("after Reset: %d points, %d diagnostics", len(b.Points), len(b.Diags))
	}
	allocs := testing.AllocsPerRun(10, func() { b.Reset(); fill(100) })
	if allocs != 0 {
		t.Errorf("refilling a reset batch allocated %v times, want 0", allocs)
	}
	if cap(b.Points) != pointsCap || cap(b.labels) != labelsCap {
		t.Errorf("Reset did not keep the memory: caps %d/%d, were %d/%d", cap(b.Points), cap(b.labels), pointsCap, labelsCap)
	}
}

// A slice taken from the arena cannot be grown into the next point's
// values: appending to it copies.
func TestBatchArenaSlicesAreCapped(t *testing.T) {
	var b Batch
	first := b.Values([]float64{1, 2})
	second := b.Values([]float64{3})
	_ = append(first, 99)
	if second[0] != 3 {
		t.Errorf("appending to one arena slice overwrote the next: %v", second)
	}
	l1 := b.Labels([]Label{{Name: "a"}})
	l2 := b.Labels([]Label{{Name: "b"}})
	_ = append(l1, Label{Name: "evil"})
	if l2[0].Name != "b" {
		t.Errorf("appending to one label slice overwrote the next: %v", l2)
	}
}

// AddPoint returns the stored copy: a parser fills it in place.
func TestBatchAddPointReturnsStoredCopy(t *testing.T) {
	var b Batch
	p := b.AddPoint(Point{Name: "a"})
	p.Name = "b"
	if b.Points[0].Name != "b" {
		t.Errorf("AddPoint did not return the stored point: %q", b.Points[0].Name)
	}
	pt := b.Points[0].Clone()
	b.Reset()
	b.AddPoint(Point{Name: "c"})
	if pt.Name != "b" {
		t.Errorf("a cloned point changed after Reset: %q", pt.Name)
	}
}
