// Package dashboards generates Grafana dashboards from a metric catalog, in
// two flavours: Prometheus (the families lambdabridge exports, with PromQL)
// and CloudWatch (the same metrics as CloudWatch holds them: EMF namespaces,
// names and dimension sets as declared, and AWS/Lambda). It also writes a
// Grafana provisioning tree and uploads dashboards through Grafana's HTTP API.
//
//	d, err := dashboards.Prometheus(cat, dashboards.WithTitle("Shop"))
//	b, err := dashboards.Marshal(d) // byte-identical for the same catalog
//	c, err := dashboards.NewClient(url, dashboards.WithToken(tok)); res, err := c.Upload(ctx, b)
//
// The output is stable: panels, rows and variables are ordered by name, panel
// ids are assigned in that order and uids are derived from the title.
package dashboards

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"slices"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/lambdabridge/lambdabridge/catalog"
)

// Flavour names the data source a dashboard queries.
type Flavour string

const (
	FlavourPrometheus Flavour = "prometheus"
	FlavourCloudWatch Flavour = "cloudwatch"
)

// The uids of the data sources a provisioning tree declares; dashboards
// select them by default.
const (
	PrometheusDatasourceUID = "lambdabridge-prometheus"
	AMPDatasourceUID        = "lambdabridge-amp"
	CloudWatchDatasourceUID = "lambdabridge-cloudwatch"
)

// Option configures a generated dashboard.
type Option func(*config)

type config struct {
	title, uid   string
	region       string
	datasource   string
	dsType       string // type of the Prometheus data source
	from, to     string
	refresh      string
	functionName string // Prometheus label holding the function name
}

// WithTitle sets the dashboard title (default: "Lambda: " and the functions
// the catalog knows, plus the flavour).
func WithTitle(t string) Option { return func(c *config) { c.title = t } }

// WithUID sets the dashboard uid (default: derived from the title).
func WithUID(uid string) Option { return func(c *config) { c.uid = uid } }

// WithRegion sets the AWS region CloudWatch queries use (default "default":
// the data source's default region).
func WithRegion(r string) Option { return func(c *config) { c.region = r } }

// WithDatasource sets the uid the datasource variable selects by default
// (default PrometheusDatasourceUID or CloudWatchDatasourceUID).
func WithDatasource(uid string) Option { return func(c *config) { c.datasource = uid } }

// WithDatasourceType sets the type (plugin id) of the Prometheus flavour's
// data source: PrometheusType (default) or AMPType, as provisioned (see
// PrometheusTypeFor). The datasource variable lists data sources of that type.
func WithDatasourceType(t string) Option { return func(c *config) { c.dsType = t } }

// WithTimeRange sets the default time range (default now-1h to now).
func WithTimeRange(from, to string) Option { return func(c *config) { c.from, c.to = from, to } }

// WithRefresh sets the auto-refresh interval (default 30s; "" for none).
func WithRefresh(r string) Option { return func(c *config) { c.refresh = r } }

func newConfig(opts []Option) config {
	c := config{region: "default", from: "now-1h", to: "now", refresh: "30s", functionName: "function_name", dsType: PrometheusType}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// defaultTitle names the dashboard after the functions the catalog knows.
func defaultTitle(fams []catalog.Family) string {
	seen := map[string]bool{}
	var fns []string
	for _, f := range fams {
		for _, s := range f.Sources {
			for _, fn := range s.Functions {
				if !seen[fn] {
					seen[fn] = true
					fns = append(fns, fn)
				}
			}
		}
	}
	if len(fns) == 0 {
		return "Lambda functions"
	}
	slices.Sort(fns)
	if len(fns) > 3 {
		fns = append(fns[:3], "…")
	}
	return "Lambda: " + strings.Join(fns, ", ")
}

// UID derives a Grafana dashboard uid (at most 40 characters of [a-z0-9-])
// from a name: the name's slug, shortened with a hash when too long.
func UID(name string) string {
	slug := slugify(name, '-')
	sum := sha256.Sum256([]byte(name))
	h := hex.EncodeToString(sum[:4])
	switch {
	case slug == "":
		return "lambdabridge-" + h
	case len(slug) > 40:
		return strings.TrimRight(slug[:31], "-") + "-" + h
	}
	return slug
}

// slugify is s in lower case with every run of characters other than
// [a-z0-9] as one sep, none at either end: ("EMF: Shop", '_') -> "emf_shop".
func slugify(s string, sep byte) string {
	var b strings.Builder
	at := true // at the start or after a separator
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			at = false
		} else if !at {
			b.WriteByte(sep)
			at = true
		}
	}
	return strings.TrimRight(b.String(), string(sep))
}

