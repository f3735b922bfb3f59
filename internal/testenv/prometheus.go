package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// ScrapeConfig is one scrape job of a test Prometheus.
type ScrapeConfig struct {
	Job         string
	Targets     []string      // static targets, host:port
	FileSD      bool          // take targets from a file_sd file that SetTargets rewrites (Targets are its first content)
	HonorLabels bool          // keep job/instance labels of the scraped data (the Pushgateway needs it)
	MetricsPath string        // default /metrics
	Interval    time.Duration // default: the global scrape interval
}

// PrometheusOption configures StartPrometheus.
type PrometheusOption func(*promConfig)

type promConfig struct {
	interval time.Duration
	scrapes  []ScrapeConfig
	args     []string
}

// WithScrapeInterval sets the global scrape (and evaluation) interval;
// the default is 1s.
func WithScrapeInterval(d time.Duration) PrometheusOption {
	return func(c *promConfig) { c.interval = d }
}

// WithScrape adds scrape jobs.
func WithScrape(scrapes ...ScrapeConfig) PrometheusOption {
	return func(c *promConfig) { c.scrapes = append(c.scrapes, scrapes...) }
}

// WithPrometheusArgs adds command-line flags, for example
// "--enable-feature=native-histograms".
func WithPrometheusArgs(args ...string) PrometheusOption {
	return func(c *promConfig) { c.args = append(c.args, args...) }
}

// Prometheus is a running Prometheus server (Debian package prometheus) with
// the remote-write receiver enabled.
type Prometheus struct {
	*PromQL
	URL        string // base URL, http://127.0.0.1:PORT
	Dir        string // its temporary directory (config, file_sd files, TSDB, log)
	ConfigFile string
}

