package mapping

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lambdabridge/lambdabridge/aggregate"
	"github.com/lambdabridge/lambdabridge/internal/conformance"
	"github.com/lambdabridge/lambdabridge/metric"
)

// statsd_exporter's own mapper tests (pkg/mapper/mapper_test.go and
// escape_test.go, v0.31.0), kept as data in shared/conformance: a mapping
// file ported from statsd_exporter must map every name as it does, be
// refused where it is refused, or the test says why lambdabridge differs.

type peerMapping struct {
	Present      bool              `json:"present"`
	Name         string            `json:"name"`
	Labels       map[string]string `json:"labels"`
	Action       string            `json:"action"`
	ObserverType string            `json:"observer_type"`
	Quantiles    []Objective       `json:"quantiles"`
	Buckets      []float64         `json:"buckets"`
	TTL          string            `json:"ttl"`
	Scale        *float64          `json:"scale"`
	MaxAge       string            `json:"max_age"`
	AgeBuckets   uint32            `json:"age_buckets"`
	BufCap       uint32            `json:"buf_cap"`
}

type mapperScenario struct {
	Suite    string `json:"suite"`
	Name     string `json:"name"`
	Config   string `json:"config"`
	PeerOK   bool   `json:"statsd_exporter_config_ok"`
	PeerErr  string `json:"statsd_exporter_error"`
	Action   string `json:"expected_action"`
	Mappings []struct {
		Metric     string      `json:"metric"`
		MetricType string      `json:"metric_type"`
		Peer       peerMapping `json:"statsd_exporter"`
	} `json:"mappings"`
}

// mapperDeviations are differences the judgements file does not cover.
var mapperDeviations = &conformance.Deviations{Reasons: map[string]string{
	"TestMetricMapperYAML/Config with bad regex reference [config]":              "statsd_exporter reads \"$1_foo\" as a capture named 1_foo and silently expands it to \"\"; lambdabridge reads it the same way and refuses it, saying to write ${1}_foo (mapping/doc.go)",
	"TestMetricMapperYAML/Config with $0 bracing behavior in glob mode [config]": "as 'Config with bad regex reference': \"$0_suffix\" names a capture 0_suffix, which lambdabridge refuses with the fix ${0}_suffix",
	"TestMetricMapperYAML/Config with super sets, disables ordering [config]":    "glob_disable_ordering: true is refused (mapping/doc.go): lambdabridge applies rules in file order only",
	"TestMetricMapperYAML/Config with backtracking [config]":                     "glob_disable_ordering: true is refused (mapping/doc.go): lambdabridge applies rules in file order only",
}}

func (s *mapperScenario) id(what string) string { return s.Suite + "/" + s.Name + " [" + what + "]" }

func TestConformanceStatsdExporterMapper(t *testing.T) {
	var data struct {
		Scenarios []mapperScenario
		Escape    []struct{ In, Statsd_exporter string }
	}
	conformance.Load(t, "statsd_exporter_mapper.json", &data)
	if len(data.Scenarios) == 0 {
		t.Fatal("no scenarios")
	}
	defer mapperDeviations.Stale(t)
	for _, s := range data.Scenarios {
		t.Run(s.Suite+"/"+s.Name, func(t *testing.T) {
			m, err := Parse([]byte(s.Config))
			if (err == nil) != s.PeerOK {
				conformance.Deviation(t, "mapping-statsd_exporter", s.id("config"),
					fmt.Sprintf("statsd_exporter accepts the config: %v (%s); lambdabridge: %v", s.PeerOK, s.PeerErr, err), mapperDeviations)
			}
			if err != nil {
				return
			}
			if s.Action != "" {
				checkAction(t, m, &s)
			}
			for i, mp := range s.Mappings {
				if diff := compareMapping(m, mp.Metric, mp.MetricType, &mp.Peer); diff != "" {
					conformance.Deviation(t, "mapping-statsd_exporter", s.id(fmt.Sprintf("metric %d: %s", i+1, mp.Metric)), diff, mapperDeviations)
				}
			}
		})
	}
	for _, e := range data.Escape {
		if got := metric.Sanitize(e.In); got != e.Statsd_exporter {
			t.Run("escape/"+e.In, func(t *testing.T) {
				conformance.Deviation(t, "mapping-statsd_exporter", "TestEscapeMetricName/"+e.In,
					fmt.Sprintf("statsd_exporter escapes %q as %q, lambdabridge as %q", e.In, e.Statsd_exporter, got), mapperDeviations)
			})
		}
	}
}

