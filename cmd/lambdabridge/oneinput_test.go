package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lambdabridge/lambdabridge/catalog"
)

// oneInput is a log with every case the commands must agree on: a good
// EMF line, an EMF line over 1 MB, a broken EMF line, then good lines of
// every format.
func oneInput(now time.Time) []byte {
	ts := now.UnixMilli()
	good := func(name string, v int) string {
		return fmt.Sprintf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"%s","Unit":"Count"}]}]},"Service":"checkout","%s":%d}`, ts, name, name, v)
	}
	huge := fmt.Sprintf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Huge","Unit":"Count"}]}]},"Service":"checkout","Huge":1,"pad":"%s"}`, ts, strings.Repeat("x", 1<<20+10000))
	var b bytes.Buffer
	for _, l := range []string{
		"START RequestId: 1 Version: $LATEST",
		good("Orders", 1),
		huge,
		fmt.Sprintf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"Shop"`, ts),
		good("Orders", 2),
		fmt.Sprintf("MONITORING|%d|3|count|shop.dd.orders|#service:checkout", now.Unix()),
		good("Refunds", 1),
	} {
		b.WriteString(l + "\n")
	}
	return b.Bytes()
}

// diagLines keeps the diagnostic lines (FILE:LINE: severity: ...) of out.
func diagLines(out, file string) []string {
	var ds []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, file+":") {
			ds = append(ds, l)
		}
	}
	return ds
}

// readCatalog reads a --catalog file.
func readCatalog(t *testing.T, path string) *catalog.Catalog {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := catalog.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// One input gives one diagnosis in validate, convert, dashboard and tail:
// the same diagnostics (an EMF line over CloudWatch's 1 MB event is
// log/event-too-large everywhere, never emf/invalid-json from a cut
// document) and the same metric families (the START line's platform
// families included), and the lines after a broken one are kept.
func TestOneInputOneDiagnosis(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	log := filepath.Join(dir, "app.log")
	if err := os.WriteFile(log, oneInput(now), 0o644); err != nil {
		t.Fatal(err)
	}
	at := "--now=" + now.Format(time.RFC3339)

	vout, _, vcode := runCmd(t, "", "validate", log, at)
	_, terr, tcode := runCmd(t, "", "tail", log, at, "--listen", "none", "--catalog", filepath.Join(dir, "tail.json"))
	_, cerr, ccode := runCmd(t, "", "convert", log, at, "--catalog", filepath.Join(dir, "convert.json"))
	if vcode != exitFailure || tcode != exitOK || ccode != exitOK {
		t.Errorf("exit codes validate %d, tail %d, convert %d; want 1 (errors found), 0, 0", vcode, tcode, ccode)
	}

	validated := diagLines(vout, log)
	if diff := cmp.Diff(validated, diagLines(terr, log)); diff != "" {
		t.Errorf("validate and tail disagree (-validate +tail):\n%s", diff)
	}
	for _, want := range []string{log + ":3: error: [log/event-too-large]", log + ":4: error: [emf/invalid-json]"} {
		found := false
		for _, d := range validated {
			found = found || strings.HasPrefix(d, want)
		}
		if !found {
			t.Errorf("no diagnostic %q in:\n%s", want, strings.Join(validated, "\n"))
		}
	}
	if !strings.Contains(cerr, "first error: "+validated[0]) {
		t.Errorf("convert's first error is not validate's %q:\n%s", validated[0], cerr)
	}

	m := &Main{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}
	dashCat, err := m.loadCatalog(context.Background(), nil, []string{log}, inputFlags{})
	if err != nil {
		t.Fatal(err)
	}
	names := func(fs []catalog.Family) []string {
		var ns []string
		for _, f := range fs {
			ns = append(ns, f.Name)
		}
		return ns
	}
	tailed := readCatalog(t, filepath.Join(dir, "tail.json")).Families()
	want := []string{"lambda_billed_duration_seconds_total", "lambda_cold_starts_total", "lambda_concurrent_executions", "lambda_errors_total",
		"lambda_estimated_cost_usd_total", "lambda_invocations_total", "lambda_throttles_total", "lambda_timeouts_total",
		"shop_dd_orders_total", "shop_orders_total", "shop_refunds_total"}
	if diff := cmp.Diff(want, names(tailed)); diff != "" {
		t.Errorf("tail's families (-want +got):\n%s", diff)
	}
	for name, fams := range map[string][]catalog.Family{
		"convert": readCatalog(t, filepath.Join(dir, "convert.json")).Families(), "dashboard": dashCat.Families(),
	} {
		if diff := cmp.Diff(tailed, fams); diff != "" {
			t.Errorf("tail's and %s's catalogs differ (-tail +%s):\n%s", name, name, diff)
		}
	}
}
