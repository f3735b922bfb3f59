package function

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const samTemplate = `Parameters:
  Stage:
    Type: String
    Default: dev
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  NotProd: !Not [!Condition IsProd]
  Both: !And [!Condition IsProd, !Equals [a, a]]
Resources:
  Zipped:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: code.zip
      Runtime: provided.al2023
      Handler: bootstrap
      ReservedConcurrentExecutions: 2
      Events:
        Api:
          Type: Api
      Environment:
        Variables:
          LEVEL: !If [IsProd, warn, debug]
          BOTH: !If [Both, yes, no]
          FROM_FILE: template
  ProdOnly:
    Type: AWS::Serverless::Function
    Condition: IsProd
    Properties:
      CodeUri: code.zip
      Runtime: provided.al2023
`

// TestSAMTemplate: a zip CodeUri is unpacked, Conditions and Fn::If are
// evaluated (a function whose Condition is false does not exist), every
// property not honoured gets a warning, and --env-vars applies as sam's.
func TestSAMTemplate(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	zipped := writeZip(t, map[string]string{"bootstrap*": "#!/bin/sh\n"})
	b, _ := os.ReadFile(zipped)
	os.WriteFile(filepath.Join(dir, "code.zip"), b, 0o644)
	os.WriteFile(filepath.Join(dir, "template.yaml"), []byte(samTemplate), 0o644)
	for _, stage := range []string{"dev", "prod"} {
		defs, err := FromTemplateParams(filepath.Join(dir, "template.yaml"), map[string]string{"Stage": stage})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{"dev": 1, "prod": 2}[stage]; len(defs) != want {
			t.Fatalf("%s: %d functions, want %d", stage, len(defs), want)
		}
		d := defs[0]
		if err := d.Validate(); err != nil {
			t.Fatalf("%s: %v", stage, err)
		}
		want := map[string]string{"dev": "debug no", "prod": "warn yes"}[stage]
		if got := d.Env["LEVEL"] + " " + d.Env["BOTH"]; got != want {
			t.Errorf("%s: Fn::If gave %q, want %q", stage, got, want)
		}
		if stage != "dev" {
			continue
		}
		var warns []string
		for _, w := range d.Warnings {
			warns = append(warns, strings.SplitN(w, " (", 2)[0])
		}
		wantWarns := []string{"line 16: ReservedConcurrentExecutions is not honoured locally", "line 17: Events is not honoured locally"}
		if diff := cmp.Diff(wantWarns, warns); diff != "" {
			t.Errorf("warnings (-want +got):\n%s", diff)
		}
		envFile := filepath.Join(dir, "env.json")
		os.WriteFile(envFile, []byte(`{"Parameters":{"FROM_FILE":"global","UNDECLARED":"x"},"Zipped":{"FROM_FILE":"own","OTHER":"y"}}`), 0o644)
		vars, err := EnvVarsFile(envFile)
		if err != nil {
			t.Fatal(err)
		}
		d.ApplyEnvVars(vars)
		if d.Env["FROM_FILE"] != "own" || d.Env["UNDECLARED"] != "" || d.Env["OTHER"] != "" {
			t.Errorf("env after --env-vars: %v", d.Env)
		}
		if !strings.Contains(strings.Join(d.Warnings, "\n"), "env-vars: OTHER is not among") {
			t.Errorf("no warning for an undeclared variable: %q", d.Warnings)
		}
	}
}
