package remotewrite

import (
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
)

// reason says why samples were dropped or retried. The names are the values of
// the "reason" label.
type reason uint8

const (
	_ reason = iota
	reasonInvalidMetricName
	reasonInvalidLabelName
	reasonDuplicateLabel
	reasonOutOfOrder
	reasonHTTP4xx
	reasonRetried4xx
	reasonHTTP429
	reasonHTTPStatus // a non-retryable status outside 2xx/4xx/5xx
	reasonShutdown
	reasonTooOld
	reasonNotWritten
	// retry reasons
	reasonAuth
	reasonHTTP5xx
	reasonNetwork
	reasonTimeout
	reasonRW2Unsupported
	numReasons
)

var reasonNames = [numReasons]string{
	reasonInvalidMetricName: "invalid_metric_name",
	reasonInvalidLabelName:  "invalid_label_name",
	reasonDuplicateLabel:    "duplicate_label",
	reasonOutOfOrder:        "out_of_order",
	reasonHTTP4xx:           "http_4xx",
	reasonRetried4xx:        "http_4xx_after_retry",
	reasonHTTP429:           "http_429",
	reasonHTTPStatus:        "http_status",
	reasonShutdown:          "shutdown",
	reasonTooOld:            "too_old",
	reasonNotWritten:        "not_written",
	reasonRW2Unsupported:    "rw2_unsupported",
	reasonAuth:              "auth",
	reasonHTTP5xx:           "http_5xx",
	reasonNetwork:           "network",
	reasonTimeout:           "timeout",
}

func (r reason) String() string { return reasonNames[r] }

// counters are the writer's accounting. Invariant, at any quiescent moment:
// emitted = sent + coalesced + sum(dropped) + pending.
type counters struct {
	emitted   atomic.Int64
	sent      atomic.Int64
	coalesced atomic.Int64 // replaced in the queue by a newer sample of their series
	sendNanos atomic.Int64 // time spent sending, summed over the shards
	failing   atomic.Bool  // the last attempt failed
	// metadata entries (one per family) sent and failed (1.0 only)
	metaSent, metaFailed atomic.Int64
	dropped              [numReasons]atomic.Int64
	retried              [numReasons]atomic.Int64
	pending              atomic.Int64 // queued or in flight
}

// Stats is a snapshot of a writer's accounting, in samples.
type Stats struct {
	// Emitted counts every sample the writer was given to send, stale markers
	// and invalid series included:
	// Emitted == Sent + Coalesced + Dropped total + Pending.
	Emitted int64
	Sent    int64
	// Coalesced counts samples that waited while the receiver was behind and
	// were replaced by a newer sample of their series before being sent:
	// intermediate values not sent, not lost (the newer value was sent or
	// is pending).
	Coalesced int64
	Pending   int64
	// Dropped by reason: invalid_metric_name, invalid_label_name,
	// duplicate_label, out_of_order, http_4xx, http_4xx_after_retry (a 400
	// or 409 answering a retry: an earlier attempt may have been stored),
	// http_429, http_status, shutdown, too_old (older than
	// sample_age_limit), not_written (a 2.0 receiver wrote fewer than sent).
	Dropped map[string]int64
	// Retried counts samples per failed attempt that was retried, by reason
	// (http_5xx, http_429, network, timeout, auth); not part of the invariant.
	Retried map[string]int64
}

// DroppedTotal sums Dropped.
func (s Stats) DroppedTotal() int64 {
	var n int64
	for _, v := range s.Dropped {
		n += v
	}
	return n
}

func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "emitted %d, sent %d, pending %d, dropped %d", s.Emitted, s.Sent, s.Pending, s.DroppedTotal())
	if s.Coalesced > 0 {
		fmt.Fprintf(&b, ", coalesced %d", s.Coalesced)
	}
	keys := make([]string, 0, len(s.Dropped))
	for k := range s.Dropped {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, s.Dropped[k])
	}
	if len(keys) > 0 {
		b.WriteString(")")
	}
	return b.String()
}

func (c *counters) snapshot() Stats {
	s := Stats{Dropped: map[string]int64{}, Retried: map[string]int64{}}
	// read the outcomes before emitted: samples only move from emitted to
	// an outcome, so a concurrent snapshot errs towards Pending >= 0.
	s.Sent = c.sent.Load()
	s.Coalesced = c.coalesced.Load()
	for r := range numReasons {
		if n := c.dropped[r].Load(); n > 0 {
			s.Dropped[reason(r).String()] = n
		}
		if n := c.retried[r].Load(); n > 0 {
			s.Retried[reason(r).String()] = n
		}
	}
	s.Pending = c.pending.Load()
	s.Emitted = c.emitted.Load()
	return s
}
