package mapping

import (
	"fmt"
	"maps"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lambdabridge/lambdabridge/aggregate"
	"github.com/lambdabridge/lambdabridge/metric"
)

// Mapper applies mapping rules to points. It implements aggregate.Mapper
// and is safe for concurrent use. Results are cached per point identity
// (format, kind, namespace, name, unit), so a name is matched once.
type Mapper struct {
	globs   []*rule // glob rules for Datadog/DogStatsD names, in file order
	regexes []*rule // regex rules for Datadog/DogStatsD names, in file order
	emf     []*rule // EMF rules, in file order
	def     defaults
	tm      *aggregate.TranslateMapper

	mu    sync.RWMutex
	cache map[identity]*result
}

type identity struct {
	format          metric.Format
	kind            metric.Kind
	namespace, name string
	unit            string
}

// result is what a point identity maps to.
type result struct {
	fam    *aggregate.Family // nil: drop
	labels []metric.Label
	honor  bool
}

// rule is a validated, compiled Rule.
type rule struct {
	Rule
	index, line int
	re          *regexp.Regexp
	metricType  string // match_metric_type
	typ         metric.Type
	observer    metric.Type
	drop        bool
	hist        HistogramOptions
	sum         SummaryOptions
	hasSum      bool
}

// defaults are the compiled Defaults.
type defaults struct {
	observer  metric.Type
	matchType string
	ttl       time.Duration
	hist      HistogramOptions
	sum       SummaryOptions
}

const maxCache = 100000

// Load reads and parses the mapping file at path.
func Load(path string) (*Mapper, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load mapping config: %w", err)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Parse parses a mapping file strictly: unknown keys, bad values and rules
// that cannot work are errors that name the line.
func Parse(data []byte) (*Mapper, error) {
	c, n, err := decode(data)
	if err != nil {
		return nil, err
	}
	return compile(c, ruleLines(n))
}

// FromNode builds a Mapper from the mapping section of a larger YAML
// document (a node holding defaults: and mappings:), with the same strict
// checks and line numbers as Parse.
func FromNode(n *yaml.Node) (*Mapper, error) {
	c, n, err := decodeNode(n)
	if err != nil {
		return nil, err
	}
	return compile(c, ruleLines(n))
}

// New builds a Mapper from a Config built in code.
func New(c Config) (*Mapper, error) { return compile(&c, nil) }

func compile(c *Config, lines []int) (*Mapper, error) {
	m := &Mapper{tm: aggregate.NewTranslateMapper(), cache: map[identity]*result{}}
	d := c.Defaults
	var err error
	if d.ObserverType == "" {
		d.ObserverType = d.TimerType
	}
	if d.GlobDisableOrdering {
		return nil, fmt.Errorf("defaults: glob_disable_ordering: true is not supported: lambdabridge applies glob rules in file order, the first match wins (statsd_exporter would pick the most specific glob); order the rules so and remove the key")
	}
	if m.def.observer, err = observerType(d.ObserverType); err != nil {
		return nil, fmt.Errorf("defaults: %w", err)
	}
	switch d.MatchType {
	case "", "glob":
		m.def.matchType = "glob"
	case "regex":
		m.def.matchType = "regex"
	default:
		return nil, fmt.Errorf("defaults: match_type %q: want glob or regex", d.MatchType)
	}
	m.def.ttl = time.Duration(d.TTL)
	m.def.hist = d.HistogramOptions
	if len(m.def.hist.Buckets) == 0 {
		m.def.hist.Buckets = d.Buckets
	}
	m.def.sum = d.SummaryOptions
	if len(m.def.sum.Quantiles) == 0 {
		m.def.sum.Quantiles = d.Quantiles
	}
	if err := checkHist(m.def.hist); err != nil {
		return nil, fmt.Errorf("defaults: %w", err)
	}
	if err := checkSum(m.def.sum); err != nil {
		return nil, fmt.Errorf("defaults: %w", err)
	}
	if m.def.ttl < 0 {
		return nil, fmt.Errorf("defaults: ttl must not be negative")
	}
	for i := range c.Mappings {
		line := 0
		if i < len(lines) {
			line = lines[i]
		}
		r, err := m.compileRule(c.Mappings[i], i, line)
		if err != nil {
			if line > 0 {
				return nil, fmt.Errorf("line %d: mappings[%d]: %w", line, i, err)
			}
			return nil, fmt.Errorf("mappings[%d]: %w", i, err)
		}
		switch {
		case r.Match == "":
			m.emf = append(m.emf, r)
		case r.MatchType == "regex":
			m.regexes = append(m.regexes, r)
		default:
			m.globs = append(m.globs, r)
		}
	}
	return m, nil
}

var (
	labelNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`) })
	// a name template: metric-name characters and $1 / ${1} references
	nameTemplateRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^([a-zA-Z_:]|\$\{?[a-zA-Z0-9_]+\}?)([a-zA-Z0-9_:]|\$\{?[a-zA-Z0-9_]+\}?)*$`)
	})
)

