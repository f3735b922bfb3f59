package dashboards_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"gopkg.in/yaml.v3"

	"github.com/lambdabridge/lambdabridge/catalog/catalogtest"
	"github.com/lambdabridge/lambdabridge/dashboards"
)

// The keys Grafana documents for provisioning files
// (https://grafana.com/docs/grafana/latest/administration/provisioning/),
// decoded strictly: an unknown key fails the test.
type grafanaDatasources struct {
	APIVersion        int `yaml:"apiVersion"`
	DeleteDatasources []struct {
		Name  string `yaml:"name"`
		OrgID int    `yaml:"orgId"`
	} `yaml:"deleteDatasources"`
	Datasources []struct {
		Name           string            `yaml:"name"`
		Type           string            `yaml:"type"`
		UID            string            `yaml:"uid"`
		OrgID          int               `yaml:"orgId"`
		Access         string            `yaml:"access"`
		URL            string            `yaml:"url"`
		User           string            `yaml:"user"`
		Database       string            `yaml:"database"`
		BasicAuth      bool              `yaml:"basicAuth"`
		BasicAuthUser  string            `yaml:"basicAuthUser"`
		IsDefault      bool              `yaml:"isDefault"`
		Version        int               `yaml:"version"`
		Editable       bool              `yaml:"editable"`
		JSONData       map[string]any    `yaml:"jsonData"`
		SecureJSONData map[string]string `yaml:"secureJsonData"`
	} `yaml:"datasources"`
}

type grafanaProviders struct {
	APIVersion int `yaml:"apiVersion"`
	Providers  []struct {
		Name                  string `yaml:"name"`
		OrgID                 int    `yaml:"orgId"`
		Folder                string `yaml:"folder"`
		FolderUID             string `yaml:"folderUid"`
		Type                  string `yaml:"type"`
		DisableDeletion       bool   `yaml:"disableDeletion"`
		UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
		AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
		Options               struct {
			Path                      string `yaml:"path"`
			FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
		} `yaml:"options"`
	} `yaml:"providers"`
}

func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, b)
	}
}

func TestWriteProvisioning(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{}
	for _, f := range flavours {
		d, b := build(t, f, catalogtest.Catalog())
		files[*d.Uid+".json"] = b
	}
	err := dashboards.WriteProvisioning(dir, files,
		dashboards.WithPrometheusURL("http://127.0.0.1:9090"),
		dashboards.WithCloudWatch("eu-west-1"))
	if err != nil {
		t.Fatal(err)
	}

	var ds grafanaDatasources
	decodeStrict(t, filepath.Join(dir, "datasources", "lambdabridge.yaml"), &ds)
	if ds.APIVersion != 1 || len(ds.Datasources) != 2 {
		t.Fatalf("datasources = %+v", ds)
	}
	prom, cw := ds.Datasources[0], ds.Datasources[1]
	if prom.Type != "prometheus" || prom.URL != "http://127.0.0.1:9090" || prom.Access != "proxy" || prom.UID != dashboards.PrometheusDatasourceUID || !prom.IsDefault {
		t.Errorf("prometheus = %+v", prom)
	}
	if cw.Type != "cloudwatch" || cw.JSONData["defaultRegion"] != "eu-west-1" || cw.JSONData["authType"] != "default" || cw.UID != dashboards.CloudWatchDatasourceUID {
		t.Errorf("cloudwatch = %+v", cw)
	}

	var pr grafanaProviders
	decodeStrict(t, filepath.Join(dir, "dashboards", "lambdabridge.yaml"), &pr)
	if pr.APIVersion != 1 || len(pr.Providers) != 1 {
		t.Fatalf("providers = %+v", pr)
	}
	p := pr.Providers[0]
	if p.Type != "file" || !filepath.IsAbs(p.Options.Path) || p.Folder == "" {
		t.Errorf("provider = %+v", p)
	}
	// The provider's path holds the dashboards, and nothing Grafana would
	// try to read as provisioning YAML sits beside the provider file.
	entries, err := os.ReadDir(p.Options.Path)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		b, _ := os.ReadFile(filepath.Join(p.Options.Path, e.Name()))
		var d dashboard.Dashboard
		if err := json.Unmarshal(b, &d); err != nil || d.Uid == nil || *d.Uid+".json" != e.Name() {
			t.Errorf("%s: %v", e.Name(), err)
		}
	}
	if diff := cmp.Diff([]string{"lambda-payments-shop-cloudwatch.json", "lambda-payments-shop-prometheus.json"}, names); diff != "" {
		t.Errorf("dashboard files (-want +got):\n%s", diff)
	}
	for _, sub := range []string{"datasources", "dashboards"} {
		es, _ := os.ReadDir(filepath.Join(dir, sub))
		for _, e := range es {
			if !e.IsDir() && !strings.HasSuffix(e.Name(), ".yaml") {
				t.Errorf("%s/%s is not YAML", sub, e.Name())
			}
		}
	}
}

