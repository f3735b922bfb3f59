// Package exposition writes gathered metric families in the formats users
// read them in: the Prometheus text format, OpenMetrics, and a JSON form for
// scripts. Text and OpenMetrics are written by prometheus/common/expfmt, the
// encoder Prometheus itself uses.
//
//	fams, _ := aggregator.Gather()
//	err := exposition.Write(os.Stdout, exposition.FormatOpenMetrics, fams)
package exposition

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Format names an output format.
type Format string

const (
	FormatPrometheus  Format = "prometheus"
	FormatOpenMetrics Format = "openmetrics"
	FormatJSON        Format = "json"
)

// ParseFormat checks a user-given format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatPrometheus, FormatOpenMetrics, FormatJSON:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q (want prometheus, openmetrics or json)", s)
}

// Write writes fams to w in format f.
func Write(w io.Writer, f Format, fams []*dto.MetricFamily) error {
	switch f {
	case FormatPrometheus:
		for _, mf := range fams {
			if _, err := expfmt.MetricFamilyToText(w, mf); err != nil {
				return fmt.Errorf("write text exposition: %w", err)
			}
		}
		return nil
	case FormatOpenMetrics:
		for _, mf := range fams {
			if _, err := expfmt.MetricFamilyToOpenMetrics(w, mf); err != nil {
				return fmt.Errorf("write openmetrics exposition: %w", err)
			}
		}
		_, err := expfmt.FinalizeOpenMetrics(w)
		return err
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Families []Family `json:"families"`
		}{ToJSON(fams)})
	}
	return fmt.Errorf("unknown format %q", f)
}

// Family is the JSON form of a metric family.
type Family struct {
	Name   string   `json:"name"`
	Type   string   `json:"type"`
	Help   string   `json:"help,omitempty"`
	Unit   string   `json:"unit,omitempty"`
	Series []Series `json:"series"`
}

// Series is the JSON form of one series. Value is set for counters, gauges
// and untyped series; Count, Sum and Buckets for histograms and summaries.
type Series struct {
	Labels    map[string]string `json:"labels"`
	Value     *Number           `json:"value,omitempty"`
	Count     *uint64           `json:"count,omitempty"`
	Sum       *Number           `json:"sum,omitempty"`
	Buckets   []Bucket          `json:"buckets,omitempty"`
	Quantiles []Quantile        `json:"quantiles,omitempty"`
}

// Bucket is one cumulative classic histogram bucket.
type Bucket struct {
	LE    Number `json:"le"`
	Count uint64 `json:"count"`
}

// Quantile is one summary quantile.
type Quantile struct {
	Quantile float64 `json:"quantile"`
	Value    Number  `json:"value"`
}

// Number is a float that also encodes NaN and ±Inf (as the strings "NaN",
// "+Inf", "-Inf"), which JSON numbers cannot.
type Number float64

// MarshalJSON implements json.Marshaler.
func (n Number) MarshalJSON() ([]byte, error) {
	f := float64(n)
	switch {
	case math.IsNaN(f):
		return []byte(`"NaN"`), nil
	case math.IsInf(f, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

func num(f float64) *Number { n := Number(f); return &n }

// ToJSON converts families to their JSON form.
func ToJSON(fams []*dto.MetricFamily) []Family {
	out := make([]Family, 0, len(fams))
	for _, mf := range fams {
		f := Family{Name: mf.GetName(), Type: typeName(mf.GetType()), Help: mf.GetHelp(), Unit: mf.GetUnit(), Series: []Series{}}
		for _, m := range mf.GetMetric() {
			s := Series{Labels: map[string]string{}}
			for _, lp := range m.GetLabel() {
				s.Labels[lp.GetName()] = lp.GetValue()
			}
			switch {
			case m.Counter != nil:
				s.Value = num(m.GetCounter().GetValue())
			case m.Gauge != nil:
				s.Value = num(m.GetGauge().GetValue())
			case m.Untyped != nil:
				s.Value = num(m.GetUntyped().GetValue())
			case m.Histogram != nil:
				h := m.GetHistogram()
				c := h.GetSampleCount()
				s.Count, s.Sum = &c, num(h.GetSampleSum())
				for _, b := range h.GetBucket() {
					s.Buckets = append(s.Buckets, Bucket{LE: Number(b.GetUpperBound()), Count: b.GetCumulativeCount()})
				}
				if len(h.GetBucket()) > 0 && !math.IsInf(h.GetBucket()[len(h.GetBucket())-1].GetUpperBound(), 1) {
					s.Buckets = append(s.Buckets, Bucket{LE: Number(math.Inf(1)), Count: c})
				}
			case m.Summary != nil:
				sm := m.GetSummary()
				c := sm.GetSampleCount()
				s.Count, s.Sum = &c, num(sm.GetSampleSum())
				for _, q := range sm.GetQuantile() {
					s.Quantiles = append(s.Quantiles, Quantile{Quantile: q.GetQuantile(), Value: Number(q.GetValue())})
				}
			}
			f.Series = append(f.Series, s)
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func typeName(t dto.MetricType) string {
	switch t {
	case dto.MetricType_COUNTER:
		return "counter"
	case dto.MetricType_GAUGE:
		return "gauge"
	case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
		return "histogram"
	case dto.MetricType_SUMMARY:
		return "summary"
	}
	return "untyped"
}