func (m *Mapper) compileRule(in Rule, i, line int) (*rule, error) {
	r := &rule{Rule: in, index: i, line: line}
	if r.MatchType == "" {
		r.MatchType = m.def.matchType
	}
	if r.MatchType != "glob" && r.MatchType != "regex" {
		return nil, fmt.Errorf("match_type %q: want glob or regex", r.MatchType)
	}
	emf := r.EMFNamespace != "" || r.EMFMetric != ""
	switch {
	case r.Match == "" && !emf:
		return nil, fmt.Errorf("a rule needs match (Datadog/DogStatsD names) or emf_namespace/emf_metric (EMF)")
	case r.Match != "" && emf:
		return nil, fmt.Errorf("match and emf_namespace/emf_metric exclude each other: write two rules")
	}
	var err error
	switch {
	case emf:
		r.re, err = emfRegexp(r.EMFNamespace, r.EMFMetric, r.MatchType)
	case r.MatchType == "regex":
		r.re, err = regexp.Compile(r.Match)
	default:
		r.re, err = globRegexp(r.Match)
	}
	if err != nil {
		return nil, err
	}
	switch r.MatchMetricType {
	case "", "counter", "gauge", "observer", "set":
		r.metricType = r.MatchMetricType
	case "timer", "histogram", "distribution":
		r.metricType = "observer"
	default:
		return nil, fmt.Errorf("match_metric_type %q: want counter, gauge, observer or set", r.MatchMetricType)
	}
	switch r.Action {
	case "", "map":
	case "drop":
		r.drop = true
	default:
		return nil, fmt.Errorf("action %q: want map or drop", r.Action)
	}
	if r.Name != "" && !nameTemplateRE().MatchString(r.Name) {
		return nil, fmt.Errorf("name %q is not a valid metric name (letters, digits, _ and :, with $1 or ${1} substitutions)", r.Name)
	}
	if err := checkRefs(r.re, "name", r.Name); err != nil {
		return nil, err
	}
	for _, k := range slices.Sorted(maps.Keys(r.Labels)) {
		if !labelNameRE().MatchString(k) || strings.HasPrefix(k, "__") {
			return nil, fmt.Errorf("label name %q is not valid", k)
		}
		if err := checkRefs(r.re, fmt.Sprintf("label %q", k), r.Labels[k]); err != nil {
			return nil, err
		}
	}
	switch r.Type {
	case "":
	case "counter", "gauge", "histogram", "summary":
		r.typ, _ = metric.ParseType(r.Type)
	default:
		return nil, fmt.Errorf("type %q: want counter, gauge, histogram or summary", r.Type)
	}
	ot := r.ObserverType
	if ot == "" {
		ot = r.TimerType
	}
	if r.observer, err = observerType(ot); err != nil {
		return nil, err
	}
	if r.observer == metric.TypeUntyped {
		r.observer = m.def.observer
	}
	if r.HistogramOptions != nil && r.SummaryOptions != nil {
		return nil, fmt.Errorf("histogram_options and summary_options exclude each other")
	}
	if r.HistogramOptions != nil {
		r.hist = *r.HistogramOptions
	}
	if len(r.Buckets) > 0 {
		if len(r.hist.Buckets) > 0 {
			return nil, fmt.Errorf("buckets given twice (buckets and histogram_options.buckets)")
		}
		r.hist.Buckets = r.Buckets
	}
	if len(r.hist.Buckets) == 0 {
		r.hist.Buckets = m.def.hist.Buckets
	}
	if r.hist.NativeHistogramBucketFactor == 0 {
		r.hist.NativeHistogramBucketFactor = m.def.hist.NativeHistogramBucketFactor
	}
	if r.hist.NativeHistogramMaxBuckets == 0 {
		r.hist.NativeHistogramMaxBuckets = m.def.hist.NativeHistogramMaxBuckets
	}
	if r.SummaryOptions != nil {
		r.sum = *r.SummaryOptions
		r.hasSum = true
	}
	if len(r.Quantiles) > 0 {
		if len(r.sum.Quantiles) > 0 {
			return nil, fmt.Errorf("quantiles given twice (quantiles and summary_options.quantiles)")
		}
		r.sum.Quantiles = r.Quantiles
		r.hasSum = true
	}
	if len(r.sum.Quantiles) == 0 {
		r.sum.Quantiles = m.def.sum.Quantiles
	}
	if r.sum.MaxAge == 0 {
		r.sum.MaxAge = m.def.sum.MaxAge
	}
	if r.sum.AgeBuckets == 0 {
		r.sum.AgeBuckets = m.def.sum.AgeBuckets
	}
	if r.sum.BufCap == 0 {
		r.sum.BufCap = m.def.sum.BufCap
	}
	if err := checkHist(r.hist); err != nil {
		return nil, err
	}
	if err := checkSum(r.sum); err != nil {
		return nil, err
	}
	if r.TTL < 0 {
		return nil, fmt.Errorf("ttl must not be negative")
	}
	if r.TTL == 0 {
		r.TTL = Duration(m.def.ttl)
	}
	if r.Scale != nil && (*r.Scale == 0 || math.IsNaN(*r.Scale) || math.IsInf(*r.Scale, 0)) {
		return nil, fmt.Errorf("scale must be a finite number other than 0")
	}
	return r, nil
}

