package dogstatsd

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lambdabridge/lambdabridge/metric"
)

const producersDir = "../testdata/producers/dogstatsd"

type fixtureRecord struct {
	phase   string
	payload []byte
}

// readFixture reads the record format written by the producers:
// "--- datagram <n> phase=<phase> bytes=<len>\n" + payload + "\n".
func readFixture(t *testing.T, name string) []fixtureRecord {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(producersDir, name))
	if err != nil {
		t.Fatalf("fixture: %v (regenerate with testdata/producers/dogstatsd/generate.sh)", err)
	}
	var recs []fixtureRecord
	for len(data) > 0 {
		nl := bytes.IndexByte(data, '\n')
		if nl < 0 {
			t.Fatalf("%s: truncated header %q", name, data)
		}
		head := string(data[:nl])
		data = data[nl+1:]
		if strings.HasPrefix(head, "#") && len(recs) == 0 {
			continue
		}
		var n, size int
		var phase string
		if _, err := fmt.Sscanf(head, "--- datagram %d phase=%s bytes=%d", &n, &phase, &size); err != nil || n != len(recs)+1 {
			t.Fatalf("%s: bad record header %q: %v", name, head, err)
		}
		if len(data) < size+1 || data[size] != '\n' {
			t.Fatalf("%s: record %d shorter than %d bytes", name, n, size)
		}
		recs = append(recs, fixtureRecord{phase, data[:size]})
		data = data[size+1:]
	}
	return recs
}

// canon renders a point for comparison: phase, the point, rate and time.
func canon(phase string, p *metric.Point) string {
	s := phase + " " + p.String()
	if p.SampleRate != 0 {
		s += " @" + strconv.FormatFloat(p.SampleRate, 'g', -1, 64)
	}
	if p.TimeMs != 0 {
		s += " T" + strconv.FormatInt(p.TimeMs, 10)
	}
	return s
}

// parseFixture parses every datagram and returns the sorted points per phase
// and the diagnostics as "record: severity rule".
func parseFixture(t *testing.T, name string) (points, diags []string) {
	p := NewParser()
	for i, rec := range readFixture(t, name) {
		var b metric.Batch
		p.Datagram(&b, rec.payload, metric.Origin{Source: name})
		for j := range b.Points {
			points = append(points, canon(rec.phase, &b.Points[j]))
		}
		for _, d := range b.Diags {
			diags = append(diags, fmt.Sprintf("%d: %s %s", i+1, d.Severity, d.Rule))
			if d.Severity == metric.Error {
				t.Errorf("%s record %d: %s", name, i+1, d.String())
			}
		}
	}
	// Client-side aggregation emits lines in map order: compare as sets.
	slices.Sort(points)
	return points, diags
}

