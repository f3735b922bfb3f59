package session

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/lambdabridge/lambdabridge/aggregate"
	"github.com/lambdabridge/lambdabridge/pipeline"
)

// Summary is what a session did, for the user and the exit status.
type Summary struct {
	// Input counts what the sources and listeners gave the pipeline.
	Input pipeline.Input
	// Agents is what each agent listener received.
	Agents []AgentStats
	// Series and Families are what the aggregation held at the end.
	Series, Families int
	// AggregateDrops are the values the aggregator refused (series limits,
	// negative counter increments...), by reason and family, and
	// AggregateDropText says it in one line (aggregate.Stats.DropSummary:
	// reasons, most first, and the label that exploded).
	AggregateDrops    []aggregate.Drop
	AggregateDropText string
	// KernelDropped counts the datagrams the kernel dropped on the agent
	// listeners' sockets (receive buffer full: read too slowly), the shared
	// listeners' and the per-environment ones'; their metrics are lost.
	KernelDropped uint64
	// Sinks is what each sink delivered, dropped, and its last error.
	Sinks []pipeline.Status
	// Err joins the errors the sources ended with (each sink's is in
	// Sinks).
	Err error
}

func (s *Session) summarize(err error) Summary {
	st := s.p.Aggregator().Stats()
	return Summary{
		Input:             s.p.Input(),
		Agents:            s.agents.stats(),
		Series:            st.Series,
		Families:          len(st.Families),
		AggregateDrops:    st.Dropped,
		AggregateDropText: st.DropSummary(),
		KernelDropped:     s.agents.kernelDropped() + s.perEnv.kernelDropped.Load(),
		Sinks:             s.p.SinkStatus(),
		Err:               err,
	}
}

// Dropped counts the samples the sinks dropped.
func (s Summary) Dropped() int64 {
	var n int64
	for _, st := range s.Sinks {
		n += st.DroppedTotal()
	}
	return n
}

// AggregateDropped counts the values the aggregator refused (input it
// cannot represent, series limits), for whatever reason.
func (s Summary) AggregateDropped() uint64 {
	var n uint64
	for _, d := range s.AggregateDrops {
		n += d.Values
	}
	return n
}

// AggregateLost counts the values the aggregator refused for a reason that
// loses input (aggregate.Lost: all but superseded gauge values and
// mapping rules' drops).
func (s Summary) AggregateLost() uint64 {
	var n uint64
	for _, d := range s.AggregateDrops {
		if aggregate.Lost(d.Reason) {
			n += d.Values
		}
	}
	return n
}

// Failed reports whether the session lost input or output: a sink dropped
// samples or failed, the aggregator dropped values it could not represent
// (AggregateLost), or the kernel dropped datagrams (KernelDropped). The
// caller exits 1 (every drop changes the exit status). A source's error
// (invocations cut at shutdown) is in Err and the caller's own accounting.
func (s Summary) Failed() bool {
	return s.Dropped() > 0 || s.SinkErr() != nil || s.AggregateLost() > 0 || s.KernelDropped > 0
}

// Losses says what Failed counts, one phrase per kind, for the exit
// message: the sinks' errors (with their accounting) or samples dropped,
// the values the aggregation lost and why, the datagrams the kernel dropped.
func (s Summary) Losses() []string {
	var out []string
	if err := s.SinkErr(); err != nil {
		out = append(out, err.Error())
	} else if n := s.Dropped(); n > 0 {
		out = append(out, fmt.Sprintf("%d samples dropped by the sinks", n))
	}
	return append(out, s.InputLosses()...)
}

// InputLosses says what was lost before the sinks, one phrase per kind:
// the values the aggregation lost and why, the datagrams the kernel
// dropped.
func (s Summary) InputLosses() []string {
	var out []string
	if n := s.AggregateLost(); n > 0 {
		out = append(out, fmt.Sprintf("%d values dropped by the aggregation (%s)", n, s.AggregateDropText))
	}
	if s.KernelDropped > 0 {
		out = append(out, kernelText(s.KernelDropped))
	}
	return out
}

// kernelText says the kernel dropped n datagrams.
func kernelText(n uint64) string {
	return fmt.Sprintf("%d datagrams dropped by the kernel (agent socket receive buffer full: read too slowly)", n)
}

// SinkErr joins the errors the sinks ended with (a dropping sink's error
// holds its accounting).
func (s Summary) SinkErr() error {
	var errs []error
	for _, st := range s.Sinks {
		errs = append(errs, st.Err)
	}
	return errors.Join(errs...)
}

// String is the one-line account of the input and the aggregation.
func (s Summary) String() string {
	in := s.Input
	var b strings.Builder
	b.WriteString(count(in.Lines, "line"))
	if len(in.MetricLines) > 0 {
		var parts []string
		for _, f := range slices.Sorted(maps.Keys(in.MetricLines)) {
			parts = append(parts, fmt.Sprintf("%s %d", f, in.MetricLines[f]))
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	if in.Datagrams > 0 {
		b.WriteString(", " + count(in.Datagrams, "DogStatsD datagram"))
	}
	if s.KernelDropped > 0 {
		b.WriteString(" (and " + kernelText(s.KernelDropped) + ")")
	}
	fmt.Fprintf(&b, ", %s; %s, %s in the input; %s in %s", count(in.Points, "point"),
		count(in.Errors, "error"), count(in.Warnings, "warning"), count(s.Series, "series"), count(s.Families, "family"))
	if dropped := s.AggregateDropped(); dropped > 0 {
		fmt.Fprintf(&b, ", %d values dropped (%s)", dropped, s.AggregateDropText)
	}
	return b.String()
}

// count says "1 line", "2 lines", "2 series", "2 families".
func count(n int, word string) string {
	switch {
	case n == 1 || strings.HasSuffix(word, "series"):
		return fmt.Sprintf("%d %s", n, word)
	case strings.HasSuffix(word, "y"):
		return fmt.Sprintf("%d %sies", n, word[:len(word)-1])
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// WriteSinks writes one line per sink: kind, URL (credentials redacted),
// samples sent, dropped by reason, and the last error, e.g.
//
//	remote_write http://127.0.0.1:9090/api/v1/write: sent 0, dropped 12 (shutdown 12); last error: connection refused
func (s Summary) WriteSinks(w io.Writer) {
	for _, st := range s.Sinks {
		fmt.Fprintf(w, "  %s %s", st.Kind, st.URL)
		if st.Kind != "scrape" {
			fmt.Fprintf(w, ": sent %d", st.Sent)
		}
		if st.Coalesced > 0 {
			fmt.Fprintf(w, ", coalesced %d (a receiver behind: intermediate values replaced by newer ones, not lost)", st.Coalesced)
		}
		if n := st.DroppedTotal(); n > 0 {
			var parts []string
			for _, r := range slices.Sorted(maps.Keys(st.Dropped)) {
				if st.Dropped[r] > 0 {
					parts = append(parts, fmt.Sprintf("%s %d", r, st.Dropped[r]))
				}
			}
			fmt.Fprintf(w, ", dropped %d (%s)", n, strings.Join(parts, ", "))
		}
		if st.LastError != "" {
			fmt.Fprintf(w, "; last error: %s", st.LastError)
		} else if st.Err != nil {
			fmt.Fprintf(w, "; error: %v", st.Err)
		}
		fmt.Fprintln(w)
	}
}