func observerType(s string) (metric.Type, error) {
	switch s {
	case "":
		return metric.TypeUntyped, nil
	case "histogram":
		return metric.TypeHistogram, nil
	case "summary":
		return metric.TypeSummary, nil
	}
	return 0, fmt.Errorf("observer_type %q: want histogram or summary", s)
}

func checkHist(h HistogramOptions) error {
	for i, b := range h.Buckets {
		if math.IsNaN(b) || i > 0 && b <= h.Buckets[i-1] {
			return fmt.Errorf("buckets must be strictly increasing numbers: %v", h.Buckets)
		}
	}
	if f := h.NativeHistogramBucketFactor; f != 0 && !(f > 1) {
		return fmt.Errorf("native_histogram_bucket_factor %g: must be greater than 1", f)
	}
	return nil
}

func checkSum(s SummaryOptions) error {
	for _, q := range s.Quantiles {
		if !(q.Quantile > 0 && q.Quantile < 1) || !(q.Error >= 0 && q.Error < 1) {
			return fmt.Errorf("quantile %g with error %g: want 0 < quantile < 1 and 0 <= error < 1", q.Quantile, q.Error)
		}
	}
	if s.MaxAge < 0 {
		return fmt.Errorf("max_age must not be negative")
	}
	return nil
}

// globRegexp compiles a statsd_exporter glob: * matches any run of
// characters within one dot-separated component.
func globRegexp(g string) (*regexp.Regexp, error) {
	if g == "" {
		return nil, fmt.Errorf("empty match")
	}
	q := strings.ReplaceAll(regexp.QuoteMeta(g), `\*`, `([^.]*)`)
	return regexp.Compile("^" + q + "$")
}

// emfRegexp compiles the EMF matches into one regular expression over
// "namespace\x00metric", so captures are numbered across both.
func emfRegexp(ns, name, matchType string) (*regexp.Regexp, error) {
	part := func(p string) (string, error) {
		switch {
		case p == "":
			return `(?:.*)`, nil
		case matchType == "regex":
			if _, err := regexp.Compile(p); err != nil {
				return "", err
			}
			return "(?:" + strings.TrimSuffix(strings.TrimPrefix(p, "^"), "$") + ")", nil
		}
		return strings.ReplaceAll(regexp.QuoteMeta(p), `\*`, `([^\x00]*)`), nil
	}
	a, err := part(ns)
	if err != nil {
		return nil, fmt.Errorf("emf_namespace: %w", err)
	}
	b, err := part(name)
	if err != nil {
		return nil, fmt.Errorf("emf_metric: %w", err)
	}
	return regexp.Compile("^" + a + "\x00" + b + "$")
}

// Map implements aggregate.Mapper.
func (m *Mapper) Map(dst []metric.Label, p *metric.Point) (*aggregate.Family, []metric.Label) {
	r := m.lookup(p)
	if r.fam == nil {
		return nil, dst
	}
	if r.honor {
		_, dst = m.tm.Map(dst, p) // the translated labels, memoized per identity
	}
	for _, l := range r.labels {
		if !hasLabel(dst, l.Name) {
			dst = append(dst, l)
		}
	}
	if !r.honor {
		_, dst = m.tm.Map(dst, p) // the translated labels, memoized per identity
	}
	return r.fam, dst
}

