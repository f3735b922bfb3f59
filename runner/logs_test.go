package runner

import (
	"bytes"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

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

// TestStoppedReaderCountsWhatItDrops: a writer outside the environment that
// never stops keeps the pipe full after the reader was told to stop. The
// reader delivers whole lines up to its budget, then ends and counts the
// bytes left in the pipe; nothing is lost without being counted.
func TestStoppedReaderCountsWhatItDrops(t *testing.T) {
	var delivered, lines int64
	var bad []string
	r := &Runner{cfg: config{maxLine: 1 << 20, logger: slog.New(slog.DiscardHandler), logs: LogSinkFunc(func(_ metric.Origin, _ string, line []byte) {
		delivered += int64(len(line)) + 1
		if !bytes.Equal(line, []byte("0123456789abcdef0123456789abcde")) && len(bad) < 3 {
			bad = append(bad, string(line))
		}
		lines++
		if lines%64 == 0 {
			time.Sleep(100 * time.Microsecond) // the writer always refills the pipe
		}
	})}}
	f := &fn{r: r, def: function.Definition{Name: "f"}}
	e := newEnv(f, "env-1")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var written int64
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		defer pw.Close()
		chunk := bytes.Repeat([]byte("0123456789abcdef0123456789abcde\n"), 128) // 4 KiB of 32-byte lines
		for {
			n, err := pw.Write(chunk)
			atomic.AddInt64(&written, int64(n))
			if err != nil {
				return // EPIPE once the reader closed
			}
		}
	}()
	l := newLineReader(e, StreamStdout, pr)
	l.budget = 256 << 10
	time.Sleep(50 * time.Millisecond) // the pipe is full
	l.stop()
	l.run()
	<-wrote
	if l.dropped <= 0 {
		t.Fatalf("dropped = %d, want > 0", l.dropped)
	}
	if delivered < int64(l.budget) {
		t.Errorf("delivered %d bytes, want at least the budget %d", delivered, l.budget)
	}
	if got := delivered + l.dropped; got > written {
		t.Errorf("delivered %d + dropped %d = %d > written %d", delivered, l.dropped, got, written)
	}
	if len(bad) > 0 && lines > 0 {
		// Only the last piece (the line cut by the close) may be partial.
		if len(bad) > 1 {
			t.Errorf("damaged lines: %q", bad)
		}
	}
	if f.st.logDropped != l.dropped {
		t.Errorf("stats count %d dropped bytes, reader %d", f.st.logDropped, l.dropped)
	}
	t.Logf("written %d, delivered %d in %d lines, dropped %d, unaccounted (written after the count) %d",
		written, delivered, lines, l.dropped, written-delivered-l.dropped)
}
