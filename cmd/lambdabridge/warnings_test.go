package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The template's warnings (here a CodeUri that leads outside the template's
// folder) are printed by the commands that run the function, not only by
// check-config (issue 16).
func TestTemplateWarningsPrinted(t *testing.T) {
	bootstrap := shellHandler(t)
	dir := t.TempDir()
	code := filepath.Join(dir, "code")
	tdir := filepath.Join(dir, "tmpl")
	for _, d := range []string{code, tdir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(code, "bootstrap"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	template := filepath.Join(tdir, "template.yaml")
	if err := os.WriteFile(template, []byte(`Transform: AWS::Serverless-2016-10-31
Resources:
  Outside:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: provided.al2023
      CodeUri: ../code
      Handler: function.handler
`), 0o644); err != nil {
		t.Fatal(err)
	}
	const want = `lambdabridge: warning: function Outside: line 7: CodeUri "../code" leads outside the template's folder`
	for _, args := range [][]string{
		{"invoke", "--template", template},
		{"run", "--template", template, "--invocations", "1"},
	} {
		t.Run(args[0], func(t *testing.T) {
			_, stderr, code := runMain(t, context.Background(), "", args...)
			if !strings.Contains(stderr, want) {
				t.Errorf("exit %d, stderr lacks %q:\n%s", code, want, stderr)
			}
		})
	}
}
