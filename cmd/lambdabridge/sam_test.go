package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInvokeSAMFlags: invoke with a template says what it does not honour,
// applies --parameter-overrides (Fn::If on a Condition), --env-vars
// (sam's format) and --region (AWS::Region), and --debug turns the
// timeout off.
func TestInvokeSAMFlags(t *testing.T) {
	dir := t.TempDir()
	if b, err := exec.Command("go", "build", "-o", filepath.Join(dir, "code", "bootstrap"), "../../runner/testdata/gofn").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	tmpl := `Parameters:
  Stage:
    Type: String
    Default: dev
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: code
      Runtime: provided.al2023
      Timeout: 1
      Tracing: Active
      Environment:
        Variables:
          MODE: !If [IsProd, strict, lax]
          REGION_SEEN: !Ref AWS::Region
          FROM_FILE: template
`
	os.WriteFile(filepath.Join(dir, "template.yaml"), []byte(tmpl), 0o644)
	os.WriteFile(filepath.Join(dir, "env.json"), []byte(`{"Fn":{"FROM_FILE":"file"}}`), 0o644)
	args := []string{"invoke", "--template", filepath.Join(dir, "template.yaml"), "--parameter-overrides", "Stage=prod",
		"--env-vars", filepath.Join(dir, "env.json"), "--region", "eu-west-3", "--debug", "--event", "-"}
	out, errs, code := runMain(t, context.Background(), `{"action":"env"}`, args...)
	if code != 0 {
		t.Fatalf("code %d\n%s", code, errs)
	}
	if !strings.Contains(errs, "lambdabridge: warning: function Fn: line 14: Tracing is not honoured locally") {
		t.Errorf("no warning for Tracing:\n%s", errs)
	}
	var env map[string]any
	json.Unmarshal([]byte(out), &env)
	for k, want := range map[string]string{"MODE": "strict", "REGION_SEEN": "eu-west-3", "FROM_FILE": "file", "AWS_REGION": "eu-west-3"} {
		if env["env:"+k] != want {
			t.Errorf("%s = %v, want %s", k, env["env:"+k], want)
		}
	}
	// 1.5 s of work against a 1 s timeout: --debug has no timeout.
	if _, errs, code := runMain(t, context.Background(), `{"action":"sleep","ms":1500}`, args...); code != 0 {
		t.Errorf("with --debug the invocation timed out: code %d\n%s", code, errs)
	}
}
