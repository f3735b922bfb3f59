package runner

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestParseSubscription: the Telemetry API's subscription rules, one case
// per rule.
func TestParseSubscription(t *testing.T) {
	const dest = `"destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain:4243/x"}`
	cases := []struct {
		name, body string
		err        string // a part of the error, "" for none
		items      int
		bytes      int
		timeout    time.Duration
		url        string
	}{
		{"defaults", `{"schemaVersion":"2022-12-13","types":["platform"],` + dest + `}`, "", 1000, 262144, time.Second, "http://127.0.0.1:4243/x"},
		{"buffering", `{"schemaVersion":"2022-07-01","types":["function","extension"],"buffering":{"maxItems":10000,"maxBytes":1048576,"timeoutMs":25},` + dest + `}`, "", 10000, 1048576, 25 * time.Millisecond, "http://127.0.0.1:4243/x"},
		{"not json", `{`, "not a subscription", 0, 0, 0, ""},
		{"schema", `{"schemaVersion":"2021-01-01","types":["platform"],` + dest + `}`, "schemaVersion", 0, 0, 0, ""},
		{"no types", `{"schemaVersion":"2022-12-13","types":[],` + dest + `}`, "types", 0, 0, 0, ""},
		{"bad type", `{"schemaVersion":"2022-12-13","types":["logs"],` + dest + `}`, `"logs"`, 0, 0, 0, ""},
		{"tcp", `{"schemaVersion":"2022-12-13","types":["platform"],"destination":{"protocol":"TCP","URI":"sandbox.localdomain:4243"}}`, "", 1000, 262144, time.Second, "127.0.0.1:4243"},
		{"udp", `{"schemaVersion":"2022-12-13","types":["platform"],"destination":{"protocol":"UDP","URI":"sandbox.localdomain:4243"}}`, "want HTTP or TCP", 0, 0, 0, ""},
		{"no port", `{"schemaVersion":"2022-12-13","types":["platform"],"destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain/x"}}`, "destination.URI", 0, 0, 0, ""},
		{"other host", `{"schemaVersion":"2022-12-13","types":["platform"],"destination":{"protocol":"HTTP","URI":"http://example.com:80/"}}`, "sandbox.localdomain", 0, 0, 0, ""},
		{"few items", `{"schemaVersion":"2022-12-13","types":["platform"],"buffering":{"maxItems":999},` + dest + `}`, "maxItems 999", 0, 0, 0, ""},
		{"many bytes", `{"schemaVersion":"2022-12-13","types":["platform"],"buffering":{"maxBytes":1048577},` + dest + `}`, "maxBytes", 0, 0, 0, ""},
		{"short timeout", `{"schemaVersion":"2022-12-13","types":["platform"],"buffering":{"timeoutMs":24},` + dest + `}`, "timeoutMs 24: want 25..30000", 0, 0, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := parseSubscription([]byte(c.body))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one about %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.maxItems != c.items || s.maxBytes != c.bytes || s.timeout != c.timeout || s.url != c.url {
				t.Errorf("items %d bytes %d timeout %v url %s", s.maxItems, s.maxBytes, s.timeout, s.url)
			}
		})
	}
}

func FuzzParseSubscription(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":"2022-12-13","types":["platform"],"buffering":{"maxItems":1000},"destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain:4243/x"}}`))
	f.Add([]byte(`{"destination":{"URI":"http://[::1:80"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseSubscription(b)
		if err == nil && (s.maxItems < teleMinItems || s.timeout <= 0 || !strings.HasPrefix(s.url, "http://127.0.0.1:") && !strings.HasPrefix(s.url, "127.0.0.1:")) {
			t.Errorf("accepted %q as %+v", b, s)
		}
	})
}

// TestLineLevel: a line's level as Lambda reads it for log filtering.
func TestLineLevel(t *testing.T) {
	cases := map[string]string{
		`plain text`:                     "INFO",
		`{"level":"debug","msg":"x"}`:    "DEBUG",
		`{"LEVEL":"Error"}`:              "ERROR",
		`{"level":"WARNING"}`:            "WARN",
		`{"level":"critical"}`:           "FATAL",
		`{"level":"verbose"}`:            "INFO",
		`{"msg":"no level"}`:             "INFO",
		`{"level":`:                      "INFO",
		`  {"level":"TRACE"}  `:          "TRACE",
		`{"level":["not","a","string"]}`: "INFO",
	}
	for line, want := range cases {
		if got := []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}[lineLevel([]byte(line))]; got != want {
			t.Errorf("%s: %s, want %s", line, got, want)
		}
	}
}

// TestTelemetryLogsDropped: events a destination refused (500 on every
// try) are reported in the next batch as platform.logsDropped.
func TestTelemetryLogsDropped(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls <= 3 { // the three tries of the first batch
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var batch []struct{ Type string }
		json.NewDecoder(r.Body).Decode(&batch)
		for _, ev := range batch {
			got = append(got, ev.Type)
		}
	}))
	defer srv.Close()
	s, err := parseSubscription([]byte(`{"schemaVersion":"2022-12-13","types":["platform","function"],"buffering":{"timeoutMs":25},"destination":{"protocol":"HTTP","URI":"` + srv.URL + `"}}`))
	if err != nil {
		t.Fatal(err)
	}
	var tel telemetry
	tel.endInit()
	tel.subscribe(s)
	tel.publish(teleEvent{kind: teleFunction, doc: []byte(`{"type":"function","record":"lost"}`)})
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		n := calls
		mu.Unlock()
		if n >= 3 {
			break
		}
	}
	time.Sleep(50 * time.Millisecond)
	tel.publish(teleEvent{kind: teleFunction, doc: []byte(`{"type":"function","record":"kept"}`)})
	tel.close(2 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(got, ",") != "platform.logsDropped,function" {
		t.Errorf("delivered %q, want platform.logsDropped then the kept event", got)
	}
}

// TestTelemetryTCP: with the TCP protocol, events arrive as
// newline-delimited JSON on one connection.
func TestTelemetryTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	lines := make(chan string, 10)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	s, err := parseSubscription([]byte(`{"schemaVersion":"2022-12-13","types":["function"],"buffering":{"timeoutMs":25},"destination":{"protocol":"TCP","URI":"sandbox.localdomain:` + strconv.Itoa(port) + `"}}`))
	if err != nil {
		t.Fatal(err)
	}
	var tel telemetry
	tel.endInit()
	tel.subscribe(s)
	tel.publish(teleEvent{kind: teleFunction, doc: []byte(`{"type":"function","record":"one"}`)})
	tel.publish(teleEvent{kind: teleTypePlatform, doc: []byte(`{"type":"platform.start"}`)}) // not subscribed
	tel.publish(teleEvent{kind: teleFunction, doc: []byte(`{"type":"function","record":"two"}`)})
	tel.close(2 * time.Second)
	var got []string
	for l := range lines {
		got = append(got, l)
	}
	want := []string{`{"type":"function","record":"one"}`, `{"type":"function","record":"two"}`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
}
