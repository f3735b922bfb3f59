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
	"slices"
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
const slice = 16

var (
	mu      sync.Mutex
	summary = map[string]string{} // benchmark name -> its ratios, the last run's
)

// Compare runs every contender b.N times, in alternating slices whose order
// rotates, and reports each one's "<name>-ns/op" (the median of its
// slices, per op) and, for every contender after the first, "x-vs-<name>":
// how many times faster the first is, the median over rounds of the ratio
// of their slices. Medians keep a slice slowed by another process on a
// shared machine from skewing the figures. The ratios of the last run of
// the benchmark are kept for PrintSummary.
func Compare(b *testing.B, cs ...Contender) Result { return compare(b, 0, cs) }

// Result is what Compare measured: NsOp per contender, and X, how many
// times faster the first is than each contender (X[0] is 1).
type Result struct {
	NsOp, X []float64
}

// CompareSized is Compare for ops of size bytes each: it also reports the
// first contender's throughput, "<name>-MB/s".
func CompareSized(b *testing.B, size int64, cs ...Contender) Result { return compare(b, size, cs) }

func compare(b *testing.B, size int64, cs []Contender) Result {
	b.Helper()
	if len(cs) == 0 {
		b.Fatal("benchcmp: no contender")
	}
	for _, c := range cs { // warm up caches, pools and connections
		c.Run()
	}
	perOp := make([][]float64, len(cs)) // ns/op of each slice, per contender
	b.ResetTimer()
	for done, round := 0, 0; done < b.N; round++ {
		n := min(slice, b.N-done)
		for k := range cs {
			i := (k + round) % len(cs)
			t := time.Now()
			for range n {
				cs[i].Run()
			}
			perOp[i] = append(perOp[i], float64(time.Since(t).Nanoseconds())/float64(n))
		}
		done += n
	}
	b.StopTimer()
	var line []string
	nsop := make([]float64, len(cs))
	for i, c := range cs {
		nsop[i] = median(slices.Clone(perOp[i]))
		b.ReportMetric(nsop[i], c.Name+"-ns/op")
	}
	if size > 0 && nsop[0] > 0 {
		b.ReportMetric(float64(size)/nsop[0]*1e3, cs[0].Name+"-MB/s")
	}
	xs := make([]float64, len(cs))
	xs[0] = 1
	for i, c := range cs[1:] {
		ratios := make([]float64, len(perOp[0]))
		for r := range ratios {
			ratios[r] = perOp[i+1][r] / perOp[0][r]
		}
		x := median(ratios)
		xs[i+1] = x
		b.ReportMetric(x, "x-vs-"+c.Name)
		line = append(line, fmt.Sprintf("%s vs %s: %.2fx", cs[0].Name, c.Name, x))
	}
	Note(b, strings.Join(line, ", "))
	return Result{NsOp: nsop, X: xs}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	if n := len(xs); n%2 == 0 {
		return (xs[n/2-1] + xs[n/2]) / 2
	}
	return xs[len(xs)/2]
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
