package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/catalog/catalogtest"
	"github.com/lambdabridge/lambdabridge/dashboards"
)

// runCmd runs lambdabridge with args and returns stdout, stderr and the
// exit code.
func runDashboardCmd(t *testing.T, env map[string]string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}
	code := m.Exit(m.Run(context.Background(), append([]string{"dashboard"}, args...)))
	return out.String(), errb.String(), code
}

func writeFixtureCatalog(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "catalog.json")
	var buf bytes.Buffer
	if err := catalogtest.Catalog().Write(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDashboardFromCatalog(t *testing.T) {
	cat := writeFixtureCatalog(t)
	out, errs, code := runDashboardCmd(t, nil, "", "--catalog", cat)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	d, err := dashboards.Prometheus(catalogtest.Catalog(), dashboards.WithDatasource(dashboards.PrometheusDatasourceUID))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := dashboards.Marshal(d)
	if out != string(want) {
		t.Errorf("stdout is not the Prometheus dashboard of the catalog")
	}
	if !strings.Contains(errs, "warning: [catalog/no-useful-label] shop_cart_value") {
		t.Errorf("catalog warnings not printed:\n%s", errs)
	}
	if _, errs, _ := runDashboardCmd(t, nil, "", "--catalog", cat, "--quiet"); errs != "" {
		t.Errorf("--quiet printed %s", errs)
	}

	out, errs, code = runDashboardCmd(t, map[string]string{"AWS_REGION": "eu-central-1"}, "",
		"--catalog", cat, "--datasource", "cloudwatch", "--title", "Shop", "--uid", "shop-cw")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil || m["uid"] != "shop-cw" || m["title"] != "Shop" {
		t.Errorf("cloudwatch dashboard: %v %v %v", err, m["uid"], m["title"])
	}
	if !strings.Contains(out, `"region": "eu-central-1"`) {
		t.Error("region from AWS_REGION not used")
	}
}

func TestDashboardOutDirAndProvision(t *testing.T) {
	cat := writeFixtureCatalog(t)
	dir := t.TempDir()
	_, errs, code := runDashboardCmd(t, nil, "", "--catalog", cat, "--datasource", "both", "--uid", "shop",
		"--out-dir", filepath.Join(dir, "out"), "--provision", filepath.Join(dir, "prov"), "--region", "eu-west-1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, p := range []string{
		"out/shop-prometheus.json", "out/shop-cloudwatch.json",
		"prov/datasources/lambdabridge.yaml", "prov/dashboards/lambdabridge.yaml",
		"prov/dashboards/json/shop-prometheus.json", "prov/dashboards/json/shop-cloudwatch.json",
	} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Error(err)
		}
	}
	ds, _ := os.ReadFile(filepath.Join(dir, "prov/datasources/lambdabridge.yaml"))
	for _, want := range []string{"type: prometheus", "url: http://127.0.0.1:9090", "type: cloudwatch", "defaultRegion: eu-west-1"} {
		if !strings.Contains(string(ds), want) {
			t.Errorf("datasources file lacks %q:\n%s", want, ds)
		}
	}
}

func TestDashboardFromLogs(t *testing.T) {
	ts := time.Now().UnixMilli()
	log := fmt.Sprintf(`START RequestId: 1
{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Latency","Unit":"Milliseconds"}]}]},"Service":"checkout","Latency":12}
MONITORING|%d|1|count|orders.placed|#env:prod
plain log line
`, ts, ts/1000)
	path := filepath.Join(t.TempDir(), "fn.log")
	os.WriteFile(path, []byte(log), 0o644)
	for _, args := range [][]string{{path}, {}} {
		out, errs, code := runDashboardCmd(t, nil, log, args...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		for _, want := range []string{"shop_latency_seconds_bucket", "orders_placed_total", `service=~\"$service\"`} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: dashboard lacks %s", args, want)
			}
		}
	}
}

// TestDashboardExtension: --extension adds the panels of the extension's
// own families, which a function's log does not show, in a row of their
// own, filtered on the log's function.
func TestDashboardExtension(t *testing.T) {
	log := "REPORT RequestId: 1\tDuration: 2.00 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB\n"
	path := filepath.Join(t.TempDir(), "fn.log")
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	panels := []string{
		`lambdabridge_extension_overhead_seconds_bucket{function_name=~\"$function\"}`,
		`lambdabridge_extension_init_seconds{function_name=~\"$function\"}`,
		`"title": "lambdabridge"`,
	}
	for _, tc := range []struct {
		name string
		args []string
		want bool
	}{
		{"from the log alone", []string{"--function", "orders", path}, false},
		{"--extension", []string{"--function", "orders", "--extension", path}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := runDashboardCmd(t, nil, "", tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if !strings.Contains(out, "lambda_invocations_total") {
				t.Errorf("no platform panels: %s", out)
			}
			for _, p := range panels {
				if strings.Contains(out, p) != tc.want {
					t.Errorf("holds %s: %v, want %v", p, !tc.want, tc.want)
				}
			}
		})
	}
}

