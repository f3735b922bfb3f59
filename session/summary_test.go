package session

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lambdabridge/lambdabridge/aggregate"
	"github.com/lambdabridge/lambdabridge/pipeline"
)

func TestSummaryText(t *testing.T) {
	s := Summary{
		Input:  pipeline.Input{Lines: 10, MetricLines: map[string]int{"monitoring": 2, "emf": 5}, Datagrams: 3, Points: 9, Errors: 1, Warnings: 2},
		Series: 4, Families: 2,
		AggregateDrops:    []aggregate.Drop{{Reason: "limit", Family: "a", Values: 2}, {Reason: "negative_counter", Family: "b", Values: 1}},
		AggregateDropText: "limit 2, negative_counter 1",
		Sinks: []pipeline.Status{
			{Kind: "scrape", URL: "http://127.0.0.1:9464/metrics"},
			{Kind: "remote_write", URL: "http://127.0.0.1:9090/api/v1/write", Sent: 5, Coalesced: 4, Dropped: map[string]int64{"http_4xx": 3, "shutdown": 0}, LastError: "HTTP 400: out of order sample"},
			{Kind: "pushgateway", URL: "http://127.0.0.1:9091/metrics/job/j", Sent: 7, Err: errors.New("pushgw: delete: context deadline exceeded")},
		},
	}
	wantLine := "10 lines (emf 5, monitoring 2), 3 DogStatsD datagrams, 9 points; 1 error, 2 warnings in the input; 4 series in 2 families, 3 values dropped (limit 2, negative_counter 1)"
	if got := s.String(); got != wantLine {
		t.Errorf("String() =\n%s\nwant\n%s", got, wantLine)
	}
	one := Summary{Input: pipeline.Input{Lines: 1, Points: 1, Warnings: 1}, Series: 1, Families: 1}
	if got, want := one.String(), "1 line, 1 point; 0 errors, 1 warning in the input; 1 series in 1 family"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	var b strings.Builder
	s.WriteSinks(&b)
	want := `  scrape http://127.0.0.1:9464/metrics
  remote_write http://127.0.0.1:9090/api/v1/write: sent 5, coalesced 4 (a receiver behind: intermediate values replaced by newer ones, not lost), dropped 3 (http_4xx 3); last error: HTTP 400: out of order sample
  pushgateway http://127.0.0.1:9091/metrics/job/j: sent 7; error: pushgw: delete: context deadline exceeded
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("WriteSinks (-want +got):\n%s", diff)
	}
	if s.Dropped() != 3 || s.AggregateDropped() != 3 || !s.Failed() {
		t.Errorf("Dropped() = %d, AggregateDropped() = %d, Failed() = %v; want 3, 3, true", s.Dropped(), s.AggregateDropped(), s.Failed())
	}
	// Every drop changes the exit status (issue 16), but a superseded gauge
	// value and a mapping rule's drop lose nothing.
	for _, tc := range []struct {
		name   string
		s      Summary
		failed bool
		losses []string
	}{
		{"negative counter", Summary{AggregateDrops: []aggregate.Drop{{Reason: "negative_counter", Family: "b", Values: 1}}, AggregateDropText: "negative_counter 1"},
			true, []string{"1 values dropped by the aggregation (negative_counter 1)"}},
		{"superseded and mapping drops", Summary{AggregateDrops: []aggregate.Drop{{Reason: "superseded", Family: "g", Values: 4}, {Reason: "mapping_drop", Family: "m", Values: 2}}},
			false, nil},
		{"kernel drops", Summary{KernelDropped: 7},
			true, []string{"7 datagrams dropped by the kernel (agent socket receive buffer full: read too slowly)"}},
		{"sink drops", Summary{Sinks: []pipeline.Status{{Kind: "remote_write", Dropped: map[string]int64{"shutdown": 2}}}},
			true, []string{"2 samples dropped by the sinks"}},
	} {
		if tc.s.Failed() != tc.failed {
			t.Errorf("%s: Failed() = %v, want %v", tc.name, tc.s.Failed(), tc.failed)
		}
		if diff := cmp.Diff(tc.losses, tc.s.Losses()); diff != "" {
			t.Errorf("%s: Losses() (-want +got):\n%s", tc.name, diff)
		}
	}
	clean := Summary{Sinks: []pipeline.Status{{Kind: "remote_write", Sent: 5, LastError: "connection refused"}}}
	if clean.Failed() {
		t.Error("Failed() = true for a sink that recovered from an error and dropped nothing")
	}
}
