package baselinebench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/lambdabridge/lambdabridge/emf"
	"github.com/lambdabridge/lambdabridge/internal/benchcmp"
	"github.com/lambdabridge/lambdabridge/metric"
)

func TestMain(m *testing.M) {
	code := m.Run()
	benchcmp.PrintSummary(os.Stdout)
	os.Exit(code)
}

// producerDir holds EMF written by npm aws-embedded-metrics and
// @aws-lambda-powertools/metrics inside Lambda; their clock is pinned to
// producerNow.
const (
	producerDir = "../../../testdata/producers/emf"
	producerNow = 1714557600000
)

// corpus returns the lines of the producer logs named, and their size.
func corpus(b *testing.B, files ...string) ([][]byte, int64) {
	var lines [][]byte
	var n int64
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(producerDir, f))
		if err != nil {
			b.Fatalf("%v (regenerate with testdata/producers/emf/generate.sh)", err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines = append(lines, bytes.Clone(sc.Bytes()))
			n += int64(len(sc.Bytes()))
		}
	}
	if len(lines) == 0 {
		b.Fatal("empty corpus")
	}
	return lines, n
}

// BenchmarkEMF parses and validates every line of each producer's log
// (one op is the whole log) with lambdabridge, beside fastjson (whole
// document into its tree, one reused parser) and encoding/json (into a
// map[string]any), and reports x-vs-fastjson and x-vs-encoding/json.
func BenchmarkEMF(b *testing.B) {
	for _, tc := range []struct {
		name  string
		files []string
	}{
		{"powertools", []string{"powertools.log"}},
		{"aws-embedded-metrics", []string{"aws-embedded-metrics.log"}},
		{"both", []string{"powertools.log", "aws-embedded-metrics.log"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			lines, size := corpus(b, tc.files...)
			b.ReportAllocs()
			benchcmp.CompareSized(b, size,
				benchcmp.C("lambdabridge", lambdabridge(b, lines)),
				benchcmp.C("fastjson", fastjsonParse(b, lines)),
				benchcmp.C("encoding/json", encodingJSON(b, lines)))
		})
	}
}

func lambdabridge(b *testing.B, lines [][]byte) func() {
	p := emf.NewParser(emf.WithClock(func() time.Time { return time.UnixMilli(producerNow) }))
	var batch metric.Batch
	return func() {
		batch.Reset()
		for i, l := range lines {
			if !p.Parse(&batch, l, metric.Origin{Source: "bench", Line: i + 1}) {
				b.Fatalf("line %d is not EMF", i+1)
			}
		}
		if len(batch.Diags) != 0 {
			b.Fatalf("diagnostics on producer lines: %v", batch.Diags)
		}
	}
}

func fastjsonParse(b *testing.B, lines [][]byte) func() {
	var p fastjson.Parser
	docs := objects(lines)
	return func() {
		for _, l := range docs {
			if _, err := p.ParseBytes(l); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func encodingJSON(b *testing.B, lines [][]byte) func() {
	docs := objects(lines)
	return func() {
		for _, l := range docs {
			var m map[string]any
			if err := json.Unmarshal(l, &m); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// objects returns the JSON object of each line, without the Lambda log
// prefix (timestamp, request id, level) that aws-embedded-metrics' lines
// carry: what a general JSON parser is given.
func objects(lines [][]byte) [][]byte {
	docs := make([][]byte, len(lines))
	for i, l := range lines {
		docs[i] = l[bytes.IndexByte(l, '{'):]
	}
	return docs
}