func TestProvisionAMP(t *testing.T) {
	u := "https://aps-workspaces.us-east-2.amazonaws.com/workspaces/ws-1234/"
	if r, ok := dashboards.AMPRegion(u); !ok || r != "us-east-2" {
		t.Fatalf("AMPRegion = %q, %v", r, ok)
	}
	for _, tc := range []struct {
		name, url string
		opts      []dashboards.ProvisionOption
		wantType  string
		wantJSON  map[string]any
	}{
		{"plugin type by default", u, nil, dashboards.AMPType,
			map[string]any{"httpMethod": "POST", "sigV4Auth": true, "sigV4AuthType": "default", "sigV4Region": "us-east-2"}},
		{"remote_write URL, core type, region and scrape interval", u + "api/v1/remote_write",
			[]dashboards.ProvisionOption{dashboards.WithAMPCoreType(), dashboards.WithAMPRegion("eu-west-1"), dashboards.WithScrapeInterval(5 * time.Second)},
			dashboards.PrometheusType,
			map[string]any{"httpMethod": "POST", "sigV4Auth": true, "sigV4AuthType": "default", "sigV4Region": "eu-west-1", "timeInterval": "5s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := append([]dashboards.ProvisionOption{dashboards.WithPrometheusURL(tc.url)}, tc.opts...)
			if err := dashboards.WriteProvisioning(dir, nil, opts...); err != nil {
				t.Fatal(err)
			}
			var ds grafanaDatasources
			decodeStrict(t, filepath.Join(dir, "datasources", "lambdabridge.yaml"), &ds)
			if len(ds.Datasources) != 1 {
				t.Fatalf("datasources = %+v", ds)
			}
			d := ds.Datasources[0]
			if diff := cmp.Diff(tc.wantJSON, d.JSONData); diff != "" || d.Type != tc.wantType || d.URL != u || d.UID != dashboards.AMPDatasourceUID {
				t.Errorf("AMP data source %+v (-want +got jsonData):\n%s", d, diff)
			}
			core := len(tc.opts) > 0
			if got := dashboards.PrometheusTypeFor(tc.url, core); got != tc.wantType {
				t.Errorf("PrometheusTypeFor = %s, want %s", got, tc.wantType)
			}
		})
	}
	if got := dashboards.PrometheusTypeFor("http://127.0.0.1:9090", false); got != dashboards.PrometheusType {
		t.Errorf("PrometheusTypeFor(local) = %s", got)
	}
	if err := dashboards.WriteProvisioning(t.TempDir(), map[string][]byte{"../x.json": nil}); err == nil {
		t.Error("a dashboard file name with a path was accepted")
	}
}

