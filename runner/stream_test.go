package runner

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lambdabridge/lambdabridge/function"
)

// streamEvent is one decoded event stream message.
type streamEvent struct {
	Type    string
	Payload string
}

// decodeEventStream decodes AWS event stream messages, checking both CRCs.
func decodeEventStream(t *testing.T, b []byte) []streamEvent {
	t.Helper()
	var out []streamEvent
	for len(b) > 0 {
		if len(b) < 16 {
			t.Fatalf("truncated message: %d bytes", len(b))
		}
		total, hlen := binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
		if crc32.ChecksumIEEE(b[:8]) != binary.BigEndian.Uint32(b[8:]) || crc32.ChecksumIEEE(b[:total-4]) != binary.BigEndian.Uint32(b[total-4:]) {
			t.Fatalf("bad CRC")
		}
		hdr, payload := b[12:12+hlen], b[12+hlen:total-4]
		ev := streamEvent{Payload: string(payload)}
		for len(hdr) > 0 {
			n := int(hdr[0])
			name := string(hdr[1 : 1+n])
			vlen := int(binary.BigEndian.Uint16(hdr[2+n:]))
			val := string(hdr[4+n : 4+n+vlen])
			if name == ":event-type" {
				ev.Type = val
			}
			hdr = hdr[4+n+vlen:]
		}
		out = append(out, ev)
		b = b[total:]
	}
	return out
}

// TestInvokeWithResponseStream: an aws-lambda-go function returning an
// io.Reader streams its response: the caller gets it in chunks, then
// InvokeComplete; a failure mid-stream is reported in InvokeComplete with
// the runtime's error type and body (its trailers).
func TestInvokeWithResponseStream(t *testing.T) {
	r, _ := newTestRunner(t, []function.Definition{goDef(t)})
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	cases := []struct {
		name, payload string
		chunks        string
		errCode       string
	}{
		{"complete", `{"action":"stream"}`, "one,two,three", ""},
		{"mid-stream error", `{"action":"stream","text":"fail"}`, "one,two,", "errorString"},
		{"not streamed", `{"action":"echo"}`, `{"action":"echo","ok":true}`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.Post(srv.URL+"/2021-11-15/functions/gofn/response-streaming-invocations", "application/json", strings.NewReader(c.payload))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.amazon.eventstream" {
				t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			evs := decodeEventStream(t, body)
			var chunks bytes.Buffer
			var types []string
			for _, ev := range evs {
				if ev.Type == "PayloadChunk" {
					chunks.WriteString(ev.Payload)
					if len(types) == 0 || types[len(types)-1] != "PayloadChunk" {
						types = append(types, ev.Type)
					}
					continue
				}
				types = append(types, ev.Type)
			}
			if diff := cmp.Diff([]string{"PayloadChunk", "InvokeComplete"}, types); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if chunks.String() != c.chunks {
				t.Errorf("streamed %q, want %q", chunks.String(), c.chunks)
			}
			var done struct{ ErrorCode, ErrorDetails string }
			json.Unmarshal([]byte(evs[len(evs)-1].Payload), &done)
			if done.ErrorCode != c.errCode || (c.errCode != "" && !strings.Contains(done.ErrorDetails, "broken mid-stream")) {
				t.Errorf("InvokeComplete %+v, want error code %q", done, c.errCode)
			}
			if c.name == "complete" && len(evs) < 3 {
				t.Errorf("%d messages: the chunks were not passed on as they came", len(evs))
			}
		})
	}
}

// TestInvokeWithResponseStreamNode: the Node.js runtime interface client's
// awslambda.streamifyResponse handler streams through
// InvokeWithResponseStream.
func TestInvokeWithResponseStreamNode(t *testing.T) {
	ric := nodeRIC(t)
	dir := t.TempDir()
	src := `exports.handler = awslambda.streamifyResponse(async (event, stream) => {
  stream.write("node-one,");
  await new Promise(r => setTimeout(r, 50));
  stream.write("node-two");
  stream.end();
});
`
	if err := os.WriteFile(filepath.Join(dir, "index.js"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	def := function.Definition{Name: "gofn", Handler: "index.handler", Runtime: "nodejs20.x", CodeDir: dir,
		Command: []string{ric, "index.handler"}, MemoryMB: 256, Timeout: 5 * time.Second, Architecture: "x86_64"}
	r, rec := newTestRunner(t, []function.Definition{def})
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/2021-11-15/functions/gofn/response-streaming-invocations", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var chunks strings.Builder
	var last streamEvent
	for _, ev := range decodeEventStream(t, body) {
		if ev.Type == "PayloadChunk" {
			chunks.WriteString(ev.Payload)
		}
		last = ev
	}
	if chunks.String() != "node-one,node-two" || last.Type != "InvokeComplete" || strings.Contains(last.Payload, "ErrorCode") {
		t.Errorf("streamed %q, last event %+v\n%s", chunks.String(), last, rec.text(""))
	}
}
