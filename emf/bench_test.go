package emf

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/metric"
)

// benchLines are typical EMF lines: the specification's example, a Node
// Lambda line from aws-embedded-metrics and a Powertools line with an array
// and high resolution.
var benchLines = [][]byte{
	[]byte(`{"_aws":{"Timestamp":1714557600000,"CloudWatchMetrics":[{"Namespace":"lambda-function-metrics","Dimensions":[["functionVersion"]],"Metrics":[{"Name":"time","Unit":"Milliseconds","StorageResolution":60}]}]},"functionVersion":"$LATEST","time":100,"requestId":"989ffbf8-9ace-4817-a57c-e4dd734019ee"}`),
	[]byte(`{"LogGroup":"orders","ServiceName":"orders","ServiceType":"AWS::Lambda::Function","Service":"checkout","executionEnvironment":"AWS_Lambda_nodejs20.x","_aws":{"CloudWatchMetrics":[{"Dimensions":[["LogGroup","ServiceName","ServiceType","Service"]],"Metrics":[{"Name":"Latency","Unit":"Milliseconds"},{"Name":"Orders","Unit":"Count"}],"Namespace":"Shop"}],"Timestamp":1714557600000},"Latency":[12.5,40,7],"Orders":3}`),
	[]byte(`{"_aws":{"Timestamp":1714557600000,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["service","environment"]],"Metrics":[{"Name":"PayloadSize","Unit":"Bytes","StorageResolution":1},{"Name":"Errors","Unit":"Count"}]}]},"service":"orders","environment":"prod","PayloadSize":[512,2048],"Errors":0}`),
}

func benchClock() time.Time { return time.UnixMilli(1714557600000) }

func benchBytes() int64 {
	n := 0
	for _, l := range benchLines {
		n += len(l)
	}
	return int64(n)
}

// BenchmarkEMFParse parses and validates benchLines; one op is all lines.
func BenchmarkEMFParse(b *testing.B) {
	p := NewParser(WithClock(benchClock))
	var batch metric.Batch
	b.ReportAllocs()
	b.SetBytes(benchBytes())
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		batch.Reset()
		for i, l := range benchLines {
			if !p.Parse(&batch, l, metric.Origin{Source: "bench", Line: i + 1}) {
				b.Fatal("not EMF")
			}
		}
	}
	if batch.Errors() != 0 {
		b.Fatal(batch.Diags)
	}
}

// BenchmarkEMFBaselineEncodingJSON decodes the same lines into map[string]any
// with encoding/json, the baseline BenchmarkEMFParse is measured against.
func BenchmarkEMFBaselineEncodingJSON(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(benchBytes())
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		for _, l := range benchLines {
			var m map[string]any
			if err := json.Unmarshal(l, &m); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// reportCPU reports the process CPU time per op since start (cpu-ns/op),
// steadier than ns/op when other processes share the cores.
func reportCPU(b *testing.B, start time.Duration) {
	if d := cpuTime() - start; d > 0 && b.N > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkEMFProducers parses and validates the logs the real producer
// libraries wrote (testdata/producers/emf), one op being both logs: the
// corpus emf/internal/baselinebench runs beside fastjson and encoding/json,
// here alone, for profiling.
func BenchmarkEMFProducers(b *testing.B) {
	var lines [][]byte
	var size int64
	for _, f := range []string{"powertools.log", "aws-embedded-metrics.log"} {
		data, err := os.ReadFile(filepath.Join(producerDir, f))
		if err != nil {
			b.Fatal(err)
		}
		for l := range bytes.Lines(data) {
			lines = append(lines, bytes.TrimSuffix(l, []byte("\n")))
			size += int64(len(l) - 1)
		}
	}
	p := NewParser(WithClock(testClock))
	var batch metric.Batch
	b.ReportAllocs()
	b.SetBytes(size)
	for b.Loop() {
		batch.Reset()
		for i, l := range lines {
			p.Parse(&batch, l, metric.Origin{Source: "bench", Line: i + 1})
		}
	}
	if len(batch.Diags) != 0 {
		b.Fatal(batch.Diags)
	}
}
