package platform

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/lambdabridge/lambdabridge/internal/jsonnum"
	"github.com/lambdabridge/lambdabridge/internal/jsonscan"
)

// readRecord decodes a platform event's record: decodeRecord, else
// encoding/json.
func readRecord(rec []byte, r *record) bool {
	if len(rec) == 0 {
		return false
	}
	if decodeRecord(rec, r) {
		return true
	}
	*r = record{}
	return json.Unmarshal(rec, r) == nil
}

// decodeRecord reads a platform event's record into r without reflection
// (an extension reads three of them per invocation). It takes only what
// it can read exactly as encoding/json would, and reports false for the
// rest (invalid text, a value of another type, a key encoding/json would
// match case-insensitively or after unescaping): r is then undefined, and
// encoding/json decides.
func decodeRecord(b []byte, r *record) bool {
	d := jsonscan.Scanner{B: b}
	return d.Object(func(key, val []byte) bool {
		switch string(key) {
		case "requestId":
			return str(val, &r.RequestID)
		case "phase":
			return str(val, &r.Phase)
		case "status":
			return str(val, &r.Status)
		case "errorType":
			return str(val, &r.ErrorType)
		case "reason":
			return str(val, &r.Reason)
		case "droppedRecords":
			return integer(val, &r.DroppedRecords)
		case "droppedBytes":
			return integer(val, &r.DroppedBytes)
		case "metrics":
			return isNull(val) || decodeMetrics(val, r)
		case "tracing":
			return isNull(val) || object(val, func(key, val []byte) bool {
				if string(key) == "value" {
					return str(val, &r.Tracing.Value)
				}
				return !near(key, "value")
			})
		}
		return !near(key, recordKeys...)
	}) && d.End()
}

// recordKeys are the keys of record.
var recordKeys = []string{"requestId", "phase", "status", "errorType", "reason", "droppedRecords", "droppedBytes", "metrics", "tracing"}

// metricsKeys are the keys of record.Metrics.
var metricsKeys = []string{"durationMs", "billedDurationMs", "memorySizeMB", "maxMemoryUsedMB", "initDurationMs", "restoreDurationMs", "billedRestoreDurationMs"}

func decodeMetrics(b []byte, r *record) bool {
	m := &r.Metrics
	return object(b, func(key, val []byte) bool {
		switch string(key) {
		case "durationMs":
			return floatPtr(val, &m.DurationMs, &r.vals[0])
		case "billedDurationMs":
			return floatPtr(val, &m.BilledDurationMs, &r.vals[1])
		case "memorySizeMB":
			return floatPtr(val, &m.MemorySizeMB, &r.vals[2])
		case "maxMemoryUsedMB":
			return floatPtr(val, &m.MaxMemoryUsedMB, &r.vals[3])
		case "initDurationMs":
			return float(val, &m.InitDurationMs)
		case "restoreDurationMs":
			return float(val, &m.RestoreDurationMs)
		case "billedRestoreDurationMs":
			return float(val, &m.BilledRestoreDurationMs)
		}
		return !near(key, metricsKeys...)
	})
}

// object reads a whole object value.
func object(b []byte, member func(key, val []byte) bool) bool {
	d := jsonscan.Scanner{B: b}
	return d.Object(member) && d.End()
}

func isNull(val []byte) bool { return string(val) == "null" }

// near reports whether encoding/json might take key for one of names: it
// has an escape or a byte beyond ASCII (which may unescape or fold to
// one), or equals one but for case.
func near(key []byte, names ...string) bool {
	for _, c := range key {
		if c == '\\' || c >= 0x80 {
			return true
		}
	}
	for _, n := range names {
		if bytes.EqualFold(key, []byte(n)) {
			return true
		}
	}
	return false
}

// str decodes a string (null leaves dst as it is, as in encoding/json).
func str(val []byte, dst *string) bool {
	if isNull(val) {
		return true
	}
	s, ok := jsonscan.Unquote(val)
	if ok {
		*dst = s
	}
	return ok
}

// integer decodes an integer that fits in int64.
func integer(val []byte, dst *int64) bool {
	if isNull(val) {
		return true
	}
	for i, c := range val {
		if (c < '0' || c > '9') && (i > 0 || c != '-') {
			return false // a fraction or an exponent: encoding/json refuses it
		}
	}
	n, err := strconv.ParseInt(string(val), 10, 64)
	*dst = n
	return err == nil
}

// float decodes a number.
func float(val []byte, dst *float64) bool {
	if isNull(val) {
		return true
	}
	f, ok := number(val)
	*dst = f
	return ok
}

// floatPtr decodes a number into *slot and points *dst at it (null sets
// *dst to nil, as in encoding/json).
func floatPtr(val []byte, dst **float64, slot *float64) bool {
	if isNull(val) {
		*dst = nil
		return true
	}
	f, ok := number(val)
	*slot, *dst = f, slot
	return ok
}

// number parses a JSON number that fits in a float64.
func number(val []byte) (float64, bool) {
	if end, problem := jsonnum.Scan(val, 0); problem != "" || end != len(val) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(val), 64)
	return f, err == nil
}
