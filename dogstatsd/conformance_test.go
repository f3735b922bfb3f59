package dogstatsd

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lambdabridge/lambdabridge/internal/conformance"
	"github.com/lambdabridge/lambdabridge/metric"
)

// The Datadog agent's own DogStatsD parser tests (comp/dogstatsd/server),
// kept as data in shared/conformance: lambdabridge must parse every datagram
// as the agent does, or say why it differs. Events keep their title, time
// and fields as labels, service checks their status: lambdabridge makes
// metrics of them (datadog_events_total, datadog_service_check_status), so
// an event's text and a check's message are not compared.

type agentSample struct {
	Name       string    `json:"name"`
	Values     []float64 `json:"values"`
	Type       string    `json:"type"`
	Tags       []string  `json:"tags"`
	SampleRate float64   `json:"sample_rate"`
	TS         int64     `json:"ts"`
	Host       string    `json:"host"`
	Set        *string   `json:"set"`
	// events
	Title, Priority, AlertType, AggregationKey, SourceType string
	// service checks
	Status *int `json:"status"`
}

type agentCase struct {
	ID          string        `json:"id"`
	Input       string        `json:"input"`
	Kind        string        `json:"kind"`
	Expect      *agentSample  `json:"expect"`
	ExpectError bool          `json:"expect_error"`
	ExpectOK    bool          `json:"expect_ok"`
	ExpectClass string        `json:"expect_class"`
	Samples     []agentSample `json:"samples"`
	Events      []agentSample `json:"events"`
	Checks      []agentSample `json:"checks"`
	NA          string        `json:"na"`
}

