package main

import (
	"fmt"
	"github.com/lambdabridge/lambdabridge/catalog"
	"os"
	"strings"
	"testing"

	"github.com/lambdabridge/lambdabridge/dogstatsd"
	"github.com/lambdabridge/lambdabridge/emf"
	"github.com/lambdabridge/lambdabridge/logline"
	"github.com/lambdabridge/lambdabridge/validate"
)

// ruleTables renders the README's rule tables from the rules the code
// reports.
func ruleTables() map[string]string {
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	var e, d strings.Builder
	e.WriteString("| rule | severity | CloudWatch | what |\n|---|---|---|---|\n")
	for _, r := range emf.Rules {
		fmt.Fprintf(&e, "| `%s` | %s | %s | %s |\n", r.Rule, r.Severity, r.Effect, cell(r.Doc))
	}
	d.WriteString("| rule | severity | Datadog | what |\n|---|---|---|---|\n")
	for _, r := range dogstatsd.Rules {
		fmt.Fprintf(&d, "| `%s` | %s | %s | %s |\n", r.ID, r.Severity, r.Effect, cell(r.Summary))
	}
	return map[string]string{"emf": e.String(), "dogstatsd": d.String()}
}

// TestREADMERules keeps the README's rule tables in step with the rules the
// code reports; go test -update rewrites them.
func TestREADMERules(t *testing.T) {
	const path = "../../README.md"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	for name, table := range ruleTables() {
		start, end := "<!-- rules:"+name+" -->\n", "<!-- /rules:"+name+" -->"
		i, j := strings.Index(readme, start), strings.Index(readme, end)
		if i < 0 || j < i {
			t.Fatalf("README.md lacks the %s rule table markers", name)
		}
		if got := readme[i+len(start) : j]; got != table {
			if !*update {
				t.Errorf("README.md's %s rule table is out of date (go test ./cmd/lambdabridge -run README -update)", name)
				continue
			}
			readme = readme[:i+len(start)] + table + readme[j:]
		}
	}
	if *update {
		if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{validate.RuleNameCollision, validate.RuleTypeConflict, validate.RuleSuffixClash, validate.RuleLabelClash, logline.RuleLineTooLong,
		catalog.RuleNoUsefulLabel, catalog.RuleHighCardinality, catalog.RuleUnitUnknown, catalog.RuleUnitMissing, catalog.RuleHistogramBuckets, catalog.RuleLabelSets, catalog.RuleTypeConflict} {
		if !strings.Contains(readme, "`"+id+"`") {
			t.Errorf("README.md does not document rule %s", id)
		}
	}
}
