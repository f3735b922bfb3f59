package dashboards

import (
	"fmt"
	"maps"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The provisioning tree WriteProvisioning writes, as Grafana reads it from
// its provisioning directory (paths.provisioning, /etc/grafana/provisioning):
//
//	DIR/datasources/lambdabridge.yaml   apiVersion: 1, datasources: [...]
//	DIR/dashboards/lambdabridge.yaml    apiVersion: 1, providers: [{type: file, options: {path}}]
//	DIR/dashboards/json/<uid>.json      the dashboards (Grafana reads only *.yaml there)
//	DIR/plugins/, DIR/alerting/         empty: Grafana reads them at start
const (
	DatasourcesFile = "datasources/lambdabridge.yaml"
	ProvidersFile   = "dashboards/lambdabridge.yaml"
	DashboardsDir   = "dashboards/json"
)

// ProvisioningDirs are the directories of a provisioning tree Grafana reads
// at start; WriteProvisioning creates every one.
var ProvisioningDirs = []string{"datasources", "dashboards", DashboardsDir, "plugins", "alerting"}

// Data source types (plugin ids) of the provisioned Prometheus data source.
const (
	// PrometheusType is Grafana's core Prometheus data source.
	PrometheusType = "prometheus"
	// AMPType is Grafana's Amazon Managed Service for Prometheus data source
	// (the plugin grafana-amazonprometheus-datasource), which replaces SigV4
	// on the core type (deprecated; Grafana 13 migrates such data sources).
	AMPType = "grafana-amazonprometheus-datasource"
)

// DatasourceConfig is one data source in a datasources provisioning file.
type DatasourceConfig struct {
	Name      string         `yaml:"name"`
	Type      string         `yaml:"type"`
	UID       string         `yaml:"uid"`
	OrgID     int            `yaml:"orgId"`
	Access    string         `yaml:"access"`
	URL       string         `yaml:"url,omitempty"`
	IsDefault bool           `yaml:"isDefault"`
	Editable  bool           `yaml:"editable"`
	JSONData  map[string]any `yaml:"jsonData,omitempty"`
	// BasicAuth, BasicAuthUser and SecureJSONData carry the credentials of
	// a URL given as http://user:password@host: the password never appears,
	// only a reference to PrometheusPasswordEnv, which Grafana expands when
	// it reads the file.
	BasicAuth      bool              `yaml:"basicAuth,omitempty"`
	BasicAuthUser  string            `yaml:"basicAuthUser,omitempty"`
	SecureJSONData map[string]string `yaml:"secureJsonData,omitempty"`
}

// PrometheusPasswordEnv is the environment variable the provisioned
// Prometheus data source takes its basic-auth password from (Grafana
// expands $NAME in provisioning files): set it in Grafana's environment.
const PrometheusPasswordEnv = "LAMBDABRIDGE_PROMETHEUS_PASSWORD"

// ProvisionEnv returns the environment variables Grafana needs for the
// data sources the options declare (PrometheusPasswordEnv when the
// Prometheus URL holds a password), for the user to be told.
func ProvisionEnv(opts ...ProvisionOption) []string {
	var env []string
	for _, d := range Datasources(opts...) {
		if _, ok := d.SecureJSONData["basicAuthPassword"]; ok {
			env = append(env, PrometheusPasswordEnv)
		}
	}
	return env
}

// DatasourcesFileConfig is a datasources provisioning file.
type DatasourcesFileConfig struct {
	APIVersion  int                `yaml:"apiVersion"`
	Datasources []DatasourceConfig `yaml:"datasources"`
}

// ProviderConfig is one dashboard provider in a dashboards provisioning file.
type ProviderConfig struct {
	Name                  string          `yaml:"name"`
	OrgID                 int             `yaml:"orgId"`
	Folder                string          `yaml:"folder"`
	FolderUID             string          `yaml:"folderUid"`
	Type                  string          `yaml:"type"`
	DisableDeletion       bool            `yaml:"disableDeletion"`
	UpdateIntervalSeconds int             `yaml:"updateIntervalSeconds"`
	AllowUIUpdates        bool            `yaml:"allowUiUpdates"`
	Options               ProviderOptions `yaml:"options"`
}

// ProviderOptions are the options of a file provider.
type ProviderOptions struct {
	Path                      string `yaml:"path"`
	FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
}

// ProvidersFileConfig is a dashboards provisioning file.
type ProvidersFileConfig struct {
	APIVersion int              `yaml:"apiVersion"`
	Providers  []ProviderConfig `yaml:"providers"`
}

// ProvisionOption configures WriteProvisioning.
type ProvisionOption func(*provision)

type provision struct {
	promURL, ampRegion string
	ampCore            bool
	cwRegion           string
	path, root, folder string
	scrapeInterval     string
}

// WithPrometheusURL declares a Prometheus data source at u. An Amazon
// Managed Prometheus workspace URL (https://aps-workspaces.<region>.amazonaws.com/...)
// gets SigV4 authentication with the region taken from the host unless
// WithAMPRegion sets it.
func WithPrometheusURL(u string) ProvisionOption { return func(p *provision) { p.promURL = u } }

// WithAMPRegion sets the SigV4 region of an Amazon Managed Prometheus data source.
func WithAMPRegion(r string) ProvisionOption { return func(p *provision) { p.ampRegion = r } }

// WithCloudWatch declares a CloudWatch data source with default region r.
func WithCloudWatch(region string) ProvisionOption { return func(p *provision) { p.cwRegion = region } }

// WithAMPCoreType provisions Amazon Managed Prometheus with Grafana's core
// Prometheus type and SigV4, for a Grafana without the Amazon Managed
// Prometheus plugin (AMPType, the default).
func WithAMPCoreType() ProvisionOption { return func(p *provision) { p.ampCore = true } }

// WithScrapeInterval sets the Prometheus data source's scrape interval
// (jsonData.timeInterval): the interval lambdabridge delivers at (its
// remote_write interval, or Prometheus' scrape interval of /metrics). Grafana
// derives $__rate_interval from it (at least 4 times it), so rate panels
// have data from the second sample on.
func WithScrapeInterval(d time.Duration) ProvisionOption {
	return func(p *provision) {
		if d > 0 {
			p.scrapeInterval = strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10) + "s"
		}
	}
}

