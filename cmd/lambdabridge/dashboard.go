package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/lambdabridge/lambdabridge/catalog"
	"github.com/lambdabridge/lambdabridge/dashboards"
	"github.com/lambdabridge/lambdabridge/logline"
	"github.com/lambdabridge/lambdabridge/metric"
)

func init() {
	register(command{
		name:    "dashboard",
		summary: "generate Grafana dashboards (and provisioning) from a metric catalog or log files",
		run:     runDashboard,
	})
}

const dashboardUsage = `[--catalog FILE | LOGFILE...] [--datasource prometheus|cloudwatch|both]
       [--title T] [--uid U] [-o FILE | --out-dir DIR] [--provision DIR]
       [--provision-root PATH] [--scrape-interval D] [--amp-core-type]
       [--grafana-url URL [--grafana-token-file F] [--grafana-folder UID] [--overwrite]]
       [--prometheus-url URL] [--region R]

Builds Grafana dashboards for the metrics a function emits: from catalogs
written by 'run', 'tail' or 'convert' with --catalog, or from log files
(standard input when neither is given). The Prometheus flavour queries the
families lambdabridge exports; the CloudWatch flavour the same metrics as
CloudWatch holds them (EMF namespaces and dimension sets, AWS/Lambda).

Output: one dashboard JSON on standard output (or -o FILE); --out-dir DIR
writes <uid>.json per flavour; --provision DIR writes a Grafana provisioning
tree (datasources/, dashboards/ and the JSON files, empty plugins/ and
alerting/); --provision-root is where Grafana sees that tree (a container
mount). --grafana-url uploads with POST /api/dashboards/db, with the token
from --grafana-token-file or GRAFANA_TOKEN; an existing dashboard is replaced
only with --overwrite. A --prometheus-url on Amazon Managed Prometheus
(aps-workspaces.<region>.amazonaws.com) is provisioned as Grafana's Amazon
Managed Prometheus data source (--amp-core-type: the core Prometheus type
with SigV4).`

var uidRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)

