package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/lambdabridge/lambdabridge/internal/yamlstrict"
	"io"
	"reflect"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// Config is a mapping file: prometheus/statsd_exporter's mapping syntax,
// plus lambdabridge's EMF matches (emf_namespace, emf_metric) and type
// changes (type, buckets).
type Config struct {
	Defaults Defaults `yaml:"defaults"`
	Mappings []Rule   `yaml:"mappings"`
}

// Defaults apply to every rule that does not set the field, and to points
// no rule matches.
type Defaults struct {
	ObserverType        string           `yaml:"observer_type"`
	MatchType           string           `yaml:"match_type"`
	GlobDisableOrdering bool             `yaml:"glob_disable_ordering"`
	TTL                 Duration         `yaml:"ttl"`
	HistogramOptions    HistogramOptions `yaml:"histogram_options"`
	SummaryOptions      SummaryOptions   `yaml:"summary_options"`

	// Deprecated statsd_exporter keys, still accepted.
	TimerType string      `yaml:"timer_type"`
	Buckets   []float64   `yaml:"buckets"`
	Quantiles []Objective `yaml:"quantiles"`
}

// Rule is one entry of mappings:.
type Rule struct {
	// Match is a statsd_exporter match: a glob over dotted names (each *
	// matches within one dot-separated component) or, with match_type
	// regex, a regular expression. It matches Datadog and DogStatsD names
	// as written.
	Match string `yaml:"match"`
	// EMFNamespace and EMFMetric match EMF points by namespace and metric
	// name (glob: * matches anything; or regex). Either may be empty (any).
	// Captures are numbered across both, namespace first.
	EMFNamespace string `yaml:"emf_namespace"`
	EMFMetric    string `yaml:"emf_metric"`

	MatchType       string `yaml:"match_type"`        // glob (default) or regex
	MatchMetricType string `yaml:"match_metric_type"` // counter, gauge, observer, set
	Action          string `yaml:"action"`            // map (default) or drop

	// Name is the Prometheus family name, with $1 / ${1} substitutions;
	// empty keeps the translated name.
	Name string `yaml:"name"`
	// Labels are added to the point's labels, with substitutions; they
	// override tags of the same name unless HonorLabels.
	Labels      map[string]string `yaml:"labels"`
	HonorLabels bool              `yaml:"honor_labels"`
	Help        string            `yaml:"help"`
	// Type changes the Prometheus type: counter, gauge, histogram, summary.
	Type string `yaml:"type"`
	// ObserverType is what histogram-like points become: histogram or
	// summary.
	ObserverType     string            `yaml:"observer_type"`
	HistogramOptions *HistogramOptions `yaml:"histogram_options"`
	SummaryOptions   *SummaryOptions   `yaml:"summary_options"`
	// Buckets is shorthand for histogram_options.buckets (and statsd_exporter's
	// deprecated key).
	Buckets []float64 `yaml:"buckets"`
	TTL     Duration  `yaml:"ttl"`
	// Scale multiplies values, replacing the unit scale of the translation.
	Scale *float64 `yaml:"scale"`

	// Deprecated statsd_exporter keys, still accepted.
	TimerType string      `yaml:"timer_type"`
	Quantiles []Objective `yaml:"quantiles"`
}

// HistogramOptions configures histograms.
type HistogramOptions struct {
	Buckets                     []float64 `yaml:"buckets"`
	NativeHistogramBucketFactor float64   `yaml:"native_histogram_bucket_factor"`
	NativeHistogramMaxBuckets   uint32    `yaml:"native_histogram_max_buckets"`
}

// SummaryOptions configures summaries.
type SummaryOptions struct {
	Quantiles  []Objective `yaml:"quantiles"`
	MaxAge     Duration    `yaml:"max_age"`
	AgeBuckets uint32      `yaml:"age_buckets"`
	BufCap     uint32      `yaml:"buf_cap"`
}

// Objective is one summary quantile with its allowed error.
type Objective struct {
	Quantile float64 `yaml:"quantile"`
	Error    float64 `yaml:"error"`
}

// Duration is a duration written with a unit ("90s", "1h30m", "2d"); a
// bare 0 is accepted too.
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration such as 90s", n.Line)
	}
	if n.Value == "0" {
		*d = 0
		return nil
	}
	v, err := model.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: invalid duration %q (want a unit, e.g. 90s, 5m, 1h): %w", n.Line, n.Value, err)
	}
	*d = Duration(v)
	return nil
}

// decode parses data strictly: unknown keys are errors, and every error
// names the line.
func decode(data []byte) (*Config, *yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("parse mapping config: %w", err)
	}
	c, n, err := decodeNode(&doc)
	if err != nil {
		return nil, nil, err
	}
	// belt and braces: yaml.v3's own strict mode agrees with yamlstrict.Check
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(new(Config)); err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("parse mapping config: %w", err)
	}
	return c, n, nil
}

func decodeNode(n *yaml.Node) (*Config, *yaml.Node, error) {
	if n == nil || n.Kind == 0 {
		return &Config{}, nil, nil
	}
	for n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return &Config{}, n, nil
		}
		n = n.Content[0]
	}
	if err := yamlstrict.Check(n, reflect.TypeFor[Config](), yamlName); err != nil {
		return nil, nil, err
	}
	var c Config
	if err := n.Decode(&c); err != nil {
		return nil, nil, fmt.Errorf("parse mapping config: %w", err)
	}
	return &c, n, nil
}

func yamlName(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[Config]():
		return "mapping config"
	case reflect.TypeFor[Rule]():
		return "mapping rule"
	case reflect.TypeFor[Defaults]():
		return "defaults"
	case reflect.TypeFor[HistogramOptions]():
		return "histogram_options"
	case reflect.TypeFor[SummaryOptions]():
		return "summary_options"
	case reflect.TypeFor[Objective]():
		return "quantile"
	}
	return t.Name()
}

// ruleLines returns the line of every entry of mappings: in the decoded
// document n.
func ruleLines(n *yaml.Node) []int {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "mappings" && n.Content[i+1].Kind == yaml.SequenceNode {
			var lines []int
			for _, c := range n.Content[i+1].Content {
				lines = append(lines, c.Line)
			}
			return lines
		}
	}
	return nil
}
