package emf

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lambdabridge/lambdabridge/internal/conformance"
	"github.com/lambdabridge/lambdabridge/metric"
)

// The EMF the client libraries write (aws-embedded-metrics for Node.js and
// Python, AWS's OpenTelemetry EMF exporter), from their own serializer
// tests, kept as data in shared/conformance: lambdabridge must read every
// metric CloudWatch would publish from them, into a valid Prometheus
// family, and refuse what the libraries refuse, or say why it differs.

type emfPut struct {
	Namespace  string            `json:"namespace"`
	Name       string            `json:"name"`
	Unit       string            `json:"unit"`
	Dimensions map[string]string `json:"dimensions"`
	Values     []float64         `json:"values"`
}

func (p emfPut) String() string {
	dims := slices.Sorted(maps.Keys(p.Dimensions))
	for i, k := range dims {
		dims[i] = k + "=" + p.Dimensions[k]
	}
	vals := make([]string, len(p.Values))
	for i, v := range p.Values {
		vals[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	unit := p.Unit
	if unit == "" {
		unit = "None"
	}
	return fmt.Sprintf("%s/%s %s {%s} [%s]", p.Namespace, p.Name, unit, strings.Join(dims, ","), strings.Join(vals, " "))
}

type emfCase struct {
	ID     string   `json:"id"`
	Lines  []string `json:"lines"`
	Line   string   `json:"line"`
	Put    []emfPut `json:"put"`
	Expect string   `json:"expect"`
	NowMs  int64    `json:"now_ms"`
}

var promName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)

// emfDeviations are differences the judgements file does not cover.
var emfDeviations = &conformance.Deviations{Reasons: map[string]string{}}

// parseLines parses lines as CloudWatch would see them at now; bad says
// which points would not make a valid Prometheus family.
func parseLines(now int64, lines []string) (b *metric.Batch, bad []string) {
	p := NewParser(WithClock(func() time.Time { return time.UnixMilli(now) }))
	b = new(metric.Batch)
	for i, l := range lines {
		p.Parse(b, []byte(l), metric.Origin{Source: "conformance", Line: i + 1})
	}
	for i := range b.Points {
		if f := metric.Translate(&b.Points[i]); !promName.MatchString(f.Name) {
			bad = append(bad, fmt.Sprintf("%s/%s becomes the family %q, not a valid Prometheus name", b.Points[i].Namespace, b.Points[i].Name, f.Name))
		}
	}
	return b, bad
}

func TestConformanceEMFValid(t *testing.T) {
	for _, file := range []string{"emf_node.json", "emf_python.json", "emf_otel.json"} {
		var data struct {
			NowMs int64 `json:"now_ms"`
			Cases []emfCase
		}
		conformance.Load(t, file, &data)
		for _, c := range data.Cases {
			t.Run(c.ID, func(t *testing.T) {
				now := data.NowMs
				if c.NowMs != 0 {
					now = c.NowMs
				}
				b, bad := parseLines(now, c.Lines)
				want, got := merge(c.Put), merge(gotPuts(b))
				slices.Sort(want) // the libraries' order of metrics is not CloudWatch's concern
				slices.Sort(got)
				diff := cmp.Diff(want, got, cmpopts.EquateEmpty())
				if b.Errors() > 0 {
					diff += "\nerrors:\n" + diagStrings(b)
				}
				if len(bad) > 0 {
					diff += "\n" + strings.Join(bad, "\n")
				}
				if strings.TrimSpace(diff) != "" {
					conformance.Deviation(t, "emf-valid", c.ID, diff, emfDeviations)
				}
			})
		}
	}
	emfDeviations.Stale(t)
}

func TestConformanceEMFInvalid(t *testing.T) {
	var data struct {
		NowMs int64 `json:"now_ms"`
		Cases []emfCase
	}
	conformance.Load(t, "emf_invalid.json", &data)
	for _, c := range data.Cases {
		t.Run(c.ID, func(t *testing.T) {
			if c.Expect != "error" {
				t.Skipf("expect %q: nothing CloudWatch-side to compare", c.Expect)
			}
			b, _ := parseLines(data.NowMs, []string{c.Line})
			if b.Errors() == 0 {
				conformance.Deviation(t, "emf-invalid", c.ID, fmt.Sprintf("the library refuses it; lambdabridge reads %v with:\n%s", merge(gotPuts(b)), diagStrings(b)), emfDeviations)
			}
		})
	}
}

// gotPuts are lambdabridge's points as puts.
func gotPuts(b *metric.Batch) []emfPut {
	var out []emfPut
	for i := range b.Points {
		pt := &b.Points[i]
		put := emfPut{Namespace: pt.Namespace, Name: pt.Name, Unit: pt.Unit, Dimensions: map[string]string{}, Values: pt.Values}
		for _, l := range pt.Labels {
			put.Dimensions[l.Name] = l.Value
		}
		out = append(out, put)
	}
	return out
}

// merge joins the values of one metric (namespace, name, unit, dimensions)
// in order: a library splits more than 100 values over several events,
// which CloudWatch publishes as one metric.
func merge(puts []emfPut) []string {
	var keys []string
	vals := map[string][]float64{}
	for _, p := range puts {
		vs := p.Values
		p.Values = nil
		k := p.String()
		if _, ok := vals[k]; !ok {
			keys = append(keys, k)
		}
		vals[k] = append(vals[k], vs...)
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		s := make([]string, len(vals[k]))
		for j, v := range vals[k] {
			s[j] = strconv.FormatFloat(v, 'g', -1, 64)
		}
		out[i] = strings.TrimSuffix(k, "[]") + "[" + strings.Join(s, " ") + "]"
	}
	return out
}

func diagStrings(b *metric.Batch) string {
	var s []string
	for i := range b.Diags {
		s = append(s, b.Diags[i].String())
	}
	return strings.Join(s, "\n")
}
