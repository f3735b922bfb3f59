package function

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func testdata(t *testing.T, parts ...string) string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join(append([]string{"testdata"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func TestFromTemplate(t *testing.T) {
	td := testdata(t)
	tests := []struct {
		file string
		want []Definition
	}{
		{
			file: "full.yaml",
			want: []Definition{
				{
					Name: "Api", Handler: "bootstrap", Runtime: "provided.al2023", CodeDir: td + "/api",
					Command: []string{td + "/api/bootstrap"}, MemoryMB: 256, Timeout: 10 * time.Second, Architecture: "arm64",
					Env: map[string]string{
						"STAGE":      "dev",
						"SHARED":     "overridden",
						"REGION_URL": "https://us-east-1.example.com/dev",
						"TABLE":      "TableName",
						"QUEUE_ARN":  "Queue.Arn",
						"BUCKET":     "Bucket",
						"JOINED":     "a:dev:c",
						"PICKED":     "y",
						"COUNT":      "3",
						"FLAG":       "true",
						"LITERAL":    "${NotAVar}",
						"SUBLIST":    "svc-dev",
						"LONGREF":    "info",
						"LONGSUB":    "123456789012",
						"COND":       "!If [IsProd, a, b]",
					},
					Warnings: []string{
						`line 36: !Ref TableName: no parameter with a Default by that name; kept as "TableName"`,
						`line 37: !GetAtt Queue.Arn cannot be resolved locally; kept as "Queue.Arn"`,
						`line 38: !Ref Bucket names a resource, which does not exist locally; kept as "Bucket"`,
						`line 50: !If cannot be resolved locally; kept as "!If [IsProd, a, b]"`,
					},
				},
				{
					Name: "Worker", Handler: "worker.handler", Runtime: "provided.al2023", CodeDir: td + "/worker",
					Command: []string{td + "/worker/bootstrap"}, MemoryMB: 1024, Timeout: 900 * time.Second, Architecture: "x86_64",
					Env:      map[string]string{"STAGE": "dev", "SHARED": "from-globals"},
					Layers:   []string{td + "/layer"},
					Logging:  Logging{Format: "JSON", ApplicationLevel: "WARN"},
					Warnings: []string{"line 61: layer !Sub arn:aws:lambda:${AWS::Region}:464622532012:layer:Datadog-Extension:65 is not a layer of this template and cannot be fetched locally; it is left out (give its contents with --layer DIR|ZIP)"},
				},
			},
		},
		{
			file: "minimal.yaml",
			want: []Definition{{
				Name: "Hello", Runtime: "provided.al2", CodeDir: td, Command: []string{td + "/bootstrap"},
				MemoryMB: 128, Timeout: 3 * time.Second, Architecture: "x86_64", Env: map[string]string{},
			}},
		},
		{
			file: "template.json",
			want: []Definition{{
				Name: "JsonFn", Handler: "bootstrap", Runtime: "provided.al2023", CodeDir: td + "/api",
				Command: []string{td + "/api/bootstrap"}, MemoryMB: 512, Timeout: 30 * time.Second, Architecture: "x86_64",
				Env:      map[string]string{"URL": "https://example.com/x", "ARN": "Table.Arn"},
				Warnings: []string{`line 14: !GetAtt Table.Arn cannot be resolved locally; kept as "Table.Arn"`},
			}},
		},
		{
			file: "anchors.yaml",
			want: []Definition{
				{Name: "First", Runtime: "provided.al2023", CodeDir: td + "/api", Command: []string{td + "/api/bootstrap"},
					MemoryMB: 2048, Timeout: 3 * time.Second, Architecture: "x86_64", Env: map[string]string{"MODE": "shared"}},
				{Name: "Second", Runtime: "provided.al2023", CodeDir: td + "/api", Command: []string{td + "/api/bootstrap"},
					MemoryMB: 2048, Timeout: 3 * time.Second, Architecture: "x86_64", Env: map[string]string{"MODE": "shared"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := FromTemplate(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, ignoreUnexported); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestFromTemplateParams(t *testing.T) {
	defs, err := FromTemplateParams("testdata/full.yaml", map[string]string{"Stage": "prod", "TableName": "orders"})
	if err != nil {
		t.Fatal(err)
	}
	env := defs[0].Env
	if env["STAGE"] != "prod" || env["TABLE"] != "orders" || env["REGION_URL"] != "https://us-east-1.example.com/prod" {
		t.Errorf("overrides not applied: %v", env)
	}
	for _, w := range defs[0].Warnings {
		if strings.Contains(w, "TableName") {
			t.Errorf("warning for an overridden parameter: %s", w)
		}
	}
}

func TestFromTemplateErrors(t *testing.T) {
	tests := []struct {
		file, want string
	}{
		{"no-functions.yaml", "no AWS::Serverless::Function resources"},
		{"broken.yaml", "testdata/broken.yaml"},
		{"list.yaml", "not a mapping"},
		{"missing.yaml", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := FromTemplate(filepath.Join("testdata", tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestUnrunnable: functions that cannot run here are returned, and Validate
// says why.
func TestUnrunnable(t *testing.T) {
	defs, err := FromTemplate("testdata/unrunnable.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"FromS3":      "CodeUri points to S3",
		"S3Uri":       "CodeUri s3://my-bucket/code.zip is in S3",
		"Zip":         "CodeUri build/code.zip: open ",
		"Image":       "PackageType Image is not supported",
		"Inline":      "InlineCode is not supported",
		"NoBootstrap": "nothing-here/bootstrap does not exist (build it",
		"TooBig":      "memory 20480 MB: Lambda allows 128..10240 MB",
		"NotANumber":  `MemorySize "lots": not an integer`,
		"TooLong":     `timeout "901": Lambda allows 1..900 seconds`,
		"BadArch":     `architecture "sparc": want x86_64 or arm64`,
	}
	if len(defs) != len(want) {
		t.Fatalf("got %d functions, want %d", len(defs), len(want))
	}
	for _, d := range defs {
		err := d.Validate()
		if err == nil || !strings.Contains(err.Error(), want[d.Name]) || !strings.Contains(err.Error(), "function "+d.Name+":") {
			t.Errorf("%s: Validate() = %v, want it to contain %q", d.Name, err, want[d.Name])
		}
	}
	// NotANumber's Timeout problem is reported too.
	nan, _ := Find(defs, "NotANumber")
	if err := nan.Validate(); !strings.Contains(err.Error(), `timeout "forever"`) {
		t.Errorf("NotANumber: %v", err)
	}
	s3, _ := Find(defs, "FromS3")
	if err := s3.Validate(); !errors.Is(err, ErrRuntimeUnavailable) {
		t.Errorf("FromS3: %v does not wrap ErrRuntimeUnavailable", err)
	}
}

// fakeTools replaces the PATH lookup and the python import check.
func fakeTools(t *testing.T, onPath map[string]string, pyModules bool) {
	t.Helper()
	oldLook, oldImp := lookPath, pythonImports
	t.Cleanup(func() { lookPath, pythonImports = oldLook, oldImp })
	lookPath = func(name string) (string, error) {
		if p, ok := onPath[name]; ok {
			return p, nil
		}
		return "", errors.New("not found")
	}
	pythonImports = func(string, string) bool { return pyModules }
}

func TestRuntimes(t *testing.T) {
	td := testdata(t)
	worker := td + "/worker"
	type result struct {
		cmd []string
		err string
	}
	tests := []struct {
		name      string
		onPath    map[string]string
		pyModules bool
		want      map[string]result
	}{
		{
			name: "nothing installed",
			want: map[string]result{
				"Node":      {err: "npm install aws-lambda-ric` in " + worker},
				"Python":    {err: "needs python3 on PATH"},
				"Ruby":      {err: "gem install aws_lambda_ric"},
				"Java":      {err: "runtime java21 is not supported locally"},
				"Dotnet":    {err: "runtime dotnet8 is not supported locally"},
				"GoOne":     {cmd: []string{worker + "/bootstrap"}},
				"Rust":      {err: `runtime "rust1.x" is not supported locally: use a custom runtime`},
				"NoRuntime": {err: "no Runtime (set Runtime on the function or in Globals.Function)"},
			},
		},
		{
			name:      "clients installed",
			onPath:    map[string]string{"node": "/usr/bin/node", "aws-lambda-ric": "/usr/local/bin/aws-lambda-ric", "python3.12": "/usr/bin/python3.12", "aws_lambda_ric": "/usr/local/bin/aws_lambda_ric"},
			pyModules: true,
			want: map[string]result{
				"Node":   {cmd: []string{"/usr/local/bin/aws-lambda-ric", "index.handler"}},
				"Python": {cmd: []string{"/usr/bin/python3.12", "-m", "awslambdaric", "app.lambda_handler"}},
				"Ruby":   {cmd: []string{"/usr/local/bin/aws_lambda_ric", "app.handler"}},
			},
		},
		{
			name:   "python without awslambdaric",
			onPath: map[string]string{"python3": "/usr/bin/python3"},
			want: map[string]result{
				"Python": {err: "pip install --target " + worker + " awslambdaric"},
			},
		},
		{
			name:   "node without node",
			onPath: map[string]string{"aws-lambda-ric": "/x/aws-lambda-ric"},
			want: map[string]result{
				"Node": {err: "needs node on PATH"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fakeTools(t, tt.onPath, tt.pyModules)
			defs, err := FromTemplate("testdata/runtimes.yaml")
			if err != nil {
				t.Fatal(err)
			}
			for name, w := range tt.want {
				d, err := Find(defs, name)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(w.cmd, d.Command); diff != "" {
					t.Errorf("%s: command (-want +got):\n%s", name, diff)
				}
				if w.err != "" {
					err := d.Validate()
					if err == nil || !strings.Contains(err.Error(), w.err) || !errors.Is(err, ErrRuntimeUnavailable) {
						t.Errorf("%s: Validate() = %v, want ErrRuntimeUnavailable with %q", name, err, w.err)
					}
				}
			}
		})
	}
}

// TestNodeModulesRIC: aws-lambda-ric installed in CodeUri/node_modules is
// found without PATH.
func TestNodeModulesRIC(t *testing.T) {
	dir := t.TempDir()
	ric := executable(t, dir, "fn/node_modules/.bin/aws-lambda-ric")
	tmpl := "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {Runtime: nodejs22.x, Handler: index.handler, CodeUri: fn}\n"
	if err := os.WriteFile(filepath.Join(dir, "template.yaml"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	fakeTools(t, map[string]string{"node": "/usr/bin/node"}, false)
	defs, err := FromTemplate(filepath.Join(dir, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{ric, "index.handler"}, defs[0].Command); diff != "" {
		t.Errorf("command (-want +got):\n%s", diff)
	}
}

// TestSamBuildOutput: with no bootstrap in CodeUri, the `sam build` output
// next to the template is used.
func TestSamBuildOutput(t *testing.T) {
	dir := t.TempDir()
	built := executable(t, dir, ".aws-sam/build/Fn/bootstrap")
	tmpl := "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {Runtime: provided.al2023, Handler: bootstrap, CodeUri: src/}\n"
	if err := os.WriteFile(filepath.Join(dir, "template.yaml"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	defs, err := FromTemplate(filepath.Join(dir, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{built}, defs[0].Command); diff != "" {
		t.Errorf("command (-want +got):\n%s", diff)
	}
	if err := defs[0].Validate(); err != nil {
		t.Error(err)
	}
	if len(defs[0].Warnings) != 1 || !strings.Contains(defs[0].Warnings[0], "sam build output") {
		t.Errorf("warnings = %q", defs[0].Warnings)
	}
}

func FuzzTemplate(f *testing.F) {
	oldLook, oldImp := lookPath, pythonImports
	f.Cleanup(func() { lookPath, pythonImports = oldLook, oldImp })
	lookPath = func(string) (string, error) { return "", errors.New("not found") }
	pythonImports = func(string, string) bool { return false }
	for _, name := range []string{"full.yaml", "template.json", "runtimes.yaml", "unrunnable.yaml", "anchors.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("Resources: {F: {Type: AWS::Serverless::Function, Properties: {Runtime: !Sub [!Ref x, {x: !GetAtt [a, b]}], Timeout: !Select [9, []]}}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		defs, err := parseTemplate(data, "/tmp/fuzz", nil)
		if err == nil && len(defs) == 0 {
			t.Error("no error and no functions")
		}
		for _, d := range defs {
			_ = d.Validate()
		}
	})
}

// TestCodeURIOutsideTemplate: a CodeUri that leaves the template's folder is
// used, with a warning naming its line and where it leads.
func TestCodeURIOutsideTemplate(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "app")
	if err := os.MkdirAll(filepath.Join(sub, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "elsewhere"), filepath.Join(sub, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "elsewhere"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		codeURI string
		want    string // "" for no warning
	}{
		{"src/", ""},
		{".", ""},
		{"./src/../src", ""},
		{"../../../etc", `line 4: CodeUri "../../../etc" leads outside the template's folder ` + sub + ` (to ` + filepath.Join(sub, "../../../etc") + `); check that this is the code you mean to run`},
		{"../elsewhere", `line 4: CodeUri "../elsewhere" leads outside the template's folder ` + sub + ` (to ` + dir + `/elsewhere); check that this is the code you mean to run`},
		{"/etc", `line 4: CodeUri "/etc" leads outside the template's folder ` + sub + ` (to /etc); check that this is the code you mean to run`},
		{"link", `line 4: CodeUri "link" leads outside the template's folder ` + sub + ` (to ` + dir + `/elsewhere); check that this is the code you mean to run`},
	}
	for _, tt := range tests {
		t.Run(tt.codeURI, func(t *testing.T) {
			tmpl := "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {Runtime: provided.al2023, Handler: bootstrap, CodeUri: \"" + tt.codeURI + "\"}\n"
			path := filepath.Join(sub, "template.yaml")
			if err := os.WriteFile(path, []byte(tmpl), 0o644); err != nil {
				t.Fatal(err)
			}
			defs, err := FromTemplate(path)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			if tt.want != "" {
				want = []string{tt.want}
			}
			if diff := cmp.Diff(want, defs[0].Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseParameterOverrides(t *testing.T) {
	got, err := ParseParameterOverrides([]string{`Stage=prod Table="my table"`, "ParameterKey=Level,ParameterValue=debug", "Empty="})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Stage": "prod", "Table": "my table", "Level": "debug", "Empty": ""}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{"novalue", "=x", "ParameterKey=,ParameterValue=x", "ParameterKey=K"} {
		if _, err := ParseParameterOverrides([]string{bad}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestRegionOverride: --region gives AWS::Region (a pseudo parameter
// overridden like a parameter).
func TestRegionOverride(t *testing.T) {
	defs, err := FromTemplateParams("testdata/full.yaml", map[string]string{"AWS::Region": "eu-west-3"})
	if err != nil {
		t.Fatal(err)
	}
	if got := defs[0].Env["REGION_URL"]; got != "https://eu-west-3.example.com/dev" {
		t.Errorf("REGION_URL = %q", got)
	}
}
