package aggregate

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/lambdabridge/lambdabridge/metric"
)

// Stats is a snapshot of what the aggregator holds and what it dropped.
type Stats struct {
	// Series is the number of live series.
	Series int
	// Families lists the live families, sorted by name.
	Families []FamilyStats
	// Dropped lists the dropped values by reason and family, sorted by
	// reason then family. Family is the mapped family name, or the point's
	// name as written when the Mapper dropped it.
	Dropped []Drop
	// DroppedTotal is the sum of Dropped.
	DroppedTotal uint64
	// DroppedByReason sums Dropped per reason (nil when nothing was
	// dropped); DropSummary renders it for a run summary.
	DroppedByReason map[string]uint64
	// Expired counts the series removed by TTL since start.
	Expired uint64
	// Points and Values count what was accepted since start, in all
	// families, including those removed since: every value given to Add is
	// in Values or DroppedTotal.
	Points, Values uint64
}

// FamilyStats describes one family.
type FamilyStats struct {
	Name   string
	Type   metric.Type
	Series int
	// Points and Values count what was accepted into the family.
	Points, Values uint64
	// Limited counts values dropped by the cardinality guard; when it is not
	// zero, ExplodedLabel names the label with the most distinct values
	// (DistinctValues of them) at the time the limit was first hit.
	Limited        uint64
	ExplodedLabel  string
	DistinctValues int
}

// Drop counts values dropped for one reason in one family.
type Drop struct {
	Reason, Family string
	Values         uint64
}

// Stats returns a snapshot of the aggregator's accounting.
func (a *Aggregator) Stats() Stats {
	a.mu.RLock() // so no family is retired while we count
	defer a.mu.RUnlock()
	st := Stats{Expired: a.expired.Load(), Points: a.retiredPoints.Load(), Values: a.retiredValues.Load()}
	for _, f := range a.sortedFamiliesLocked() {
		f.mu.Lock()
		fs := FamilyStats{
			Name: f.name, Type: f.typ, Series: len(f.series),
			Points: f.points.Load(), Values: f.values.Load(),
			Limited: f.limited, ExplodedLabel: f.exploded, DistinctValues: f.explodedN,
		}
		f.mu.Unlock()
		st.Series += fs.Series
		st.Points += fs.Points
		st.Values += fs.Values
		st.Families = append(st.Families, fs)
	}
	a.dropMu.Lock()
	for k, n := range a.drops {
		st.Dropped = append(st.Dropped, Drop{Reason: k.reason, Family: k.family, Values: n})
		st.DroppedTotal += n
		if st.DroppedByReason == nil {
			st.DroppedByReason = map[string]uint64{}
		}
		st.DroppedByReason[k.reason] += n
	}
	a.dropMu.Unlock()
	slices.SortFunc(st.Dropped, func(x, y Drop) int {
		if c := strings.Compare(x.Reason, y.Reason); c != 0 {
			return c
		}
		return strings.Compare(x.Family, y.Family)
	})
	return st
}

// Lost reports whether values dropped for reason are input lost (a run,
// tail or convert then exits 1): every reason but superseded (a newer value
// of the same gauge won, as it would in Prometheus) and mapping_drop (the
// user's mapping rule asked for the drop).
func Lost(reason string) bool {
	return reason != ReasonOutOfOrder && reason != ReasonMappingDrop
}

// LostTotal counts the values dropped for reasons that lose input (Lost).
func (s Stats) LostTotal() uint64 {
	var n uint64
	for r, v := range s.DroppedByReason {
		if Lost(r) {
			n += v
		}
	}
	return n
}

// DropSummary says in one line what was dropped and why, most first, for a
// run summary; for cardinality_limit it names the families that hit the
// guard and the label that exploded in each:
//
//	cardinality_limit 990000 (api_requests_total: label request_id, 10000 values), negative_counter 3
//
// It is "" when nothing was dropped.
func (s Stats) DropSummary() string {
	reasons := slices.Collect(maps.Keys(s.DroppedByReason))
	slices.SortFunc(reasons, func(x, y string) int {
		if c := cmp.Compare(s.DroppedByReason[y], s.DroppedByReason[x]); c != 0 {
			return c
		}
		return strings.Compare(x, y)
	})
	parts := make([]string, 0, len(reasons))
	for _, r := range reasons {
		part := fmt.Sprintf("%s %d", r, s.DroppedByReason[r])
		if r == ReasonCardinalityLimit {
			if ex := s.exploded(); ex != "" {
				part += " (" + ex + ")"
			}
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, ", ")
}

// exploded lists up to three families that hit the cardinality guard, with
// the label that exploded.
func (s Stats) exploded() string {
	var fams []string
	for _, f := range s.Families {
		if f.Limited > 0 && f.ExplodedLabel != "" {
			fams = append(fams, fmt.Sprintf("%s: label %s, %d values", f.Name, f.ExplodedLabel, f.DistinctValues))
		}
	}
	if len(fams) > 3 {
		fams = append(fams[:3], fmt.Sprintf("%d more families", len(fams)-3))
	}
	return strings.Join(fams, "; ")
}
