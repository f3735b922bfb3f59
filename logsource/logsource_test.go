package logsource

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lambdabridge/lambdabridge/logline"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/platform"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// render is one message per line, for golden files.
func render(m *Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", m.Line, m.Envelope)
	if m.Wrapper != Bare {
		fmt.Fprintf(&b, " wrapper=%d", m.Wrapper)
	}
	for _, kv := range [][2]string{{"fn", m.Function}, {"group", m.Group}, {"stream", m.Stream}, {"env", m.Environment}, {"req", m.RequestID}, {"level", m.Level}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, " %s=%s", kv[0], kv[1])
		}
	}
	if m.TimeMs != 0 {
		fmt.Fprintf(&b, " t=%s", time.UnixMilli(m.TimeMs).UTC().Format(time.RFC3339Nano))
	}
	if m.Text != nil {
		fmt.Fprintf(&b, " text=%q", m.Text)
	}
	for _, d := range m.Diags {
		fmt.Fprintf(&b, "\n  %s", d.String())
	}
	return b.String()
}

func decodeAll(t *testing.T, d *Decoder, in []byte) []string {
	t.Helper()
	var out []string
	err := d.Decode(bytes.NewReader(in), "in", func(m *Message) error {
		out = append(out, render(m))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// base64Lines is subscription.json as a Kinesis/Firehose consumer sees it:
// each payload gzip-compressed and base64-encoded, one per line.
func base64Lines(t testing.TB) []byte {
	var out []byte
	for _, doc := range bytes.Split(bytes.TrimSpace(read(t, "subscription.json")), []byte("\n")) {
		out = append(out, base64.StdEncoding.EncodeToString(gz(t, doc))...)
		out = append(out, '\n')
	}
	return out
}

// inputs are the fixtures in every format, as they are delivered.
func inputs(t testing.TB) map[string][]byte {
	sub := read(t, "subscription.json")
	data := bytes.Split(bytes.TrimSpace(sub), []byte("\n"))[1]
	event, _ := json.Marshal(map[string]any{"awslogs": map[string]string{"data": base64.StdEncoding.EncodeToString(gz(t, data))}})
	return map[string][]byte{
		"tail-detailed":          read(t, "tail-detailed.txt"),
		"tail-short":             read(t, "tail-short.txt"),
		"tail-json":              read(t, "tail-json.txt"),
		"filter-log-events":      read(t, "filter-log-events.json"),
		"get-log-events":         read(t, "get-log-events.json"),
		"subscription-gzip":      gz(t, sub),
		"subscription-gzip-cat":  append(gz(t, data), gz(t, data)...), // concatenated payloads
		"subscription-base64":    base64Lines(t),
		"subscription-decoded":   sub,
		"subscription-on-a-line": bytes.ReplaceAll(bytes.TrimSpace(sub), []byte("\n"), nil),
		"lambda-event":           event,
		"export-gzip":            gz(t, read(t, "export.txt")),
		"export":                 read(t, "export.txt"),
		"json-format":            read(t, "json-format.log"),
		"console":                read(t, "console.log"),
		"aws-sample-payload":     read(t, "aws-sample-payload.txt"),
	}
}

// Every format decodes as its golden file says.
func TestGolden(t *testing.T) {
	for name, in := range inputs(t) {
		t.Run(name, func(t *testing.T) {
			got := strings.Join(decodeAll(t, New(WithFunction("default-fn")), in), "\n") + "\n"
			path := filepath.Join("testdata", "golden", name+".golden")
			if *update {
				os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			// decoding is idempotent: a second decoder gives the same
			if again := strings.Join(decodeAll(t, New(WithFunction("default-fn")), in), "\n") + "\n"; again != got {
				t.Error("a second decode differs")
			}
		})
	}
}

// pipe is the one log path in small: messages into the metric parsers and
// the platform parser; it returns the points and diagnostics.
func pipe(t testing.TB, d *Decoder, in []byte) (points, diags []string) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	ps := Parsers{Platform: platform.NewParser(), Metrics: logline.New(logline.WithClock(func() time.Time { return now }))}
	var b metric.Batch
	err := d.Decode(bytes.NewReader(in), "in", func(m *Message) error {
		b.Reset()
		ps.Parse(&b, m, "in")
		for i := range b.Points {
			p := &b.Points[i]
			points = append(points, p.String()+" fn="+p.Origin.Function)
		}
		for i := range b.Diags {
			diags = append(diags, b.Diags[i].Rule)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return points, diags
}

// The same log events, in every way AWS delivers them, give the same
// points: EMF, MONITORING and the platform metrics of the REPORT lines.
func TestSameEventsSamePoints(t *testing.T) {
	in := inputs(t)
	want, wantDiags := pipe(t, New(WithFunction("orders")), in["tail-detailed"])
	if len(want) < 20 || len(wantDiags) != 0 {
		t.Fatalf("tail-detailed gives %d points, diagnostics %v", len(want), wantDiags)
	}
	for _, name := range []string{"tail-short", "filter-log-events", "get-log-events", "subscription-gzip", "subscription-base64",
		"subscription-decoded", "subscription-on-a-line", "export-gzip", "export"} {
		t.Run(name, func(t *testing.T) {
			got, diags := pipe(t, New(WithFunction("orders")), in[name])
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("points differ from tail-detailed's (-want +got):\n%s", diff)
			}
			if len(diags) != 0 {
				t.Errorf("diagnostics %v", diags)
			}
		})
	}
}

// The platform metrics of a log are those of the invocations it shows.
func TestPlatformMetricsFromTail(t *testing.T) {
	points, _ := pipe(t, New(WithFunction("orders")), inputs(t)["tail-detailed"])
	want := []string{
		"platform lambda_invocations_total{function_name=orders} counter [1] fn=orders",
		"platform lambda_cold_starts_total{function_name=orders} counter [1] fn=orders",
		"platform lambda_init_duration_seconds{function_name=orders} histogram Seconds [0.15021] fn=orders",
		"platform lambda_duration_seconds{function_name=orders} histogram Seconds [0.04684] fn=orders",
		"platform lambda_billed_duration_seconds_total{function_name=orders} counter Seconds [0.197] fn=orders",
		"platform lambda_max_memory_used_bytes{function_name=orders} gauge Bytes [7.5497472e+07] fn=orders",
		"platform lambda_errors_total{function_name=orders} counter [1] fn=orders",
		"platform lambda_timeouts_total{function_name=orders} counter [1] fn=orders",
		"platform lambda_duration_seconds{function_name=orders} histogram Seconds [3] fn=orders",
	}
	for _, w := range want {
		if !contains(points, w) {
			t.Errorf("missing %s in\n%s", w, strings.Join(points, "\n"))
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Under the JSON log format, EMF written raw is extracted and EMF inside an
// application log's message is not, with the rule that says why.
func TestJSONFormatEMF(t *testing.T) {
	points, diags := pipe(t, New(WithFunction("orders")), inputs(t)["json-format"])
	emf := 0
	for _, p := range points {
		if strings.HasPrefix(p, "emf ") {
			emf++
		}
	}
	if emf != 1 {
		t.Errorf("%d EMF points, want 1 (the raw line only):\n%s", emf, strings.Join(points, "\n"))
	}
	if diff := cmp.Diff([]string{RuleEMFWrapped}, diags); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	if !contains(points, "monitoring shop.orders{env=prod} counter [3] fn=orders") {
		t.Errorf("the MONITORING line in a JSON application log is not read:\n%s", strings.Join(points, "\n"))
	}
}

// Broken parts are reported with their line and rule; the lines after
// them are read.
func TestBroken(t *testing.T) {
	good := "START RequestId: 1 Version: $LATEST\n"
	payload := func(s string) string { return base64.StdEncoding.EncodeToString(gz(t, []byte(s))) }
	tests := []struct {
		name string
		opts []Option
		in   string
		want []string // "line rule" of each diagnostic, then "line text" of the messages
	}{
		{"base64 not gzip", nil, "H4sIbm90IGd6aXA=\n" + good, []string{"1 log/bad-payload", "2 START RequestId: 1 Version: $LATEST"}},
		{"base64 broken", nil, "H4sI!!!\n" + good, []string{"1 log/bad-payload", "2 START RequestId: 1 Version: $LATEST"}},
		{"payload not JSON", nil, payload("hello") + "\n" + good, []string{"1 log/bad-payload", "2 START RequestId: 1 Version: $LATEST"}},
		{"payload unknown messageType", nil, payload(`{"messageType":"OTHER","logEvents":[]}`) + "\n" + good, []string{"1 log/bad-payload", "2 START RequestId: 1 Version: $LATEST"}},
		{"payload cut", nil, payload(`{"messageType":"DATA_MESSAGE","logEvents":[{"id":"1","timestamp":1,"message":"x"}`) + "\n" + good,
			[]string{"1 log/bad-payload", "2 START RequestId: 1 Version: $LATEST"}},
		{"event without message", nil, `{"events":[{"timestamp":1},{"timestamp":2,"message":"ok"}]}` + "\n" + good,
			[]string{"1 log/bad-document", "1 ok", "2 START RequestId: 1 Version: $LATEST"}},
		{"document cut at the end", nil, good + "{\n    \"events\": [\n", []string{"1 START RequestId: 1 Version: $LATEST", "2 log/bad-document"}},
		{"events not an array", nil, `{"events":{"a":1},"nextToken":"x"}` + "\n" + good, []string{"1 log/bad-document", "2 START RequestId: 1 Version: $LATEST"}},
		{"forced subscription, text line", []Option{WithEnvelope(Subscription)}, "hello\n" + payload(`{"messageType":"DATA_MESSAGE","logGroup":"/aws/lambda/f","logStream":"s","logEvents":[{"id":"1","timestamp":1,"message":"x"}]}`) + "\n",
			[]string{"1 log/bad-payload", "2 x"}},
		{"forced events, EMF line", []Option{WithEnvelope(Events)}, `{"_aws":{}}` + "\n", []string{"1 log/bad-document"}},
		{"message too large", []Option{WithMaxEventSize(10)}, "0123456789abcdef\nok\n", []string{"1 log/event-too-large", "1 0123456789", "2 ok"}},
		{"broken JSON line, lines after kept", nil, `{"_aws":{"Timestamp":1` + "\n" + good, []string{`1 {"_aws":{"Timestamp":1`, "2 START RequestId: 1 Version: $LATEST"}},
		{"pretty document cut by a line of its own", nil, "{\n    \"events\": [\n" + good, []string{"1 log/bad-document", "3 START RequestId: 1 Version: $LATEST"}},
		{"EMF event too large", []Option{WithMaxEventSize(16)}, `{"_aws":{"Timestamp":1,"x":2}}` + "\nok\n", []string{"1 log/event-too-large", "2 ok"}},
		{"payload in a payload", nil, payload(`{"awslogs":{"data":"H4sI"}}`) + "\n" + good, []string{"1 log/bad-payload", "2 START RequestId: 1 Version: $LATEST"}},
		{"gzip damaged", nil, string(gz(t, []byte(good+good))[:20]), []string{"1 START Req", "1 log/bad-payload"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			err := New(tt.opts...).Decode(strings.NewReader(tt.in), "in", func(m *Message) error {
				for _, d := range m.Diags {
					got = append(got, fmt.Sprintf("%d %s", d.Origin.Line, d.Rule))
					if d.Message == "" || d.Origin.Source != "in" {
						t.Errorf("incomplete diagnostic %+v", d)
					}
				}
				if m.Text != nil {
					got = append(got, fmt.Sprintf("%d %s", m.Line, m.Text))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// One case per quirk of the line formats.
func TestLines(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		in   string
		want string
	}{
		{"node prefix", nil, "2024-05-01T10:00:00.000Z\tabc-1\tINFO\thello",
			`1 raw wrapper=1 req=abc-1 level=INFO t=2024-05-01T10:00:00Z text="hello"`},
		{"python prefix", nil, "[ERROR]\t2024-05-01T10:00:00.123Z\tabc-1\tboom",
			`1 raw wrapper=2 req=abc-1 level=ERROR t=2024-05-01T10:00:00.123Z text="boom"`},
		{"python prefix outside an invocation", nil, "[WARNING]\t2024-05-01T10:00:00.123Z\t\tcold",
			`1 raw wrapper=2 level=WARNING t=2024-05-01T10:00:00.123Z text="cold"`},
		{"node prefix outside an invocation", nil, "2024-05-01T10:00:00.000Z\tundefined\tINFO\tloading",
			`1 raw wrapper=1 level=INFO t=2024-05-01T10:00:00Z text="loading"`},
		{"not a node prefix (spaces)", nil, "2024-05-01T10:00:00.000Z abc-1 Task timed out after 3.00 seconds",
			`1 s3-export t=2024-05-01T10:00:00Z text="abc-1 Task timed out after 3.00 seconds"`},
		{"console prefix needs env when detected", nil, "[Server] started", `1 raw text="[Server] started"`},
		{"console prefix forced", []Option{WithEnvelope(Console)}, "[hello] hi", `1 console fn=hello text="hi"`},
		{"console env", nil, "[hello env-12] hi", `1 console fn=hello env=env-12 text="hi"`},
		{"python prefix is not console", nil, "[INFO]\tnot a time\tx", `1 raw text="[INFO]\tnot a time\tx"`},
		{"request of a stream", nil, "[f env-1] START RequestId: r1 Version: $LATEST\n[f env-1] log line\n[f env-2] other env\n[f env-1] REPORT RequestId: r1\tDuration: 1 ms\n[f env-1] after",
			"1 console fn=f env=env-1 req=r1 text=\"START RequestId: r1 Version: $LATEST\"\n2 console fn=f env=env-1 req=r1 text=\"log line\"\n3 console fn=f env=env-2 text=\"other env\"\n4 console fn=f env=env-1 req=r1 text=\"REPORT RequestId: r1\\tDuration: 1 ms\"\n5 console fn=f env=env-1 text=\"after\""},
		{"detailed with group default", []Option{WithFunction("x")}, "2024-05-01T10:00:00.123000+00:00 stream-1 hi",
			`1 aws-tail fn=x stream=stream-1 t=2024-05-01T10:00:00.123Z text="hi"`},
		{"json app log with object message", nil, `{"timestamp":"2024-05-01T10:00:00Z","level":"INFO","requestId":"r","message":{"a":1}}`,
			`1 raw wrapper=3 req=r level=INFO t=2024-05-01T10:00:00Z text="{\"a\":1}"`},
		{"json app log wrapping EMF object", nil, `{"timestamp":"2024-05-01T10:00:00Z","level":"INFO","requestId":"r","message":{"_aws":{}}}`,
			"1 raw wrapper=3 req=r level=INFO t=2024-05-01T10:00:00Z\n  in:1: error: [emf/json-log-wrapped] EMF document is the \"message\" of a JSON-format application log (level INFO); CloudWatch extracts EMF only from a log event that is the EMF object itself, so these metrics are lost (CloudWatch drops the event); hint: with LogFormat JSON write EMF raw to stdout (process.stdout.write / print / fmt.Println, not console.log or logging); aws-embedded-metrics for Node.js >= 4.1.1 and Powertools Metrics do so"},
		{"EMF cut by CloudWatch is one error", []Option{WithMaxEventSize(16)}, `{"_aws":{"Timestamp":1,"x":2}}`,
			"1 raw\n  in:1: error: [log/event-too-large] EMF event is 30 bytes; a CloudWatch Logs event holds at most 16: CloudWatch cuts it and extracts none of its metrics (CloudWatch drops the event); hint: emit fewer metrics or values per event (the client libraries flush at 100 metrics)"},
		{"EMF with level and message members is EMF", nil, `{"_aws":{},"level":"x","message":"y"}`, `1 raw text="{\"_aws\":{},\"level\":\"x\",\"message\":\"y\"}"`},
		{"pretty JSON document that is a message", nil, "{\n  \"a\": 1\n}", "1 raw text=\"{\\n  \\\"a\\\": 1\\n}\""},
		{"events document with a group from the caller", []Option{WithFunction("f")}, `{"events":[{"logStreamName":"s","timestamp":1000,"message":"m\n"}],"searchedLogStreams":[]}`,
			`1 aws-events fn=f stream=s t=1970-01-01T00:00:01Z text="m"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(decodeAll(t, New(tt.opts...), []byte(tt.in)), "\n")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseEnvelope(t *testing.T) {
	for _, n := range Envelopes() {
		e, ok := ParseEnvelope(n)
		if !ok || e.String() != n {
			t.Errorf("ParseEnvelope(%q) = %v, %v", n, e, ok)
		}
	}
	if _, ok := ParseEnvelope("cloudwatch"); ok {
		t.Error("unknown name accepted")
	}
}

func FuzzDecode(f *testing.F) {
	for _, in := range inputs(f) {
		f.Add(in)
	}
	f.Add([]byte("{\n"))
	f.Add([]byte("2024-05-01T10:00:00.000+00:00 s \n{\n\"a\"\n"))
	f.Add([]byte("H4sI"))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, e := range []Envelope{Auto, Tail, Events, Subscription, Console} {
			err := New(WithEnvelope(e), WithMaxDocument(1<<20)).Decode(bytes.NewReader(in), "in", func(m *Message) error {
				if m.Text == nil && len(m.Diags) == 0 {
					t.Fatalf("empty message %+v", m)
				}
				for _, d := range m.Diags {
					if d.Rule == "" || d.Message == "" || d.Origin.Line < 1 {
						t.Fatalf("incomplete diagnostic %+v", d)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}

func BenchmarkSubscriptionBase64(b *testing.B) {
	in := bytes.Repeat(base64Lines(b), 50)
	d := New()
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		d.Decode(bytes.NewReader(in), "in", func(*Message) error { return nil })
	}
}

func BenchmarkTailDetailed(b *testing.B) {
	in := bytes.Repeat(read(b, "tail-detailed.txt"), 100)
	d := New()
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		d.Decode(bytes.NewReader(in), "in", func(*Message) error { return nil })
	}
}
