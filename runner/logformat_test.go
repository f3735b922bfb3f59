package runner

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdabridge/lambdabridge/function"
)

// TestLoggingConfig: with LogFormat JSON the function's lines below
// ApplicationLogLevel are dropped (a line without a level is INFO), the
// runtime is told the format and level, and the platform lines are JSON
// platform.* events filtered by SystemLogLevel.
func TestLoggingConfig(t *testing.T) {
	cases := []struct {
		name    string
		logging function.Logging
		stdout  []string
		events  []string // platform.* types of the invocation, in order
		env     map[string]string
	}{
		{
			name:    "text",
			logging: function.Logging{},
			stdout:  []string{"debug", "info", "warn", "error", "a plain line", "<emf>"},
			env:     map[string]string{"AWS_LAMBDA_LOG_FORMAT": "", "AWS_LAMBDA_LOG_LEVEL": ""},
		},
		{
			name:    "json warn",
			logging: function.Logging{Format: "JSON", ApplicationLevel: "WARN"},
			stdout:  []string{"warn", "error"},
			events:  []string{"platform.start", "platform.report"},
			env:     map[string]string{"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "WARN"},
		},
		{
			name:    "json debug",
			logging: function.Logging{Format: "JSON", ApplicationLevel: "debug", SystemLevel: "DEBUG", LogGroup: "/custom/group"},
			stdout:  []string{"debug", "info", "warn", "error", "a plain line", "<emf>"},
			events:  []string{"platform.start", "platform.runtimeDone", "platform.report"},
			env:     map[string]string{"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "DEBUG", "AWS_LAMBDA_LOG_GROUP_NAME": "/custom/group"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			def := goDef(t)
			def.Logging = c.logging
			r, rec := newTestRunner(t, []function.Definition{def})
			invoke(t, r, "gofn", `{}`) // the cold start
			res := invoke(t, r, "gofn", `{"action":"levels"}`)
			var stdout, events []string
			for _, l := range rec.linesOf(res.RequestID) {
				switch {
				case l.stream == StreamStdout && strings.HasPrefix(l.text, `{"_aws"`):
					stdout = append(stdout, "<emf>")
				case l.stream == StreamStdout && strings.HasPrefix(l.text, "{"):
					var m map[string]string
					json.Unmarshal([]byte(l.text), &m)
					stdout = append(stdout, strings.TrimPrefix(m["msg"], "at "))
				case l.stream == StreamStdout:
					stdout = append(stdout, l.text)
				case l.stream == StreamPlatform && c.logging.JSON():
					var ev struct{ Type string }
					if err := json.Unmarshal([]byte(l.text), &ev); err != nil {
						t.Errorf("platform line not JSON: %q", l.text)
					}
					events = append(events, ev.Type)
				}
			}
			if diff := cmp.Diff(c.stdout, stdout); diff != "" {
				t.Errorf("function lines (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(c.events, events); diff != "" {
				t.Errorf("platform events (-want +got):\n%s", diff)
			}
			var vars map[string]any
			json.Unmarshal(invoke(t, r, "gofn", `{"action":"env"}`).Payload, &vars)
			for k, want := range c.env {
				if got, _ := vars["env:"+k].(string); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// TestLoggingConfigNode: the Node.js runtime interface client formats and
// filters its own logs from AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL:
// at WARN, console.log's EMF line is gone, console.warn's line is JSON.
func TestLoggingConfigNode(t *testing.T) {
	ric := nodeRIC(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(nodeHandler+`
exports.warn = async (event, context) => { console.warn("careful"); return exports.handler(event, context); };
`), 0o644); err != nil {
		t.Fatal(err)
	}
	def := function.Definition{Name: "nodefn", Handler: "index.warn", Runtime: "nodejs20.x", CodeDir: dir,
		Command: []string{ric, "index.warn"}, MemoryMB: 256, Timeout: 5 * time.Second, Architecture: "x86_64",
		Logging: function.Logging{Format: "JSON", ApplicationLevel: "WARN"}}
	r, rec := newTestRunner(t, []function.Definition{def})
	res := invoke(t, r, "nodefn", `{"emf":true}`)
	if res.Failed() {
		t.Fatalf("%s\n%s", res.Payload, rec.text(res.RequestID))
	}
	txt := rec.text(res.RequestID)
	if strings.Contains(txt, `"Namespace":"Node"`) || strings.Contains(txt, "node handling") {
		t.Errorf("console.log lines kept at WARN:\n%s", txt)
	}
	if !strings.Contains(txt, `"level":"WARN"`) || !strings.Contains(txt, `"message":"careful"`) {
		t.Errorf("no JSON WARN line:\n%s", txt)
	}
}
