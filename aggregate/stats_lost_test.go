package aggregate

import "testing"

func TestLostTotal(t *testing.T) {
	st := Stats{DroppedByReason: map[string]uint64{
		ReasonNegativeCounter: 3, ReasonCardinalityLimit: 4, ReasonOutOfOrder: 100, ReasonMappingDrop: 50,
	}}
	if got := st.LostTotal(); got != 7 {
		t.Errorf("LostTotal() = %d, want 7 (negative_counter 3 + cardinality_limit 4; superseded and mapping_drop lose nothing)", got)
	}
}
