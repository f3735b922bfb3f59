package compare

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
)

func TestParseStrategies(t *testing.T) {
	tests := []struct {
		in      string
		want    []Strategy
		wantErr bool
	}{
		{"", AllStrategies, false},
		{"all", AllStrategies, false},
		{"scrape", []Strategy{Scrape}, false},
		{"remote-write, pushgateway-instance,remote-write", []Strategy{RemoteWrite, PushgatewayInstance}, false},
		{"pushgateway,aggregate", []Strategy{Pushgateway, Aggregate}, false},
		{"remote_write", nil, true},
		{"scrape,", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseStrategies(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseStrategies(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.want, got); !tt.wantErr && diff != "" {
			t.Errorf("ParseStrategies(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestAddedBilledMs(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		dur, d time.Duration
		want   float64
	}{
		{1200 * time.Microsecond, 0, 0},
		{1200 * time.Microsecond, 500 * time.Microsecond, 0}, // 1.2 -> 1.7 ms: still billed 2 ms
		{1200 * time.Microsecond, 900 * time.Microsecond, 1}, // 1.2 -> 2.1 ms: 3 ms
		{2 * ms, 3 * ms, 3},
		{2 * ms, 3*ms + time.Microsecond, 4},
	}
	for _, tt := range tests {
		if got := addedBilledMs(tt.dur, tt.d); got != tt.want {
			t.Errorf("addedBilledMs(%v, %v) = %v, want %v", tt.dur, tt.d, got, tt.want)
		}
	}
}

func TestSeriesRole(t *testing.T) {
	fams := map[string]*truthFamily{
		"a_total":   {name: "a_total", typ: dto.MetricType_COUNTER},
		"b_seconds": {name: "b_seconds", typ: dto.MetricType_HISTOGRAM},
		"c_bytes":   {name: "c_bytes", typ: dto.MetricType_GAUGE},
	}
	tests := []struct{ series, fam, role string }{
		{"a_total", "a_total", "count"},
		{"a_total_count", "", ""},
		{"b_seconds_count", "b_seconds", "count"},
		{"b_seconds_sum", "b_seconds", "sum"},
		{"b_seconds_bucket", "b_seconds", "bucket"},
		{"c_bytes", "c_bytes", "gauge"},
		{"up", "", ""},
	}
	for _, tt := range tests {
		f, role := seriesRole(tt.series, fams)
		name := ""
		if f != nil {
			name = f.name
		}
		if name != tt.fam || role != tt.role {
			t.Errorf("seriesRole(%q) = %q, %q; want %q, %q", tt.series, name, role, tt.fam, tt.role)
		}
	}
}

func TestVisibility(t *testing.T) {
	start := time.Unix(1000, 0)
	at := func(s float64) time.Time { return start.Add(time.Duration(s * float64(time.Second))) }
	ems := []emission{{at(1), 10}, {at(2), 10}, {at(3), 80}}
	tests := []struct {
		name     string
		vt       []TimePoint
		p50, p99 float64
	}{
		{"nothing visible", nil, -1, -1},
		{"all at 5s", []TimePoint{{Seconds: 5, Visible: 100}}, 2, 4},
		{"in steps", []TimePoint{{Seconds: 1.5, Visible: 10}, {Seconds: 2.5, Visible: 20}, {Seconds: 4, Visible: 100}}, 1, 1},
		{"last 80 lost", []TimePoint{{Seconds: 2, Visible: 20}}, 0, 1},
		{"a drop does not undo visibility", []TimePoint{{Seconds: 2, Visible: 20}, {Seconds: 3, Visible: 5}, {Seconds: 6, Visible: 100}}, 3, 3},
	}
	for _, tt := range tests {
		p50, p99 := visibility(ems, tt.vt, start)
		if math.Abs(p50-tt.p50) > 1e-9 || math.Abs(p99-tt.p99) > 1e-9 {
			t.Errorf("%s: p50 %v p99 %v, want %v %v", tt.name, p50, p99, tt.p50, tt.p99)
		}
	}
}

func TestTimeline(t *testing.T) {
	start := time.Unix(1000, 0)
	ems := []emission{{start.Add(time.Second), 3}, {start.Add(3 * time.Second), 2}}
	vt := []TimePoint{{Seconds: 2, Visible: 3}, {Seconds: 5, Visible: 4}}
	tl := timeline(ems, vt, start, start.Add(10*time.Second))
	if len(tl) != 201 {
		t.Fatalf("%d points", len(tl))
	}
	check := func(sec, emitted, visible float64) {
		t.Helper()
		for _, p := range tl {
			if p.Seconds == sec {
				if p.Emitted != emitted || p.Visible != visible {
					t.Errorf("at %vs: %+v, want emitted %v visible %v", sec, p, emitted, visible)
				}
				return
			}
		}
		t.Errorf("no point at %vs", sec)
	}
	check(0, 0, 0)
	check(1.5, 3, 0)
	check(2.5, 3, 3)
	check(3.5, 5, 3)
	check(10, 5, 4)
}

func TestConfigDefaults(t *testing.T) {
	c := Config{PrometheusURL: "http://127.0.0.1:9090"}
	if err := c.defaults(); err == nil {
		t.Error("no function: want an error")
	}
}