func hasLabel(ls []metric.Label, name string) bool {
	for i := range ls {
		if ls[i].Name == name {
			return true
		}
	}
	return false
}

func (m *Mapper) lookup(p *metric.Point) *result {
	id := identity{p.Format, p.Kind, p.Namespace, p.Name, p.Unit}
	m.mu.RLock()
	r := m.cache[id]
	m.mu.RUnlock()
	if r != nil {
		return r
	}
	r = m.resolve(p)
	id.namespace = strings.Clone(id.namespace)
	id.name = strings.Clone(id.name)
	id.unit = strings.Clone(id.unit)
	m.mu.Lock()
	if len(m.cache) >= maxCache {
		clear(m.cache)
	}
	m.cache[id] = r
	m.mu.Unlock()
	return r
}

// metricType is the statsd_exporter metric type of a point.
func metricType(k metric.Kind) string {
	switch k {
	case metric.Counter:
		return "counter"
	case metric.Gauge:
		return "gauge"
	case metric.Histogram, metric.Distribution, metric.Timer:
		return "observer"
	case metric.Set:
		return "set"
	}
	return ""
}

// resolve finds the rule for p and builds its family: glob rules first, then
// regex rules, each in file order (statsd_exporter's order); EMF points are
// matched by the EMF rules only. Service checks and events are not matched.
func (m *Mapper) resolve(p *metric.Point) *result {
	base := metric.Translate(p)
	base.Name = strings.Clone(base.Name)
	var subject string
	var rules [][]*rule
	switch {
	case p.Kind == metric.ServiceCheck || p.Kind == metric.Event:
	case p.Format == metric.FormatEMF:
		subject = p.Namespace + "\x00" + p.Name
		rules = [][]*rule{m.emf}
	default:
		subject = p.Name
		rules = [][]*rule{m.globs, m.regexes}
	}
	mt := metricType(p.Kind)
	for _, list := range rules {
		for _, r := range list {
			if r.metricType != "" && r.metricType != mt {
				continue
			}
			idx := r.re.FindStringSubmatchIndex(subject)
			if idx == nil {
				continue
			}
			return m.apply(r, base, subject, idx)
		}
	}
	return &result{fam: m.family(nil, base, base.Name, "")}
}

func (m *Mapper) apply(r *rule, base metric.Family, subject string, idx []int) *result {
	if r.drop {
		return &result{}
	}
	name := base.Name
	if r.Name != "" {
		name = expand(r.re, r.Name, subject, idx)
		if !validName(name) {
			name = metric.Sanitize(name) // a capture held characters a name cannot
		}
	}
	res := &result{honor: r.HonorLabels}
	for k, tmpl := range r.Labels {
		v := expand(r.re, tmpl, subject, idx)
		res.labels = append(res.labels, metric.Label{Name: k, Value: v})
	}
	slices.SortFunc(res.labels, func(a, b metric.Label) int { return strings.Compare(a.Name, b.Name) })
	help := r.Help
	if help == "" && r.Name != "" {
		help = r.defaultHelp() // the translated help would name one of many matched metrics
	}
	res.fam = m.family(r, base, name, help)
	return res
}

