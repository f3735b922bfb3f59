// Package conformance loads the cases the peers' own test suites hold
// (the Datadog agent's DogStatsD parser tests, statsd_exporter's line and
// mapper tests, the EMF client libraries'), kept as data outside the
// repository in shared/conformance/data, and the judgement of every known
// disagreement. Tests that use it skip, saying why, when the folder is
// absent.
//
//	var data struct{ Cases []Case }
//	conformance.Load(t, "dogstatsd_datadog_agent.json", &data)
//	why, wrong := conformance.Judged(t, "dogstatsd-datadog-agent", id)
package conformance

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// EnvDir names the variable that points at the data folder when it is not
// found next to the checkout (../shared/conformance/data from the root, or
// from a parent folder).
const EnvDir = "LAMBDABRIDGE_CONFORMANCE"

// Dir returns the data folder, or skips t.
func Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Skipf("conformance data: %v", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		c := filepath.Join(d, "shared", "conformance", "data")
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	t.Skipf("conformance data not found: no shared/conformance/data above %s and %s is not set; the peers' cases are kept outside the repository", wd, EnvDir)
	return ""
}

// Load decodes the data file name into v, or skips t.
func Load(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(t), name))
	if err != nil {
		t.Skipf("conformance data: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("conformance data %s: %v", name, err)
	}
}

// Judgement is the analysis of one disagreement: who is right and why.
type Judgement struct {
	Verdict string `json:"verdict"` // lambdabridge-wrong, peer-specific, documented-deviation, ambiguous
	Text    string `json:"text"`
}

var (
	judgeOnce sync.Once
	judged    map[string]Judgement
)

// Judged returns the judgement of case id of suite (the key
// "suite|id" of judgements.json), and whether there is one.
func Judged(t testing.TB, suite, id string) (Judgement, bool) {
	t.Helper()
	judgeOnce.Do(func() {
		judged = map[string]Judgement{}
		b, err := os.ReadFile(filepath.Join(Dir(t), "judgements.json"))
		if err == nil {
			json.Unmarshal(b, &judged)
		}
	})
	j, ok := judged[suite+"|"+id]
	return j, ok
}

// Deviations are the differences a test lists itself, by case id, with
// the reason; Stale says which no longer differ.
type Deviations struct {
	Reasons map[string]string
	used    sync.Map
}

// Stale fails t for every listed difference no case needed: the reason no
// longer holds and must go.
func (d *Deviations) Stale(t testing.TB) {
	t.Helper()
	for id := range d.Reasons {
		if _, ok := d.used.Load(id); !ok {
			t.Errorf("listed difference %q no longer differs: remove it", id)
		}
	}
}

// Deviation decides a case whose result differs from the peer's: a
// difference judged other than "lambdabridge-wrong" or listed in local (a
// reason of the test's own) is logged; any other fails t.
func Deviation(t testing.TB, suite, id, diff string, local *Deviations) {
	t.Helper()
	if why, ok := local.Reasons[id]; ok {
		local.used.Store(id, true)
		t.Logf("deliberate difference: %s", why)
		return
	}
	if j, ok := Judged(t, suite, id); ok && j.Verdict != "lambdabridge-wrong" {
		t.Logf("deliberate difference (%s): %s", j.Verdict, j.Text)
		return
	}
	t.Errorf("differs from the peer:\n%s", diff)
}