func TestDashboardUpload(t *testing.T) {
	cat := writeFixtureCatalog(t)
	const token = "glsa_cmd_secret"
	var uploads []string
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/api/folders/lambdabridge":
			w.Write([]byte(`{"uid":"lambdabridge"}`))
		case "/api/dashboards/db":
			if status != http.StatusOK {
				w.WriteHeader(status)
				w.Write([]byte(`{"message":"nope"}`))
				return
			}
			var body struct {
				Dashboard struct{ UID string } `json:"dashboard"`
				Overwrite bool                 `json:"overwrite"`
				FolderUID string               `json:"folderUid"`
			}
			b, _ := io.ReadAll(r.Body)
			json.Unmarshal(b, &body)
			uploads = append(uploads, fmt.Sprintf("%s %v %s", body.Dashboard.UID, body.Overwrite, body.FolderUID))
			fmt.Fprintf(w, `{"uid":%q,"url":"/d/%s/x","version":1,"status":"success"}`, body.Dashboard.UID, body.Dashboard.UID)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte(token+"\n"), 0o600)
	out, errs, code := runDashboardCmd(t, nil, "", "--catalog", cat, "--datasource", "both", "--uid", "u",
		"--grafana-url", srv.URL, "--grafana-token-file", tokenFile)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if got := strings.Join(uploads, "; "); got != "u-prometheus false lambdabridge; u-cloudwatch false lambdabridge" {
		t.Errorf("uploads: %s", got)
	}
	uploads = nil
	if _, errs, code := runDashboardCmd(t, nil, "", "--catalog", cat, "--uid", "u", "--overwrite",
		"--grafana-url", srv.URL, "--grafana-token-file", tokenFile); code != 0 {
		t.Fatalf("--overwrite: exit %d: %s", code, errs)
	}
	if got := strings.Join(uploads, "; "); got != "u true lambdabridge" {
		t.Errorf("uploads with --overwrite: %s", got)
	}
	if !strings.Contains(out, srv.URL+"/d/u-prometheus/x") {
		t.Errorf("stdout: %s", out)
	}

	// Token from the environment; errors name the status, never the token.
	for _, st := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusPreconditionFailed} {
		status = st
		_, errs, code = runDashboardCmd(t, map[string]string{"GRAFANA_TOKEN": token}, "", "--catalog", cat, "--grafana-url", srv.URL)
		if code == 0 || !strings.Contains(errs, fmt.Sprint(st)) || strings.Contains(errs, token) {
			t.Errorf("status %d: exit %d, stderr %s", st, code, errs)
		}
	}
	_, errs, code = runDashboardCmd(t, map[string]string{"GRAFANA_TOKEN": "wrong"}, "", "--catalog", cat, "--grafana-url", srv.URL)
	if code == 0 || !strings.Contains(errs, "401") || strings.Contains(errs, "wrong") {
		t.Errorf("wrong token: exit %d, stderr %s", code, errs)
	}
	_, errs, code = runDashboardCmd(t, nil, "", "--catalog", cat, "--grafana-url", srv.URL)
	if code != exitUsage || !strings.Contains(errs, "GRAFANA_TOKEN") {
		t.Errorf("no token: exit %d, stderr %s", code, errs)
	}
}

func TestDashboardUsage(t *testing.T) {
	cat := writeFixtureCatalog(t)
	for _, args := range [][]string{
		{"--catalog", cat, "--datasource", "graphite"},
		{"--catalog", cat, "--datasource", "both"},
		{"--catalog", cat, "--datasource", "both", "-o", "x.json"},
		{"--catalog", cat, "--uid", "has space"},
		{"--catalog", "/does/not/exist.json"},
		{"--catalog", cat, "--grafana-url", "localhost:3000", "--grafana-token-file", cat},
	} {
		if _, errs, code := runDashboardCmd(t, nil, "", args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, errs)
		}
	}
	if _, _, code := runDashboardCmd(t, nil, "", "-h"); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
}

// A password in --prometheus-url is provisioned as a reference to the
// environment, never in clear: the user is told which variable Grafana needs.
func TestDashboardProvisionNamesPasswordEnv(t *testing.T) {
	cat := writeFixtureCatalog(t)
	dir := t.TempDir()
	const secret = "s3cr3t-pw"
	_, errs, code := runDashboardCmd(t, nil, "", "--catalog", cat, "--uid", "shop",
		"--provision", filepath.Join(dir, "prov"), "--prometheus-url", "http://grafana:"+secret+"@127.0.0.1:9090")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "set " + dashboards.PrometheusPasswordEnv + " in Grafana's environment"
	if !strings.Contains(errs, want) || strings.Contains(errs, secret) {
		t.Errorf("stderr lacks %q (or shows the password):\n%s", want, errs)
	}
	_, errs, _ = runDashboardCmd(t, nil, "", "--catalog", cat, "--uid", "shop", "--provision", filepath.Join(dir, "plain"))
	if strings.Contains(errs, dashboards.PrometheusPasswordEnv) {
		t.Errorf("no password, yet told to set one:\n%s", errs)
	}
}
