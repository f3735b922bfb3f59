package runner

import (
	"bytes"
	"testing"

	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/metric"
)

// splitLines feeds data to a lineReader in chunks of size chunk and returns
// the lines it delivered.
func splitLines(data []byte, chunk, max int) [][]byte {
	var got [][]byte
	r := &Runner{cfg: config{maxLine: max, logs: LogSinkFunc(func(_ metric.Origin, _ string, line []byte) {
		got = append(got, append([]byte(nil), line...))
	})}}
	f := &fn{r: r, def: function.Definition{Name: "f"}}
	e := newEnv(f, "env-1")
	l := &lineReader{e: e, stream: StreamStdout, max: max}
	for len(data) > 0 {
		n := min(chunk, len(data))
		l.feed(data[:n])
		data = data[n:]
	}
	if len(l.pend) > 0 { // EOF
		l.emit(l.pend)
	}
	return got
}

func TestLineSplitting(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		chunk    int
		want     []string
	}{
		{"lines", "a\nbb\n", 100, []string{"a", "bb"}},
		{"no final newline", "a\nlast", 100, []string{"a", "last"}},
		{"crlf", "a\r\nb\r\n", 1, []string{"a", "b"}},
		{"empty lines", "\n\nx\n", 100, []string{"", "", "x"}},
		{"split across reads", "hello w\nbye\n", 3, []string{"hello w", "bye"}},
		{"long line in pieces", "0123456789abc\nz\n", 4, []string{"01234567", "89abc", "z"}},
		{"exactly max", "01234567\n", 100, []string{"01234567"}},
		{"invalid utf-8", "\xff\xfe\n", 100, []string{"\xff\xfe"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := splitLines([]byte(tc.in), tc.chunk, 8)
			var gs []string
			for _, g := range got {
				gs = append(gs, string(g))
			}
			if len(gs) != len(tc.want) {
				t.Fatalf("got %q, want %q", gs, tc.want)
			}
			for i := range gs {
				if gs[i] != tc.want[i] {
					t.Fatalf("got %q, want %q", gs, tc.want)
				}
			}
		})
	}
}

// FuzzLineSplitting: whatever the input and read sizes, no byte is lost or
// added (newlines and the \r before them aside) and no line is longer than
// the maximum.
func FuzzLineSplitting(f *testing.F) {
	f.Add([]byte("a\nbb\r\nlast"), 3)
	f.Add([]byte("0123456789abcdefghij\n\n\xff"), 1)
	f.Fuzz(func(t *testing.T, data []byte, chunk int) {
		if chunk <= 0 || chunk > 1<<16 {
			chunk = 7
		}
		const max = 16
		got := splitLines(data, chunk, max)
		var joined []byte
		for _, g := range got {
			if len(g) > max {
				t.Fatalf("line of %d bytes > %d", len(g), max)
			}
			joined = append(joined, g...)
		}
		want := bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
		want = bytes.ReplaceAll(want, []byte("\n"), nil)
		if !bytes.Equal(joined, want) {
			// A \r that a long line's piece boundary separated from its \n is
			// kept; accept that.
			if !bytes.Equal(bytes.ReplaceAll(joined, []byte("\r"), nil), bytes.ReplaceAll(want, []byte("\r"), nil)) {
				t.Fatalf("bytes differ:\n%q\n%q", joined, want)
			}
		}
	})
}