// TestProvisioningTree: the tree holds every directory Grafana reads at
// start, and the provider's path is the dashboards directory as Grafana
// sees it: on this machine by default, under the mount point given.
func TestProvisioningTree(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     []dashboards.ProvisionOption
		wantPath func(dir string) string
	}{
		{"default: this machine", nil, func(dir string) string { return filepath.Join(dir, "dashboards", "json") }},
		{"mounted into a container", []dashboards.ProvisionOption{dashboards.WithProvisioningRoot("/etc/grafana/provisioning")},
			func(string) string { return "/etc/grafana/provisioning/dashboards/json" }},
		{"explicit path", []dashboards.ProvisionOption{dashboards.WithDashboardsPath("/var/lib/grafana/dashboards")},
			func(string) string { return "/var/lib/grafana/dashboards" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := dashboards.WriteProvisioning(dir, map[string][]byte{"a.json": []byte("{}")}, tc.opts...); err != nil {
				t.Fatal(err)
			}
			for _, sub := range dashboards.ProvisioningDirs {
				if fi, err := os.Stat(filepath.Join(dir, sub)); err != nil || !fi.IsDir() {
					t.Errorf("%s: %v", sub, err)
				}
			}
			for _, empty := range []string{"plugins", "alerting"} {
				if es, _ := os.ReadDir(filepath.Join(dir, empty)); len(es) != 0 {
					t.Errorf("%s is not empty", empty)
				}
			}
			var pr grafanaProviders
			decodeStrict(t, filepath.Join(dir, "dashboards", "lambdabridge.yaml"), &pr)
			if got, want := pr.Providers[0].Options.Path, tc.wantPath(dir); got != want {
				t.Errorf("provider path %s, want %s", got, want)
			}
		})
	}
}

// TestProvisionCredentials: a --prometheus-url with user:password was
// written in clear into a 0644 file. The password is now a reference to an
// environment variable Grafana expands, the user goes to basicAuthUser, the
// URL loses its credentials, and the file is 0600 (also when an earlier
// run left it 0644).
func TestProvisionCredentials(t *testing.T) {
	const secret = "s3cr%2Ft" // "s3cr/t", percent-encoded as in a URL
	u := "https://grafana-reader:" + secret + "@prometheus.example:9090/prom"
	dir := t.TempDir()
	path := filepath.Join(dir, "datasources", "lambdabridge.yaml")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil { // an earlier run's file
		t.Fatal(err)
	}
	if err := dashboards.WriteProvisioning(dir, nil, dashboards.WithPrometheusURL(u)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "set it in Grafana's environment") {
		t.Errorf("datasources file does not say which variable to set:\n%s", b)
	}
	for _, leak := range []string{"s3cr", secret, "grafana-reader:"} {
		if strings.Contains(string(b), leak) {
			t.Errorf("datasources file holds %q:\n%s", leak, b)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("datasources file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	var ds grafanaDatasources
	decodeStrict(t, path, &ds)
	d := ds.Datasources[0]
	got := []any{d.URL, d.BasicAuth, d.BasicAuthUser, d.SecureJSONData}
	want := []any{"https://prometheus.example:9090/prom", true, "grafana-reader",
		map[string]string{"basicAuthPassword": "$" + dashboards.PrometheusPasswordEnv}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("data source (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"LAMBDABRIDGE_PROMETHEUS_PASSWORD"}, dashboards.ProvisionEnv(dashboards.WithPrometheusURL(u))); diff != "" {
		t.Errorf("ProvisionEnv (-want +got):\n%s", diff)
	}
}

func TestProvisionWithoutCredentials(t *testing.T) {
	for _, tc := range []struct {
		url, wantURL, user string
		env                []string
		mode               os.FileMode
	}{
		{"http://127.0.0.1:9090", "http://127.0.0.1:9090", "", nil, 0o644},
		{"http://reader@127.0.0.1:9090", "http://127.0.0.1:9090", "reader", nil, 0o600},
	} {
		dir := t.TempDir()
		if err := dashboards.WriteProvisioning(dir, nil, dashboards.WithPrometheusURL(tc.url)); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "datasources", "lambdabridge.yaml")
		var ds grafanaDatasources
		decodeStrict(t, path, &ds)
		d := ds.Datasources[0]
		fi, _ := os.Stat(path)
		if d.URL != tc.wantURL || d.BasicAuthUser != tc.user || d.SecureJSONData != nil || fi.Mode().Perm() != tc.mode {
			t.Errorf("%s: %+v mode %v", tc.url, d, fi.Mode().Perm())
		}
		if env := dashboards.ProvisionEnv(dashboards.WithPrometheusURL(tc.url)); !cmp.Equal(env, tc.env) {
			t.Errorf("%s: ProvisionEnv = %v", tc.url, env)
		}
	}
}