// WithDashboardsPath sets the path Grafana reads the dashboard files from,
// when it differs from where they are written (a container mount).
func WithDashboardsPath(path string) ProvisionOption { return func(p *provision) { p.path = path } }

// WithProvisioningRoot sets where Grafana sees the tree (its
// paths.provisioning, e.g. /etc/grafana/provisioning for a tree mounted into
// a container): the provider's path is the dashboards directory under it.
// Default: the tree's absolute path on this machine.
func WithProvisioningRoot(root string) ProvisionOption { return func(p *provision) { p.root = root } }

// WithFolder sets the Grafana folder (title and uid) of the dashboards
// (default "lambdabridge").
func WithFolder(f string) ProvisionOption { return func(p *provision) { p.folder = f } }

var ampHost = regexp.MustCompile(`^aps-workspaces\.([a-z0-9-]+)\.amazonaws\.com$`)

// AMPRegion returns the region of an Amazon Managed Prometheus workspace
// URL, and whether u is one.
func AMPRegion(u string) (string, bool) {
	pu, err := url.Parse(u)
	if err != nil {
		return "", false
	}
	m := ampHost.FindStringSubmatch(pu.Hostname())
	if m == nil {
		return "", false
	}
	return m[1], true
}

// AMPQueryURL is the workspace URL Grafana queries for an Amazon Managed
// Prometheus URL: a remote_write URL (.../workspaces/<id>/api/v1/remote_write)
// loses its API path.
func AMPQueryURL(u string) string {
	for _, suffix := range []string{"/api/v1/remote_write", "/api/v1/query"} {
		if i := strings.Index(u, suffix); i >= 0 {
			return u[:i] + "/"
		}
	}
	return u
}

// PrometheusTypeFor returns the type the provisioned Prometheus data source
// for URL u gets: AMPType for an Amazon Managed Prometheus workspace unless
// core is set, else PrometheusType. Dashboards for it need
// WithDatasourceType with the same type.
func PrometheusTypeFor(u string, core bool) string {
	if _, ok := AMPRegion(u); ok && !core {
		return AMPType
	}
	return PrometheusType
}

// PrometheusDatasourceFor returns the uid the provisioned Prometheus data
// source for URL u gets.
func PrometheusDatasourceFor(u string) string {
	if _, ok := AMPRegion(u); ok {
		return AMPDatasourceUID
	}
	return PrometheusDatasourceUID
}

// Datasources returns the data sources the options declare.
func Datasources(opts ...ProvisionOption) []DatasourceConfig {
	p := newProvision(opts)
	return p.datasources()
}

func newProvision(opts []ProvisionOption) provision {
	p := provision{folder: "lambdabridge"}
	for _, o := range opts {
		o(&p)
	}
	return p
}

