package yamlstrict

import (
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type inner struct {
	A int `yaml:"a"`
}

type outer struct {
	Name  string    `yaml:"name"`
	In    *inner    `yaml:"inner"`
	List  []inner   `yaml:"list"`
	Raw   yaml.Node `yaml:"raw"`
	Skip  int       `yaml:"-"`
	Inner inner     `yaml:"nested,omitempty"`
}

func TestCheck(t *testing.T) {
	name := func(t reflect.Type) string {
		if t == reflect.TypeFor[inner]() {
			return "inner block"
		}
		return ""
	}
	for _, tt := range []struct{ doc, want string }{
		{"name: x\ninner: {a: 1}\nlist: [{a: 2}]\nraw: {anything: 1}\nnested: {a: 3}\n", ""},
		{"name: x\nnmae: y\n", "line 2: field nmae not found in outer"},
		{"inner:\n  a: 1\n  b: 2\n", "line 3: field b not found in inner block"},
		{"list:\n  - a: 1\n  - c: 1\n", "line 3: field c not found in inner block"},
		{"inner: 5\n", "line 1: want a mapping for inner block, found int"},
		{"inner: ~\n", ""},
		{"Skip: 1\n", "field Skip not found"},
		{"x: &a {a: 1}\n", "field x not found"},
	} {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(tt.doc), &n); err != nil {
			t.Fatal(err)
		}
		err := Check(&n, reflect.TypeFor[outer](), name)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("Check(%q) = %v, want %q", tt.doc, err, tt.want)
		}
	}
}
