package analysis

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPure keeps the analysis pure: its code imports only computation
// packages and the report's types — nothing that reaches a network, a
// process, a file or Prometheus.
func TestPure(t *testing.T) {
	allowed := map[string]bool{"fmt": true, "math": true, "sort": true, "strings": true, "time": true, "slices": true,
		"github.com/lambdabridge/lambdabridge/compare/report": true}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range ast.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); !allowed[p] {
				t.Errorf("%s imports %s: the analysis takes observations in and gives a report out, nothing else", f, p)
			}
		}
	}
}