func (p provision) datasources() []DatasourceConfig {
	var ds []DatasourceConfig
	if p.promURL != "" {
		d := DatasourceConfig{
			Name: "lambdabridge Prometheus", Type: PrometheusType, UID: PrometheusDatasourceUID, OrgID: 1,
			Access: "proxy", URL: p.promURL, IsDefault: true, Editable: true,
			JSONData: map[string]any{"httpMethod": "POST"},
		}
		if p.scrapeInterval != "" {
			d.JSONData["timeInterval"] = p.scrapeInterval
		}
		d.basicAuthFromURL()
		if region, ok := AMPRegion(p.promURL); ok {
			if p.ampRegion != "" {
				region = p.ampRegion
			}
			d.Name, d.UID, d.URL = "Amazon Managed Prometheus", AMPDatasourceUID, AMPQueryURL(d.URL)
			if !p.ampCore {
				d.Type = AMPType
			}
			d.JSONData["sigV4Auth"] = true
			d.JSONData["sigV4AuthType"] = "default"
			d.JSONData["sigV4Region"] = region
		}
		ds = append(ds, d)
	}
	if p.cwRegion != "" {
		ds = append(ds, DatasourceConfig{
			Name: "CloudWatch", Type: "cloudwatch", UID: CloudWatchDatasourceUID, OrgID: 1,
			Access: "proxy", IsDefault: p.promURL == "", Editable: true,
			JSONData: map[string]any{"authType": "default", "defaultRegion": p.cwRegion},
		})
	}
	return ds
}

// basicAuthFromURL moves the user and password of d.URL into Grafana's
// basic-auth settings: the user in basicAuthUser, the password as a
// reference to PrometheusPasswordEnv; the URL keeps no credentials.
func (d *DatasourceConfig) basicAuthFromURL() {
	u, err := url.Parse(d.URL)
	if err != nil || u.User == nil {
		return
	}
	d.BasicAuth, d.BasicAuthUser = true, u.User.Username()
	if _, set := u.User.Password(); set {
		d.SecureJSONData = map[string]string{"basicAuthPassword": "$" + PrometheusPasswordEnv}
	}
	u.User = nil
	d.URL = u.String()
}

// WriteProvisioning writes a Grafana provisioning tree into dir: the data
// sources the options declare, a file provider, and the dashboards (file
// name -> JSON). Existing files of the same names are replaced. No secret
// is written: credentials in the Prometheus URL become basicAuthUser and a
// reference to PrometheusPasswordEnv (see ProvisionEnv), and the data
// sources file is readable by its owner only (0600) when it names a user.
func WriteProvisioning(dir string, dashboards map[string][]byte, opts ...ProvisionOption) error {
	p := newProvision(opts)
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("provision %s: %w", dir, err)
	}
	switch {
	case p.path != "":
	case p.root != "":
		p.path = path.Join(filepath.ToSlash(p.root), DashboardsDir)
	default:
		p.path = filepath.Join(abs, filepath.FromSlash(DashboardsDir))
	}
	for _, sub := range ProvisioningDirs {
		if err := os.MkdirAll(filepath.Join(abs, filepath.FromSlash(sub)), 0o755); err != nil {
			return fmt.Errorf("provision: %w", err)
		}
	}
	ds := DatasourcesFileConfig{APIVersion: 1, Datasources: p.datasources()}
	if ds.Datasources == nil {
		ds.Datasources = []DatasourceConfig{}
	}
	dsMode := os.FileMode(0o644)
	for _, d := range ds.Datasources {
		if d.BasicAuth {
			dsMode = 0o600
		}
	}
	header := ""
	for _, env := range ProvisionEnv(opts...) {
		header += "# Grafana reads the password from $" + env + ": set it in Grafana's environment.\n"
	}
	if err := writeYAML(filepath.Join(abs, filepath.FromSlash(DatasourcesFile)), ds, dsMode, header); err != nil {
		return err
	}
	pr := ProvidersFileConfig{APIVersion: 1, Providers: []ProviderConfig{{
		Name: "lambdabridge", OrgID: 1, Folder: p.folder, FolderUID: UID(p.folder), Type: "file",
		UpdateIntervalSeconds: 30, AllowUIUpdates: true,
		Options: ProviderOptions{Path: p.path},
	}}}
	if err := writeYAML(filepath.Join(abs, filepath.FromSlash(ProvidersFile)), pr, 0o644, ""); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(dashboards)) {
		if filepath.Base(name) != name || filepath.Ext(name) != ".json" {
			return fmt.Errorf("provision: dashboard file name %q: want NAME.json", name)
		}
		path := filepath.Join(abs, filepath.FromSlash(DashboardsDir), name)
		if err := os.WriteFile(path, dashboards[name], 0o644); err != nil {
			return fmt.Errorf("provision: %w", err)
		}
	}
	return nil
}

// writeYAML writes v as YAML after a comment header (lines ending in \n).
func writeYAML(path string, v any, mode os.FileMode, header string) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("provision: encode %s: %w", path, err)
	}
	b = append([]byte("# Written by lambdabridge dashboard --provision.\n"+header), b...)
	return writeFileMode(path, b, mode)
}

// writeFileMode writes b to path with exactly mode: os.WriteFile keeps the
// mode of an existing file, which may be wider (a file written 0644 by an
// earlier version, with a password in it).
func writeFileMode(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("provision: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("provision: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	return nil
}
