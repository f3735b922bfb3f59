package extension

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDecodeBatch: the reflection-free decoder gives what encoding/json
// gives for every batch both take, and refuses what is not an array of
// objects (the receiver then asks encoding/json, which says why).
func TestDecodeBatch(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"empty", `[]`, true},
		{"spaces", " [ \n] \t", true},
		{"one of each", teleSeeds[2], true},
		{"escapes", `[{"type":"function","time":"t\/1","record":"a \"quoted\" \\ tab\t line"}]`, true},
		{"unicode escape", `[{"type":"functi\u006fn","record":"caf\u00e9 \ud83d\ude00"}]`, true},
		{"other members", `[{"x":[1,{"y":null}],"type":"platform.start","record":{"requestId":"r"},"z":-1.5e3}]`, true},
		{"key case", `[{"Type":"function","RECORD":"x"}]`, true},
		{"last key wins", `[{"type":"a","type":"b","record":1,"record":2}]`, true},
		{"nested record", `[{"type":"function","record":{"a":[[[{"b":"]}"}]]]}}]`, true},
		{"not an array", `{}`, false},
		{"trailing data", `[] x`, false},
		{"number element", `[1]`, false},
		{"unterminated", `[{"type":"function"`, false},
		{"missing colon", `[{"type" "x"}]`, false},
		{"control byte in string", "[{\"type\":\"a\nb\"}]", false},
		{"type not a string", `[{"type":5}]`, false},
		{"bad number in a record", `[{"type":"function","record":[01]}]`, false},
		{"bad literal in a record", `[{"type":"function","record":tru}]`, false},
		{"bad escape", `[{"type":"a\x"}]`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeBatch(nil, []byte(tc.in))
			if (err == nil) != tc.ok {
				t.Fatalf("decodeBatch(%s): %v, want ok %v", tc.in, err, tc.ok)
			}
			if err != nil {
				return
			}
			want, err := decodeBatchSlow(nil, []byte(tc.in))
			if err != nil {
				t.Fatalf("encoding/json refuses what decodeBatch took: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("decodeBatch differs from encoding/json (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzDecodeBatch: what decodeBatch takes, encoding/json takes too and
// reads alike.
func FuzzDecodeBatch(f *testing.F) {
	for _, s := range teleSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeBatch(nil, b)
		if err != nil {
			return
		}
		want, err := decodeBatchSlow(nil, b)
		if err != nil {
			t.Fatalf("decodeBatch took %q, encoding/json refuses it: %v", b, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("decodeBatch(%q) differs from encoding/json (-want +got):\n%s", b, diff)
		}
	})
}

// BenchmarkDecodeBatch: a batch of 100 invocations of the example
// function as the Telemetry API delivers it (platform.start, six log lines,
// runtimeDone, report), by decodeBatch and by encoding/json in the same run.
func BenchmarkDecodeBatch(b *testing.B) {
	in := exampleBatch(0, 100)
	if strings.Count(string(in), `"type"`) != 900 {
		b.Fatal("the batch is not 900 events")
	}
	for _, d := range []struct {
		name string
		fn   func([]teleEvent, []byte) ([]teleEvent, error)
	}{{"decodeBatch", decodeBatch}, {"encoding-json", decodeBatchSlow}} {
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			var evs []teleEvent
			for b.Loop() {
				var err error
				if evs, err = d.fn(evs[:0], in); err != nil || len(evs) != 900 {
					b.Fatal(len(evs), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100/1000, "us/invocation")
		})
	}
}