func runDashboard(ctx context.Context, m *Main, args []string) error {
	fs := newFlagSet(m.Stderr, "dashboard", dashboardUsage)
	var catalogs stringList
	fs.Var(&catalogs, "catalog", "read the metric catalog from this JSON `FILE` (repeatable; merged)")
	source := fs.String("datasource", "prometheus", "dashboard flavour: prometheus, cloudwatch or both")
	title := fs.String("title", "", "dashboard `title` (default: from the functions in the catalog)")
	uid := fs.String("uid", "", "dashboard `uid` (default: from the title); with both flavours, -prometheus and -cloudwatch are appended")
	out := fs.String("o", "", "write the dashboard JSON to `FILE` (one flavour)")
	outDir := fs.String("out-dir", "", "write <uid>.json per flavour into `DIR`")
	provision := fs.String("provision", "", "write a Grafana provisioning tree into `DIR`")
	grafanaURL := fs.String("grafana-url", "", "upload the dashboards to the Grafana at `URL`")
	tokenFile := fs.String("grafana-token-file", "", "read the Grafana service account token from `FILE` (default: $GRAFANA_TOKEN)")
	folder := fs.String("grafana-folder", "lambdabridge", "Grafana folder `uid` to upload into (created when missing; empty: General)")
	promURL := fs.String("prometheus-url", "http://127.0.0.1:9090", "Prometheus `URL` the provisioned data source points at")
	quiet := fs.Bool("quiet", false, "do not print the catalog's warnings (catalog/* rules) on standard error")
	region := fs.String("region", "", "AWS `region` of CloudWatch (default: $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1)")
	overwrite := fs.Bool("overwrite", false, "replace a dashboard Grafana holds with the same uid or title")
	provRoot := fs.String("provision-root", "", "where Grafana sees the --provision tree (its paths.provisioning, e.g. a container mount; default: DIR)")
	ampCore := fs.Bool("amp-core-type", false, "provision Amazon Managed Prometheus as the core Prometheus type with SigV4 (Grafana without the plugin)")
	scrapeEvery := fs.Duration("scrape-interval", 15*time.Second, "the data source's scrape interval: how often lambdabridge delivers (Grafana's $__rate_interval is at least 4 times it)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}

	flavours, err := dashboardFlavours(*source)
	if err != nil {
		return err
	}
	if *uid != "" && !uidRE.MatchString(*uid) {
		return usageErrorf("dashboard: --uid %q: want 1 to 40 letters, digits, - or _", *uid)
	}
	if *out != "" && (*outDir != "" || len(flavours) > 1) {
		return usageErrorf("dashboard: -o writes one dashboard: use --out-dir with --datasource both")
	}
	toStdout := *out == "" && *outDir == "" && *provision == "" && *grafanaURL == ""
	if toStdout && len(flavours) > 1 {
		return usageErrorf("dashboard: --datasource both writes two dashboards: use --out-dir, --provision or --grafana-url")
	}
	awsRegion := *region
	for _, env := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if awsRegion == "" {
			awsRegion = m.Getenv(env)
		}
	}
	if awsRegion == "" {
		awsRegion = "us-east-1"
	}
	token := ""
	if *grafanaURL != "" {
		if token, err = grafanaToken(m, *tokenFile); err != nil {
			return err
		}
	}

	cat, err := m.loadCatalog(ctx, catalogs, fs.Args())
	if err != nil {
		return err
	}
	if cat.Len() == 0 {
		fmt.Fprintln(m.Stderr, "lambdabridge dashboard: warning: the catalog holds no metric family; the dashboard has no panel")
	}
	if !*quiet {
		for _, d := range cat.Lint() {
			fmt.Fprintln(m.Stderr, d.String())
		}
	}

	type built struct {
		flavour dashboards.Flavour
		uid     string
		json    []byte
	}
	var docs []built
	for _, f := range flavours {
		var opts []dashboards.Option
		if *title != "" {
			t := *title
			if len(flavours) > 1 {
				t += " (" + flavourName(f) + ")"
			}
			opts = append(opts, dashboards.WithTitle(t))
		}
		if *uid != "" {
			u := *uid
			if len(flavours) > 1 {
				u += "-" + string(f)
				if len(u) > 40 {
					return usageErrorf("dashboard: --uid %q is too long to append -%s (40 characters at most)", *uid, f)
				}
			}
			opts = append(opts, dashboards.WithUID(u))
		}
		build := dashboards.Prometheus
		if f == dashboards.FlavourCloudWatch {
			build = dashboards.CloudWatch
			opts = append(opts, dashboards.WithRegion(awsRegion))
		} else {
			opts = append(opts, dashboards.WithDatasource(dashboards.PrometheusDatasourceFor(*promURL)),
				dashboards.WithDatasourceType(dashboards.PrometheusTypeFor(*promURL, *ampCore)))
		}
		d, err := build(cat, opts...)
		if err != nil {
			return fmt.Errorf("dashboard: build %s: %w", f, err)
		}
		b, err := dashboards.Marshal(d)
		if err != nil {
			return err
		}
		docs = append(docs, built{flavour: f, uid: *d.Uid, json: b})
	}

	if toStdout {
		_, err := m.Stdout.Write(docs[0].json)
		return err
	}
	if *out != "" {
		if err := os.WriteFile(*out, docs[0].json, 0o644); err != nil {
			return usageErrorf("dashboard: %v", err)
		}
		fmt.Fprintf(m.Stderr, "lambdabridge dashboard: wrote %s (%s, %d bytes)\n", *out, docs[0].flavour, len(docs[0].json))
	}
	if *outDir != "" {
		if err := os.MkdirAll(*outDir, 0o755); err != nil {
			return usageErrorf("dashboard: %v", err)
		}
		for _, d := range docs {
			path := filepath.Join(*outDir, d.uid+".json")
			if err := os.WriteFile(path, d.json, 0o644); err != nil {
				return usageErrorf("dashboard: %v", err)
			}
			fmt.Fprintf(m.Stderr, "lambdabridge dashboard: wrote %s (%s, %d bytes)\n", path, d.flavour, len(d.json))
		}
	}
	if *provision != "" {
		files := map[string][]byte{}
		popts := []dashboards.ProvisionOption{dashboards.WithFolder("lambdabridge"), dashboards.WithScrapeInterval(*scrapeEvery)}
		if *provRoot != "" {
			popts = append(popts, dashboards.WithProvisioningRoot(*provRoot))
		}
		if *ampCore {
			popts = append(popts, dashboards.WithAMPCoreType())
		}
		for _, d := range docs {
			files[d.uid+".json"] = d.json
			switch d.flavour {
			case dashboards.FlavourPrometheus:
				popts = append(popts, dashboards.WithPrometheusURL(*promURL))
				if *region != "" {
					popts = append(popts, dashboards.WithAMPRegion(*region))
				}
			case dashboards.FlavourCloudWatch:
				popts = append(popts, dashboards.WithCloudWatch(awsRegion))
			}
		}
		if err := dashboards.WriteProvisioning(*provision, files, popts...); err != nil {
			return fmt.Errorf("dashboard: %w", err)
		}
		fmt.Fprintf(m.Stderr, "lambdabridge dashboard: wrote the provisioning tree %s (point Grafana's paths.provisioning at it)\n", *provision)
	}
	if *grafanaURL != "" {
		c, err := dashboards.NewClient(*grafanaURL, dashboards.WithToken(token), dashboards.WithFolderUID(*folder), dashboards.WithOverwrite(*overwrite))
		if err != nil {
			return usageErrorf("dashboard: --grafana-url: %v", err)
		}
		if *folder != "" {
			if err := c.EnsureFolder(ctx, *folder, *folder); err != nil {
				return fmt.Errorf("dashboard: folder %s: %w", *folder, err)
			}
		}
		for _, d := range docs {
			res, err := c.Upload(ctx, d.json)
			if err != nil {
				return fmt.Errorf("dashboard: upload %s: %w", d.uid, err)
			}
			fmt.Fprintf(m.Stdout, "uploaded %s: %s%s (version %d)\n", d.uid, strings.TrimRight(*grafanaURL, "/"), trimBase(*grafanaURL, res.URL), res.Version)
		}
	}
	return nil
}

