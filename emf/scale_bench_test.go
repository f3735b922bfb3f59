package emf

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/lambdabridge/lambdabridge/metric"
)

// wideEvent returns an EMF line with n metrics, declared 100 per directive
// with one dimension, and their values at the root.
func wideEvent(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"_aws":{"Timestamp":1714557600000,"CloudWatchMetrics":[`)
	for i := 0; i < n; i++ {
		if i%100 == 0 {
			if i > 0 {
				b.WriteString(`]},`)
			}
			b.WriteString(`{"Namespace":"Wide","Dimensions":[["Service"]],"Metrics":[`)
		} else {
			b.WriteByte(',')
		}
		b.WriteString(`{"Name":"m` + strconv.Itoa(i) + `","Unit":"Count"}`)
	}
	b.WriteString(`]}]},"Service":"wide"`)
	for i := 0; i < n; i++ {
		b.WriteString(`,"m` + strconv.Itoa(i) + `":1`)
	}
	b.WriteString("}")
	return b.Bytes()
}

// BenchmarkEMFWideEvent parses one event of 1k, 4k and 10k metrics (the
// size limit off): ns/metric stays flat when the per-line cost is linear
// in the line's size.
func BenchmarkEMFWideEvent(b *testing.B) { benchWide(b, "metrics", wideEvent, -1) }

// wideDimensions returns an EMF line with one metric published with n
// dimension sets of one distinct key each.
func wideDimensions(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"_aws":{"Timestamp":1714557600000,"CloudWatchMetrics":[{"Namespace":"Wide","Dimensions":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`["d` + strconv.Itoa(i) + `"]`)
	}
	b.WriteString(`],"Metrics":[{"Name":"m","Unit":"Count"}]}]},"m":1`)
	for i := 0; i < n; i++ {
		b.WriteString(`,"d` + strconv.Itoa(i) + `":"v"`)
	}
	b.WriteString("}")
	return b.Bytes()
}

// BenchmarkEMFWideDimensions parses one event whose metric has 1k, 4k and
// 10k dimension sets: ns/sets stays flat when the cost is linear.
func BenchmarkEMFWideDimensions(b *testing.B) { benchWide(b, "sets", wideDimensions, -1) }

// benchWide parses build(n) for n of 1k, 4k and 10k, each giving n points
// and no diagnostic (points < 0), or points points and some diagnostics,
// and reports ns per unit.
func benchWide(b *testing.B, unit string, build func(n int) []byte, points int) {
	for _, n := range []int{1000, 4000, 10000} {
		b.Run(unit+"="+strconv.Itoa(n), func(b *testing.B) {
			line := build(n)
			p := NewParser(WithClock(testClock), WithMaxEventSize(0))
			var batch metric.Batch
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				batch.Reset()
				p.Parse(&batch, line, metric.Origin{Source: "bench", Line: 1})
			}
			if points < 0 && (len(batch.Points) != n || len(batch.Diags) != 0) || points >= 0 && (len(batch.Points) != points || len(batch.Diags) == 0) {
				b.Fatalf("%d points, %d diagnostics", len(batch.Points), len(batch.Diags))
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/"+unit)
		})
	}
}

// twoDirectives returns an EMF line whose two directives define the same
// metric with n/2 DimensionSets each, of different keys (no set repeats).
func twoDirectives(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"_aws":{"Timestamp":1714557600000,"CloudWatchMetrics":[`)
	for d := range 2 {
		if d > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"Namespace":"Wide","Dimensions":[`)
		for i := range n / 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`["d` + strconv.Itoa(d) + `_` + strconv.Itoa(i) + `"]`)
		}
		b.WriteString(`],"Metrics":[{"Name":"m","Unit":"Count"}]}`)
	}
	b.WriteString(`]},"m":1`)
	for d := range 2 {
		for i := range n / 2 {
			b.WriteString(`,"d` + strconv.Itoa(d) + `_` + strconv.Itoa(i) + `":"v"`)
		}
	}
	b.WriteString("}")
	return b.Bytes()
}

// BenchmarkEMFWideDirectives parses one event whose two directives define
// one metric with 500 to 5k DimensionSets each (1k to 10k points): the
// check for a metric defined twice with the same dimensions stays linear.
func BenchmarkEMFWideDirectives(b *testing.B) { benchWide(b, "sets", twoDirectives, -1) }

// repeatedName returns an EMF line whose one directive defines the metric
// "m" n times (each a duplicate warning; the diagnostics stop at 64).
func repeatedName(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"_aws":{"Timestamp":1714557600000,"CloudWatchMetrics":[{"Namespace":"Wide","Dimensions":[["Service"]],"Metrics":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"Name":"m","Unit":"Count"}`)
	}
	b.WriteString(`]}]},"Service":"wide","m":1}`)
	return b.Bytes()
}

// BenchmarkEMFRepeatedName parses one directive defining one metric 1k to
// 10k times (CloudWatch drops the event: more than 100 definitions): the
// checks that look for earlier definitions of a name stay linear.
func BenchmarkEMFRepeatedName(b *testing.B) { benchWide(b, "metrics", repeatedName, 0) }

// manyDirectives returns an EMF line of n directives, each defining the
// metric "m" with a dimension of its own.
func manyDirectives(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"_aws":{"Timestamp":1714557600000,"CloudWatchMetrics":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"Namespace":"Wide","Dimensions":[["d` + strconv.Itoa(i) + `"]],"Metrics":[{"Name":"m","Unit":"Count"}]}`)
	}
	b.WriteString(`]},"m":1`)
	for i := range n {
		b.WriteString(`,"d` + strconv.Itoa(i) + `":"v"`)
	}
	b.WriteString("}")
	return b.Bytes()
}

// BenchmarkEMFManyDirectives parses one event of 1k to 10k directives that
// all define the same metric with different dimensions: the check for a
// metric defined twice with the same dimensions stays linear.
func BenchmarkEMFManyDirectives(b *testing.B) { benchWide(b, "directives", manyDirectives, -1) }
