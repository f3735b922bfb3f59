package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ScrapeConfig is one scrape job of a Prometheus started here.
type ScrapeConfig struct {
	Job     string
	Targets []string // static targets, host:port (with FileSD: the file's first content)
	// FileSD takes the targets from a file-SD file (FileSDPath) that
	// SetTargets rewrites; Prometheus re-reads it every second.
	FileSD      bool
	HonorLabels bool          // keep job/instance labels of the scraped data (the Pushgateway needs it)
	MetricsPath string        // default /metrics
	Interval    time.Duration // default: the global scrape interval
}

// WithScrapeInterval sets Prometheus' global scrape and evaluation
// interval and the scrape timeout (default 5s).
func WithScrapeInterval(d time.Duration) Option { return func(o *options) { o.interval = d } }

// WithScrape adds scrape jobs to Prometheus' configuration.
func WithScrape(scrapes ...ScrapeConfig) Option {
	return func(o *options) { o.scrapes = append(o.scrapes, scrapes...) }
}

// Target is one file-SD target: an address and its labels.
type Target struct {
	Addr   string
	Labels map[string]string
}

// Prometheus is a running Prometheus (Debian prometheus) with the
// remote-write receiver and the lifecycle API (Reload) enabled.
type Prometheus struct {
	*Process
	*PromQL
	ConfigFile string
}

// StartPrometheus starts Prometheus on a free loopback port and waits
// until it is ready. Stop it with Stop.
func StartPrometheus(ctx context.Context, opts ...Option) (*Prometheus, error) {
	o := newOptions(opts)
	prom := &Prometheus{}
	p, err := start(ctx, spec{name: "prometheus", pkg: "prometheus", ready: "/-/ready",
		bins: []string{"prometheus", "/usr/bin/prometheus"},
		prepare: func(dir string) error {
			prom.ConfigFile = filepath.Join(dir, "prometheus.yml")
			return writeConfig(dir, prom.ConfigFile, o)
		},
		args: func(dir string, port int) []string {
			return []string{
				"--config.file=" + prom.ConfigFile,
				"--web.listen-address=127.0.0.1:" + strconv.Itoa(port),
				"--storage.tsdb.path=" + filepath.Join(dir, "data"),
				"--web.enable-remote-write-receiver",
				"--web.enable-lifecycle",
				"--log.level=info",
			}
		}}, o)
	if err != nil {
		return nil, err
	}
	prom.Process = p
	if prom.PromQL, err = NewPromQL(p.URL); err != nil {
		p.Stop()
		return nil, err
	}
	return prom, nil
}

// RemoteWriteURL is the remote-write receiver's endpoint.
func (p *Prometheus) RemoteWriteURL() string { return p.URL + "/api/v1/write" }

// FileSDPath is the file-SD file of job (a ScrapeConfig with FileSD).
func (p *Prometheus) FileSDPath(job string) string { return fileSDPath(p.Dir, job) }

func fileSDPath(dir, job string) string { return filepath.Join(dir, "file_sd", job+".json") }

// SetTargets replaces the targets of a FileSD scrape job; Prometheus picks
// them up within about a second.
func (p *Prometheus) SetTargets(job string, targets ...Target) error {
	return WriteTargets(p.FileSDPath(job), targets)
}

// Reload makes Prometheus re-read its configuration file.
func (p *Prometheus) Reload(ctx context.Context) error {
	if err := call(ctx, http.MethodPost, p.URL+"/-/reload"); err != nil {
		return fmt.Errorf("reload prometheus: %w", err)
	}
	return nil
}

// writeConfig writes Prometheus' configuration and the first content of
// its file-SD files.
func writeConfig(dir, path string, o *options) error {
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
	iv := o.interval.String()
	doc := struct {
		Global map[string]string `yaml:"global"`
		Jobs   []job             `yaml:"scrape_configs"`
	}{Global: map[string]string{"scrape_interval": iv, "scrape_timeout": iv, "evaluation_interval": iv}}
	if err := os.MkdirAll(filepath.Join(dir, "file_sd"), 0o755); err != nil {
		return err
	}
	for _, s := range o.scrapes {
		j := job{JobName: s.Job, HonorLabels: s.HonorLabels, MetricsPath: s.MetricsPath}
		if s.Interval > 0 {
			j.ScrapeInterval, j.ScrapeTimeout = s.Interval.String(), s.Interval.String()
		}
		if s.FileSD {
			j.FileSD = []fileSD{{Files: []string{fileSDPath(dir, s.Job)}, RefreshInterval: "1s"}}
			var ts []Target
			for _, a := range s.Targets {
				ts = append(ts, Target{Addr: a})
			}
			if err := WriteTargets(fileSDPath(dir, s.Job), ts); err != nil {
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
	return os.WriteFile(path, b, 0o644)
}

// WriteTargets atomically rewrites a file-SD file with targets, one group
// per target (so each keeps its labels).
func WriteTargets(path string, targets []Target) error {
	groups := []map[string]any{}
	for _, t := range targets {
		g := map[string]any{"targets": []string{t.Addr}}
		if len(t.Labels) > 0 {
			g["labels"] = t.Labels
		}
		groups = append(groups, g)
	}
	b, err := json.Marshal(groups)
	if err != nil {
		return fmt.Errorf("file sd %s: %w", path, err)
	}
	// A temporary file of its own, renamed over the target: Prometheus never
	// reads a half-written file, and concurrent writers never share one.
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("file sd %s: %w", path, err)
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if err := errors.Join(werr, cerr, os.Chmod(f.Name(), 0o644)); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("file sd %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("file sd %s: %w", path, err)
	}
	return nil
}

// call sends a bodiless request; a non-2xx reply is an error with its
// status, the URL and the start of the body.
func call(ctx context.Context, method, url string) error {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: status %d: %s", method, url, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return nil
}
