// Package benchcmp times contenders side by side inside one benchmark, so
// that the ratios between them hold on a shared, noisy machine: the
// contenders run in alternating slices of the same run, each slice timed
// on its own.
//
//	benchcmp.Compare(b, benchcmp.C("lambdabridge", parseOne), benchcmp.C("fastjson", fastjsonOne))
//	// reports lambdabridge-ns/op, fastjson-ns/op and x-vs-fastjson
//	func TestMain(m *testing.M) { code := m.Run(); benchcmp.PrintSummary(os.Stdout); os.Exit(code) }
package benchcmp

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Contender is one implementation of an operation: Run does one op.
type Contender struct {
	Name string
	Run  func()
}

// C returns a Contender.
func C(name string, run func()) Contender { return Contender{Name: name, Run: run} }

// slice is the number of ops timed at once (time.Now costs tens of ns).
const slice = 32

var (
	mu      sync.Mutex
	summary = map[string]string{} // benchmark name -> its ratios, the last run's
)

// Compare runs every contender b.N times, in alternating slices whose order
// rotates, and reports each one's "<name>-ns/op" and, for every contender
// after the first, "x-vs-<name>": how many times faster the first is
// (its time divided into theirs). The ratios of the last run of the
// benchmark are kept for PrintSummary. It returns each one's ns/op.
func Compare(b *testing.B, cs ...Contender) []float64 { return compare(b, 0, cs) }

// CompareSized is Compare for ops of size bytes each: it also reports the
// first contender's throughput, "<name>-MB/s".
func CompareSized(b *testing.B, size int64, cs ...Contender) []float64 { return compare(b, size, cs) }

func compare(b *testing.B, size int64, cs []Contender) []float64 {
	b.Helper()
	if len(cs) == 0 {
		b.Fatal("benchcmp: no contender")
	}
	for _, c := range cs { // warm up caches, pools and connections
		c.Run()
	}
	spent := make([]time.Duration, len(cs))
	b.ResetTimer()
	for done, round := 0, 0; done < b.N; round++ {
		n := min(slice, b.N-done)
		for k := range cs {
			i := (k + round) % len(cs)
			t := time.Now()
			for range n {
				cs[i].Run()
			}
			spent[i] += time.Since(t)
		}
		done += n
	}
	b.StopTimer()
	var line []string
	nsop := make([]float64, len(cs))
	if size > 0 && spent[0] > 0 {
		b.ReportMetric(float64(size)*float64(b.N)/spent[0].Seconds()/1e6, cs[0].Name+"-MB/s")
	}
	for i, c := range cs {
		nsop[i] = float64(spent[i].Nanoseconds()) / float64(b.N)
		b.ReportMetric(nsop[i], c.Name+"-ns/op")
		if i > 0 && spent[0] > 0 {
			r := float64(spent[i]) / float64(spent[0])
			b.ReportMetric(r, "x-vs-"+c.Name)
			line = append(line, fmt.Sprintf("%s vs %s: %.2fx", cs[0].Name, c.Name, r))
		}
	}
	Note(b, strings.Join(line, ", "))
	return nsop
}

// Note keeps a line for PrintSummary under the benchmark's name (the last
// call per benchmark wins: the run with the largest b.N).
func Note(b *testing.B, line string) {
	mu.Lock()
	summary[b.Name()] = line
	mu.Unlock()
}

// PrintSummary writes one line per benchmark that called Compare or Note,
// sorted by name, after a header; nothing when there is none.
func PrintSummary(w io.Writer) {
	mu.Lock()
	defer mu.Unlock()
	if len(summary) == 0 {
		return
	}
	names := make([]string, 0, len(summary))
	for n := range summary {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "side-by-side ratios (how many times faster the first is; measured in one run):")
	for _, n := range names {
		fmt.Fprintf(w, "  %s: %s\n", n, summary[n])
	}
}