// StartPrometheus starts Prometheus on a free loopback port and waits until
// it is ready. It is stopped when the test ends.
func StartPrometheus(t testing.TB, opts ...PrometheusOption) *Prometheus {
	t.Helper()
	bin := LookPath(t, "prometheus", "prometheus", "/usr/bin/prometheus")
	cfg := promConfig{interval: time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	dir := t.TempDir()
	p := &Prometheus{Dir: dir, ConfigFile: filepath.Join(dir, "prometheus.yml")}
	if err := p.writeConfig(cfg); err != nil {
		t.Fatalf("testenv: prometheus config: %v", err)
	}
	_, base := start(t, startSpec{
		name: "prometheus",
		bin:  bin,
		dir:  dir,
		args: func(port int) []string {
			return append([]string{
				"--config.file=" + p.ConfigFile,
				"--web.listen-address=127.0.0.1:" + strconv.Itoa(port),
				"--storage.tsdb.path=" + filepath.Join(dir, "data"),
				"--web.enable-remote-write-receiver",
				"--web.enable-lifecycle",
				"--log.level=info",
			}, cfg.args...)
		},
		ready: "/-/ready",
	})
	p.URL = base
	q, err := NewPromQL(base)
	if err != nil {
		t.Fatalf("testenv: prometheus client: %v", err)
	}
	p.PromQL = q
	return p
}

// RemoteWriteURL is the remote-write receiver endpoint.
func (p *Prometheus) RemoteWriteURL() string { return p.URL + "/api/v1/write" }

func (p *Prometheus) fileSDPath(job string) string {
	return filepath.Join(p.Dir, "file_sd", job+".json")
}

func (p *Prometheus) writeConfig(cfg promConfig) error {
	type fileSD struct {
		Files           []string `yaml:"files"`
		RefreshInterval string   `yaml:"refresh_interval"`
	}
	type static struct {
		Targets []string `yaml:"targets"`
	}
	type job struct {
		JobName        string   `yaml:"job_name"`
		HonorLabels    bool     `yaml:"honor_labels,omitempty"`
		MetricsPath    string   `yaml:"metrics_path,omitempty"`
		ScrapeInterval string   `yaml:"scrape_interval,omitempty"`
		ScrapeTimeout  string   `yaml:"scrape_timeout,omitempty"`
		Static         []static `yaml:"static_configs,omitempty"`
		FileSD         []fileSD `yaml:"file_sd_configs,omitempty"`
	}
	doc := struct {
		Global map[string]string `yaml:"global"`
		Jobs   []job             `yaml:"scrape_configs"`
	}{Global: map[string]string{
		"scrape_interval":     cfg.interval.String(),
		"scrape_timeout":      cfg.interval.String(),
		"evaluation_interval": cfg.interval.String(),
	}}
	if err := os.MkdirAll(filepath.Join(p.Dir, "file_sd"), 0o755); err != nil {
		return err
	}
	for _, s := range cfg.scrapes {
		j := job{JobName: s.Job, HonorLabels: s.HonorLabels, MetricsPath: s.MetricsPath}
		if s.Interval > 0 {
			j.ScrapeInterval = s.Interval.String()
			j.ScrapeTimeout = s.Interval.String()
		}
		if s.FileSD {
			j.FileSD = []fileSD{{Files: []string{p.fileSDPath(s.Job)}, RefreshInterval: "1s"}}
			if err := p.writeTargets(s.Job, s.Targets); err != nil {
				return err
			}
		} else {
			j.Static = []static{{Targets: s.Targets}}
		}
		doc.Jobs = append(doc.Jobs, j)
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	return os.WriteFile(p.ConfigFile, b, 0o644)
}

func (p *Prometheus) writeTargets(job string, targets []string) error {
	group := []map[string]any{}
	if len(targets) > 0 {
		group = append(group, map[string]any{"targets": targets})
	}
	b, err := json.Marshal(group)
	if err != nil {
		return err
	}
	path := p.fileSDPath(job)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// SetTargets replaces the targets of a FileSD scrape job; Prometheus picks
// them up within about a second (see WaitTargetsUp).
func (p *Prometheus) SetTargets(t testing.TB, job string, targets ...string) {
	t.Helper()
	if err := p.writeTargets(job, targets); err != nil {
		t.Fatalf("testenv: prometheus file_sd targets of %s: %v", job, err)
	}
}

// WaitTargetsUp waits until n targets of job are scraped successfully
// (up == 1), which means at least one scrape has been stored.
func (p *Prometheus) WaitTargetsUp(t testing.TB, job string, n int, timeout time.Duration) {
	t.Helper()
	q := fmt.Sprintf("up{job=%q} == 1", job)
	var last Vector
	var lastErr error
	eventually(t, timeout, func() bool {
		last, lastErr = p.Query(context.Background(), q)
		return lastErr == nil && len(last) >= n
	}, func() string {
		return fmt.Sprintf("%d targets of job %q up; last %s = %v (err %v); targets: %s", n, job, q, last, lastErr, p.targetsSummary())
	})
}

// targetsSummary describes the active targets and their last errors.
func (p *Prometheus) targetsSummary() string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	b, err := get(ctx, p.URL+"/api/v1/targets")
	if err != nil {
		return err.Error()
	}
	var r struct {
		Data struct {
			Active []struct {
				ScrapeURL string `json:"scrapeUrl"`
				Health    string `json:"health"`
				LastError string `json:"lastError"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return err.Error()
	}
	var out []string
	for _, a := range r.Data.Active {
		out = append(out, fmt.Sprintf("%s %s %s", a.ScrapeURL, a.Health, a.LastError))
	}
	sort.Strings(out)
	return fmt.Sprint(out)
}

// Reload makes Prometheus re-read its configuration file.
func (p *Prometheus) Reload(ctx context.Context) error {
	_, err := do(ctx, http.MethodPost, p.URL+"/-/reload", []byte{})
	if err != nil {
		return fmt.Errorf("reload prometheus: %w", err)
	}
	return nil
}