// checkAction maps a name of the TestAction scenarios' rule (test.*.*).
func checkAction(t *testing.T, m *Mapper, s *mapperScenario) {
	fam, _ := m.Map(nil, &metric.Point{Format: metric.FormatDogStatsD, Name: "test.a.b", Kind: metric.Counter})
	got := "map"
	if fam == nil {
		got = "drop"
	}
	if got != s.Action {
		conformance.Deviation(t, "mapping-statsd_exporter", s.id("action"), "statsd_exporter: "+s.Action+", lambdabridge: "+got, mapperDeviations)
	}
}

// compareMapping maps one name and says how the result differs from the
// peer's.
func compareMapping(m *Mapper, name, metricType string, peer *peerMapping) string {
	p := &metric.Point{Format: metric.FormatDogStatsD, Name: name, Kind: pointKind(metricType, peer), Values: []float64{1}}
	fam, labels := m.Map(nil, p)
	switch {
	case !peer.Present:
		if fam != nil && fam.Name != metric.Translate(p).Name {
			return fmt.Sprintf("statsd_exporter matches no rule; lambdabridge maps %s to %s", name, fam.Name)
		}
		return ""
	case peer.Action == "drop":
		if fam != nil {
			return "statsd_exporter drops " + name + "; lambdabridge maps it to " + fam.Name
		}
		return ""
	case fam == nil:
		return "statsd_exporter maps " + name + " to " + peer.Name + "; lambdabridge drops it"
	}
	var diffs []string
	// statsd_exporter escapes the mapped name when it exports it
	if want := metric.Sanitize(peer.Name); fam.Name != want {
		diffs = append(diffs, fmt.Sprintf("name: statsd_exporter %q (exported %q), lambdabridge %q", peer.Name, want, fam.Name))
	}
	got := map[string]string{}
	for _, l := range labels {
		got[l.Name] = l.Value
	}
	if d := cmp.Diff(peer.Labels, got); d != "" && len(peer.Labels)+len(got) > 0 {
		diffs = append(diffs, "labels (-statsd_exporter +lambdabridge):\n"+d)
	}
	diffs = append(diffs, compareOptions(fam, peer)...)
	return strings.Join(diffs, "\n")
}

func pointKind(metricType string, peer *peerMapping) metric.Kind {
	switch {
	case metricType == "gauge":
		return metric.Gauge
	case metricType == "observer", peer.ObserverType != "", len(peer.Buckets) > 0, len(peer.Quantiles) > 0:
		return metric.Histogram
	}
	return metric.Counter
}

// compareOptions compares the observer type and options the peer reports.
func compareOptions(fam *aggregate.Family, peer *peerMapping) []string {
	var diffs []string
	if typ := map[string]metric.Type{"histogram": metric.TypeHistogram, "summary": metric.TypeSummary}[peer.ObserverType]; typ != 0 && fam.Type != typ {
		diffs = append(diffs, fmt.Sprintf("type: statsd_exporter %s, lambdabridge %s", peer.ObserverType, fam.Type))
	}
	if len(peer.Buckets) > 0 && !slices.Equal(peer.Buckets, fam.Buckets) {
		diffs = append(diffs, fmt.Sprintf("buckets: statsd_exporter %v, lambdabridge %v", peer.Buckets, fam.Buckets))
	}
	if len(peer.Quantiles) > 0 {
		want := map[float64]float64{}
		for _, q := range peer.Quantiles {
			want[q.Quantile] = q.Error
		}
		got := fam.Objectives
		if got == nil {
			got = aggregate.DefaultObjectives // what the aggregator uses for nil
		}
		if !maps.Equal(want, got) {
			diffs = append(diffs, fmt.Sprintf("quantiles: statsd_exporter %v, lambdabridge %v", want, got))
		}
	}
	for _, d := range [...]struct {
		what string
		peer string
		got  time.Duration
	}{{"ttl", peer.TTL, fam.TTL}, {"max_age", peer.MaxAge, fam.MaxAge}} {
		if want, err := time.ParseDuration(d.peer); err == nil && want != d.got {
			diffs = append(diffs, fmt.Sprintf("%s: statsd_exporter %s, lambdabridge %s", d.what, want, d.got))
		}
	}
	if peer.AgeBuckets != 0 && peer.AgeBuckets != fam.AgeBuckets || peer.BufCap != 0 && peer.BufCap != fam.BufCap {
		diffs = append(diffs, fmt.Sprintf("age_buckets/buf_cap: statsd_exporter %d/%d, lambdabridge %d/%d", peer.AgeBuckets, peer.BufCap, fam.AgeBuckets, fam.BufCap))
	}
	if peer.Scale != nil && *peer.Scale != fam.Scale {
		diffs = append(diffs, fmt.Sprintf("scale: statsd_exporter %g, lambdabridge %g", *peer.Scale, fam.Scale))
	}
	return diffs
}
