package runner

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
)

// TestDriveUntil checks that no invocation starts at or after Until, with
// callers back to back and at a rate, and that Until alone does not bound
// the count to one per event.
func TestDriveUntil(t *testing.T) {
	r, _ := newTestRunner(t, []function.Definition{goDef(t)}, WithConcurrency(2))
	tests := []struct {
		name string
		load Load
	}{
		{"workers", Load{Workers: 2}},
		{"rate", Load{Rate: 50}},
		{"invocations bound first", Load{Workers: 2, Invocations: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var starts []time.Time
			l := tt.load
			l.Function = "gofn"
			l.Until = time.Now().Add(400 * time.Millisecond)
			l.OnResult = func(_ int, res *Result, err error) {
				if err != nil {
					t.Errorf("invoke: %v", err)
					return
				}
				mu.Lock()
				starts = append(starts, res.Start)
				mu.Unlock()
			}
			if _, err := r.Drive(context.Background(), l); err != nil {
				t.Fatal(err)
			}
			if tt.load.Invocations > 0 && len(starts) != tt.load.Invocations {
				t.Errorf("%d invocations, want %d", len(starts), tt.load.Invocations)
			}
			if tt.load.Invocations == 0 && len(starts) <= 1 {
				t.Errorf("%d invocations before Until: want more than the one per event", len(starts))
			}
			if tt.load.Rate > 0 && len(starts) > 20 {
				t.Errorf("%d invocations at 50/s in 400 ms: want at most 20", len(starts))
			}
			for _, s := range starts {
				// An invocation Drive started in time reaches its environment a
				// little later on a loaded machine: a generous margin.
				if s.After(l.Until.Add(time.Second)) {
					t.Errorf("an invocation started at %v, after Until %v", s, l.Until)
				}
			}
		})
	}
}
