package pipeline

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/catalog"
	"github.com/lambdabridge/lambdabridge/logline"
	"github.com/lambdabridge/lambdabridge/metric"
	"github.com/lambdabridge/lambdabridge/remotewrite"
)

// BenchmarkLinesToRemoteWrite measures the whole path of a log line: parse
// (EMF and MONITORING), check, aggregate, then gather, encode and snappy-
// compress into remote_write requests received by a discarding server. It
// reports log lines per second and the remote_write bytes per line.
func BenchmarkLinesToRemoteWrite(b *testing.B) {
	var received atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		received.Add(n)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	cfg, err := remotewrite.URLConfig(srv.URL, "")
	if err != nil {
		b.Fatal(err)
	}
	w, err := remotewrite.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	p, err := New(WithSink(RemoteWrite(w)), WithParserOptions(logline.WithClock(time.Now)))
	if err != nil {
		b.Fatal(err)
	}
	log, _, _, _, _ := testLog(1000, time.Now())
	lines := bytes.Split(bytes.TrimSuffix(log, []byte("\n")), []byte("\n"))
	var size int
	for _, l := range lines {
		size += len(l) + 1
	}
	ctx := context.Background()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for i, l := range lines {
			p.Line(metric.Origin{Source: "bench", Line: i + 1}, "stdout", l)
		}
		fams, err := p.Gatherer().Gather()
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Append(fams, time.Now()); err != nil {
			b.Fatal(err)
		}
		if err := w.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		n += len(lines)
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(received.Load())/float64(n), "rw-bytes/line")
	w.Close(ctx)
}

// BenchmarkWideLine validates one MONITORING line of 10k, 40k and 80k tags
// through the one log-line path (parser, checks, catalog), as `lambdabridge
// validate` does: ns/tag stays flat when every per-line cost is linear in
// the line's size.
func BenchmarkWideLine(b *testing.B) {
	for _, n := range []int{10_000, 40_000, 80_000} {
		b.Run("tags="+strconv.Itoa(n), func(b *testing.B) {
			var sb strings.Builder
			sb.WriteString("MONITORING|1700000000|1|count|wide.metric|#")
			for i := range n {
				if i > 0 {
					sb.WriteByte(',')
				}
				sb.WriteString("tag" + strconv.Itoa(i) + ":v")
			}
			line := sb.String()
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				p, err := New(WithCatalog(catalog.New()))
				if err != nil {
					b.Fatal(err)
				}
				if err := p.ReadLog(context.Background(), "wide.log", strings.NewReader(line)); err != nil {
					b.Fatal(err)
				}
				p.Finish()
				if sum := p.ValidationSummary(); sum.Points != 1 || sum.Errors != 0 {
					b.Fatalf("%+v", sum)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/tag")
		})
	}
}
