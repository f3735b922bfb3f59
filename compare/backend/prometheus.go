package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// PrometheusConfig says how to start Prometheus.
type PrometheusConfig struct {
	// ScrapeInterval is the global scrape interval (default 5s); the scrape
	// timeout is the same.
	ScrapeInterval time.Duration
	// Job is the name of the one scrape job, whose targets come from the
	// file-SD file Targets rewrites (default "lambdabridge-compare"). It
	// scrapes with honor_labels: true (the Pushgateway needs it).
	Job    string
	Logger *slog.Logger
}

// Target is one file-SD target group entry: an address and its labels.
type Target struct {
	Addr   string
	Labels map[string]string
}

// Prometheus is a running Prometheus (Debian prometheus) with the
// remote-write receiver enabled, scraping the targets of a file-SD file.
type Prometheus struct {
	*Process
	*PromQL
	FileSD string // the file-SD file (JSON) WriteTargets rewrites
}

// RemoteWriteURL is the remote-write receiver's endpoint.
func (p *Prometheus) RemoteWriteURL() string { return p.URL + "/api/v1/write" }

// StartPrometheus starts Prometheus on a free loopback port in a new
// temporary directory and waits until it is ready. Stop removes both.
func StartPrometheus(ctx context.Context, cfg PrometheusConfig) (*Prometheus, error) {
	if cfg.ScrapeInterval <= 0 {
		cfg.ScrapeInterval = 5 * time.Second
	}
	if cfg.Job == "" {
		cfg.Job = "lambdabridge-compare"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	bin, err := LookPath("prometheus", "prometheus", "/usr/bin/prometheus")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "lambdabridge-prometheus-")
	if err != nil {
		return nil, fmt.Errorf("start prometheus: %w", err)
	}
	sd := filepath.Join(dir, "targets.json")
	if err := WriteTargets(sd, nil); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start prometheus: %w", err)
	}
	conf := filepath.Join(dir, "prometheus.yml")
	iv := cfg.ScrapeInterval.String()
	// JSON is YAML: no YAML library needed for this small document.
	doc := map[string]any{
		"global": map[string]string{"scrape_interval": iv, "scrape_timeout": iv, "evaluation_interval": iv},
		"scrape_configs": []map[string]any{{
			"job_name":        cfg.Job,
			"honor_labels":    true,
			"file_sd_configs": []map[string]any{{"files": []string{sd}, "refresh_interval": "1s"}},
		}},
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	if err := os.WriteFile(conf, b, 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start prometheus: %w", err)
	}
	p, err := start(ctx, spec{name: "prometheus", bin: bin, dir: dir, ready: "/-/ready", log: cfg.Logger,
		args: func(port int) []string {
			return []string{
				"--config.file=" + conf,
				"--web.listen-address=127.0.0.1:" + strconv.Itoa(port),
				"--storage.tsdb.path=" + filepath.Join(dir, "data"),
				"--web.enable-remote-write-receiver",
				"--log.level=warn",
			}
		}})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p.ownDir = true
	q, err := NewPromQL(p.URL)
	if err != nil {
		p.Stop()
		return nil, err
	}
	return &Prometheus{Process: p, PromQL: q, FileSD: sd}, nil
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
