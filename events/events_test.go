package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

// TestTemplatesParse decodes every template into its aws-lambda-go type,
// strictly (no unknown fields), and checks a few values survived.
func TestTemplatesParse(t *testing.T) {
	tests := []struct {
		name  string
		into  any
		check func(v any) error
	}{
		{"apigateway", &events.APIGatewayProxyRequest{}, func(v any) error {
			r := v.(*events.APIGatewayProxyRequest)
			if r.HTTPMethod != "POST" || r.PathParameters["id"] != "1001" || r.RequestContext.Identity.SourceIP == "" {
				return fmt.Errorf("got %+v", r)
			}
			return nil
		}},
		{"apigatewayv2", &events.APIGatewayV2HTTPRequest{}, func(v any) error {
			r := v.(*events.APIGatewayV2HTTPRequest)
			if r.Version != "2.0" || r.RequestContext.HTTP.Method != "POST" || r.RawPath != "/orders/1001" {
				return fmt.Errorf("got %+v", r)
			}
			return nil
		}},
		{"s3-put", &events.S3Event{}, func(v any) error {
			r := v.(*events.S3Event)
			if len(r.Records) != 1 || r.Records[0].EventName != "ObjectCreated:Put" || r.Records[0].S3.Object.Size != 1024 {
				return fmt.Errorf("got %+v", r)
			}
			return nil
		}},
		{"sqs", &events.SQSEvent{}, func(v any) error {
			r := v.(*events.SQSEvent)
			if len(r.Records) != 2 || r.Records[0].EventSource != "aws:sqs" || r.Records[1].Body == "" {
				return fmt.Errorf("got %+v", r)
			}
			return nil
		}},
		{"kinesis", &events.KinesisEvent{}, func(v any) error {
			r := v.(*events.KinesisEvent)
			if len(r.Records) != 2 || string(r.Records[0].Kinesis.Data) != `{"orderId":"1001","amount":42.5}` {
				return fmt.Errorf("got %+v", r)
			}
			return nil
		}},
		{"eventbridge-schedule", &events.EventBridgeEvent{}, func(v any) error {
			r := v.(*events.EventBridgeEvent)
			if r.DetailType != "Scheduled Event" || r.Source != "aws.events" || r.Time.IsZero() {
				return fmt.Errorf("got %+v", r)
			}
			return nil
		}},
		{"sns", &events.SNSEvent{}, func(v any) error {
			r := v.(*events.SNSEvent)
			if len(r.Records) != 1 || r.Records[0].SNS.TopicArn == "" || r.Records[0].SNS.Timestamp.IsZero() {
				return fmt.Errorf("got %+v", r)
			}
			return nil
		}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen[tt.name] = true
			data, err := Get(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(tt.into); err != nil {
				t.Fatalf("decode into %T: %v", tt.into, err)
			}
			if err := tt.check(tt.into); err != nil {
				t.Error(err)
			}
		})
	}
	for _, n := range Names() {
		if !seen[n] {
			t.Errorf("template %s has no parse test", n)
		}
	}
}

