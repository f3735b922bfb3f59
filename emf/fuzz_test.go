package emf

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/lambdabridge/lambdabridge/metric"
)

// FuzzEMF checks that Parse never panics and keeps its contract on any
// line: false leaves the batch untouched; a dropped event has no points;
// every diagnostic is well formed; points carry finite values; and the
// scanner agrees with encoding/json on what is valid JSON.
func FuzzEMF(f *testing.F) {
	for _, tc := range parseCases() {
		f.Add([]byte(tc.line))
	}
	for _, l := range benchLines {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		p := NewParser(WithClock(testClock))
		var b metric.Batch
		// A batch with content, to see that false leaves it alone.
		b.AddDiag(metric.Diagnostic{Rule: "sentinel"})
		ok := p.Parse(&b, line, origin)
		if !ok {
			if len(b.Points) != 0 || len(b.Diags) != 1 {
				t.Fatalf("Parse returned false but changed the batch: %+v", b)
			}
			if i := bytes.IndexByte(line, '{'); i >= 0 && bytes.Contains(line[i:], awsKey) {
				// A valid object without a root _aws is the only other false.
				var raw json.RawMessage
				if err := json.NewDecoder(bytes.NewReader(line[i:])).Decode(&raw); err != nil && bytes.Count(line, []byte{'{'}) < maxDepth {
					t.Fatalf("Parse returned false for broken JSON mentioning _aws")
				}
			}
			return
		}
		diags := b.Diags[1:]
		dropped, invalidJSON, around := false, false, false
		for _, d := range diags {
			if d.Format != metric.FormatEMF || d.Origin != origin || !strings.HasPrefix(d.Rule, "emf/") || d.Message == "" ||
				d.Severity != metric.Error && d.Severity != metric.Warning {
				t.Fatalf("malformed diagnostic %+v", d)
			}
			if d.Severity == metric.Error && d.Effect == metric.EffectDropsEvent {
				dropped = true
			}
			switch d.Rule {
			case RuleInvalidJSON:
				invalidJSON = true
			case RuleTextAroundObject:
				around = true
			}
		}
		if dropped && len(b.Points) != 0 {
			t.Fatalf("event dropped but %d points appended", len(b.Points))
		}
		for _, pt := range b.Points {
			if pt.Format != metric.FormatEMF || pt.Name == "" || len(pt.Values) == 0 || len(pt.Values) > maxValuesPerMetric {
				t.Fatalf("malformed point %s", pt.String())
			}
			for _, v := range pt.Values {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("point %s has a non-finite value", pt.String())
				}
			}
		}
		// Agreement with encoding/json, for a line that is just an object.
		if len(line) > 0 && line[0] == '{' && bytes.Count(line, []byte{'['})+bytes.Count(line, []byte{'{'}) < maxDepth {
			valid := json.Valid(line)
			if valid && invalidJSON {
				t.Fatalf("json.Valid accepts the line, the scanner does not: %v", diags)
			}
			if !valid && !invalidJSON && !around {
				t.Fatalf("json.Valid rejects the line, the scanner accepts it")
			}
		}
		// A second parse of the same line gives the same result (no state
		// leaks from one line into the next, other than Finish's).
		var b2 metric.Batch
		p2 := NewParser(WithClock(testClock))
		p2.Parse(&b2, line, origin)
		if len(b2.Points) != len(b.Points) || len(b2.Diags) != len(diags) {
			t.Fatalf("parse not deterministic: %d/%d points, %d/%d diags", len(b.Points), len(b2.Points), len(diags), len(b2.Diags))
		}
	})
}
