package aggregate

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"

	"github.com/lambdabridge/lambdabridge/metric"
)

// TestPromtoolCheckMetrics runs Prometheus' own linter on the text
// exposition of every kind of family the aggregator makes.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool not found (Debian package prometheus); make test installs it")
		}
		t.Skip("promtool not found (Debian package prometheus)")
	}
	agg := New(WithFunctionLabel("function_name"))
	points := []metric.Point{
		emf("Shop", "Latency", "Milliseconds", []float64{100, 200}, "Service", "checkout"),
		emf("Shop", "Orders", "Count", []float64{1}, "Service", "checkout"),
		emf("Shop", "Payload", "Kilobytes", []float64{3}),
		dd(metric.Counter, "page.views", []float64{1}, "route:/a"),
		dd(metric.Timer, "db.query", []float64{12}),
		{Format: metric.FormatDogStatsD, Name: "users", Kind: metric.Set, Members: []string{"a"}},
		{Format: metric.FormatDogStatsD, Name: "db.up", Kind: metric.ServiceCheck, Values: []float64{0}},
		{Format: metric.FormatDogStatsD, Name: "deploy", Kind: metric.Event, Values: []float64{1}},
	}
	for i := range points {
		points[i].Origin.Function = "checkout"
		agg.Add(&points[i])
	}
	fams, err := agg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, mf := range fams {
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = &buf
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
