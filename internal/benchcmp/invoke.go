package benchcmp

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// Invoker returns a contender that invokes a Lambda function through an
// invoke API at url (as curl or the AWS CLI would: POST {} on a keep-alive
// connection) and fails tb unless the reply is 200 without a function
// error.
func Invoker(tb testing.TB, url string) func() {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	tb.Cleanup(client.CloseIdleConnections)
	return func() {
		resp, err := client.Post(url, "application/json", strings.NewReader(`{}`))
		if err != nil {
			tb.Fatal(err)
		}
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Function-Error") != "" {
			tb.Fatalf("%s: %d %q", url, resp.StatusCode, buf.String())
		}
	}
}
