package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/internal/testenv"
)

// TestTailManySeriesDeliversEveryFinalTotal: tail of a 200,000-series log
// with the default configuration into a real Prometheus. The queue used
// to drop the newest samples beyond its 10,000 (emitted 606242, sent
// 20000, dropped 586242 queue_full), final totals included; now every
// series' final total arrives.
func TestTailManySeriesDeliversEveryFinalTotal(t *testing.T) {
	if testing.Short() {
		t.Skip("200,000 series into a real Prometheus; skipped with -short")
	}
	const families, perFamily, updates = 20, 10_000, 3 // the default limits: 10,000 per family, 250,000 in all
	log := filepath.Join(t.TempDir(), "many.log")
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	for u := range updates {
		for fam := range families {
			for i := range perFamily {
				fmt.Fprintf(bw, "MONITORING|%d|1|count|fleet.m%d|#id:%d\n", 1795428000+u, fam, i)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	prom := testenv.StartPrometheus(t)
	start := time.Now()
	// The drain's deadline is generous: this checks that every final total
	// is delivered, not how fast (the benchmarks measure speed); at the default 10 s
	// CI's parallel packages once cut it short with 22,323 samples left.
	_, stderr, code := runCmd(t, "", "tail", "--listen", "none", "--drain-timeout", "2m", "--remote-write", prom.RemoteWriteURL(), log)
	if code != 0 || strings.Contains(stderr, "dropped 1") || strings.Contains(stderr, "queue_full") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	t.Logf("tail of %d series, %d lines: %v\n%s", families*perFamily, families*perFamily*updates, time.Since(start), stderr)
	testenv.EventuallyValue(t, prom, fmt.Sprintf(`count(last_over_time({__name__=~"fleet_m[0-9]+_total"}[1h]) == %d)`, updates),
		families*perFamily, time.Minute)
}

// TestThreeTailsOneBackend: three `tail --name` of one function's log into
// one Prometheus, told apart by --external-label, give exact per-bridge
// values and an exact sum (without the label they would write one series
// and Prometheus would refuse samples as out of order).
func TestThreeTailsOneBackend(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Prometheus; skipped with -short")
	}
	prom := testenv.StartPrometheus(t)
	done := make(chan string, 3)
	for i := 1; i <= 3; i++ {
		go func() {
			_, stderr, code := runCmd(t, "", "tail", "--listen", "none", "--quiet", "--name", "checkout-fn",
				"--remote-write", prom.RemoteWriteURL(), "--external-label", fmt.Sprintf("bridge=b%d", i), "testdata/golden/mixed.log")
			if code != 0 {
				done <- fmt.Sprintf("bridge b%d: exit %d:\n%s", i, code, stderr)
				return
			}
			done <- ""
		}()
	}
	for range 3 {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
	for i := 1; i <= 3; i++ {
		testenv.EventuallyValue(t, prom, fmt.Sprintf(`shop_dd_orders_total{function_name="checkout-fn",bridge="b%d",env="prod"}`, i), 3, 30*time.Second)
	}
	testenv.EventuallyValue(t, prom, `sum(shop_dd_orders_total{function_name="checkout-fn",env="prod"})`, 9, 30*time.Second)
}
