// Package config reads lambdabridge's configuration file: the functions to
// run, the sinks to deliver to and the mapping rules, in one strict YAML file
// (unknown keys are errors, reported with their line). Where the ecosystem
// already has a format it is accepted as is: the remote_write list is
// Prometheus' own `remote_write:` syntax (sigv4 included) and the mapping
// rules are prometheus/statsd_exporter's `mappings:` syntax.
//
//	cfg, err := config.Load("lambdabridge.yaml")
//	defs, err := cfg.Definitions()
//	rw := cfg.RemoteWrite // []remotewrite.Config
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/internal/yamlstrict"
	"github.com/lambdabridge/lambdabridge/pushgw"
	"github.com/lambdabridge/lambdabridge/remotewrite"
)

// File is the whole configuration file.
type File struct {
	// Functions defined one by one (like the --handler flags).
	Functions []Function `yaml:"functions"`
	// Template is a SAM template whose functions are added (like --template).
	Template string `yaml:"template"`
	// TemplateParameters overrides SAM template parameters.
	TemplateParameters map[string]string `yaml:"template_parameters"`

	Runner      Runner      `yaml:"runner"`
	Aggregation Aggregation `yaml:"aggregation"`
	Scrape      *Scrape     `yaml:"scrape"`
	// RemoteWrite is Prometheus' remote_write list, pasted as is.
	RemoteWrite []remotewrite.Config `yaml:"-"`
	// ExternalLabels is Prometheus' `global: external_labels:`: labels
	// every remote_write series gets unless it has them (an entry's own
	// external_labels override them).
	ExternalLabels map[string]string `yaml:"-"`
	// RemoteWriteInterval is how often the remote_write sinks gather the
	// aggregation and send it (0: remotewrite.DefaultInterval, 15s).
	RemoteWriteInterval time.Duration   `yaml:"-"`
	Pushgateway         []pushgw.Config `yaml:"pushgateway"`
	// Mappings holds the statsd_exporter-style mapping rules (the file's
	// `defaults:` and `mappings:` keys) as YAML, for display.
	Mappings []byte `yaml:"-"`
	// mappingDoc is the same, as parsed nodes (so errors keep their lines).
	mappingDoc *yaml.Node

	dir string // the file's directory: relative paths are relative to it
}

// Function is one function defined in the file.
type Function struct {
	Name         string            `yaml:"name"`
	Handler      string            `yaml:"handler"`
	Args         []string          `yaml:"args"`
	MemoryMB     int               `yaml:"memory"`
	Timeout      string            `yaml:"timeout"` // "3", "3s", "1500ms"
	Architecture string            `yaml:"architecture"`
	Env          map[string]string `yaml:"env"`
	Exec         bool              `yaml:"exec"`
}

// Runner holds the execution-environment settings.
type Runner struct {
	Concurrency         int           `yaml:"concurrency"`
	ReservedConcurrency int           `yaml:"reserved_concurrency"`
	IdleTimeout         time.Duration `yaml:"idle_timeout"`
	NoFreeze            bool          `yaml:"no_freeze"`
	DogStatsDAddr       string        `yaml:"dogstatsd_addr"`
	EMFAgentAddr        string        `yaml:"emf_agent_addr"`
	API                 string        `yaml:"api"`
	Region              string        `yaml:"region"`
}

// Aggregation holds the aggregator's settings.
type Aggregation struct {
	PerEnvironment bool `yaml:"per_environment"`
	// MaxSeries and MaxSeriesPerFamily bound the series held (0: the
	// defaults, aggregate.DefaultMaxSeries 250,000 and
	// aggregate.DefaultMaxSeriesPerFamily 10,000); new series beyond them
	// are dropped and counted (cardinality_limit).
	MaxSeries          int           `yaml:"max_series"`
	MaxSeriesPerFamily int           `yaml:"max_series_per_family"`
	TTL                time.Duration `yaml:"ttl"`
}

// Scrape is the /metrics endpoint.
type Scrape struct {
	Listen string `yaml:"listen"`
}

// raw mirrors File with the parts handed on as raw YAML.
type raw struct {
	Functions           []Function        `yaml:"functions"`
	Template            string            `yaml:"template"`
	TemplateParameters  map[string]string `yaml:"template_parameters"`
	Runner              Runner            `yaml:"runner"`
	Aggregation         Aggregation       `yaml:"aggregation"`
	Scrape              *Scrape           `yaml:"scrape"`
	Global              yaml.Node         `yaml:"global"`
	RemoteWrite         yaml.Node         `yaml:"remote_write"`
	RemoteWriteInterval time.Duration     `yaml:"remote_write_interval"`
	Pushgateway         []pushgw.Config   `yaml:"pushgateway"`
	Defaults            yaml.Node         `yaml:"defaults"`
	Mappings            yaml.Node         `yaml:"mappings"`
}

