package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/lambdabridge/lambdabridge/catalog"
	"github.com/lambdabridge/lambdabridge/dashboards"
	"github.com/lambdabridge/lambdabridge/extension"
	"github.com/lambdabridge/lambdabridge/pipeline"
)

const dashboardUsage = `[--catalog FILE | LOGFILE...] [--datasource prometheus|cloudwatch|both]
       [--title T] [--uid U] [-o FILE | --out-dir DIR] [--provision DIR]
       [--provision-root PATH] [--scrape-interval D] [--amp-core-type]
       [--grafana-url URL [--grafana-token-file F] [--grafana-folder UID] [--overwrite]]
       [--prometheus-url URL] [--region R] [--extension]

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
with SigV4).

With the lambdabridge extension (layer build), generate the dashboard from
the function's log (aws logs tail /aws/lambda/NAME > fn.log; dashboard
--extension --function NAME fn.log): its queries sum the series each
execution environment writes (lambda_environment); --extension adds the
extension's own metrics. DogStatsD metrics never reach the log: add a
--catalog written by a local 'run --catalog'.`

var uidRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)

// dashboardCmd holds the flags of dashboard.
type dashboardCmd struct {
	catalogs, logs                                 []string
	source, title, uid, out, outDir, provision     string
	grafanaURL, tokenFile, folder, promURL, region string
	quiet                                          bool
	input                                          inputFlags
	// Grafana: where it sees the tree, how often data arrives, which data
	// source type serves Amazon Managed Prometheus, replace on upload.
	provisionRoot      string
	scrapeInterval     time.Duration
	ampCore, overwrite bool
	// extension adds the lambdabridge extension's own families.
	extension bool
}

func registerDashboard(c *cli) {
	v := &dashboardCmd{}
	cmd := c.command("dashboard", "generate Grafana dashboards (and provisioning) from a metric catalog or log files", dashboardUsage, v.run)
	cmd.Flag("catalog", "read the metric catalog from this JSON file (repeatable; merged)").PlaceHolder("FILE").StringsVar(&v.catalogs)
	enum(cmd.Flag("datasource", "dashboard flavour"), &v.source, "prometheus", "prometheus", "cloudwatch", "both")
	cmd.Flag("title", "dashboard title (default: from the functions in the catalog)").StringVar(&v.title)
	cmd.Flag("uid", "dashboard uid (default: from the title); with both flavours, -prometheus and -cloudwatch are appended").StringVar(&v.uid)
	cmd.Flag("output", "write the dashboard JSON to FILE (one flavour)").Short('o').PlaceHolder("FILE").StringVar(&v.out)
	cmd.Flag("out-dir", "write <uid>.json per flavour into DIR").PlaceHolder("DIR").StringVar(&v.outDir)
	cmd.Flag("provision", "write a Grafana provisioning tree into DIR").PlaceHolder("DIR").StringVar(&v.provision)
	cmd.Flag("grafana-url", "upload the dashboards to the Grafana at URL").PlaceHolder("URL").StringVar(&v.grafanaURL)
	cmd.Flag("grafana-token-file", "read the Grafana service account token from FILE (default: $GRAFANA_TOKEN)").PlaceHolder("FILE").StringVar(&v.tokenFile)
	cmd.Flag("grafana-folder", "Grafana folder uid to upload into (created when missing; empty: General)").Default("lambdabridge").PlaceHolder("UID").StringVar(&v.folder)
	cmd.Flag("prometheus-url", "Prometheus URL the provisioned data source points at").Default("http://127.0.0.1:9090").StringVar(&v.promURL)
	cmd.Flag("quiet", "do not print the catalog's warnings (catalog/* rules) on standard error").BoolVar(&v.quiet)
	cmd.Flag("region", "AWS region of CloudWatch (default: $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1)").StringVar(&v.region)
	cmd.Flag("provision-root", "where Grafana sees the --provision tree (its paths.provisioning, e.g. a container mount; default: DIR)").PlaceHolder("PATH").StringVar(&v.provisionRoot)
	cmd.Flag("scrape-interval", "the data source's scrape interval: how often lambdabridge delivers (Grafana's $__rate_interval is at least 4 times it)").Default("15s").DurationVar(&v.scrapeInterval)
	cmd.Flag("amp-core-type", "provision Amazon Managed Prometheus as the core Prometheus type with SigV4 (Grafana without the plugin)").BoolVar(&v.ampCore)
	cmd.Flag("overwrite", "replace a dashboard Grafana holds with the same uid or title").BoolVar(&v.overwrite)
	cmd.Flag("extension", "the functions run with the lambdabridge extension: add panels for its own metrics (init time, time added per invocation), which their logs do not show").BoolVar(&v.extension)
	v.input.register(cmd)
	filesArg(cmd, "log files to find the metrics in; - for standard input", &v.logs)
}

