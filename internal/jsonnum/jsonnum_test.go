package jsonnum

import (
	"encoding/json"
	"testing"
)

func TestScan(t *testing.T) {
	for _, tt := range []struct {
		in      string
		end     int
		problem bool
	}{
		{"0", 1, false}, {"-0", 2, false}, {"12.5e-3,", 7, false}, {"1E+2}", 4, false},
		{"01", 1, false}, // "0" ends the number; the caller sees the trailing "1"
		{"-", 1, true}, {"1.", 2, true}, {"1e", 2, true}, {"1e+", 3, true}, {".5", 0, true}, {"", 0, true},
	} {
		end, problem := Scan([]byte(tt.in), 0)
		if end != tt.end || (problem != "") != tt.problem {
			t.Errorf("Scan(%q) = %d, %q; want %d, problem %v", tt.in, end, problem, tt.end, tt.problem)
		}
	}
}

func FuzzScan(f *testing.F) {
	for _, s := range []string{"0", "-12.5e+3", "1.", "1e", "abc", "00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		end, problem := Scan([]byte(s), 0)
		if end < 0 || end > len(s) {
			t.Fatalf("end %d out of range", end)
		}
		if problem == "" && !json.Valid([]byte(s[:end])) {
			t.Fatalf("accepted %q, not a JSON number", s[:end])
		}
		if problem != "" && json.Valid([]byte(s)) && len(s) > 0 && (s[0] == '-' || s[0] >= '0' && s[0] <= '9') {
			t.Fatalf("rejected %q (%s), a valid JSON number", s, problem)
		}
	})
}
