package platform

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/lambdabridge/lambdabridge/metric"
)

// event is a platform event of Lambda's JSON log format
// (LoggingConfig.LogFormat JSON): {"time","type","record"}. The record
// fields are those of the Telemetry API schema reference (schema version
// 2022-12-13, verified on the AWS Lambda developer guide's "Lambda
// Telemetry API Event schema reference" page): platform.report's record
// holds requestId, status, errorType, metrics{durationMs, billedDurationMs,
// memorySizeMB, maxMemoryUsedMB, initDurationMs, restoreDurationMs,
// billedRestoreDurationMs} and tracing{type, value}.
type event struct {
	Time   string          `json:"time"`
	Type   string          `json:"type"`
	Record json.RawMessage `json:"record"`
}

type record struct {
	// platform.logsDropped
	Reason         string `json:"reason"`
	DroppedRecords int64  `json:"droppedRecords"`
	DroppedBytes   int64  `json:"droppedBytes"`

	RequestID string `json:"requestId"`
	Phase     string `json:"phase"` // init, or invoke for a suppressed init (not a cold start)
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Metrics   struct {
		DurationMs              *float64 `json:"durationMs"`
		BilledDurationMs        *float64 `json:"billedDurationMs"`
		MemorySizeMB            *float64 `json:"memorySizeMB"`
		MaxMemoryUsedMB         *float64 `json:"maxMemoryUsedMB"`
		InitDurationMs          float64  `json:"initDurationMs"`
		RestoreDurationMs       float64  `json:"restoreDurationMs"`
		BilledRestoreDurationMs float64  `json:"billedRestoreDurationMs"`
	} `json:"metrics"`
	Tracing struct {
		Value string `json:"value"`
	} `json:"tracing"`

	// vals holds what decodeRecord points Metrics' pointers at.
	vals [4]float64
}

func msDur(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

// event reads one JSON platform event; false when it is not one.
func (p *Parser) event(b *metric.Batch, line []byte, c Context) bool {
	var e event
	if err := json.Unmarshal(line, &e); err != nil || !strings.HasPrefix(e.Type, "platform.") {
		return false
	}
	p.Event(b, e.Type, e.Time, e.Record, c)
	return true
}

// EventInfo is what a Telemetry API subscriber may need of an event
// besides its points.
type EventInfo struct {
	RequestID string
	Status    string        // success, error, timeout, failure
	Duration  time.Duration // metrics.durationMs (0 when absent)
}

// Event reads one platform event already split into its type, time
// (RFC 3339) and record, as a Telemetry API subscriber decodes them, and
// appends the points and diagnostics it gives to b. Events that give no
// points (platform.extension, platform.telemetrySubscription, ...) are not
// decoded, and their EventInfo is empty.
func (p *Parser) Event(b *metric.Batch, typ, ts string, rec []byte, c Context) EventInfo {
	switch typ {
	case "platform.initStart", "platform.restoreStart", "platform.initReport", "platform.start",
		"platform.runtimeDone", "platform.report", "platform.logsDropped":
	default:
		return EventInfo{}
	}
	if c.TimeMs == 0 {
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			c.TimeMs = t.UnixMilli()
		}
	}
	var r record
	if !readRecord(rec, &r) {
		diag(b, c, RuleBadEvent, typ+" event has no record object", "")
		return EventInfo{}
	}
	switch typ {
	case "platform.initStart", "platform.restoreStart":
		if r.Phase != "invoke" {
			p.stream(c).coldPending = true
		}
	case "platform.initReport":
		if r.Phase != "invoke" {
			p.initReport(c, msDur(valueOr(r.Metrics.DurationMs)))
		}
	case "platform.start":
		p.start(b, c, r.RequestID)
	case "platform.runtimeDone":
		if r.Status == StatusTimeout {
			p.markTimeout(c, r.RequestID)
		}
	case "platform.report":
		p.jsonReport(b, c, &r)
	case "platform.logsDropped":
		b.AddDiag(metric.Diagnostic{
			Origin: c.Origin, Format: metric.FormatPlatform, Severity: metric.Warning, Rule: RuleLogsDropped,
			Message: fmt.Sprintf("Lambda dropped %d log records (%d bytes): %s; metrics written in them are lost", r.DroppedRecords, r.DroppedBytes, r.Reason),
			Hint:    "write fewer or smaller log lines, or metrics by another path (DogStatsD to an extension)",
		})
	}
	return EventInfo{RequestID: r.RequestID, Status: r.Status, Duration: msDur(valueOr(r.Metrics.DurationMs))}
}

func valueOr(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}

func (p *Parser) markTimeout(c Context, id string) {
	p.timedOut[streamKey{c.Origin.Function, id}] = true
}

func (p *Parser) jsonReport(b *metric.Batch, c Context, r *record) {
	m := &r.Metrics
	missing := ""
	switch {
	case r.RequestID == "":
		missing = "requestId"
	case m.DurationMs == nil:
		missing = "metrics.durationMs"
	case m.BilledDurationMs == nil:
		missing = "metrics.billedDurationMs"
	case m.MemorySizeMB == nil:
		missing = "metrics.memorySizeMB"
	case m.MaxMemoryUsedMB == nil:
		missing = "metrics.maxMemoryUsedMB"
	}
	if missing != "" {
		diag(b, c, RuleBadReport, "platform.report event has no "+missing+"; the invocation is not counted", "")
		return
	}
	p.r = Report{
		RequestID: r.RequestID, Status: r.Status, ErrorType: r.ErrorType,
		Duration: msDur(*m.DurationMs), BilledDuration: msDur(*m.BilledDurationMs),
		MemorySizeMB: int(*m.MemorySizeMB), MaxMemoryUsed: int64(*m.MaxMemoryUsedMB) << 20,
		InitDuration: msDur(m.InitDurationMs), RestoreDuration: msDur(m.RestoreDurationMs),
		BilledRestoreDuration: msDur(m.BilledRestoreDurationMs), TraceID: r.Tracing.Value,
	}
	p.finish(b, c)
}
