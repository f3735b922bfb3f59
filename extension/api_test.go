package extension

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestSubscribeAnswers: the Telemetry API subscription succeeds only on an
// answer without an error, whatever its status: the Runtime Interface
// Emulator answers 202 with Telemetry.NotSupported.
func TestSubscribeAnswers(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr string
	}{
		{"Lambda", http.StatusOK, "OK", ""},
		{"empty", http.StatusOK, "", ""},
		{"RIE", http.StatusAccepted, `{"errorMessage":"Telemetry API is not supported","errorType":"Telemetry.NotSupported"}`,
			"telemetry subscribe: Telemetry.NotSupported: Telemetry API is not supported"},
		{"not found", http.StatusNotFound, "404 page not found", "HTTP 404: 404 page not found"},
		{"refused", http.StatusBadRequest, `{"errorMessage":"bad URI","errorType":"ValidationError"}`, "HTTP 400"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPut || r.URL.Path != "/2022-07-01/telemetry" || r.Header.Get("Lambda-Extension-Identifier") != "id-1" {
					t.Errorf("%s %s (identifier %q)", r.Method, r.URL.Path, r.Header.Get("Lambda-Extension-Identifier"))
				}
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			c := newClient(strings.TrimPrefix(srv.URL, "http://"), "x")
			c.id = "id-1"
			err := c.subscribe(context.Background(), 1234, 25)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("subscribe: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("subscribe: %v, want an error holding %q", err, tc.wantErr)
			}
		})
	}
}
