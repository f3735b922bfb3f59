package remotewrite

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/labels"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/lambdabridge/lambdabridge/internal/testenv"
)

// rw2Registry holds a counter with help, unit and a created timestamp, and
// a native histogram.
func rw2Registry(t *testing.T, created time.Time) prometheus.Gatherer {
	t.Helper()
	reg := prometheus.NewRegistry()
	dur := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "rw2_duration_seconds", Help: "Durations.",
		NativeHistogramBucketFactor: 1.1})
	reg.MustRegister(dur)
	for _, v := range []float64{0.05, 0.5, 5} {
		dur.Observe(v)
	}
	counter := &dto.MetricFamily{Name: proto.String("rw2_requests_total"), Help: proto.String("Requests served."),
		Unit: proto.String("requests"), Type: dto.MetricType_COUNTER.Enum(),
		Metric: []*dto.Metric{{Counter: &dto.Counter{Value: proto.Float64(7), CreatedTimestamp: timestamppb.New(created)}}}}
	// not prometheus.Gatherers: it leaves the unit out
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		fams, err := reg.Gather()
		return append(fams, counter), err
	})
}

func sendOnce(t *testing.T, url string, g prometheus.Gatherer) Stats {
	t.Helper()
	cfg := DefaultConfig()
	cfg.URL = url
	cfg.ProtobufMessage = MessageV2
	cfg.SendNativeHistograms = true
	w, err := New(cfg, WithGatherer(g))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := w.Close(ctx)
	if err != nil || s.Sent != s.Emitted {
		t.Fatalf("close: %v; stats %s", err, s)
	}
	return s
}

// TestRemoteWrite2 sends Remote Write 2.0 to a real Prometheus 3: the
// counter arrives with its metadata (type and unit, read back as the
// __type__ and __unit__ labels), its created timestamp (ingested as a
// zero before it) and the native histogram; the receiver's written
// headers match, so nothing is counted as not written or retried as 1.0.
func TestRemoteWrite2(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Prometheus 3; skipped with -short")
	}
	p := startPrometheus3(t)
	created := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	s := sendOnce(t, p.RemoteWriteURL(), rw2Registry(t, created))
	if s.Retried["rw2_unsupported"] != 0 || s.DroppedTotal() != 0 {
		t.Errorf("stats %s retried %v: want 2.0 accepted and fully written", s, s.Retried)
	}
	const timeout = 15 * time.Second
	testenv.EventuallyValue(t, p, `last_over_time(rw2_requests_total{__type__="counter",__unit__="requests"}[10m])`, 7, timeout)
	testenv.EventuallyValue(t, p, `min_over_time(rw2_requests_total[10m])`, 0, timeout) // the created timestamp's zero
	testenv.EventuallyValue(t, p, `histogram_count(last_over_time(rw2_duration_seconds{__type__="histogram"}[10m]))`, 3, timeout)
	testenv.EventuallyValue(t, p, `histogram_sum(last_over_time(rw2_duration_seconds[10m]))`, 5.55, timeout)
}

// TestRemoteWrite2FallsBack: a receiver without 2.0 makes the writer send
// 1.0, as the specification says, losing nothing: Prometheus 3 accepting
// only 1.0 answers 415; Prometheus 2.42 ignores the Content-Type and
// answers 2xx without the written headers.
func TestRemoteWrite2FallsBack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real Prometheus servers; skipped with -short")
	}
	for _, tc := range []struct {
		name  string
		hist  bool // the receiver's PromQL reads native histograms with last_over_time (not 2.42)
		start func(t *testing.T) (testenv.Querier, string)
	}{
		{"prometheus3-415", true, func(t *testing.T) (testenv.Querier, string) {
			p := startPrometheus3(t, MessageV1)
			return p, p.RemoteWriteURL()
		}},
		{"prometheus2-no-written-headers", false, func(t *testing.T) (testenv.Querier, string) {
			p := testenv.StartPrometheus(t, testenv.WithPrometheusArgs("--enable-feature=native-histograms"))
			return p, p.RemoteWriteURL()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, url := tc.start(t)
			s := sendOnce(t, url, rw2Registry(t, time.Now().Add(-time.Minute)))
			if s.Retried["rw2_unsupported"] == 0 || s.DroppedTotal() != 0 {
				t.Errorf("stats %s retried %v: want a fallback to 1.0 and nothing dropped", s, s.Retried)
			}
			testenv.EventuallyValue(t, q, `last_over_time(rw2_requests_total[10m])`, 7, 15*time.Second)
			if tc.hist {
				testenv.EventuallyValue(t, q, `histogram_count(last_over_time(rw2_duration_seconds[10m]))`, 3, 15*time.Second)
			}
		})
	}
}