func TestGet(t *testing.T) {
	tests := []struct {
		name    string
		same    string // template it must equal
		wantErr bool
	}{
		{name: "apigateway", same: "apigateway"},
		{name: "http-api", same: "apigatewayv2"},
		{name: " SQS ", same: "sqs"},
		{name: "schedule", same: "eventbridge-schedule"},
		{name: "s3", same: "s3-put"},
		{name: "nope", wantErr: true},
		{name: "", wantErr: true},
		{name: "../events", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Get(tt.name)
			if tt.wantErr {
				if !errors.Is(err, ErrUnknownTemplate) || !strings.Contains(err.Error(), "sqs") {
					t.Fatalf("err = %v, want ErrUnknownTemplate listing the names", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want, _ := templates.ReadFile("templates/" + tt.same + ".json")
			if !bytes.Equal(got, want) {
				t.Errorf("Get(%q) is not template %s", tt.name, tt.same)
			}
		})
	}
}

func TestNames(t *testing.T) {
	want := []string{"apigateway", "apigatewayv2", "eventbridge-schedule", "kinesis", "s3-put", "sns", "sqs"}
	if diff := cmp.Diff(want, Names()); diff != "" {
		t.Errorf("Names() (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"apigateway-v2", "http-api"}, Aliases("apigatewayv2")); diff != "" {
		t.Errorf("Aliases (-want +got):\n%s", diff)
	}
}

func TestReadOne(t *testing.T) {
	tests := []struct {
		name, in, want, err string
	}{
		{name: "object", in: `{"a":1}`, want: `{"a":1}`},
		{name: "trimmed", in: "\n  {\"a\": [1, 2]}\n\n", want: `{"a": [1, 2]}`},
		{name: "string", in: `"hello"`, want: `"hello"`},
		{name: "number", in: `42`, want: `42`},
		{name: "multiline", in: "{\n  \"a\": 1\n}\n", want: "{\n  \"a\": 1\n}"},
		{name: "empty", in: "  \n", err: "event is empty"},
		{name: "syntax", in: "{\n  \"a\": 1,\n  \"b\" 2\n}", err: "line 3, column 7"},
		{name: "truncated", in: `{"a":`, err: "not valid JSON"},
		{name: "json lines", in: "{\"a\":1}\n{\"a\":2}\n", err: "use --events"},
		{name: "trailing garbage", in: `{"a":1} x`, err: "use --events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadOne(strings.NewReader(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadOneLimits(t *testing.T) {
	big := `"` + strings.Repeat("x", MaxPayload) + `"`
	if _, err := ReadOne(strings.NewReader(big)); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("oversized event: err = %v", err)
	}
	if _, err := ReadOne(iotest.ErrReader(errors.New("boom"))); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("read error: err = %v", err)
	}
}

type lineEvent struct {
	Line int
	Ev   string
}

func TestReadLines(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []lineEvent
		wantBad []int
	}{
		{name: "empty", in: ""},
		{name: "two", in: "{\"a\":1}\n{\"a\":2}\n", want: []lineEvent{{1, `{"a":1}`}, {2, `{"a":2}`}}},
		{name: "no final newline", in: "{\"a\":1}\n{\"a\":2}", want: []lineEvent{{1, `{"a":1}`}, {2, `{"a":2}`}}},
		{name: "crlf and blanks", in: "{\"a\":1}\r\n\r\n  \n[1]\r\n", want: []lineEvent{{1, `{"a":1}`}, {4, `[1]`}}},
		{name: "bad lines skipped", in: "{\"a\":1}\n{oops}\n\"s\"\n{\"a\":\n7\n", want: []lineEvent{{1, `{"a":1}`}, {3, `"s"`}, {5, `7`}}, wantBad: []int{2, 4}},
		{name: "two documents on a line", in: "{} {}\n{}\n", want: []lineEvent{{2, `{}`}}, wantBad: []int{1}},
		{name: "only bad", in: "nope", wantBad: []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []lineEvent
			var bad []int
			err := ReadLines(strings.NewReader(tt.in), func(line int, ev []byte) error {
				got = append(got, lineEvent{line, string(ev)})
				return nil
			}, func(line int, err error) {
				if !strings.Contains(err.Error(), "JSON") {
					t.Errorf("line %d: error %v does not say what is wrong", line, err)
				}
				bad = append(bad, line)
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantBad, bad); diff != "" {
				t.Errorf("bad lines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadLinesLongLines(t *testing.T) {
	// A line beyond MaxPayload is reported and skipped; lines around it and a
	// long valid line (larger than the reader's buffer) are kept.
	long := `"` + strings.Repeat("y", 200*1024) + `"`
	huge := `"` + strings.Repeat("z", MaxPayload+10) + `"`
	in := "{\"a\":1}\n" + huge + "\n" + long + "\n{\"a\":2}"
	var lines []int
	var bad []int
	err := ReadLines(strings.NewReader(in), func(line int, ev []byte) error {
		lines = append(lines, line)
		if line == 3 && string(ev) != long {
			t.Errorf("long line mangled (%d bytes)", len(ev))
		}
		return nil
	}, func(line int, err error) { bad = append(bad, line) })
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{1, 3, 4}, lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{2}, bad); diff != "" {
		t.Errorf("bad (-want +got):\n%s", diff)
	}
}

func TestReadLinesStops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := ReadLines(strings.NewReader("1\n2\n3\n"), func(line int, ev []byte) error {
		n++
		if line == 2 {
			return stop
		}
		return nil
	}, nil)
	if !errors.Is(err, stop) || n != 2 {
		t.Errorf("err = %v after %d events, want stop after 2", err, n)
	}
	err = ReadLines(iotest.TimeoutReader(strings.NewReader("1\n2\n")), func(int, []byte) error { return nil }, nil)
	if err == nil {
		t.Error("read error not returned")
	}
}

func FuzzReadLines(f *testing.F) {
	for _, s := range []string{"", "{}\n", "{\"a\":1}\r\n\n[1]", "{oops}\n7", "\"\\u00e9\"\n{} {}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		_ = ReadLines(strings.NewReader(in), func(line int, ev []byte) error {
			if !json.Valid(ev) {
				t.Errorf("line %d: invalid JSON handed out: %q", line, ev)
			}
			return nil
		}, func(int, error) {})
		if ev, err := ReadOne(strings.NewReader(in)); err == nil && !json.Valid(ev) {
			t.Errorf("ReadOne accepted invalid JSON %q", ev)
		}
	})
}
