package extension_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/function"
	"github.com/lambdabridge/lambdabridge/runner"
)

// TestSigV4WithTheFunctionsCredentials: with LAMBDABRIDGE_SIGV4_REGION the
// extension signs its writes for Amazon Managed Prometheus (service aps)
// with the credentials the function's environment holds (on Lambda, its
// role's; here the runner's). A real Amazon Managed Prometheus is not
// reachable from a test: the receiver only records the signature.
func TestSigV4WithTheFunctionsCredentials(t *testing.T) {
	var mu sync.Mutex
	var auth, token []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		token = append(token, r.Header.Get("X-Amz-Security-Token"))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	def := exampleDef(t, map[string]string{
		"LAMBDABRIDGE_REMOTE_WRITE_URL": srv.URL + "/workspaces/ws-1/api/v1/remote_write",
		"LAMBDABRIDGE_SIGV4_REGION":     "eu-west-1",
	}, 5*time.Second)
	r, err := runner.New([]function.Definition{def}, runner.WithLogSink(&logs{}))
	if err != nil {
		t.Fatal(err)
	}
	invoke(t, r, `{}`)
	r.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(auth) == 0 {
		t.Fatal("no write arrived")
	}
	for i := range auth {
		if !strings.HasPrefix(auth[i], "AWS4-HMAC-SHA256 Credential=AKIDLAMBDABRIDGELOCAL/") || !strings.Contains(auth[i], "/eu-west-1/aps/aws4_request") {
			t.Errorf("Authorization %q: want SigV4 for aps in eu-west-1 with the function's access key", auth[i])
		}
		if token[i] != "lambdabridge-local-dummy-session-token" {
			t.Errorf("X-Amz-Security-Token %q: want the function's session token", token[i])
		}
	}
}