// Marshal renders a dashboard as indented JSON ending in a newline.
func Marshal(d dashboard.Dashboard) ([]byte, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("dashboards: encode: %w", err)
	}
	return append(b, '\n'), nil
}

func ptr[T any](v T) *T { return &v }

func dsRef(typ string) common.DataSourceRef {
	return common.DataSourceRef{Type: ptr(typ), Uid: ptr("${datasource}")}
}

func option(text, value string) dashboard.VariableOption {
	return dashboard.VariableOption{
		Text:  dashboard.StringOrArrayOfString{String: ptr(text)},
		Value: dashboard.StringOrArrayOfString{String: ptr(value)},
	}
}

func allOption() dashboard.VariableOption { return option("All", "$__all") }

// refID returns A, B, ... Z, AA, AB, ...
func refID(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

// promUnit is the Grafana unit of a Prometheus base unit.
func promUnit(u string) string {
	switch u {
	case "seconds":
		return "s"
	case "bytes":
		return "bytes"
	case "bits":
		return "bits"
	case "percent":
		return "percent"
	case "bytes_per_second":
		return "binBps"
	case "bits_per_second":
		return "bps"
	case "per_second":
		return "cps"
	case "usd":
		return "currencyUSD"
	}
	return "short"
}

// cloudWatchUnit is the Grafana unit of a CloudWatch unit (values as
// CloudWatch returns them: in the unit declared).
var cloudWatchUnits = map[string]string{
	"Seconds": "s", "Milliseconds": "ms", "Microseconds": "µs",
	"Bytes": "bytes", "Kilobytes": "kbytes", "Megabytes": "mbytes", "Gigabytes": "gbytes", "Terabytes": "tbytes",
	"Bits": "bits", "Kilobits": "suffix: kbit", "Megabits": "suffix: Mbit", "Gigabits": "suffix: Gbit", "Terabits": "suffix: Tbit",
	"Percent": "percent", "Count": "short", "None": "short", "": "short",
	"Bytes/Second": "binBps", "Kilobytes/Second": "KiBs", "Megabytes/Second": "MiBs", "Gigabytes/Second": "GiBs", "Terabytes/Second": "TiBs",
	"Bits/Second": "bps", "Kilobits/Second": "Kbits", "Megabits/Second": "Mbits", "Gigabits/Second": "Gbits", "Terabits/Second": "suffix: Tbit/s",
	"Count/Second": "cps",
}

// grid places panels left to right on Grafana's 24-column grid, starting a
// new line when a panel does not fit, and rows across the full width.
type grid struct {
	x, y, h uint32
}

func (g *grid) row() dashboard.GridPos {
	g.newline()
	p := dashboard.GridPos{X: 0, Y: g.y, W: 24, H: 1}
	g.y++
	return p
}

func (g *grid) place(w, h uint32) dashboard.GridPos {
	if g.x+w > 24 {
		g.newline()
	}
	p := dashboard.GridPos{X: g.x, Y: g.y, W: w, H: h}
	g.x += w
	g.h = max(g.h, h)
	return p
}

func (g *grid) newline() {
	if g.x > 0 {
		g.y += g.h
	}
	g.x, g.h = 0, 0
}

// layout places the panels of one dashboard: their datasource, ids and
// grid positions.
type layout struct {
	ds   common.DataSourceRef
	id   uint32
	grid grid
}

// timeseries is a half-width time series panel with a table legend.
func (l *layout) timeseries(title, desc, unit string, targets ...cog.Builder[variants.Dataquery]) *timeseries.PanelBuilder {
	l.id++
	p := timeseries.NewPanelBuilder().
		Id(l.id).Title(title).Description(desc).Datasource(l.ds).Unit(unit).
		GridPos(l.grid.place(12, 8)).
		FillOpacity(10).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeTable).Placement(common.LegendPlacementBottom).
			ShowLegend(true).Calcs([]string{"lastNotNull", "max"}))
	for _, t := range targets {
		p.WithTarget(t)
	}
	return p
}
