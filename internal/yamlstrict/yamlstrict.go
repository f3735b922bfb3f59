// Package yamlstrict rejects YAML keys that name no field of the struct they
// will be decoded into. yaml.v3's Decoder.KnownFields does that for plain
// decoding, but it is not passed on to custom UnmarshalYAML methods nor to
// Node.Decode, which the config types that mirror Prometheus' and
// statsd_exporter's formats need; so they check their node first.
//
//	if err := yamlstrict.Check(node, reflect.TypeFor[Config](), name); err != nil { return err }
//	err := node.Decode(&cfg)
package yamlstrict

import (
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// Check walks n as it would be decoded into a value of type t and reports
// the first mapping key that names no field (by yaml tag), with its line:
// "line 3: field urll not found in remote_write entry". name gives the
// user-facing name of a struct type (nil: the Go type name). A struct given
// a scalar other than null is reported too; other type mismatches are left
// to the decoder.
func Check(n *yaml.Node, t reflect.Type, name func(reflect.Type) string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	switch {
	case t == reflect.TypeFor[yaml.Node]():
		return nil
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for _, e := range n.Content {
			if err := Check(e, t.Elem(), name); err != nil {
				return err
			}
		}
		return nil
	case t.Kind() != reflect.Struct:
		return nil
	case n.Kind != yaml.MappingNode:
		if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
			return fmt.Errorf("line %d: want a mapping for %s, found %s", n.Line, typeName(t, name), strings.TrimPrefix(n.ShortTag(), "!!"))
		}
		return nil
	}
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if key != "" && key != "-" {
			fields[key] = f.Type
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		ft, ok := fields[k.Value]
		if !ok {
			return fmt.Errorf("line %d: field %s not found in %s", k.Line, k.Value, typeName(t, name))
		}
		if err := Check(n.Content[i+1], ft, name); err != nil {
			return err
		}
	}
	return nil
}

func typeName(t reflect.Type, name func(reflect.Type) string) string {
	if name != nil {
		if s := name(t); s != "" {
			return s
		}
	}
	return t.Name()
}
