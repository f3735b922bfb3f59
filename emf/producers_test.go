package emf

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lambdabridge/lambdabridge/metric"
)

// producerDir holds EMF written by the real libraries; its generate.sh
// regenerates the logs (the producers' clock is pinned to nowMs).
const producerDir = "../testdata/producers/emf"

// TestProducers parses what npm aws-embedded-metrics and
// @aws-lambda-powertools/metrics write inside Lambda: every line is EMF,
// nothing is diagnosed (not even a warning), and the points are exactly
// the metrics the scripts put.
func TestProducers(t *testing.T) {
	ld := func(kv ...string) []metric.Label {
		return append(lbl("LogGroup", "orders-fn", "ServiceName", "orders-fn", "ServiceType", "AWS::Lambda::Function"), lbl(kv...)...)
	}
	pw := func(kv ...string) []metric.Label {
		return append(lbl("service", "orders", "environment", "prod"), lbl(kv...)...)
	}
	at := func(p metric.Point, src string, line int) metric.Point {
		p.Origin = metric.Origin{Source: src, Line: line}
		return p
	}
	seq := func(from, to int) []float64 {
		var vs []float64
		for i := from; i <= to; i++ {
			vs = append(vs, float64(i))
		}
		return vs
	}
	const aem, pt2 = "aws-embedded-metrics.log", "powertools.log"
	tests := []struct {
		file  string
		lines int
		want  []metric.Point
	}{
		{aem, 5, []metric.Point{
			at(pt("Shop", "Latency", "Milliseconds", ld("Service", "checkout"), 120.5, 80), aem, 1),
			at(pt("Shop", "Orders", "Count", ld("Service", "checkout"), 3), aem, 1),
			at(withRes(pt("Shop", "PayloadSize", "Bytes", ld("Service", "checkout"), 2048), 1), aem, 1),
			at(pt("Shop", "CpuUsage", "Percent", ld("Service", "checkout"), 37.5), aem, 1),
			at(pt("Shop/Payments", "Throughput", "Kilobytes/Second", lbl("Service", "payments"), 12.25), aem, 2),
			at(pt("Shop/Payments", "Throughput", "Kilobytes/Second", lbl("Service", "payments", "Region", "eu-west-1"), 12.25), aem, 2),
			at(pt("Shop/Payments", "Requests", "Count/Second", lbl("Service", "payments"), 40), aem, 2),
			at(pt("Shop/Payments", "Requests", "Count/Second", lbl("Service", "payments", "Region", "eu-west-1"), 40), aem, 2),
			at(pt("Shop", "Heartbeat", "Count", nil, 1), aem, 3),
			at(pt("Shop", "ItemSize", "Bytes", ld("Service", "batch"), seq(1, 100)...), aem, 4),
			at(pt("Shop", "ItemSize", "Bytes", ld("Service", "batch"), seq(101, 150)...), aem, 5),
		}},
		{pt2, 4, []metric.Point{
			at(pt("Shop", "ColdStart", "Count", pw("function_name", "orders-fn"), 1), pt2, 1),
			at(pt("Shop", "Latency", "Milliseconds", pw("Region", "eu-west-1"), 120.5, 80), pt2, 2),
			at(pt("Shop", "Orders", "Count", pw("Region", "eu-west-1"), 3), pt2, 2),
			at(withRes(pt("Shop", "PayloadSize", "Bytes", pw("Region", "eu-west-1"), 2048), 1), pt2, 2),
			at(pt("Shop", "Throughput", "Megabits/Second", pw("Region", "eu-west-1"), 1.5), pt2, 2),
			at(pt("Shop", "StepDuration", "Seconds", pw("Step", "payment"), 0.25), pt2, 3),
			at(pt("Shop", "GcPause", "Microseconds", pw(), 750), pt2, 4),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join(producerDir, tc.file))
			if err != nil {
				t.Fatalf("%v (run %s/generate.sh)", err, producerDir)
			}
			defer f.Close()
			p := NewParser(WithClock(func() time.Time { return time.UnixMilli(nowMs) }))
			var b metric.Batch
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 1<<20)
			n := 0
			for sc.Scan() {
				n++
				if !p.Parse(&b, sc.Bytes(), metric.Origin{Source: tc.file, Line: n}) {
					t.Errorf("line %d is not EMF: %s", n, sc.Text())
				}
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			p.Finish(&b)
			if n != tc.lines {
				t.Errorf("%d lines, want %d", n, tc.lines)
			}
			for _, d := range b.Diags {
				t.Errorf("unexpected diagnostic: %s", d.String())
			}
			sortPoints := cmpopts.SortSlices(func(a, b metric.Point) bool {
				if a.Origin.Line != b.Origin.Line {
					return a.Origin.Line < b.Origin.Line
				}
				return a.String() < b.String()
			})
			if diff := cmp.Diff(tc.want, b.Points, sortPoints, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("points (-want +got):\n%s", diff)
			}
		})
	}
}
