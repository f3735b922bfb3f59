package platform

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// recordCases are platform records: what decodeRecord reads it must read
// as encoding/json does, and what it refuses encoding/json decides.
var recordCases = []struct {
	name, in string
	fast     bool // decodeRecord takes it
}{
	{"report", `{"requestId":"r1","status":"success","metrics":{"durationMs":20.1,"billedDurationMs":21,"memorySizeMB":256,"maxMemoryUsedMB":10,"initDurationMs":42.5},"tracing":{"spanId":"s","type":"X-Amzn-Trace-Id","value":"Root=1-x"},"spans":[{"name":"responseLatency","durationMs":1}]}`, true},
	{"runtimeDone", `{"requestId":"r1","status":"timeout","errorType":"Sandbox.Timedout","metrics":{"durationMs":3000,"producedBytes":0}}`, true},
	{"initReport", ` {"initializationType":"on-demand","phase":"init","status":"success","metrics":{"durationMs":1e2}} `, true},
	{"logsDropped", `{"reason":"Some logs were dropped","droppedRecords":12,"droppedBytes":-3}`, true},
	{"escapes", `{"requestId":"r\u00e9\n\"q\"","status":"succ\/ess"}`, true},
	{"nulls", `{"requestId":null,"metrics":{"durationMs":null,"initDurationMs":null},"tracing":null}`, true},
	{"metrics null", `{"metrics":null}`, true},
	{"last key wins", `{"status":"a","status":"b","metrics":{"durationMs":1},"metrics":{"billedDurationMs":2}}`, true},
	{"empty", `{}`, true},
	{"key case", `{"RequestID":"r1"}`, false},
	{"escaped key", `{"request\u0049d":"r1"}`, false},
	{"kelvin sign key", "{\"\u212aey\":1,\"phase\":\"init\"}", false},
	{"nested key case", `{"metrics":{"DurationMs":1}}`, false},
	{"fraction in a count", `{"droppedRecords":1.5}`, false},
	{"exponent in a count", `{"droppedRecords":1e2}`, false},
	{"count beyond int64", `{"droppedBytes":9223372036854775808}`, false},
	{"number beyond float64", `{"metrics":{"durationMs":1e400}}`, false},
	{"number as a string", `{"metrics":{"durationMs":"1"}}`, false},
	{"string as a number", `{"status":1}`, false},
	{"metrics not an object", `{"metrics":[1]}`, false},
	{"invalid UTF-8", "{\"status\":\"\xff\"}", false},
	{"not an object", `[]`, false},
	{"trailing data", `{} x`, false},
	{"invalid", `{"status":}`, false},
}

func TestDecodeRecord(t *testing.T) {
	for _, tc := range recordCases {
		t.Run(tc.name, func(t *testing.T) {
			var got record
			if ok := decodeRecord([]byte(tc.in), &got); ok != tc.fast {
				t.Fatalf("decodeRecord(%s) = %v, want %v", tc.in, ok, tc.fast)
			}
			if !tc.fast {
				return
			}
			var want record
			if err := json.Unmarshal([]byte(tc.in), &want); err != nil {
				t.Fatalf("encoding/json refuses what decodeRecord took: %v", err)
			}
			if diff := cmp.Diff(want, got, recordCmp); diff != "" {
				t.Errorf("decodeRecord differs from encoding/json (-want +got):\n%s", diff)
			}
		})
	}
}

// recordCmp compares records by what they hold (decodeRecord's pointers
// point into the record itself).
var recordCmp = cmpopts.IgnoreUnexported(record{})

// FuzzDecodeRecord: what decodeRecord takes, encoding/json takes too and
// reads alike.
func FuzzDecodeRecord(f *testing.F) {
	for _, tc := range recordCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got record
		if !decodeRecord(b, &got) {
			return
		}
		var want record
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("decodeRecord took %q, encoding/json refuses it: %v", b, err)
		}
		if diff := cmp.Diff(want, got, recordCmp); diff != "" {
			t.Errorf("decodeRecord(%q) differs from encoding/json (-want +got):\n%s", b, diff)
		}
	})
}

// BenchmarkDecodeRecord: a platform.report record (an extension reads
// three records per invocation) by decodeRecord, beside encoding/json.
func BenchmarkDecodeRecord(b *testing.B) {
	in := []byte(recordCases[0].in)
	for _, d := range []struct {
		name string
		fn   func([]byte, *record) bool
	}{
		{"decodeRecord", decodeRecord},
		{"encoding-json", func(b []byte, r *record) bool { return json.Unmarshal(b, r) == nil }},
	} {
		b.Run(d.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var r record
				if !d.fn(in, &r) || r.Metrics.DurationMs == nil {
					b.Fatal("not read")
				}
			}
		})
	}
}