// Load reads and checks the file at path.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err == nil {
		f.dir = filepath.Dir(abs)
	}
	return f, nil
}

// Parse reads a configuration document. Unknown keys are errors, and so
// are values the flags refuse (checked by the Check functions), each
// reported with its line.
func Parse(data []byte) (*File, error) {
	var r raw
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if err := checkValues(&doc); err != nil {
		return nil, err
	}
	f := &File{
		Functions: r.Functions, Template: r.Template, TemplateParameters: r.TemplateParameters,
		Runner: r.Runner, Aggregation: r.Aggregation, Scrape: r.Scrape, Pushgateway: r.Pushgateway,
		RemoteWriteInterval: r.RemoteWriteInterval,
	}
	rw, err := remotewrite.DecodeConfigs(&r.RemoteWrite)
	if err != nil {
		return nil, err
	}
	f.RemoteWrite = rw
	if f.ExternalLabels, err = parseGlobal(&r.Global); err != nil {
		return nil, err
	}
	if r.Mappings.Kind != 0 || r.Defaults.Kind != 0 {
		doc := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		key := func(k string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k} }
		if r.Defaults.Kind != 0 {
			doc.Content = append(doc.Content, key("defaults"), &r.Defaults)
		}
		if r.Mappings.Kind != 0 {
			doc.Content = append(doc.Content, key("mappings"), &r.Mappings)
		}
		f.mappingDoc = doc
		out, err := yaml.Marshal(doc)
		if err != nil {
			return nil, fmt.Errorf("mappings: %w", err)
		}
		f.Mappings = out
	}
	for i, fn := range f.Functions {
		if fn.Handler == "" {
			return nil, fmt.Errorf("functions[%d]: handler is required", i)
		}
	}
	return f, nil
}

// global is the part of Prometheus' `global:` block that applies here.
type global struct {
	ExternalLabels map[string]string `yaml:"external_labels"`
}

// parseGlobal reads the `global:` block: only external_labels applies to a
// bridge (scrape and evaluation settings have nothing to act on here and are
// refused with their line).
func parseGlobal(n *yaml.Node) (map[string]string, error) {
	if n.Kind == 0 || n.Tag == "!!null" {
		return nil, nil
	}
	if err := yamlstrict.Check(n, reflect.TypeFor[global](), func(reflect.Type) string { return "global (only external_labels applies to lambdabridge)" }); err != nil {
		return nil, err
	}
	var g global
	if err := n.Decode(&g); err != nil {
		return nil, fmt.Errorf("global: %w", err)
	}
	if err := remotewrite.CheckExternalLabels(g.ExternalLabels); err != nil {
		line := n.Line
		if v := mapValue(n, "external_labels"); v != nil {
			line = v.Line
		}
		return nil, fmt.Errorf("line %d: global.external_labels: %w", line, err)
	}
	return g.ExternalLabels, nil
}

// Definitions resolves the functions of the file: those listed under
// functions and those of the SAM template.
func (f *File) Definitions() ([]function.Definition, error) {
	var defs []function.Definition
	for _, fn := range f.Functions {
		opts := []function.Option{function.WithExec(fn.Exec)}
		if fn.Name != "" {
			opts = append(opts, function.WithName(fn.Name))
		}
		if fn.MemoryMB > 0 {
			opts = append(opts, function.WithMemoryMB(fn.MemoryMB))
		}
		if fn.Timeout != "" {
			t, _ := function.ParseTimeout(fn.Timeout) // checked by Parse
			opts = append(opts, function.WithTimeout(t))
		}
		if fn.Architecture != "" {
			opts = append(opts, function.WithArchitecture(fn.Architecture))
		}
		if len(fn.Env) > 0 {
			opts = append(opts, function.WithEnv(fn.Env))
		}
		if len(fn.Args) > 0 {
			opts = append(opts, function.WithArgs(fn.Args...))
		}
		d, err := function.FromHandler(f.path(fn.Handler), opts...)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", fn.Name, err)
		}
		defs = append(defs, d)
	}
	if f.Template != "" {
		td, err := function.FromTemplateParams(f.path(f.Template), f.TemplateParameters)
		if err != nil {
			return nil, err
		}
		defs = append(defs, td...)
	}
	return defs, nil
}

func (f *File) path(p string) string {
	if p == "" || filepath.IsAbs(p) || f.dir == "" {
		return p
	}
	return filepath.Join(f.dir, p)
}