// TestEncodeV2RoundTrip decodes what encoderV2 writes with Prometheus' own
// types: labels through the symbols table, metadata, start timestamp,
// native histogram.
func TestEncodeV2RoundTrip(t *testing.T) {
	created := time.UnixMilli(1_700_000_000_000)
	fams, err := rw2Registry(t, created).Gather()
	if err != nil {
		t.Fatal(err)
	}
	c := newConverter(map[string]string{"bridge": "b1"}, true)
	batch := c.convert(nil, fams, created.UnixMilli()+5000, false, func(reason, int) { t.Error("drop") })
	body, floats, hists := newEncoderV2().encode(batch, true)
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		t.Fatal(err)
	}
	var req writev2.Request
	if err := req.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	var got []string
	var sb labels.ScratchBuilder
	for _, ts := range req.Timeseries {
		l, err := ts.ToLabels(&sb, req.Symbols)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := ts.ToMetadata(req.Symbols)
		line := fmt.Sprintf("%s %s %q %q", l, m.Type, m.Help, m.Unit)
		for _, s := range ts.Samples {
			line += fmt.Sprintf(" v=%g t=%d st=%d", s.Value, s.Timestamp, s.StartTimestamp)
		}
		for _, h := range ts.Histograms {
			line += fmt.Sprintf(" count=%d sum=%g", h.ToIntHistogram().Count, h.Sum)
		}
		got = append(got, line)
	}
	ct, t1 := created.UnixMilli(), created.UnixMilli()+5000
	want := []string{
		`{__name__="rw2_duration_seconds", bridge="b1"} histogram "Durations." "" count=3 sum=5.55`,
		fmt.Sprintf(`{__name__="rw2_requests_total", bridge="b1"} counter "Requests served." "requests" v=0 t=%d st=%d`, ct, ct),
		fmt.Sprintf(`{__name__="rw2_requests_total", bridge="b1"} counter "Requests served." "requests" v=7 t=%d st=%d`, t1, ct),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decoded request (-want +got):\n%s", diff)
	}
	if floats != 2 || hists != 1 {
		t.Errorf("floats %d hists %d, want 2 and 1", floats, hists)
	}
}

// TestWrittenHeadersChecked: a 2.0 receiver that says it wrote fewer
// samples than sent (a fake: real receivers answer 4xx for what they
// refuse) gets the difference counted as dropped (not_written), not sent.
func TestWrittenHeadersChecked(t *testing.T) {
	for _, tc := range []struct {
		name        string
		written     string
		sent, wrong int64
	}{
		{"all written", "3", 3, 0},
		{"one written", "1", 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if ct := r.Header.Get("Content-Type"); ct != "application/x-protobuf;proto="+MessageV2 {
					t.Errorf("Content-Type %q", ct)
				}
				if v := r.Header.Get("X-Prometheus-Remote-Write-Version"); v != "2.0.0" {
					t.Errorf("version %q", v)
				}
				w.Header().Set(headerSamplesWritten, tc.written)
				w.Header().Set(headerHistogramsWritten, "0")
				w.WriteHeader(http.StatusNoContent)
			}))
			defer srv.Close()
			cfg := testConfig(srv.URL)
			cfg.ProtobufMessage = MessageV2
			w := newTestWriter(t, cfg)
			_ = w.Append(gauges(3, 1), time.UnixMilli(1000))
			err := flush(t, w)
			s := w.Stats()
			if s.Sent != tc.sent || s.Dropped["not_written"] != tc.wrong || (tc.wrong > 0) != (err != nil) {
				t.Errorf("flush %v, stats %s; want sent %d, not_written %d", err, s, tc.sent, tc.wrong)
			}
		})
	}
}
