package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sort"
	"strconv"
	"testing"
)

// bigMixedLog builds a log of about size bytes: ordinary lines, EMF,
// MONITORING and Datadog JSON lines, with one line in a hundred broken in a
// way the parsers must report. It returns the log, the broken line numbers
// and what the good lines add up to.
func bigMixedLog(size int) (log []byte, broken []int, orders, ddCount float64, latCount int) {
	rng := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	ts := int64(1795428000000)
	breakers := []string{
		`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Orders","Unit":"Count"}]}]},"Service":"checkout","Orders":"many"}`,
		`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Orders","Unit":"Count"}]}]},"Service":"checkout","Orders":1`,
		`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Orders","Unit":"Kount"}]}]},"Service":"checkout","Orders":1}`,
		"MONITORING|%d|x|count|shop.dd.orders|#service:checkout",
		"MONITORING|%d|1|kount|shop.dd.orders|#service:checkout",
	}
	line := 0
	for b.Len() < size {
		line++
		if rng.IntN(100) == 0 {
			broken = append(broken, line)
			f := breakers[rng.IntN(len(breakers))]
			fmt.Fprintf(&b, f+"\n", ts/1000*1000)
			continue
		}
		switch rng.IntN(4) {
		case 0:
			fmt.Fprintf(&b, "2026-11-23T10:00:00.000Z\treq-%d\tINFO\tprocessing item %d of the batch\n", line, line)
		case 1:
			n := rng.IntN(5) + 1
			fmt.Fprintf(&b, `2026-11-23T10:00:00.000Z	req-%d	INFO	{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Orders","Unit":"Count"},{"Name":"Latency","Unit":"Milliseconds"}]}]},"Service":"checkout","Orders":%d,"Latency":[%d,%d]}`+"\n",
				line, ts, n, rng.IntN(500), rng.IntN(500))
			orders += float64(n)
			latCount += 2
		case 2:
			fmt.Fprintf(&b, "MONITORING|%d|2|count|shop.dd.orders|#service:checkout\n", ts/1000)
			ddCount += 2
		case 3:
			fmt.Fprintf(&b, `{"m":"shop.dd.cart_size","v":%d,"e":%d,"t":["service:checkout"]}`+"\n", rng.IntN(10), ts/1000)
		}
	}
	return b.Bytes(), broken, orders, ddCount, latCount
}

// TestBigMixedLog: a 10 MB log with 1% broken lines. Every broken line is
// reported with its number, every good line's metrics are in the convert
// output, and nothing else is lost.
func TestBigMixedLog(t *testing.T) {
	size := 10 << 20
	if testing.Short() {
		size = 1 << 20
	}
	log, broken, orders, dd, latCount := bigMixedLog(size)

	out, _, code := runCmd(t, string(log), "validate", "--format", "json", "--now", goldenNow)
	if code != 1 {
		t.Fatalf("validate exit %d, want 1", code)
	}
	var report struct {
		Diagnostics []struct {
			Line     int    `json:"line"`
			Severity string `json:"severity"`
			Rule     string `json:"rule"`
		} `json:"diagnostics"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatal(err)
	}
	errLines := map[int]bool{}
	for _, d := range report.Diagnostics {
		if d.Severity == "error" {
			errLines[d.Line] = true
		}
	}
	var got []int
	for l := range errLines {
		got = append(got, l)
	}
	sort.Ints(got)
	if fmt.Sprint(got) != fmt.Sprint(broken) {
		t.Fatalf("error lines differ: %d reported, %d broken", len(got), len(broken))
	}

	prom, _, code := runCmd(t, string(log), "convert", "--quiet", "--now", goldenNow)
	if code != 0 {
		t.Fatalf("convert exit %d", code)
	}
	for _, c := range []struct {
		series string
		want   float64
	}{
		{`shop_orders_total{service="checkout"}`, orders},
		{`shop_dd_orders_total{service="checkout"}`, dd},
		{`shop_latency_seconds_count{service="checkout"}`, float64(latCount)},
	} {
		m := regexp.MustCompile(regexp.QuoteMeta(c.series) + ` (\S+)`).FindStringSubmatch(prom)
		if m == nil {
			t.Fatalf("convert output lacks %s", c.series)
		}
		if v, _ := strconv.ParseFloat(m[1], 64); v != c.want {
			t.Errorf("%s = %v, want %v", c.series, v, c.want)
		}
	}
	t.Logf("%d bytes, %d broken lines reported", len(log), len(broken))
}