func (v *dashboardCmd) run(ctx context.Context, m *Main) error {
	flavours, err := dashboardFlavours(v.source)
	if err != nil {
		return err
	}
	if v.uid != "" && !uidRE.MatchString(v.uid) {
		return usageErrorf("dashboard: --uid %q: want 1 to 40 letters, digits, - or _", v.uid)
	}
	if v.out != "" && (v.outDir != "" || len(flavours) > 1) {
		return usageErrorf("dashboard: -o writes one dashboard: use --out-dir with --datasource both")
	}
	toStdout := v.out == "" && v.outDir == "" && v.provision == "" && v.grafanaURL == ""
	if toStdout && len(flavours) > 1 {
		return usageErrorf("dashboard: --datasource both writes two dashboards: use --out-dir, --provision or --grafana-url")
	}
	awsRegion := v.region
	for _, env := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if awsRegion == "" {
			awsRegion = m.Getenv(env)
		}
	}
	if awsRegion == "" {
		awsRegion = "us-east-1"
	}
	token := ""
	if v.grafanaURL != "" {
		if token, err = grafanaToken(m, v.tokenFile); err != nil {
			return err
		}
	}

	cat, err := m.loadCatalog(ctx, v.catalogs, v.logs, v.input)
	if err != nil {
		return err
	}
	if v.extension {
		extension.Describe(cat)
	}
	if cat.Len() == 0 {
		fmt.Fprintln(m.Stderr, "lambdabridge dashboard: warning: the catalog holds no metric family; the dashboard has no panel")
	}
	if !v.quiet {
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
		if v.title != "" {
			t := v.title
			if len(flavours) > 1 {
				t += " (" + flavourName(f) + ")"
			}
			opts = append(opts, dashboards.WithTitle(t))
		}
		if v.uid != "" {
			u := v.uid
			if len(flavours) > 1 {
				u += "-" + string(f)
				if len(u) > 40 {
					return usageErrorf("dashboard: --uid %q is too long to append -%s (40 characters at most)", v.uid, f)
				}
			}
			opts = append(opts, dashboards.WithUID(u))
		}
		build := dashboards.Prometheus
		if f == dashboards.FlavourCloudWatch {
			build = dashboards.CloudWatch
			opts = append(opts, dashboards.WithRegion(awsRegion))
		} else {
			opts = append(opts, dashboards.WithDatasource(dashboards.PrometheusDatasourceFor(v.promURL)),
				dashboards.WithDatasourceType(dashboards.PrometheusTypeFor(v.promURL, v.ampCore)))
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
	if v.out != "" {
		if err := os.WriteFile(v.out, docs[0].json, 0o644); err != nil {
			return usageErrorf("dashboard: %v", err)
		}
		fmt.Fprintf(m.Stderr, "lambdabridge dashboard: wrote %s (%s, %d bytes)\n", v.out, docs[0].flavour, len(docs[0].json))
	}
	if v.outDir != "" {
		if err := os.MkdirAll(v.outDir, 0o755); err != nil {
			return usageErrorf("dashboard: %v", err)
		}
		for _, d := range docs {
			path := filepath.Join(v.outDir, d.uid+".json")
			if err := os.WriteFile(path, d.json, 0o644); err != nil {
				return usageErrorf("dashboard: %v", err)
			}
			fmt.Fprintf(m.Stderr, "lambdabridge dashboard: wrote %s (%s, %d bytes)\n", path, d.flavour, len(d.json))
		}
	}
	if v.provision != "" {
		files := map[string][]byte{}
		popts := []dashboards.ProvisionOption{dashboards.WithFolder("lambdabridge"), dashboards.WithScrapeInterval(v.scrapeInterval)}
		if v.provisionRoot != "" {
			popts = append(popts, dashboards.WithProvisioningRoot(v.provisionRoot))
		}
		if v.ampCore {
			popts = append(popts, dashboards.WithAMPCoreType())
		}
		for _, d := range docs {
			files[d.uid+".json"] = d.json
			switch d.flavour {
			case dashboards.FlavourPrometheus:
				popts = append(popts, dashboards.WithPrometheusURL(v.promURL))
				if v.region != "" {
					popts = append(popts, dashboards.WithAMPRegion(v.region))
				}
			case dashboards.FlavourCloudWatch:
				popts = append(popts, dashboards.WithCloudWatch(awsRegion))
			}
		}
		if err := dashboards.WriteProvisioning(v.provision, files, popts...); err != nil {
			return fmt.Errorf("dashboard: %w", err)
		}
		fmt.Fprintf(m.Stderr, "lambdabridge dashboard: wrote the provisioning tree %s (point Grafana's paths.provisioning at it)\n", v.provision)
		for _, env := range dashboards.ProvisionEnv(popts...) {
			fmt.Fprintf(m.Stderr, "lambdabridge dashboard: set %s in Grafana's environment (the data source's password)\n", env)
		}
	}
	if v.grafanaURL != "" {
		c, err := dashboards.NewClient(v.grafanaURL, dashboards.WithToken(token), dashboards.WithFolderUID(v.folder), dashboards.WithOverwrite(v.overwrite))
		if err != nil {
			return usageErrorf("dashboard: --grafana-url: %v", err)
		}
		if v.folder != "" {
			if err := c.EnsureFolder(ctx, v.folder, v.folder); err != nil {
				return fmt.Errorf("dashboard: folder %s: %w", v.folder, err)
			}
		}
		for _, d := range docs {
			res, err := c.Upload(ctx, d.json)
			if err != nil {
				return fmt.Errorf("dashboard: upload %s: %w", d.uid, err)
			}
			fmt.Fprintf(m.Stdout, "uploaded %s: %s%s (version %d)\n", d.uid, strings.TrimRight(v.grafanaURL, "/"), trimBase(v.grafanaURL, res.URL), res.Version)
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
func (m *Main) loadCatalog(ctx context.Context, catalogs, logs []string, in inputFlags) (*catalog.Catalog, error) {
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
	p, err := pipeline.New(in.option(), pipeline.WithCatalog(cat))
	if err != nil {
		return nil, err
	}
	if err := m.readLogs(ctx, p, logs); err != nil {
		return nil, err
	}
	return cat, nil
}
