// Package reporttest checks a compare report in a real browser: the HTML
// page is opened in headless Chromium (skipped without it, a failure under
// CI, as internal/testenv does for the backends).
//
//	func TestReport(t *testing.T) {
//		reporttest.CheckRendersInChromium(t, rep)
//	}
package reporttest

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/lambdabridge/lambdabridge/compare/report"
	"github.com/lambdabridge/lambdabridge/internal/testenv"
)

func runChromium(t testing.TB, bin string, args ...string) (stdout, stderr []byte) {
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

// CheckRendersInChromium writes rep as HTML and checks it in Chromium.
func CheckRendersInChromium(t testing.TB, rep *report.Report) {
	t.Helper()
	bin := testenv.LookPath(t, "chromium", "chromium", "/usr/bin/chromium", "chromium-browser")
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
