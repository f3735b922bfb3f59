package validate

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/lambdabridge/lambdabridge/catalog"
	"github.com/lambdabridge/lambdabridge/logline"
	"github.com/lambdabridge/lambdabridge/metric"
)

// Summary counts what a validation run saw.
type Summary struct {
	Files       int            `json:"files"`
	Lines       int            `json:"lines"`
	MetricLines map[string]int `json:"metric_lines"` // by format
	Points      int            `json:"points"`
	Families    int            `json:"families"`
	Errors      int            `json:"errors"`
	Warnings    int            `json:"warnings"`
}

// Session validates log streams: every line through the format parsers, every
// point through the cross-format checks. It is not safe for concurrent use.
type Session struct {
	parser   *logline.Parser
	checker  *Checker
	catalog  *catalog.Catalog
	families map[string]struct{}
	summary  Summary
	// OnDiag, when set, receives every diagnostic as it is found (the
	// pointer is valid only during the call).
	OnDiag func(*metric.Diagnostic)
	// OnPoint, when set, receives every point found.
	OnPoint func(*metric.Point)
}

// NewSession returns a session parsing with p.
func NewSession(p *logline.Parser) *Session {
	return &Session{
		parser:   p,
		checker:  New(),
		catalog:  catalog.New(),
		families: map[string]struct{}{},
		summary:  Summary{MetricLines: map[string]int{}},
	}
}

// Read validates one log stream called name.
func (s *Session) Read(name string, r io.Reader) error {
	s.summary.Files++
	return logline.Read(r, name, 0, s.parser, func(b *metric.Batch, l logline.Line, f metric.Format) error {
		s.summary.Lines++
		if f != metric.FormatUnknown {
			s.summary.MetricLines[f.String()]++
		}
		s.batch(b)
		return nil
	})
}

// Finish runs the checks that need the whole input: the parsers' (an EMF
// dimension unique in every event, unit drift) and the catalog's, which
// matter for dashboards (families without a useful label, units Grafana
// cannot show, histograms with too few buckets for the quantiles asked).
// Call it once, after the last Read.
func (s *Session) Finish() {
	var b metric.Batch
	s.parser.Finish(&b)
	s.batch(&b)
	for _, d := range s.catalog.Lint() {
		s.count(&d)
	}
}

// Catalog returns the catalog of every family seen.
func (s *Session) Catalog() *catalog.Catalog { return s.catalog }

func (s *Session) batch(b *metric.Batch) {
	s.checker.Check(b)
	for i := range b.Points {
		p := &b.Points[i]
		s.summary.Points++
		s.families[s.checker.translate(p).Name] = struct{}{}
		s.catalog.Add(p)
		if s.OnPoint != nil {
			s.OnPoint(p)
		}
	}
	for i := range b.Diags {
		s.count(&b.Diags[i])
	}
}

func (s *Session) count(d *metric.Diagnostic) {
	switch d.Severity {
	case metric.Error:
		s.summary.Errors++
	case metric.Warning:
		s.summary.Warnings++
	}
	if s.OnDiag != nil {
		s.OnDiag(d)
	}
}

// Summary returns the counts so far.
func (s *Session) Summary() Summary {
	sum := s.summary
	sum.Families = len(s.families)
	return sum
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
