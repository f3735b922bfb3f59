package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/lambdabridge/lambdabridge/metric"
)

// The catalog file format. A catalog file is one JSON object:
//
//	{
//	  "schema": "lambdabridge.catalog",
//	  "version": 1,
//	  "families": [                           // sorted by name
//	    {
//	      "name": "shop_latency_seconds",     // Prometheus family name
//	      "type": "histogram",                // counter | gauge | histogram | summary | untyped
//	      "unit": "seconds",                  // Prometheus base unit, omitted when none
//	      "help": "EMF metric Shop Latency (Milliseconds)",
//	      "type_conflicts": ["gauge"],        // other types the same name was translated to
//	      "labels": [                         // sorted by name
//	        {"name": "service", "examples": ["cart", "checkout"], "distinct": 2, "saturated": false}
//	      ],
//	      "label_sets": [["operation", "service"], ["service"]],  // label-name sets written, sorted
//	      "label_sets_saturated": false,      // more than MaxLabelSets were seen
//	      "observed": {"count": 12, "min": 0.004, "max": 0.31},  // histograms, in the base unit
//	      "buckets": [0.005, 0.01, 0.025],    // histogram bucket bounds, when known
//	      "sources": [                        // sorted by format, namespace, name, kind, unit
//	        {"format": "emf", "namespace": "Shop", "name": "Latency", "kind": "histogram",
//	         "unit": "Milliseconds", "dimension_sets": [["Service"], ["Service", "Operation"]],
//	         "storage_resolution": 60, "functions": ["shop"], "points": 12, "first_seen": "fn.log:3"},
//	        {"format": "dogstatsd", "name": "db.query", "kind": "timer", "unit": "Milliseconds",
//	         "tag_keys": ["env", "service"], "points": 4},
//	        {"format": "platform", "name": "lambda_duration_seconds", "kind": "histogram",
//	         "unit": "Seconds", "label_names": ["function_name"], "points": 9}
//	      ],
//	      "sources_saturated": false          // more than MaxSources sources were seen
//	    }
//	  ]
//	}
//
// Dimension sets are kept exactly as declared (key order and case); tag keys,
// label names and functions are sorted. "examples" holds at most the
// catalog's MaxExamples values (sorted); "distinct" counts the distinct values
// seen up to MaxDistinct, where "saturated" is set. Readers reject a file
// whose schema is not "lambdabridge.catalog" or whose version is newer than
// Version, and unknown keys.
const (
	Schema  = "lambdabridge.catalog"
	Version = 1
)

// ErrSchema is wrapped by Read's error for a file that is not a catalog of a
// version this build reads.
var ErrSchema = errors.New("not a lambdabridge catalog of a supported version")

// File is the JSON document.
type File struct {
	Schema   string   `json:"schema"`
	Version  int      `json:"version"`
	Families []Family `json:"families"`
}

// Family is one Prometheus family and everything known about it.
type Family struct {
	Name      string   `json:"name"`
	Type      string   `json:"type"`
	Unit      string   `json:"unit,omitempty"`
	Help      string   `json:"help,omitempty"`
	Conflicts []string `json:"type_conflicts,omitempty"`
	Labels    []Label  `json:"labels"`
	// LabelSets are the distinct sets of label names the family was written
	// with (each sorted; the function label the aggregator adds excluded).
	LabelSets          [][]string `json:"label_sets"`
	LabelSetsSaturated bool       `json:"label_sets_saturated,omitempty"`
	Observed           *Observed  `json:"observed,omitempty"`
	Buckets            []float64  `json:"buckets,omitempty"`
	Sources            []Source   `json:"sources"`
	// SourcesSaturated: more than MaxSources sources wrote the family.
	SourcesSaturated bool `json:"sources_saturated,omitempty"`
}

// Label is one Prometheus label name of a family with example values.
type Label struct {
	Name      string   `json:"name"`
	Examples  []string `json:"examples"`
	Distinct  int      `json:"distinct"`
	Saturated bool     `json:"saturated,omitempty"`
}

// Observed summarises the observations of a histogram, in its base unit.
type Observed struct {
	Count int64   `json:"count"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
}

func (o *Observed) add(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	if o.Count == 0 || v < o.Min {
		o.Min = v
	}
	if o.Count == 0 || v > o.Max {
		o.Max = v
	}
	o.Count++
}

func (o *Observed) merge(in *Observed) {
	if in == nil || in.Count == 0 {
		return
	}
	if o.Count == 0 {
		*o = *in
		return
	}
	o.Min = min(o.Min, in.Min)
	o.Max = max(o.Max, in.Max)
	o.Count += in.Count
}

// Source is where a family came from: one (format, namespace, name, kind,
// unit) as the producer wrote it.
type Source struct {
	Format    string `json:"format"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Unit      string `json:"unit,omitempty"`
	// DimensionSets are the EMF dimension sets, each as declared.
	DimensionSets [][]string `json:"dimension_sets,omitempty"`
	// TagKeys are the Datadog tag keys as written.
	TagKeys []string `json:"tag_keys,omitempty"`
	// LabelNames are the label names of platform metrics.
	LabelNames        []string `json:"label_names,omitempty"`
	StorageResolution int      `json:"storage_resolution,omitempty"`
	Functions         []string `json:"functions,omitempty"`
	Points            int64    `json:"points"`
	// FirstSeen is FILE:LINE of the first point (in file order).
	FirstSeen string `json:"first_seen,omitempty"`
}