func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// nextRef finds the first reference in tmpl at or after i, read as
// statsd_exporter reads it (fsm/formatter.go for globs, regexp.Expand for
// regexes): "$" then the longest run of [A-Za-z0-9_], or "${name}". So
// "$1_foo" names a capture "1_foo", not capture 1 followed by "_foo" (write
// "${1}_foo"). It returns the reference's bounds and name; start < 0 when
// there is none.
func nextRef(tmpl string, i int) (start, end int, name string) {
	for ; i < len(tmpl); i++ {
		if tmpl[i] != '$' {
			continue
		}
		j, brace := i+1, false
		if j < len(tmpl) && tmpl[j] == '{' {
			brace = true
			j++
		}
		k := j
		for k < len(tmpl) && isNameByte(tmpl[k]) {
			k++
		}
		if k == j || brace && (k >= len(tmpl) || tmpl[k] != '}') {
			continue
		}
		if brace {
			return i, k + 1, tmpl[j:k]
		}
		return i, k, tmpl[j:k]
	}
	return -1, -1, ""
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// captureIndex is the number of the capture name refers to in re: a number,
// or a named group of a regex rule; -1 when there is no such capture.
func captureIndex(re *regexp.Regexp, name string) int {
	if n, err := strconv.Atoi(name); err == nil && n >= 0 {
		return n
	}
	return re.SubexpIndex(name)
}

// checkRefs refuses a reference that can only expand to "" because no
// capture has its name: statsd_exporter accepts "$1_foo" and silently
// expands it to "", which is never what the writer meant. A numbered
// capture the match does not have ($5 of a two-star glob) is accepted and
// empty, as in statsd_exporter.
func checkRefs(re *regexp.Regexp, what, tmpl string) error {
	for i := 0; ; {
		start, end, name := nextRef(tmpl, i)
		if start < 0 {
			return nil
		}
		if captureIndex(re, name) < 0 {
			hint := "name a capture of the match (a number, or a named group of a regex)"
			if k := strings.IndexFunc(name, func(r rune) bool { return r < '0' || r > '9' }); k > 0 {
				hint = fmt.Sprintf("write ${%s}%s for capture %s followed by %q", name[:k], name[k:], name[:k], name[k:])
			}
			return fmt.Errorf("%s: %q refers to a capture named %q, which does not exist (statsd_exporter expands it to \"\"); %s",
				what, tmpl[start:end], name, hint)
		}
		i = end
	}
}

// expand replaces the references in tmpl (see nextRef) with the captures of
// subject (idx as re.FindStringSubmatchIndex returns it); a capture that does
// not exist or did not participate is empty.
func expand(re *regexp.Regexp, tmpl, subject string, idx []int) string {
	if strings.IndexByte(tmpl, '$') < 0 {
		return tmpl
	}
	var b strings.Builder
	i := 0
	for {
		start, end, name := nextRef(tmpl, i)
		if start < 0 {
			b.WriteString(tmpl[i:])
			return b.String()
		}
		b.WriteString(tmpl[i:start])
		if n := captureIndex(re, name); n >= 0 && 2*n+1 < len(idx) && idx[2*n] >= 0 {
			b.WriteString(subject[idx[2*n]:idx[2*n+1]])
		}
		i = end
	}
}

// family builds the aggregate.Family of a point translated as base, under
// rule r (nil: no rule matched, defaults apply).
func (m *Mapper) family(r *rule, base metric.Family, name, help string) *aggregate.Family {
	f := &aggregate.Family{Family: base}
	f.Name = name
	if help != "" {
		f.Help = help
	}
	hist, sum := m.def.hist, m.def.sum
	observer := m.def.observer
	ttl := m.def.ttl
	if r != nil {
		hist, sum, observer, ttl = r.hist, r.sum, r.observer, time.Duration(r.TTL)
		if r.Scale != nil {
			f.Scale = *r.Scale
		}
	}
	switch {
	case r != nil && r.typ != metric.TypeUntyped:
		f.Type = r.typ
	case f.Type == metric.TypeHistogram && observer == metric.TypeSummary:
		f.Type = metric.TypeSummary
	case f.Type == metric.TypeHistogram && r != nil && r.hasSum && observer == metric.TypeUntyped:
		f.Type = metric.TypeSummary
	}
	f.TTL = ttl
	switch f.Type {
	case metric.TypeHistogram:
		f.Buckets = hist.Buckets
		f.NativeBucketFactor = hist.NativeHistogramBucketFactor
		f.NativeMaxBuckets = int(hist.NativeHistogramMaxBuckets)
	case metric.TypeSummary:
		if len(sum.Quantiles) > 0 {
			f.Objectives = make(map[float64]float64, len(sum.Quantiles))
			for _, q := range sum.Quantiles {
				f.Objectives[q.Quantile] = q.Error
			}
		}
		f.MaxAge = time.Duration(sum.MaxAge)
		f.AgeBuckets = sum.AgeBuckets
		f.BufCap = sum.BufCap
	}
	return f
}

// defaultHelp describes what a renaming rule matches.
func (r *rule) defaultHelp() string {
	if r.Match != "" {
		return fmt.Sprintf("Metrics matching %q (%s), mapped by lambdabridge.", r.Match, r.MatchType)
	}
	return fmt.Sprintf("EMF metrics matching namespace %q, metric %q (%s), mapped by lambdabridge.", r.EMFNamespace, r.EMFMetric, r.MatchType)
}

// Rules returns the number of mapping rules.
func (m *Mapper) Rules() int { return len(m.globs) + len(m.regexes) + len(m.emf) }