// UnmarshalJSON reads the event fields, named in snake case in the data.
func (s *agentSample) UnmarshalJSON(b []byte) error {
	type plain agentSample
	var aux struct {
		plain
		Title          string `json:"title"`
		Priority       string `json:"priority"`
		AlertType      string `json:"alert_type"`
		AggregationKey string `json:"aggregation_key"`
		SourceType     string `json:"source_type"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*s = agentSample(aux.plain)
	s.Title, s.Priority, s.AlertType, s.AggregationKey, s.SourceType = aux.Title, aux.Priority, aux.AlertType, aux.AggregationKey, aux.SourceType
	return nil
}

// agentDeviations are differences the judgements file does not cover.
var agentDeviations = &conformance.Deviations{Reasons: map[string]string{
	"parse_test.go:TestIdentifyServiceCheck":         "the agent's test only identifies the message type of a template line whose status is the word STATUS; parsing it is an error in the agent too (TestServiceCheckError), as in lambdabridge",
	"parse_events_test.go:TestEventMetadataHostname": "the agent's parse-level test does not assert the host; its enrich_test.go does (host localhost), which lambdabridge keeps as the host label",
}}

var typeLetters = map[metric.Kind]string{
	metric.Counter: "c", metric.Gauge: "g", metric.Histogram: "h", metric.Distribution: "d", metric.Timer: "ms", metric.Set: "s",
}

// tagsWithHost are the agent's tags plus its host as lambdabridge keeps it:
// a host label.
func tagsWithHost(tags []string, host string) string {
	all := append([]string(nil), tags...)
	if host != "" {
		all = append(all, "host:"+host)
	}
	slices.Sort(all)
	return strings.Join(all, ",")
}

func fmtValues(v []float64) string {
	s := make([]string, len(v))
	for i, f := range v {
		s[i] = strconv.FormatFloat(f, 'g', 10, 64)
	}
	return strings.Join(s, ":")
}

// want renders what the agent gives for one sample of the given kind.
func (s *agentSample) want(kind string) string {
	switch kind {
	case "event":
		return fmt.Sprintf("event %q ts=%d priority=%s alert=%s key=%q source=%q tags=%s",
			s.Title, s.TS, s.Priority, s.AlertType, s.AggregationKey, s.SourceType, tagsWithHost(s.Tags, s.Host))
	case "check":
		return fmt.Sprintf("check %s status=%d ts=%d tags=%s", s.Name, *s.Status, s.TS, tagsWithHost(s.Tags, s.Host))
	}
	v := fmtValues(s.Values)
	if s.Set != nil {
		v = "set:" + *s.Set
	}
	return fmt.Sprintf("metric %s|%s|%s rate=%g ts=%d tags=%s", s.Name, v, s.Type, s.SampleRate, s.TS, tagsWithHost(s.Tags, s.Host))
}

// got renders a lambdabridge point as want renders the agent's sample.
func got(p *metric.Point) string {
	var tags []string
	fields := map[string]string{"priority": "normal", "alert_type": "info"}
	for _, l := range p.Labels {
		switch {
		case p.Kind == metric.Event && (l.Name == "priority" || l.Name == "alert_type" || l.Name == "aggregation_key" || l.Name == "source_type_name"):
			fields[l.Name] = l.Value
		case l.Value == "":
			tags = append(tags, l.Name)
		default:
			tags = append(tags, l.Name+":"+l.Value)
		}
	}
	slices.Sort(tags)
	ts := p.TimeMs / 1000
	switch p.Kind {
	case metric.Event:
		return fmt.Sprintf("event %q ts=%d priority=%s alert=%s key=%q source=%q tags=%s",
			p.Name, ts, fields["priority"], fields["alert_type"], fields["aggregation_key"], fields["source_type_name"], strings.Join(tags, ","))
	case metric.ServiceCheck:
		return fmt.Sprintf("check %s status=%d ts=%d tags=%s", p.Name, int(p.Values[0]), ts, strings.Join(tags, ","))
	}
	v := fmtValues(p.Values)
	if p.Kind == metric.Set {
		v = "set:" + p.Members[0]
	}
	rate := p.SampleRate
	if rate == 0 {
		rate = 1
	}
	return fmt.Sprintf("metric %s|%s|%s rate=%g ts=%d tags=%s", p.Name, v, typeLetters[p.Kind], rate, ts, strings.Join(tags, ","))
}

func TestConformanceDatadogAgent(t *testing.T) {
	var data struct{ Cases []agentCase }
	conformance.Load(t, "dogstatsd_datadog_agent.json", &data)
	if len(data.Cases) == 0 {
		t.Fatal("no cases")
	}
	defer agentDeviations.Stale(t)
	for _, c := range data.Cases {
		t.Run(c.ID, func(t *testing.T) {
			if c.NA != "" {
				t.Skipf("agent configuration, not applicable: %s", c.NA)
			}
			var b metric.Batch
			NewParser().Datagram(&b, []byte(c.Input), metric.Origin{Source: "conformance"})
			var gotS []string
			for i := range b.Points {
				p := &b.Points[i]
				if c.Kind != "packet" || len(p.Values) < 2 {
					gotS = append(gotS, got(p))
					continue
				}
				// the agent's server hands over one sample per value
				for _, v := range p.Values {
					one := *p
					one.Values = []float64{v}
					gotS = append(gotS, got(&one))
				}
			}
			errs := b.Errors()
			var diff string
			switch {
			case c.ExpectError:
				if errs == 0 || len(b.Points) > 0 {
					diff = fmt.Sprintf("the agent rejects %q; lambdabridge gives %v, %d errors", c.Input, gotS, errs)
				}
			case c.ExpectOK:
				if errs > 0 || len(b.Points) == 0 {
					diff = fmt.Sprintf("the agent accepts %q; lambdabridge gives %v and:\n%s", c.Input, gotS, diagStrings(&b))
				}
			case c.ExpectClass != "":
				class := map[metric.Kind]string{metric.Event: "event", metric.ServiceCheck: "service_check"}
				if len(b.Points) != 1 || class[b.Points[0].Kind] != c.ExpectClass && !(c.ExpectClass == "metric" && class[b.Points[0].Kind] == "") {
					diff = fmt.Sprintf("the agent identifies a %s; lambdabridge gives %v", c.ExpectClass, gotS)
				}
			default:
				var want []string
				if c.Expect != nil {
					want = append(want, c.Expect.want(c.Kind))
				}
				for _, s := range c.Samples {
					want = append(want, s.want("metric"))
				}
				for _, s := range c.Events {
					want = append(want, s.want("event"))
				}
				for _, s := range c.Checks {
					want = append(want, s.want("check"))
				}
				diff = cmp.Diff(want, gotS)
				// a packet's broken lines are dropped by the agent too (and
				// counted in its telemetry): only a single sample must parse
				// without error
				if diff == "" && errs > 0 && c.Kind != "packet" {
					diff = "errors where the agent has none:\n" + diagStrings(&b)
				}
			}
			if diff != "" {
				conformance.Deviation(t, "dogstatsd-datadog-agent", c.ID, diff, agentDeviations)
			}
		})
	}
}

// statsd_exporter's line parser tests (pkg/line/line_test.go v0.31.0), its
// DogStatsD dialect: the events it makes of each line.
type exporterLineCase struct {
	Name   string          `json:"name"`
	In     string          `json:"in"`
	Events []exporterEvent `json:"statsd_exporter_dogstatsd_only"`
}

type exporterEvent struct {
	Type   string            `json:"type"`
	Name   string            `json:"name"`
	Value  float64           `json:"value"`
	Labels map[string]string `json:"labels"`
}

func (e exporterEvent) String() string {
	keys := make([]string, 0, len(e.Labels))
	for k, v := range e.Labels {
		keys = append(keys, k+"="+v)
	}
	slices.Sort(keys)
	return fmt.Sprintf("%s %s %.6g {%s}", e.Type, e.Name, e.Value, strings.Join(keys, ","))
}

// exporterEvents are the events statsd_exporter would make of p: one per
// value, counters weighted by the sample rate, timers in seconds.
func exporterEvents(p *metric.Point) []string {
	typ := map[metric.Kind]string{metric.Counter: "counter", metric.Gauge: "gauge", metric.Histogram: "observer", metric.Distribution: "observer", metric.Timer: "observer"}[p.Kind]
	if typ == "" {
		return nil
	}
	labels := map[string]string{} // as /metrics names them
	for _, l := range p.Labels {
		labels[metric.LabelName(p.Format, l.Name)] = l.Value
	}
	var out []string
	for _, v := range p.Values {
		n := 1
		switch p.Kind {
		case metric.Counter:
			v *= p.Weight()
		case metric.Timer:
			v /= 1000
		}
		if typ == "observer" { // statsd_exporter observes a sampled value 1/rate times; lambdabridge weights it
			n = int(p.Weight() + 0.5)
		}
		for range n {
			out = append(out, exporterEvent{typ, p.Name, v, labels}.String())
		}
	}
	return out
}

// statsdExporterDeviations are differences the judgements file does not
// cover.
var statsdExporterDeviations = &conformance.Deviations{Reasons: map[string]string{
	"datadog tag extension with invalid utf8 tag values":                "invalid UTF-8 is kept by the parser and replaced by U+FFFD when exposed (judged for the name case: 'invalid utf8')",
	"datadog tag extension with both valid and invalid utf8 tag values": "as 'invalid utf8': kept and replaced by U+FFFD when exposed",
}}

func TestConformanceStatsdExporterLine(t *testing.T) {
	var data struct{ Cases []exporterLineCase }
	conformance.Load(t, "statsd_exporter_line.json", &data)
	if len(data.Cases) == 0 {
		t.Fatal("no cases")
	}
	defer statsdExporterDeviations.Stale(t)
	for _, c := range data.Cases {
		t.Run(c.Name, func(t *testing.T) {
			var b metric.Batch
			NewParser().Datagram(&b, []byte(c.In), metric.Origin{Source: "conformance"})
			var gotE, wantE []string
			for i := range b.Points {
				gotE = append(gotE, exporterEvents(&b.Points[i])...)
			}
			for _, e := range c.Events {
				wantE = append(wantE, e.String())
			}
			if diff := cmp.Diff(wantE, gotE); diff != "" {
				conformance.Deviation(t, "dogstatsd-statsd_exporter-line", c.Name, diff, statsdExporterDeviations)
			}
		})
	}
}