func TestProducerFixtures(t *testing.T) {
	for _, tt := range []struct {
		file   string
		points []string
		diags  []string
	}{
		// Decr sends a count of -1: Datadog subtracts it, a Prometheus
		// counter cannot (lambdabridge drops it and says so).
		{file: "datadog-go.datagrams", points: datadogGoPoints, diags: []string{"4: warning dogstatsd/negative-count"}},
		{file: "hot-shots.datagrams", points: hotShotsPoints, diags: []string{
			"4: warning dogstatsd/negative-count",
			// hot-shots counts event lengths in UTF-16 code units, not bytes:
			// Datadog cuts the title and text at the declared byte lengths.
			"12: warning dogstatsd/event-length-mismatch",
			"12: warning dogstatsd/event-length-mismatch",
			"12: warning dogstatsd/unknown-field",
		}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			points, diags := parseFixture(t, tt.file)
			want := slices.Clone(tt.points)
			slices.Sort(want)
			if diff := cmp.Diff(want, points); diff != "" {
				t.Errorf("points (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.diags, diags); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

// datadogGoPoints are the values datadog-go/main.go sends, as the parser must
// read them back.
var datadogGoPoints = []string{
	"aggregated dogstatsd lb.agg.count{service=producer,env=prod,team,url=http://example.com:8080/a} counter [5]",
	"aggregated dogstatsd lb.agg.gauge{service=producer,env=prod,team,url=http://example.com:8080/a} gauge [4]",
	"aggregated dogstatsd lb.agg.histogram{service=producer,env=prod,team,url=http://example.com:8080/a} histogram [0]",
	"aggregated dogstatsd lb.agg.histogram{service=producer,env=prod,team,url=http://example.com:8080/a} histogram [1]",
	"aggregated dogstatsd lb.agg.histogram{service=producer,env=prod,team,url=http://example.com:8080/a} histogram [2]",
	"aggregated dogstatsd lb.agg.histogram{service=producer,env=prod,team,url=http://example.com:8080/a} histogram [3]",
	"aggregated dogstatsd lb.agg.histogram{service=producer,env=prod,team,url=http://example.com:8080/a} histogram [4]",
	"aggregated dogstatsd lb.agg.set{service=producer,env=prod,team,url=http://example.com:8080/a} set [a]",
	"aggregated dogstatsd lb.agg.set{service=producer,env=prod,team,url=http://example.com:8080/a} set [b]",
	"aggregated dogstatsd lb.agg.set{service=producer,env=prod,team,url=http://example.com:8080/a} set [c]",
	"buffered dogstatsd buffered event{service=producer} event [1]",
	"buffered dogstatsd buffered.check{service=producer} service_check [2]",
	"buffered dogstatsd lb.buffered.count{service=producer,env=prod,team,url=http://example.com:8080/a} counter [1]",
	"buffered dogstatsd lb.buffered.count{service=producer,env=prod,team,url=http://example.com:8080/a} counter [2]",
	"buffered dogstatsd lb.buffered.count{service=producer,env=prod,team,url=http://example.com:8080/a} counter [3]",
	"buffered dogstatsd lb.buffered.gauge{service=producer,env=prod,team,url=http://example.com:8080/a} gauge [0]",
	"buffered dogstatsd lb.buffered.gauge{service=producer,env=prod,team,url=http://example.com:8080/a} gauge [1]",
	"buffered dogstatsd lb.buffered.gauge{service=producer,env=prod,team,url=http://example.com:8080/a} gauge [2]",
	"buffered dogstatsd lb.buffered.histogram{service=producer} histogram [0]",
	"buffered dogstatsd lb.buffered.histogram{service=producer} histogram [10]",
	"buffered dogstatsd lb.buffered.histogram{service=producer} histogram [20]",
	"extended-aggregation dogstatsd lb.ext.distribution{service=producer,env=prod,team,url=http://example.com:8080/a} distribution [0.5 1 1.5 2]",
	"extended-aggregation dogstatsd lb.ext.histogram{service=producer,env=prod,team,url=http://example.com:8080/a} histogram [1 2 3 4]",
	"extended-aggregation dogstatsd lb.ext.timing{service=producer,env=prod,team,url=http://example.com:8080/a} timer Milliseconds [10 20 30 40]",
	"sampled dogstatsd lb.sampled.count{service=producer,env=prod,team,url=http://example.com:8080/a} counter [1] @0.5",
	"sampled dogstatsd lb.sampled.distribution{service=producer,env=prod,team,url=http://example.com:8080/a} distribution [6] @0.25",
	"sampled dogstatsd lb.sampled.histogram{service=producer,env=prod,team,url=http://example.com:8080/a} histogram [5] @0.5",
	"sampled dogstatsd lb.sampled.timing{service=producer,env=prod,team,url=http://example.com:8080/a} timer Milliseconds [7] @0.5",
	"unbuffered dogstatsd cache.up{service=producer} service_check [0]",
	"unbuffered dogstatsd db.up{service=producer,env=prod,team,url=http://example.com:8080/a,host=host-1} service_check [1] T1700000000000",
	"unbuffered dogstatsd deploy finished{service=producer,env=prod,team,url=http://example.com:8080/a,alert_type=success,priority=low,source_type_name=jenkins,host=host-1,aggregation_key=deploy} event [1] T1700000000000",
	"unbuffered dogstatsd héllo wörld{service=producer} event [1]",
	"unbuffered dogstatsd lb.backlog{service=producer,env=prod,team,url=http://example.com:8080/a} gauge [7] T1700000000000",
	"unbuffered dogstatsd lb.db.query{service=producer,env=prod,team,url=http://example.com:8080/a} timer Milliseconds [1.5]",
	"unbuffered dogstatsd lb.logins{service=producer} counter [1]",
	"unbuffered dogstatsd lb.orders.placed{service=producer,env=prod,team,url=http://example.com:8080/a} counter [3]",
	"unbuffered dogstatsd lb.payload.size{service=producer,env=prod,team,url=http://example.com:8080/a} histogram [2048]",
	"unbuffered dogstatsd lb.queue.depth{service=producer,env=prod,team,url=http://example.com:8080/a} gauge [42.5]",
	"unbuffered dogstatsd lb.render{service=producer} timer Milliseconds [12.25]",
	"unbuffered dogstatsd lb.request.latency{service=producer,env=prod,team,url=http://example.com:8080/a} distribution [0.125]",
	"unbuffered dogstatsd lb.retries{service=producer,env=prod,team,url=http://example.com:8080/a} counter [2] T1700000000000",
	"unbuffered dogstatsd lb.slots.free{service=producer,pool=a} counter [-1]",
	"unbuffered dogstatsd lb.users.unique{service=producer,env=prod,team,url=http://example.com:8080/a} set [alice]",
}

// hotShotsPoints are the values hot-shots.js sends. The second event title is
// cut at the byte length hot-shots declared (see the diagnostics above).
var hotShotsPoints = []string{
	"aggregated dogstatsd hs.agg.count{service=producer,env=prod,url=http://example.com:8080/a,team} counter [5]",
	"aggregated dogstatsd hs.agg.gauge{service=producer,env=prod,url=http://example.com:8080/a,team} gauge [4]",
	"aggregated dogstatsd hs.agg.histogram{service=producer,env=prod,url=http://example.com:8080/a,team} histogram [0]",
	"aggregated dogstatsd hs.agg.histogram{service=producer,env=prod,url=http://example.com:8080/a,team} histogram [1]",
	"aggregated dogstatsd hs.agg.histogram{service=producer,env=prod,url=http://example.com:8080/a,team} histogram [2]",
	"aggregated dogstatsd hs.agg.histogram{service=producer,env=prod,url=http://example.com:8080/a,team} histogram [3]",
	"aggregated dogstatsd hs.agg.histogram{service=producer,env=prod,url=http://example.com:8080/a,team} histogram [4]",
	"aggregated dogstatsd hs.agg.set{service=producer,env=prod,url=http://example.com:8080/a,team} set [a]",
	"aggregated dogstatsd hs.agg.set{service=producer,env=prod,url=http://example.com:8080/a,team} set [b]",
	"aggregated dogstatsd hs.agg.set{service=producer,env=prod,url=http://example.com:8080/a,team} set [c]",
	"buffered dogstatsd hs.buffered event{service=producer} event [1]",
	"buffered dogstatsd hs.buffered.check{service=producer} service_check [2]",
	"buffered dogstatsd hs.buffered.count{service=producer,env=prod,url=http://example.com:8080/a,team} counter [1]",
	"buffered dogstatsd hs.buffered.count{service=producer,env=prod,url=http://example.com:8080/a,team} counter [2]",
	"buffered dogstatsd hs.buffered.count{service=producer,env=prod,url=http://example.com:8080/a,team} counter [3]",
	"buffered dogstatsd hs.buffered.gauge{service=producer,env=prod,url=http://example.com:8080/a,team} gauge [0]",
	"buffered dogstatsd hs.buffered.gauge{service=producer,env=prod,url=http://example.com:8080/a,team} gauge [1]",
	"buffered dogstatsd hs.buffered.gauge{service=producer,env=prod,url=http://example.com:8080/a,team} gauge [2]",
	"buffered dogstatsd hs.buffered.histogram{service=producer} histogram [0]",
	"buffered dogstatsd hs.buffered.histogram{service=producer} histogram [10]",
	"buffered dogstatsd hs.buffered.histogram{service=producer} histogram [20]",
	"sampled dogstatsd hs.sampled.count{service=producer,env=prod,url=http://example.com:8080/a,team} counter [1] @0.5",
	"sampled dogstatsd hs.sampled.distribution{service=producer,env=prod,url=http://example.com:8080/a,team} distribution [6] @0.25",
	"sampled dogstatsd hs.sampled.histogram{service=producer,env=prod,url=http://example.com:8080/a,team} histogram [5] @0.5",
	"sampled dogstatsd hs.sampled.timing{service=producer,env=prod,url=http://example.com:8080/a,team} timer Milliseconds [7] @0.5",
	"unbuffered dogstatsd hs.backlog{service=producer,env=prod,url=http://example.com:8080/a,team} gauge [7] T1700000000000",
	"unbuffered dogstatsd hs.cache.up{service=producer} service_check [0]",
	"unbuffered dogstatsd hs.db.query{service=producer,env=prod,url=http://example.com:8080/a,team} timer Milliseconds [1.5]",
	"unbuffered dogstatsd hs.db.up{service=producer,env=prod,url=http://example.com:8080/a,team,host=host-1} service_check [1] T1700000000000",
	"unbuffered dogstatsd hs.deploy finished{service=producer,env=prod,url=http://example.com:8080/a,team,alert_type=success,priority=low,source_type_name=jenkins,host=host-1,aggregation_key=deploy} event [1] T1700000000000",
	"unbuffered dogstatsd hs.héllo wör{service=producer} event [1]",
	"unbuffered dogstatsd hs.logins{service=producer} counter [1]",
	"unbuffered dogstatsd hs.orders.placed{service=producer,env=prod,url=http://example.com:8080/a,team} counter [3]",
	"unbuffered dogstatsd hs.payload.size{service=producer,env=prod,url=http://example.com:8080/a,team} histogram [2048]",
	"unbuffered dogstatsd hs.queue.depth{service=producer,env=prod,url=http://example.com:8080/a,team} gauge [42.5]",
	"unbuffered dogstatsd hs.request.latency{service=producer,env=prod,url=http://example.com:8080/a,team} distribution [0.125]",
	"unbuffered dogstatsd hs.retries{service=producer,env=prod,url=http://example.com:8080/a,team} counter [2] T1700000000000",
	"unbuffered dogstatsd hs.slots.free{service=producer,pool=a} counter [-1]",
	"unbuffered dogstatsd hs.users.unique{service=producer,env=prod,url=http://example.com:8080/a,team} set [alice]",
}
