package validate

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/lambdabridge/lambdabridge/metric"
)

// Summary counts what a validation run saw (pipeline.ValidationSummary
// fills it).
type Summary struct {
	Files       int            `json:"files"`
	Lines       int            `json:"lines"`
	MetricLines map[string]int `json:"metric_lines"` // by format
	Points      int            `json:"points"`
	Families    int            `json:"families"`
	Errors      int            `json:"errors"`
	Warnings    int            `json:"warnings"`
}

// String renders the summary as the last line of `lambdabridge validate`.
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s", plural(s.Files, "input"), plural(s.Lines, "line"))
	total := 0
	formats := make([]string, 0, len(s.MetricLines))
	for f, n := range s.MetricLines {
		total += n
		formats = append(formats, f)
	}
	sort.Strings(formats)
	fmt.Fprintf(&b, ": %s", plural(total, "metric line"))
	if len(formats) > 0 {
		parts := make([]string, len(formats))
		for i, f := range formats {
			parts[i] = fmt.Sprintf("%s %d", f, s.MetricLines[f])
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, ", %s in %s; %s, %s",
		plural(s.Points, "point"), plural(s.Families, "Prometheus family"),
		plural(s.Errors, "error"), plural(s.Warnings, "warning"))
	return b.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "y") {
		return fmt.Sprintf("%d %sies", n, word[:len(word)-1])
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// JSONDiagnostic is the JSON form of a diagnostic.
type JSONDiagnostic struct {
	File     string `json:"file"`
	Line     int    `json:"line,omitempty"`
	Format   string `json:"format"`
	Severity string `json:"severity"`
	Rule     string `json:"rule"`
	Message  string `json:"message"`
	Effect   string `json:"effect,omitempty"`
	Hint     string `json:"hint,omitempty"`
}

// ToJSON converts d to its JSON form.
func ToJSON(d *metric.Diagnostic) JSONDiagnostic {
	j := JSONDiagnostic{
		File: d.Origin.Source, Line: d.Origin.Line, Format: d.Format.String(),
		Severity: d.Severity.String(), Rule: d.Rule, Message: d.Message, Hint: d.Hint,
	}
	if d.Effect != metric.EffectNone {
		j.Effect = d.Effect.String()
	}
	return j
}

// WriteJSON writes the report of `lambdabridge validate --format json`.
func WriteJSON(w io.Writer, diags []JSONDiagnostic, sum Summary) error {
	if diags == nil {
		diags = []JSONDiagnostic{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Diagnostics []JSONDiagnostic `json:"diagnostics"`
		Summary     Summary          `json:"summary"`
	}{diags, sum})
}
