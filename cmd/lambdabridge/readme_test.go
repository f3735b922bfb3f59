package main

import (
	"os"
	"strings"
	"testing"

	"github.com/lambdabridge/lambdabridge/dogstatsd"
	"github.com/lambdabridge/lambdabridge/emf"
	"github.com/lambdabridge/lambdabridge/logline"
	"github.com/lambdabridge/lambdabridge/validate"
)

// TestREADMEListsEveryRule keeps the README's rule tables in step with the
// rules the code reports.
func TestREADMEListsEveryRule(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	ids := []string{validate.RuleNameCollision, validate.RuleTypeConflict, validate.RuleSuffixClash, validate.RuleLabelClash, logline.RuleLineTooLong}
	for _, r := range emf.Rules {
		ids = append(ids, r.Rule)
	}
	for _, r := range dogstatsd.Rules {
		ids = append(ids, r.ID)
	}
	for _, id := range ids {
		if !strings.Contains(readme, "`"+id+"`") {
			t.Errorf("README.md does not document rule %s", id)
		}
	}
}
