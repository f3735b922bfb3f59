package runner

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lambdabridge/lambdabridge/function"
)

// TestInvokeAPIPayloads: Lambda's payload rules on the invoke API: JSON
// only (400 InvalidRequestContentException, the function is not run), up
// to 6 MiB + 100 bytes (413 with the size), the qualifier in the ARN the
// function sees.
func TestInvokeAPIPayloads(t *testing.T) {
	r, rec := newTestRunner(t, []function.Definition{goDef(t)})
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	base := srv.URL + "/2015-03-31/functions/"
	// A JSON string just at the limit: quotes plus padding.
	atLimit := `"` + strings.Repeat("a", maxSyncRequestBytes-2) + `"`
	cases := []struct {
		name, path, body string
		code             int
		errType, inMsg   string
	}{
		{"json", "gofn/invocations", `{"action":"env"}`, 200, "", ""},
		{"not json", "gofn/invocations", `hello`, 400, "InvalidRequestContentException", "Could not parse request body into json"},
		{"two documents", "gofn/invocations", `{} {}`, 400, "InvalidRequestContentException", "more than one JSON document"},
		{"at the limit", "gofn/invocations", atLimit, 200, "", ""},
		{"over the limit", "gofn/invocations", atLimit + " ", 413, "RequestTooLargeException", fmt.Sprintf("%d byte payload", maxSyncRequestBytes+1)},
		{"qualifier", "gofn:live/invocations", `{"action":"env"}`, 200, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			waitRunning(t, r, 0)
			before := rec.sum(MetricInvocations)
			resp, body := post(t, base+c.path, c.body, nil)
			if resp.StatusCode != c.code || resp.Header.Get("X-Amzn-Errortype") != c.errType || !strings.Contains(body, c.inMsg) {
				t.Fatalf("%d %s %.200s, want %d %s %q", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), body, c.code, c.errType, c.inMsg)
			}
			if waitRunning(t, r, 0); c.code != 200 && rec.sum(MetricInvocations) != before {
				t.Errorf("the function ran")
			}
			if c.name == "qualifier" {
				var out map[string]any
				json.Unmarshal([]byte(body), &out)
				if out["arn"] != "arn:aws:lambda:us-east-1:"+AccountID+":function:gofn:live" {
					t.Errorf("invoked ARN %v", out["arn"])
				}
			}
		})
	}
}
