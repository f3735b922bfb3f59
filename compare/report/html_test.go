package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/lambdabridge/lambdabridge/compare/report"
	"github.com/lambdabridge/lambdabridge/compare/report/reporttest"
)

// strategies are compare's strategy names, in report order.
var strategies = []string{"scrape", "aggregate", "remote-write", "pushgateway", "pushgateway-instance"}

// sampleReport is a report as a run on examples/go-emf makes it, with
// timelines shaped like each strategy's.
func sampleReport() *report.Report {
	r := &report.Report{Function: "go-emf", WorkloadSeconds: 25, Concurrency: 4, BurstSeconds: 3, QuietSeconds: 2,
		IdleTimeoutSeconds: 1, ScrapeIntervalSecs: 8, Invocations: 3000, ColdStarts: 22, Environments: 22,
		EnvironmentsEnded: 22, MeanDurationMs: 1.42, MeanBilledMs: 2, MemoryMB: 128, Architecture: "x86_64", MonthlyInvocations: 10_000_000,
		Prices: report.Prices{Date: "2024-11-15", LambdaUSDPerGBSecond: 0.0000166667, IngestionUSDPerMillion: 0.09,
			IngestionPriceReference: "Amazon Managed Service for Prometheus, first tier"}}
	lost := map[string]float64{"scrape": 0.8, "aggregate": 0, "remote-write": 0, "pushgateway": 0.92, "pushgateway-instance": 0}
	for _, st := range strategies {
		s := report.StrategyResult{Name: st, Emitted: 36000, LostRatio: lost[st], P50VisibilitySeconds: 2, P99VisibilitySeconds: 7.9}
		s.Visible = s.Emitted * (1 - s.LostRatio)
		for k := 0; k <= 200; k++ {
			t := 45 * float64(k) / 200
			e := 36000 * min(1, t/25)
			v := e * (1 - s.LostRatio)
			if st != "remote-write" {
				v = 36000 * min(1, max(0, t-8)/25) * (1 - s.LostRatio)
			}
			s.Timeline = append(s.Timeline, report.TimePoint{Seconds: t, Emitted: e, Visible: v})
		}
		last := 3.0
		s.Families = []report.FamilyResult{
			{Name: "checkout_orders_total", Type: "counter", EmittedCount: 3000, VisibleCount: 3000 * (1 - s.LostRatio), LostRatio: s.LostRatio},
			{Name: "checkout_cart_items", Type: "gauge", EmittedLast: &last, VisibleLast: &last},
		}
		r.Strategies = append(r.Strategies, s)
	}
	return r
}

func TestHTMLSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, bad := range []string{"<script", "src=", "href=", "@import", "url(", "<link"} {
		if strings.Contains(html, bad) {
			t.Errorf("report contains %q: it must not load anything", bad)
		}
	}
	if n := strings.Count(html, "<svg"); n != len(strategies)+1 {
		t.Errorf("%d charts, want one per strategy and the lost-share chart", n)
	}
}

// TestHTMLRendersInChromium opens the report in headless Chromium: no
// console errors, the charts are in the DOM, and the screenshot shows
// them (the chart colours are there, and far from all pixels are white).
func TestHTMLRendersInChromium(t *testing.T) {
	reporttest.CheckRendersInChromium(t, sampleReport())
}
