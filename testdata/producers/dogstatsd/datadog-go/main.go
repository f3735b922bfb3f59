// Command datadog-go sends every kind of DogStatsD message through the real
// Go client, github.com/DataDog/datadog-go/v5/statsd, to a UDP listener on a
// loopback port, and writes the datagrams it receives to a fixture file that
// the dogstatsd package's tests parse. Run it through ../generate.sh.
//
// The fixture holds one record per datagram:
//
//	--- datagram <n> phase=<phase> bytes=<len>
//	<exactly len bytes of payload>
//
// followed by a newline. Lines starting with '#' before the first record are
// comments. Sampled metrics (rate < 1) are sent until one sample passes the
// client's random sampling, so the fixture's content does not depend on luck.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"
)

func main() {
	out := flag.String("o", "datadog-go.datagrams", "fixture file to write")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "datadog-go:", err)
		os.Exit(1)
	}
}

type record struct {
	phase   string
	payload []byte
}

type receiver struct {
	conn *net.UDPConn
	recs []record
}

// drain reads datagrams until none arrives for quiet, tagging them with phase.
func (r *receiver) drain(phase string, quiet time.Duration) (int, error) {
	buf := make([]byte, 65536)
	n := 0
	for {
		if err := r.conn.SetReadDeadline(time.Now().Add(quiet)); err != nil {
			return n, err
		}
		m, _, err := r.conn.ReadFromUDP(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return n, nil
			}
			return n, err
		}
		r.recs = append(r.recs, record{phase, append([]byte(nil), buf[:m]...)})
		n++
	}
}

var (
	tags = []string{"env:prod", "team", "url:http://example.com:8080/a"}
	ts   = time.Unix(1700000000, 0)
)

func newClient(addr string, opts ...statsd.Option) (*statsd.Client, error) {
	base := []statsd.Option{
		statsd.WithoutTelemetry(),
		statsd.WithoutOriginDetection(),
		statsd.WithNamespace("lb."),
		statsd.WithTags([]string{"service:producer"}),
		statsd.WithWorkersCount(1),
	}
	return statsd.New(addr, append(base, opts...)...)
}

