package compare

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// sampleReport is a report as a run on examples/go-emf makes it, with
// timelines shaped like each strategy's.
func sampleReport() *Report {
	r := &Report{Function: "go-emf", WorkloadSeconds: 25, Concurrency: 4, BurstSeconds: 3, QuietSeconds: 2,
		IdleTimeoutSeconds: 1, ScrapeIntervalSecs: 8, Invocations: 3000, ColdStarts: 22, Environments: 22,
		EnvironmentsEnded: 22, MeanDurationMs: 1.42, MeanBilledMs: 2, MemoryMB: 128, Architecture: "x86_64", MonthlyInvocations: 10_000_000, Prices: pricesFor("x86_64")}
	lost := map[string]float64{"scrape": 0.8, "aggregate": 0, "remote-write": 0, "pushgateway": 0.92, "pushgateway-instance": 0}
	for _, st := range AllStrategies {
		s := StrategyResult{Name: string(st), Emitted: 36000, LostRatio: lost[string(st)], P50VisibilitySeconds: 2, P99VisibilitySeconds: 7.9}
		s.Visible = s.Emitted * (1 - s.LostRatio)
		for k := 0; k <= 200; k++ {
			t := 45 * float64(k) / 200
			e := 36000 * min(1, t/25)
			v := e * (1 - s.LostRatio)
			if st != RemoteWrite {
				v = 36000 * min(1, max(0, t-8)/25) * (1 - s.LostRatio)
			}
			s.Timeline = append(s.Timeline, TimePoint{Seconds: t, Emitted: e, Visible: v})
		}
		last := 3.0
		s.Families = []FamilyResult{
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
	if n := strings.Count(html, "<svg"); n != len(AllStrategies)+1 {
		t.Errorf("%d charts, want one per strategy and the lost-share chart", n)
	}
}

// chromium finds Chromium, or skips (fails under CI, as internal/testenv
// does for the backends).
func chromium(t *testing.T) string {
	t.Helper()
	for _, n := range []string{"chromium", "/usr/bin/chromium", "chromium-browser"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	msg := "chromium not found (install the Debian package chromium, or run scripts/install-test-deps.sh)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; CI is set, so this is a failure")
	}
	t.Skip(msg)
	return ""
}

func runChromium(t *testing.T, bin string, args ...string) (stdout, stderr []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.Bytes())
	}
	return out.Bytes(), errb.Bytes()
}

// TestHTMLRendersInChromium opens the report in headless Chromium: no
// console errors, the charts are in the DOM, and the screenshot shows
// them (the chart colours are there, and far from all pixels are white).
func TestHTMLRendersInChromium(t *testing.T) {
	checkRendersInChromium(t, sampleReport())
}

// checkRendersInChromium writes rep as HTML and checks it in Chromium.
func checkRendersInChromium(t *testing.T, rep *Report) {
	t.Helper()
	bin := chromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteHTML(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	url := "file://" + page

	dom, stderr := runChromium(t, bin, "--dump-dom", url)
	console := regexp.MustCompile(`(?i)CONSOLE|Uncaught|ERR_FILE_NOT_FOUND|net::ERR`)
	if m := console.Find(stderr); m != nil {
		t.Errorf("chromium reported %q:\n%s", m, stderr)
	}
	if n := bytes.Count(dom, []byte("<polyline")); n != 2*len(rep.Strategies) {
		t.Errorf("DOM has %d polylines, want emitted and visible for %d strategies", n, len(rep.Strategies))
	}

	shot := filepath.Join(dir, "shot.png")
	_, stderr = runChromium(t, bin, "--hide-scrollbars", "--window-size=1280,1600", "--screenshot="+shot, url)
	if m := console.Find(stderr); m != nil {
		t.Errorf("chromium reported %q:\n%s", m, stderr)
	}
	pf, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, stderr)
	}
	defer pf.Close()
	img, err := png.Decode(pf)
	if err != nil {
		t.Fatal(err)
	}
	bounds := img.Bounds()
	var nonWhite, blue, red, total int
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			r, g, b = r>>8, g>>8, b>>8
			total++
			if r < 245 || g < 245 || b < 245 {
				nonWhite++
			}
			if b > 200 && r < 80 && g > 80 && g < 140 { // #1f6feb, the visible line
				blue++
			}
			if r > 190 && g < 90 && b < 100 { // #d73a49, the lost bars
				red++
			}
		}
	}
	t.Logf("screenshot %dx%d: %d non-white, %d blue, %d red pixels", bounds.Dx(), bounds.Dy(), nonWhite, blue, red)
	if nonWhite < total/50 {
		t.Errorf("screenshot nearly blank: %d of %d pixels not white", nonWhite, total)
	}
	if blue < 200 {
		t.Errorf("charts not rendered: %d blue pixels (the visible lines)", blue)
	}
	lost := false
	for _, s := range rep.Strategies {
		lost = lost || s.LostRatio > 0.05
	}
	if lost && red < 200 {
		t.Errorf("lost-share chart not rendered: %d red pixels", red)
	}
}
