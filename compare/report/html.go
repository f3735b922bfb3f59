package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
)

// WriteHTML writes the report as one self-contained HTML page: no
// scripts, no external fonts or styles; the charts are inline SVG.
func (r *Report) WriteHTML(w io.Writer) error {
	type chart struct {
		Name string
		SVG  template.HTML
		S    StrategyResult
	}
	var charts []chart
	for _, s := range r.Strategies {
		charts = append(charts, chart{Name: s.Name, SVG: template.HTML(lineChart(s.Timeline)), S: s})
	}
	data := struct {
		R       *Report
		Charts  []chart
		LostSVG template.HTML
	}{r, charts, template.HTML(lostChart(r.Strategies))}
	if err := htmlTmpl.Execute(w, data); err != nil {
		return fmt.Errorf("compare: write html: %w", err)
	}
	return nil
}

const (
	chartW, chartH = 560.0, 240.0
	padL, padR     = 56.0, 12.0
	padT, padB     = 12.0, 32.0
)

// lineChart draws emitted (grey) and visible (blue) totals over time.
func lineChart(tl []TimePoint) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img">`, chartW, chartH, chartW, chartH)
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%.0f" height="%.0f" fill="#ffffff"/>`, chartW, chartH)
	maxT, maxV := 1.0, 1.0
	for _, p := range tl {
		maxT = math.Max(maxT, p.Seconds)
		maxV = math.Max(maxV, math.Max(p.Emitted, p.Visible))
	}
	x := func(t float64) float64 { return padL + (chartW-padL-padR)*t/maxT }
	y := func(v float64) float64 { return chartH - padB - (chartH-padT-padB)*v/maxV }
	// axes and grid
	for i := 0; i <= 4; i++ {
		v := maxV * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#dddddd"/>`, padL, y(v), chartW-padR, y(v))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="end" fill="#555555">%s</text>`, padL-4, y(v)+3, num(math.Round(v)))
	}
	for i := 0; i <= 5; i++ {
		t := maxT * float64(i) / 5
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle" fill="#555555">%.0fs</text>`, x(t), chartH-padB+14, t)
	}
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333333"/>`, padL, chartH-padB, chartW-padR, chartH-padB)
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333333"/>`, padL, padT, padL, chartH-padB)
	line := func(get func(TimePoint) float64, color string, width float64) {
		if len(tl) == 0 {
			return
		}
		var pts []string
		for _, p := range tl {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.Seconds), y(get(p))))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="%.1f" points="%s"/>`, color, width, strings.Join(pts, " "))
	}
	line(func(p TimePoint) float64 { return p.Emitted }, "#888888", 3)
	line(func(p TimePoint) float64 { return p.Visible }, "#1f6feb", 2)
	fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="10" height="10" fill="#888888"/><text x="%.0f" y="%.0f" font-size="11">emitted</text>`, padL+10, padT+2, padL+24, padT+11)
	fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="10" height="10" fill="#1f6feb"/><text x="%.0f" y="%.0f" font-size="11">visible in Prometheus</text>`, padL+80, padT+2, padL+94, padT+11)
	b.WriteString(`</svg>`)
	return b.String()
}

// lostChart draws the lost (red) and over-counted (orange) share per
// strategy as horizontal bars.
func lostChart(ss []StrategyResult) string {
	const rowH, labelW, barW = 26.0, 170.0, 360.0
	h := rowH*float64(len(ss)) + 24
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img">`, labelW+barW+70, h, labelW+barW+70, h)
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%.0f" height="%.0f" fill="#ffffff"/>`, labelW+barW+70, h)
	for i, s := range ss {
		y := 8 + rowH*float64(i)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="12" text-anchor="end">%s</text>`, labelW-8, y+14, template.HTMLEscapeString(s.Name))
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.0f" height="18" fill="#eeeeee"/>`, labelW, y, barW)
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.1f" height="18" fill="#d73a49"/>`, labelW, y, barW*math.Min(1, s.LostRatio))
		if s.OverCountedRatio > 0 {
			fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.1f" height="18" fill="#f0883e"/>`, labelW, y, barW*math.Min(1, s.OverCountedRatio))
		}
		label := "lost " + pct(s.LostRatio)
		if s.OverCountedRatio > 0 {
			label += ", over " + pct(s.OverCountedRatio)
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="11">%s</text>`, labelW+barW+6, y+14, label)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

var htmlTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": pct, "secs": secs, "bytes": bytesHuman, "num": num,
	"deref": func(p *float64) string {
		if p == nil {
			return "–"
		}
		return num(*p)
	},
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>lambdabridge compare: {{.R.Function}}</title>
<style>
body { font-family: sans-serif; margin: 24px; color: #222; background: #fff; }
table { border-collapse: collapse; margin: 12px 0 24px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; font-size: 13px; }
th:first-child, td:first-child { text-align: left; }
.grid { display: flex; flex-wrap: wrap; gap: 16px; }
.card { border: 1px solid #ddd; padding: 8px 12px; }
.card h3 { margin: 4px 0 8px; font-size: 15px; }
.note { color: #555; font-size: 13px; max-width: 60em; }
</style>
</head>
<body>
<h1>lambdabridge compare: {{.R.Function}}</h1>
<p class="note">{{.R.Invocations}} invocations ({{.R.ColdStarts}} cold starts) in {{.R.Environments}} execution environments ({{.R.EnvironmentsEnded}} recycled), {{printf "%.0f" .R.WorkloadSeconds}} s of bursts of {{printf "%.0f" .R.BurstSeconds}} s at concurrency {{.R.Concurrency}}, idle timeout {{printf "%.1f" .R.IdleTimeoutSeconds}} s, Prometheus scrape interval {{printf "%.0f" .R.ScrapeIntervalSecs}} s. Emitted and visible are count units: counter increments plus histogram observations.</p>
<h2>Strategies</h2>
<table id="summary">
<tr><th>strategy</th><th>emitted</th><th>visible</th><th>lost</th><th>over-counted</th><th>gauges ok</th><th>stale series</th><th>visible p50</th><th>visible p99</th><th>+billed ms / invocation</th><th>requests</th><th>sent</th><th>samples</th><th>$ / month</th></tr>
{{range .R.Strategies}}<tr><td>{{.Name}}</td><td>{{num .Emitted}}</td><td>{{num .Visible}}</td><td>{{pct .LostRatio}}</td><td>{{pct .OverCountedRatio}}</td><td>{{.GaugesMatched}}/{{.Gauges}}</td><td>{{.StaleSeries}}</td><td>{{secs .P50VisibilitySeconds}}</td><td>{{secs .P99VisibilitySeconds}}</td><td>{{printf "%.2f" .AddedBilledMsPerInvocation}}</td><td>{{.Requests}}</td><td>{{bytes .BytesSent}}</td><td>{{.SamplesIngested}}</td><td>{{printf "%.2f" .MonthlyCostUSD}}</td></tr>
{{end}}</table>
<h2>Lost share</h2>
{{.LostSVG}}
<h2>Emitted vs visible over time</h2>
<div class="grid">
{{range .Charts}}<div class="card"><h3>{{.Name}}</h3>{{.SVG}}<p class="note">lost {{pct .S.LostRatio}}, visible after {{secs .S.P50VisibilitySeconds}} (p50) / {{secs .S.P99VisibilitySeconds}} (p99)</p></div>
{{end}}</div>
<h2>Per family</h2>
{{range .R.Strategies}}<h3>{{.Name}}</h3>
<table>
<tr><th>family</th><th>type</th><th>emitted count</th><th>visible count</th><th>emitted sum</th><th>visible sum</th><th>emitted last</th><th>visible last</th><th>lost</th><th>over</th><th>series</th></tr>
{{range .Families}}<tr><td>{{.Name}}</td><td>{{.Type}}</td><td>{{num .EmittedCount}}</td><td>{{num .VisibleCount}}</td><td>{{num .EmittedSum}}</td><td>{{num .VisibleSum}}</td><td>{{deref .EmittedLast}}</td><td>{{deref .VisibleLast}}</td><td>{{pct .LostRatio}}</td><td>{{pct .OverCountedRatio}}</td><td>{{.Series}}</td></tr>
{{end}}</table>
<p class="note">PromQL: <code>{{.Query}}</code></p>
{{end}}
<p class="note">Monthly cost at {{.R.MonthlyInvocations}} invocations: Lambda GB-seconds added by the work done inside invocations at ${{.R.Prices.LambdaUSDPerGBSecond}} per GB-second ({{.R.MemoryMB}} MB, {{.R.Architecture}}), plus samples ingested at ${{.R.Prices.IngestionUSDPerMillion}} per million ({{.R.Prices.IngestionPriceReference}}); prices of {{.R.Prices.Date}}. Prometheus ingests the scraped strategies (scrape, aggregate, the Pushgateway) once per scrape interval, whatever the number of invocations, and remote_write once per invocation; the extension at every flush (periodic: scaled by the run's time; invocation: per invocation), and the time it adds to each invocation is the invoke phase after the runtime's answer (its work before its call to next with invocation; with periodic it takes no INVOKE, and this is the runtime's own call to next).</p>
{{range .R.Notes}}<p class="note">Note: {{.}}</p>
{{end}}</body>
</html>
`))