func run(out string) error {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 0})
	if err != nil {
		return err
	}
	defer conn.Close()
	r := &receiver{conn: conn}
	addr := conn.LocalAddr().String()

	// 1. One message per datagram, no aggregation: every type and option.
	// The container id (|c:, DogStatsD v1.2) is process-wide in datadog-go,
	// so every later phase carries it too.
	c, err := newClient(addr, statsd.WithoutClientSideAggregation(), statsd.WithMaxMessagesPerPayload(1),
		statsd.WithContainerID("c0ffee"))
	if err != nil {
		return err
	}
	must(c.Gauge("queue.depth", 42.5, tags, 1))
	must(c.Count("orders.placed", 3, tags, 1))
	must(c.Incr("logins", nil, 1))
	must(c.Decr("slots.free", []string{"pool:a"}, 1))
	must(c.Histogram("payload.size", 2048, tags, 1))
	must(c.Distribution("request.latency", 0.125, tags, 1))
	must(c.Set("users.unique", "alice", tags, 1))
	must(c.Timing("db.query", 1500*time.Microsecond, tags, 1))
	must(c.TimeInMilliseconds("render", 12.25, nil, 1))
	must(c.GaugeWithTimestamp("backlog", 7, tags, 1, ts))
	must(c.CountWithTimestamp("retries", 2, tags, 1, ts))
	must(c.Event(&statsd.Event{Title: "deploy finished", Text: "version 1.2.3\nis live", Timestamp: ts,
		Hostname: "host-1", AggregationKey: "deploy", Priority: statsd.Low, SourceTypeName: "jenkins",
		AlertType: statsd.Success, Tags: tags}))
	must(c.SimpleEvent("héllo wörld", "ünïcode text"))
	must(c.ServiceCheck(&statsd.ServiceCheck{Name: "db.up", Status: statsd.Warn, Timestamp: ts,
		Hostname: "host-1", Message: "slow replies", Tags: tags}))
	must(c.SimpleServiceCheck("cache.up", statsd.Ok))
	if err := closeAndDrain(c, r, "unbuffered"); err != nil {
		return err
	}

	// 2. Sample rates: each sampled metric is sent until one sample passes.
	for _, send := range []func(*statsd.Client) error{
		func(c *statsd.Client) error { return c.Count("sampled.count", 1, tags, 0.5) },
		func(c *statsd.Client) error { return c.Histogram("sampled.histogram", 5, tags, 0.5) },
		func(c *statsd.Client) error { return c.Distribution("sampled.distribution", 6, tags, 0.25) },
		func(c *statsd.Client) error { return c.TimeInMilliseconds("sampled.timing", 7, tags, 0.5) },
	} {
		if err := sendUntilOne(addr, r, send, statsd.WithoutClientSideAggregation()); err != nil {
			return err
		}
	}

	// 3. Buffered: several messages per datagram, separated by '\n'.
	c, err = newClient(addr, statsd.WithoutClientSideAggregation(), statsd.WithBufferFlushInterval(time.Hour))
	if err != nil {
		return err
	}
	for i := 0; i < 3; i++ {
		must(c.Gauge("buffered.gauge", float64(i), tags, 1))
		must(c.Count("buffered.count", int64(i+1), tags, 1))
		must(c.Histogram("buffered.histogram", float64(10*i), nil, 1))
	}
	must(c.SimpleEvent("buffered event", "text"))
	must(c.SimpleServiceCheck("buffered.check", statsd.Critical))
	if err := closeAndDrain(c, r, "buffered"); err != nil {
		return err
	}

	// 4. Client-side aggregation (the default): counts summed, gauges last
	// value, sets unique members.
	c, err = newClient(addr, statsd.WithClientSideAggregation(), statsd.WithAggregationInterval(time.Hour))
	if err != nil {
		return err
	}
	for i := 0; i < 5; i++ {
		must(c.Incr("agg.count", tags, 1))
		must(c.Gauge("agg.gauge", float64(i), tags, 1))
		must(c.Set("agg.set", []string{"a", "b", "a", "c", "b"}[i], tags, 1))
		must(c.Histogram("agg.histogram", float64(i), tags, 1)) // not aggregated without extended mode
	}
	if err := closeAndDrain(c, r, "aggregated"); err != nil {
		return err
	}

	// 5. Extended aggregation: histograms, distributions and timings are
	// sent as multi-value (DogStatsD v1.1) lines.
	c, err = newClient(addr, statsd.WithExtendedClientSideAggregation(), statsd.WithAggregationInterval(time.Hour))
	if err != nil {
		return err
	}
	for i := 1; i <= 4; i++ {
		must(c.Histogram("ext.histogram", float64(i), tags, 1))
		must(c.Distribution("ext.distribution", float64(i)/2, tags, 1))
		must(c.TimeInMilliseconds("ext.timing", float64(10*i), tags, 1))
	}
	if err := closeAndDrain(c, r, "extended-aggregation"); err != nil {
		return err
	}

	return write(out, r.recs)
}

func closeAndDrain(c *statsd.Client, r *receiver, phase string) error {
	if err := c.Flush(); err != nil {
		return err
	}
	if err := c.Close(); err != nil {
		return err
	}
	n, err := r.drain(phase, 300*time.Millisecond)
	if err == nil && n == 0 {
		err = fmt.Errorf("phase %s: nothing received", phase)
	}
	return err
}

// sendUntilOne sends one sampled message per fresh client until a datagram
// arrives, and keeps that one datagram.
func sendUntilOne(addr string, r *receiver, send func(*statsd.Client) error, opts ...statsd.Option) error {
	for try := 0; try < 200; try++ {
		c, err := newClient(addr, opts...)
		if err != nil {
			return err
		}
		if err := send(c); err != nil {
			return err
		}
		if err := c.Flush(); err != nil {
			return err
		}
		if err := c.Close(); err != nil {
			return err
		}
		n, err := r.drain("sampled", 100*time.Millisecond)
		if err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
	}
	return errors.New("sampled message never sent")
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "datadog-go:", err)
		os.Exit(1)
	}
}

// write stores the records. Within a phase of client-side aggregation the
// client emits lines in map order; records are kept as received, and the
// tests compare points as sets, so a regenerated fixture passes unchanged.
func write(out string, recs []record) error {
	var b strings.Builder
	b.WriteString("# DogStatsD datagrams sent by github.com/DataDog/datadog-go/v5/statsd to a loopback UDP port.\n")
	b.WriteString("# Generated by testdata/producers/dogstatsd/generate.sh; do not edit.\n")
	b.WriteString("# Record: '--- datagram <n> phase=<phase> bytes=<len>' newline, <len> payload bytes, newline.\n")
	for i, rec := range recs {
		fmt.Fprintf(&b, "--- datagram %d phase=%s bytes=%d\n", i+1, rec.phase, len(rec.payload))
		b.Write(rec.payload)
		b.WriteByte('\n')
	}
	return os.WriteFile(out, []byte(b.String()), 0o644)
}
