package runner

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/lambdabridge/lambdabridge/metric"
)

// Console writes log lines for a person, prefixed with the function and the
// environment like `sam local` does: "[hello env-1] message". A function's
// bytes never reach the terminal as control sequences: tabs and valid UTF-8
// are written as they are, other C0 controls, DEL and escape sequences as
// \xNN (ESC as \x1b), C1 controls as \u00NN and invalid UTF-8 bytes as \xNN.
// It is safe for concurrent use.
type Console struct {
	mu sync.Mutex
	w  io.Writer
	b  []byte
}

// NewConsole returns a Console writing to w.
func NewConsole(w io.Writer) *Console { return &Console{w: w} }

// Line writes one line (Console is a LogSink).
func (c *Console) Line(o metric.Origin, stream string, line []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.b[:0]
	b = append(b, '[')
	b = append(b, o.Function...)
	if o.Environment != "" {
		b = append(b, ' ')
		b = append(b, o.Environment...)
	}
	b = append(b, "] "...)
	b = appendEscaped(b, line)
	b = append(b, '\n')
	c.w.Write(b)
	c.b = b
}

// appendEscaped appends line to b with controls and invalid UTF-8 escaped
// (see Console).
func appendEscaped(b, line []byte) []byte {
	const hex = "0123456789abcdef"
	plain := 0 // printable ASCII and tabs are copied as one
	for plain < len(line) && printable[line[plain]] {
		plain++
	}
	b = append(b, line[:plain]...)
	line = line[plain:]
	for len(line) > 0 {
		c := line[0]
		if printable[c] {
			b = append(b, c)
			line = line[1:]
			continue
		}
		r, n := decodeRune(line)
		switch {
		case n == 0: // invalid UTF-8: one byte
			b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
			n = 1
		case r < 0x80: // C0 or DEL
			b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
		case isControl(r): // C1
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&15])
		default:
			b = append(b, line[:n]...)
		}
		line = line[n:]
	}
	return b
}

// printable marks the bytes written as they are: printable ASCII and tab.
var printable = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	t['\t'] = true
	return t
}()

// decodeRune is utf8.DecodeRune with n = 0 for an invalid byte.
func decodeRune(p []byte) (rune, int) {
	r, n := utf8.DecodeRune(p)
	if r == utf8.RuneError && n <= 1 {
		return r, 0
	}
	return r, n
}

// isControl reports C0 and C1 control characters and DEL.
func isControl(r rune) bool { return r < 0x20 || r >= 0x7f && r < 0xa0 }

// Progress is a one-line account of a run so far:
// "hello: 1200/10000 done, 3 errors, 0 throttled, p50 0.61 ms, p99 2.10 ms".
func Progress(s Stats, total int) string {
	done := fmt.Sprint(s.Requests)
	if total > 0 {
		done += fmt.Sprintf("/%d", total)
	}
	return fmt.Sprintf("%s: %s done, %d errors, %d throttled, p50 %s, p99 %s",
		s.Function, done, s.Errors, s.Throttles, fmtDur(s.Duration.P50), fmtDur(s.Duration.P99))
}

// WriteSummary writes a table of the statistics of the functions that got
// requests, then for each function that failed its errors by type and the
// first error's message, and a line for each function that lost something:
// invocations cut and requests refused by a shutdown, output bytes dropped.
func WriteSummary(w io.Writer, stats []Stats) error {
	stats = slices.DeleteFunc(slices.Clone(stats), func(s Stats) bool { return s.Requests == 0 && s.Refused == 0 })
	if len(stats) == 0 {
		_, err := fmt.Fprintln(w, "no function was invoked")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "function\trequests\tinvocations\terrors\ttimeouts\tthrottles\tcold starts\tp50\tp99\tmax\tinit p50\tmax memory\tbilled\tcost (USD)\t")
	for _, s := range stats {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%d MB\t%s\t%.8f\t\n",
			s.Function, s.Requests, s.Invocations, s.Errors, s.Timeouts, s.Throttles, s.ColdStarts,
			fmtDur(s.Duration.P50), fmtDur(s.Duration.P99), fmtDur(s.Duration.Max), fmtDur(s.InitDuration.P50),
			ceilMB(s.MaxMemoryUsed), s.BilledDuration.Round(time.Millisecond), s.CostUSD)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range stats {
		for _, l := range []string{errorLine(s), asyncLine(s), lossLine(s)} {
			if l == "" {
				continue
			}
			if _, err := fmt.Fprintln(w, l); err != nil {
				return err
			}
		}
	}
	return nil
}

// errorLine says how a function failed ("" when it did not): "hello: 3
// errors (Runtime.ExitError 2, errorString 1); first: errorString: out of
// stock".
func errorLine(s Stats) string {
	if s.Errors == 0 {
		return ""
	}
	types := slices.SortedFunc(maps.Keys(s.ErrorTypes), func(a, b string) int {
		return cmp.Or(cmp.Compare(s.ErrorTypes[b], s.ErrorTypes[a]), cmp.Compare(a, b))
	})
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = fmt.Sprintf("%s %d", cmp.Or(t, "(no type)"), s.ErrorTypes[t])
	}
	return fmt.Sprintf("%s: %s (%s); first: %s", s.Function, plural(s.Errors, "error"), strings.Join(parts, ", "), s.FirstError)
}

// lossLine says what a function lost ("" when nothing): "hello: 2
// invocations cut by the shutdown, 1 request refused while stopping".
func lossLine(s Stats) string {
	var parts []string
	if s.Cut > 0 {
		parts = append(parts, plural(s.Cut, "invocation")+" cut by the shutdown (error "+ErrorTypeShutdown+")")
	}
	if s.Refused > 0 {
		parts = append(parts, plural(s.Refused, "request")+" refused while stopping")
	}
	if strings.HasPrefix(s.CPU, "not limited") {
		parts = append(parts, "CPU "+s.CPU+": its speed does not follow its memory size as on Lambda")
	}
	if s.Freeze == "cgroup v2 freezer" || s.Freeze == "SIGSTOP" {
		parts = append(parts, "frozen by "+s.Freeze+" (no cgroup v1 freezer here): each freeze and thaw wakes every sleeping thread, which Lambda's freezer does not, so each invocation costs more CPU than on Lambda")
	} else if s.FreezeWakesPollers {
		parts = append(parts, "frozen by "+s.Freeze+" on Linux 6.1 or later: each freeze and thaw wakes every thread waiting in epoll_wait (an event loop, the Go runtime's poller), which this freezer did not before 6.1 (Lambda ran Linux 4.14 in 2020), so each invocation may cost more CPU than on Lambda")
	}
	if s.LogBytesDropped > 0 {
		parts = append(parts, plural(s.LogBytesDropped, "byte")+" of output dropped (written by a process outside an ended environment)")
	}
	if len(parts) == 0 {
		return ""
	}
	return s.Function + ": " + strings.Join(parts, ", ")
}

func plural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func fmtDur(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return ms2(d) + " ms"
}