// Families returns a deep copy of the catalog's families, sorted by name,
// in the form they are written.
func (c *Catalog) Families() []Family {
	c.mu.Lock()
	defer c.mu.Unlock()
	names := slices.Sorted(maps.Keys(c.fams))
	out := make([]Family, 0, len(names))
	for _, n := range names {
		out = append(out, c.export(c.fams[n]))
	}
	return out
}

// Family returns the family called name.
func (c *Catalog) Family(name string) (Family, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.fams[name]
	if f == nil {
		return Family{}, false
	}
	return c.export(f), true
}

func (c *Catalog) export(f *family) Family {
	out := Family{Name: f.name, Type: f.typ.String(), Unit: f.unit, Help: f.help, Labels: []Label{}, Sources: []Source{}}
	for t := range f.types {
		if t != f.typ {
			out.Conflicts = append(out.Conflicts, t.String())
		}
	}
	slices.Sort(out.Conflicts)
	for _, n := range slices.Sorted(maps.Keys(f.labels)) {
		l := f.labels[n]
		ex := slices.Sorted(maps.Keys(l.values))
		if len(ex) > c.maxExamples {
			ex = ex[:c.maxExamples]
		}
		if ex == nil {
			ex = []string{}
		}
		out.Labels = append(out.Labels, Label{Name: n, Examples: ex, Distinct: max(l.distinct, len(l.values)), Saturated: l.saturated})
	}
	out.LabelSets = [][]string{}
	for _, k := range slices.Sorted(maps.Keys(f.labelSets)) {
		out.LabelSets = append(out.LabelSets, slices.Clone(f.labelSets[k]))
	}
	out.LabelSetsSaturated = f.setsFull
	out.SourcesSaturated = f.sourcesFull
	if f.obs.Count > 0 {
		o := f.obs
		out.Observed = &o
	}
	out.Buckets = slices.Clone(f.buckets)
	keys := slices.SortedFunc(maps.Keys(f.sources), compareSourceKey)
	for _, k := range keys {
		s := f.sources[k]
		src := Source{
			Format: k.format.String(), Namespace: k.namespace, Name: k.name, Kind: k.kind.String(), Unit: k.unit,
			StorageResolution: s.resolution, Points: s.points,
			TagKeys:    sortedSet(s.tagKeys),
			LabelNames: sortedSet(s.labelNames),
			Functions:  sortedSet(s.functions),
		}
		if s.first.Source != "" {
			src.FirstSeen = s.first.String()
		}
		if k.format == metric.FormatEMF {
			src.DimensionSets = make([][]string, 0, len(s.dimSets))
			for _, key := range slices.Sorted(maps.Keys(s.dimSets)) {
				src.DimensionSets = append(src.DimensionSets, slices.Clone(s.dimSets[key]))
			}
		}
		out.Sources = append(out.Sources, src)
	}
	return out
}

func sortedSet(m map[string]struct{}) []string {
	if len(m) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(m))
}

func compareSourceKey(a, b sourceKey) int {
	if c := strings.Compare(a.format.String(), b.format.String()); c != 0 {
		return c
	}
	if c := strings.Compare(a.namespace, b.namespace); c != 0 {
		return c
	}
	if c := strings.Compare(a.name, b.name); c != 0 {
		return c
	}
	if a.kind != b.kind {
		return strings.Compare(a.kind.String(), b.kind.String())
	}
	return strings.Compare(a.unit, b.unit)
}

func parseOrigin(s string) metric.Origin {
	if s == "" {
		return metric.Origin{}
	}
	if i := strings.LastIndexByte(s, ':'); i > 0 {
		if n, err := strconv.Atoi(s[i+1:]); err == nil && n > 0 {
			return metric.Origin{Source: s[:i], Line: n}
		}
	}
	return metric.Origin{Source: s}
}

// MarshalJSON renders the catalog as a File; the output is the same for the
// same content, whatever order it was added in.
func (c *Catalog) MarshalJSON() ([]byte, error) {
	return json.Marshal(File{Schema: Schema, Version: Version, Families: c.Families()})
}

// Write writes the catalog as indented JSON, ending in a newline.
func (c *Catalog) Write(w io.Writer) error {
	b, err := json.MarshalIndent(File{Schema: Schema, Version: Version, Families: c.Families()}, "", "  ")
	if err != nil {
		return fmt.Errorf("catalog: encode: %w", err)
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("catalog: write: %w", err)
	}
	return nil
}

// Read reads a catalog written by Write. Unknown keys are errors.
func Read(r io.Reader, opts ...Option) (*Catalog, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("catalog: read: %w", err)
	}
	c := New(opts...)
	if err := c.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return c, nil
}

// UnmarshalJSON adds the families of a catalog file to c.
func (c *Catalog) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("catalog: decode: %w", err)
	}
	if f.Schema != Schema || f.Version < 1 || f.Version > Version {
		return fmt.Errorf("catalog: schema %q version %d: %w", f.Schema, f.Version, ErrSchema)
	}
	for i := range f.Families {
		fam := &f.Families[i]
		if fam.Name == "" {
			return fmt.Errorf("catalog: family %d has no name", i)
		}
		if _, ok := metric.ParseType(fam.Type); !ok {
			return fmt.Errorf("catalog: family %s: unknown type %q", fam.Name, fam.Type)
		}
	}
	if c.fams == nil { // a zero Catalog, as json.Unmarshal makes: not shared yet
		c.init()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range f.Families {
		c.mergeFamily(&f.Families[i])
	}
	return nil
}