// trimBase drops the Grafana sub-path from a dashboard URL Grafana returns
// (it includes its root_url path), so it can be appended to the base URL.
func trimBase(base, u string) string {
	if i := strings.Index(base, "://"); i >= 0 {
		if j := strings.IndexByte(base[i+3:], '/'); j >= 0 {
			return strings.TrimPrefix(u, strings.TrimRight(base[i+3+j:], "/"))
		}
	}
	return u
}

func dashboardFlavours(s string) ([]dashboards.Flavour, error) {
	switch s {
	case "prometheus":
		return []dashboards.Flavour{dashboards.FlavourPrometheus}, nil
	case "cloudwatch":
		return []dashboards.Flavour{dashboards.FlavourCloudWatch}, nil
	case "both":
		return []dashboards.Flavour{dashboards.FlavourPrometheus, dashboards.FlavourCloudWatch}, nil
	}
	return nil, usageErrorf("dashboard: --datasource %q: want prometheus, cloudwatch or both", s)
}

func flavourName(f dashboards.Flavour) string {
	if f == dashboards.FlavourCloudWatch {
		return "CloudWatch"
	}
	return "Prometheus"
}

// grafanaToken reads the token from file, or from GRAFANA_TOKEN. It never
// appears in messages.
func grafanaToken(m *Main, file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", usageErrorf("dashboard: --grafana-token-file: %v", err)
		}
		t := strings.TrimSpace(string(b))
		if t == "" {
			return "", usageErrorf("dashboard: --grafana-token-file %s is empty", file)
		}
		return t, nil
	}
	if t := strings.TrimSpace(m.Getenv("GRAFANA_TOKEN")); t != "" {
		return t, nil
	}
	return "", usageErrorf("dashboard: --grafana-url needs a token: --grafana-token-file FILE or GRAFANA_TOKEN")
}

// loadCatalog merges the --catalog files and the metrics found in the log
// files (standard input when neither is given).
func (m *Main) loadCatalog(ctx context.Context, catalogs, logs []string) (*catalog.Catalog, error) {
	cat := catalog.New()
	for _, name := range catalogs {
		f, err := os.Open(name)
		if err != nil {
			return nil, usageErrorf("dashboard: %v", err)
		}
		c, err := catalog.Read(f)
		f.Close()
		if err != nil {
			return nil, usageErrorf("dashboard: %s: %v", name, err)
		}
		cat.Merge(c)
	}
	if len(catalogs) > 0 && len(logs) == 0 {
		return cat, nil
	}
	p := logline.New()
	err := m.eachInput(logs, func(name string, r io.Reader) error {
		return logline.Read(r, name, 0, p, func(b *metric.Batch, _ logline.Line, _ metric.Format) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			for i := range b.Points {
				cat.Add(&b.Points[i])
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return cat, nil
}
