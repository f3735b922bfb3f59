package dogstatsd

import (
	"bytes"
	"math"
	"testing"

	"github.com/lambdabridge/lambdabridge/metric"
)

// checkInvariants holds for any input: points have a name and a value or a
// member, values are finite, diagnostics use a rule of the table.
func checkInvariants(t *testing.T, b *metric.Batch) {
	t.Helper()
	for i := range b.Points {
		pt := &b.Points[i]
		if pt.Name == "" {
			t.Fatalf("point without name: %v", pt)
		}
		if len(pt.Values) == 0 && len(pt.Members) == 0 {
			t.Fatalf("point without value or member: %v", pt)
		}
		for _, v := range pt.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("non-finite value: %v", pt)
			}
		}
		if pt.SampleRate < 0 || pt.SampleRate > 1 {
			t.Fatalf("sample rate out of range: %v", pt)
		}
	}
	for i := range b.Diags {
		d := &b.Diags[i]
		if !knownRule(d.Rule, d.Severity, d.Effect) || d.Message == "" {
			t.Fatalf("diagnostic outside the rule table: %s", d.String())
		}
	}
}

// lineFunc is the shape of Monitoring and JSON.
type lineFunc func(*Parser, *metric.Batch, []byte, metric.Origin) bool

func fuzzLine(f *testing.F, cases []tcase, parse lineFunc) {
	for _, tc := range cases {
		f.Add([]byte(tc.in))
	}
	p := NewParser()
	f.Fuzz(func(t *testing.T, line []byte) {
		var b metric.Batch
		in := bytes.Clone(line)
		ours := parse(p, &b, line, testOrigin)
		if !bytes.Equal(in, line) {
			t.Fatalf("parser modified its input")
		}
		if !ours && (len(b.Points) > 0 || len(b.Diags) > 0) {
			t.Fatalf("returned false but appended %d points, %d diagnostics", len(b.Points), len(b.Diags))
		}
		if ours && len(b.Points) == 0 && b.Errors() == 0 {
			t.Fatalf("returned true without a point or an error")
		}
		if len(b.Points) > 1 {
			t.Fatalf("one line gave %d points", len(b.Points))
		}
		checkInvariants(t, &b)
	})
}

func FuzzMonitoring(f *testing.F) {
	fuzzLine(f, monitoringCases, (*Parser).Monitoring)
}

func FuzzDatadogJSON(f *testing.F) {
	fuzzLine(f, jsonCases, (*Parser).JSON)
}

func FuzzDogStatsD(f *testing.F) {
	for _, tc := range datagramCases {
		f.Add([]byte(tc.in))
	}
	f.Add([]byte("a:1|c\n\nb:x|g\n_sc|chk|0\nc:2|ms|@0.5|zz\n"))
	f.Add([]byte("_e{5,4}:title|text|#a\nx:1:2|d|T1700000000\n"))
	p := NewParser()
	f.Fuzz(func(t *testing.T, payload []byte) {
		var b metric.Batch
		in := bytes.Clone(payload)
		p.Datagram(&b, payload, metric.Origin{Source: "udp"})
		if !bytes.Equal(in, payload) {
			t.Fatalf("parser modified its input")
		}
		checkInvariants(t, &b)
		// Every non-empty line gives exactly one point or at least one error,
		// tagged with its line number.
		lines := bytes.Split(payload, []byte{'\n'})
		for i, l := range lines {
			if len(l) == 0 {
				continue
			}
			pts, errs := 0, 0
			for j := range b.Points {
				if b.Points[j].Origin.Line == i+1 {
					pts++
				}
			}
			for j := range b.Diags {
				if b.Diags[j].Origin.Line == i+1 && b.Diags[j].Severity == metric.Error {
					errs++
				}
			}
			if pts+min(errs, 1) != 1 {
				t.Fatalf("line %d %q: %d points and %d errors", i+1, l, pts, errs)
			}
		}
	})
}
