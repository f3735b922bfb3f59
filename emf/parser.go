package emf

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/lambdabridge/lambdabridge/metric"
)

// DefaultMaxEventSize is the event size limit of the EMF specification's
// English page: 256 KB, counted here as 256 KiB (262,144 bytes), the limit
// of a CloudWatch Logs event that Lambda also applies to a log line. Newer
// CloudWatch Logs pages allow events of 1 MB; WithMaxEventSize(1 << 20)
// follows them.
const DefaultMaxEventSize = 256 << 10

// Limits of the EMF specification and of CloudWatch.
const (
	maxDimensionsPerSet = 30
	maxMetricsPerDir    = 100
	maxValuesPerMetric  = 100
	maxNameLen          = 1024 // namespace, metric name, dimension value (characters)
	maxDimKeyLen        = 250
	clientNamespaceLen  = 256
	maxSafeInteger      = 1<<53 - 1
	pastWindow          = 14 * 24 * time.Hour
	futureWindow        = 2 * time.Hour

	// uniqueAfter is the number of events with a different value each after
	// which Finish calls a dimension unique per event.
	uniqueAfter = 20
	// maxTracked bounds the values remembered per dimension key: a key whose
	// first maxTracked values were all different is unique per event.
	maxTracked = 4096
	// maxInterned bounds the strings the parser keeps to avoid allocating.
	maxInterned = 1 << 14
	// maxDiagsPerEvent bounds the diagnostics of one event (a pathological
	// event with 100 directives of 100 broken metrics says enough by then).
	maxDiagsPerEvent = 64
)

// CloudWatch rejects values whose magnitude is above 2^360 or, other than
// zero, below 2^-360 (PutMetricData's documented range).
var (
	maxCloudWatchValue = math.Ldexp(1, 360)
	minCloudWatchValue = math.Ldexp(1, -360)
)

// Option configures a Parser.
type Option func(*Parser)

// WithClock sets the clock the timestamp window is checked against
// (default time.Now). Tests and replays of old logs inject one.
func WithClock(now func() time.Time) Option {
	return func(p *Parser) { p.now = now }
}

// WithMaxEventSize sets the largest line, in bytes, that CloudWatch would
// process (default DefaultMaxEventSize); n <= 0 disables the check.
func WithMaxEventSize(n int) Option {
	return func(p *Parser) { p.maxSize = n }
}

// Parser finds EMF events in log lines, validates them like CloudWatch and
// appends their points and diagnostics to a metric.Batch.
//
// A Parser keeps state across lines (the dimension values and units seen,
// for the warnings of Finish, and scratch memory) and is not safe for
// concurrent use: use one per goroutine.
type Parser struct {
	now     func() time.Time
	maxSize int

	sc scanner

	// per event
	b       *metric.Batch
	o       metric.Origin
	drop    bool
	ndiag   int
	ts      int64
	sets    []dimSet
	evSets  []dimSet // the sets of every directive of the event
	defs    []string
	ev      []evMetric
	evDims  []evDim
	labels  []metric.Label
	values  []float64
	cache   [256]string // recent strings, by a cheap hash of their bytes
	nameBuf []byte
	keyBuf  []byte
	valBuf  []byte
	tmpBuf  []byte

	// indexes of the event's metrics, sets and keys when there are many
	// (evindex.go, setindex.go)
	ix eventIndex

	// across events
	dimCache  [64]dimCacheEntry
	unitCache [64]unitCacheEntry
	intern    map[string]string
	dims      map[string]*dimStats
	units     map[string]*unitStats
	seed      maphash.Seed
}

type dimSet struct {
	labels []metric.Label
	ok     bool

	sig   uint64 // of its keys, once setSig computed it (sigOK)
	sigOK bool
	dup   bool // a key repeats
}

type evMetric struct {
	ns, name, unit string
	res            int
	valid          bool
	di             int // directive
	from, to       int // its dimension sets in evSets

	next    int32 // the next definition of the same name (name index)
	nextRes int32 // the next one of the same name and resolution
}

type evDim struct {
	key  string
	hash uint64    // of the value, while st tracks values
	st   *dimStats // the key's, from the Parser's dims
}

type dimStats struct {
	first    metric.Origin
	events   int
	seen     map[uint64]struct{}
	repeated bool // a value came twice: not unique per event
	capped   bool // maxTracked different values: unique per event
	flagged  bool // a high-cardinality warning was given already
}

type unitStats struct {
	unit, other    string
	first, otherAt metric.Origin
	ns, name       string
}

// NewParser returns a Parser.
func NewParser(opts ...Option) *Parser {
	p := &Parser{
		now:     time.Now,
		maxSize: DefaultMaxEventSize,
		intern:  make(map[string]string),
		dims:    make(map[string]*dimStats),
		units:   make(map[string]*unitStats),
		seed:    maphash.MakeSeed(),
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

var awsKey = []byte(`"_aws"`)

// Parse reads one log line. It returns false, and appends nothing, when the
// line holds no EMF event: no JSON object, or a valid JSON object without a
// root "_aws" member. It returns true when the line is meant as EMF (an
// object with "_aws", or broken JSON that mentions "_aws") and appends the
// event's points and diagnostics to b. Points of an event that CloudWatch
// would reject are not appended; its diagnostics say why. The JSON object
// may follow a Lambda log prefix (Node: ts\treqid\tLEVEL\t, Python:
// [LEVEL]\tts\treqid\t). o is copied into every point and diagnostic.
func (p *Parser) Parse(b *metric.Batch, line []byte, o metric.Origin) bool {
	i := bytes.IndexByte(line, '{')
	if i < 0 || !bytes.Contains(line[i:], awsKey) {
		return false
	}
	sc := &p.sc
	sc.reset(line)
	sc.pos = i
	root, aws := sc.root()
	if sc.err != "" {
		p.begin(b, o)
		hint := ""
		if sc.errPos >= len(line) {
			hint = "the line ends inside the object: was it cut, or split across lines?"
		}
		p.report(metric.Error, RuleInvalidJSON, metric.EffectDropsEvent, hint,
			fmt.Sprintf("invalid JSON at byte %d: %s", sc.errPos+1, sc.err))
		p.end()
		return true
	}
	if aws < 0 {
		sc.s = nil
		return false
	}
	p.begin(b, o)
	if prefix := line[:i]; !blank(prefix) && !lambdaPrefix(prefix) {
		p.report(metric.Error, RuleTextAroundObject, metric.EffectDropsEvent,
			"CloudWatch reads a log event that is a JSON object, alone or after Lambda's prefix (timestamp, request id, level, tab-separated)",
			fmt.Sprintf("text %s before the JSON object", clip(prefix)))
	}
	sc.ws()
	if sc.pos < len(line) {
		p.report(metric.Error, RuleTextAroundObject, metric.EffectDropsEvent,
			"write one JSON object per line, nothing after it",
			fmt.Sprintf("text %s after the JSON object", clip(line[sc.pos:])))
	}
	if p.maxSize > 0 && len(line) > p.maxSize {
		p.report(metric.Error, RuleEventTooLarge, metric.EffectDropsEvent,
			"split the metrics over several events (at most 100 metrics and 100 values each)",
			fmt.Sprintf("event of %d bytes is larger than the %d-byte limit", len(line), p.maxSize))
	}
	p.event(root, aws)
	p.end()
	return true
}

func (p *Parser) begin(b *metric.Batch, o metric.Origin) {
	p.b, p.o = b, o
	p.drop = false
	p.ndiag = 0
	p.ts = 0
	p.ev = p.ev[:0]
	p.evSets = p.evSets[:0]
	p.evDims = p.evDims[:0]
	p.ix.dimSeenOn = false
	p.ix.dupSets = false
}

func (p *Parser) end() {
	if !p.drop {
		p.commit()
	}
	p.b = nil
	p.sc.s = nil // keep no reference to the caller's line
}

func (p *Parser) report(sev metric.Severity, rule string, eff metric.Effect, hint, msg string) {
	if sev == metric.Error && eff == metric.EffectDropsEvent {
		p.drop = true
	}
	if p.ndiag >= maxDiagsPerEvent {
		return
	}
	p.ndiag++
	p.b.AddDiag(metric.Diagnostic{Origin: p.o, Format: metric.FormatEMF, Severity: sev, Rule: rule,
		Message: msg, Effect: eff, Hint: hint})
}

// fail reports an error that makes CloudWatch drop the event.
func (p *Parser) fail(rule, hint, format string, args ...any) {
	if p.ndiag >= maxDiagsPerEvent { // report would drop the message
		p.drop = true
		return
	}
	p.report(metric.Error, rule, metric.EffectDropsEvent, hint, fmt.Sprintf(format, args...))
}

func (p *Parser) warn(rule string, eff metric.Effect, hint, format string, args ...any) {
	if p.ndiag >= maxDiagsPerEvent {
		return
	}
	p.report(metric.Warning, rule, eff, hint, fmt.Sprintf(format, args...))
}

// str returns b as a string, without allocating when the same text was
// seen before: first in a small direct-mapped cache, then in the intern
// table (bounded).
func (p *Parser) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	h := (uint(len(b))*31+uint(b[0]))*31 + uint(b[len(b)-1])*7 + uint(b[len(b)/2])
	c := &p.cache[h%uint(len(p.cache))]
	if *c == string(b) {
		return *c
	}
	s, ok := p.intern[string(b)]
	if !ok {
		s = string(b)
		if len(p.intern) < maxInterned {
			p.intern[s] = s
		}
	}
	*c = s
	return s
}

func (p *Parser) event(root, aws int32) {
	sc := &p.sc
	start := len(p.b.Points)
	if k := sc.nodes[aws].kind; k != jObject {
		p.fail(RuleWrongType, "", "_aws is %s, not an object", k)
		return
	}
	t, cwm, _ := sc.find3(aws, "Timestamp", "CloudWatchMetrics", "")
	p.timestamp(t)
	switch {
	case cwm < 0:
		p.fail(RuleMissingMember, `"_aws": {"Timestamp": ..., "CloudWatchMetrics": [{"Namespace": ..., "Dimensions": [[...]], "Metrics": [...]}]}`,
			"_aws has no CloudWatchMetrics")
	case sc.nodes[cwm].kind != jArray:
		p.fail(RuleWrongType, "", "_aws.CloudWatchMetrics is %s, not an array", sc.nodes[cwm].kind)
	case sc.nodes[cwm].n == 0:
		p.warn(RuleNothingDeclared, metric.EffectNone, "", "_aws.CloudWatchMetrics is empty: the event declares no metric")
	default:
		di := 0
		for d := sc.nodes[cwm].first; d >= 0; d = sc.nodes[d].next {
			p.directive(root, d, di)
			di++
		}
	}
	if p.drop {
		p.b.Points = p.b.Points[:start]
	}
}

func (p *Parser) timestamp(t int32) {
	sc := &p.sc
	if t < 0 {
		p.fail(RuleMissingMember, "add the time of the event in epoch milliseconds (Date.now(), int(time.time()*1000))",
			"_aws has no Timestamp")
		return
	}
	nd := sc.nodes[t]
	if nd.kind != jNumber {
		hint := ""
		if nd.kind == jString {
			hint = "EMF wants epoch milliseconds as a JSON number, not a date string"
		}
		p.fail(RuleWrongType, hint, "_aws.Timestamp is %s%s, not an integer", nd.kind, p.show(t))
		return
	}
	txt := sc.s[nd.start:nd.end]
	ms, ierr := parseInt(txt)
	now := p.now().UnixMilli()
	lo, hi := now-pastWindow.Milliseconds(), now+futureWindow.Milliseconds()
	if ierr != nil {
		v, err := strconv.ParseFloat(unsafeString(txt), 64)
		switch {
		case err == nil && v == math.Trunc(v) && math.Abs(v) < 1<<63:
			ms = int64(v) // integral, written with a fraction or an exponent
		case err == nil && v == math.Trunc(v) || math.IsInf(v, 0):
			ms = math.MaxInt64 // far outside the window either way
			if v < 0 {
				ms = math.MinInt64
			}
		default:
			hint := ""
			if h := scaleHint(v, lo, hi); h != "" {
				hint = h
			}
			p.fail(RuleWrongType, hint, "_aws.Timestamp %s is not an integer", txt)
			return
		}
	}
	if ms < lo || ms > hi {
		var when string
		if ms < lo {
			when = "more than 14 days in the past"
		} else {
			when = "more than 2 hours in the future"
		}
		shown := ""
		if ms > -62135596800000 && ms < 253402300800000 { // years 1..9999
			shown = " (" + time.UnixMilli(ms).UTC().Format(time.RFC3339Nano) + ")"
		}
		p.fail(RuleTimestampWindow, scaleHint(float64(ms), lo, hi),
			"_aws.Timestamp %s%s is %s; CloudWatch accepts 14 days back to 2 hours ahead", txt, shown, when)
		return
	}
	p.ts = ms
}

// scaleHint explains a timestamp outside the window that a change of unit
// would bring inside it.
func scaleHint(v float64, lo, hi int64) string {
	in := func(x float64) bool { return x >= float64(lo) && x <= float64(hi) }
	switch {
	case in(v * 1e3):
		return "looks like seconds; EMF wants milliseconds"
	case in(v / 1e3):
		return "looks like microseconds; EMF wants milliseconds"
	case in(v / 1e6):
		return "looks like nanoseconds; EMF wants milliseconds"
	}
	return ""
}

func (p *Parser) directive(root, d int32, di int) {
	sc := &p.sc
	if k := sc.nodes[d].kind; k != jObject {
		p.fail(RuleWrongType, "", "_aws.CloudWatchMetrics[%d] is %s, not an object", di, k)
		return
	}
	nsN, dims, ms := sc.find3(d, "Namespace", "Dimensions", "Metrics")
	// Namespace
	ns, nsOK := "", false
	switch n := nsN; {
	case n < 0:
		p.fail(RuleMissingMember, "", "_aws.CloudWatchMetrics[%d] has no Namespace", di)
	case sc.nodes[n].kind != jString:
		p.fail(RuleWrongType, "", "_aws.CloudWatchMetrics[%d].Namespace is %s%s, not a string", di, sc.nodes[n].kind, p.show(n))
	default:
		raw := sc.raw(n, &p.nameBuf)
		switch l := utf8.RuneCount(raw); {
		case l == 0:
			p.fail(RuleNamespaceLength, "", "_aws.CloudWatchMetrics[%d].Namespace is empty", di)
		case l > maxNameLen:
			p.fail(RuleNamespaceLength, "", "_aws.CloudWatchMetrics[%d].Namespace is %d characters long, more than %d", di, l, maxNameLen)
		case bytes.HasPrefix(raw, []byte("AWS/")):
			p.fail(RuleNamespaceReserved, "choose a namespace of your own, e.g. MyApp/Orders",
				"_aws.CloudWatchMetrics[%d].Namespace %q starts with \"AWS/\", reserved for AWS services", di, raw)
		default:
			if l > clientNamespaceLen || !namespaceChars(raw) {
				p.warn(RuleNamespaceChars, metric.EffectNone,
					"aws-embedded-metrics and Powertools refuse it, PutMetricData allows 255 characters of [a-zA-Z0-9._#:/-] and more; keep to those",
					"_aws.CloudWatchMetrics[%d].Namespace %s is outside the client libraries' limits (256 characters of [a-zA-Z0-9._#:/-])", di, clip(raw))
			}
			ns, nsOK = p.str(raw), true
		}
	}

	// Dimensions
	p.sets = p.sets[:0]
	switch {
	case dims < 0:
		p.warn(RuleNoDimensions, metric.EffectNone, `write "Dimensions": [[]] to publish without dimensions explicitly`,
			"_aws.CloudWatchMetrics[%d] has no Dimensions: the metrics are published without dimensions", di)
		p.sets = append(p.sets, dimSet{ok: true})
	case sc.nodes[dims].kind != jArray:
		p.fail(RuleWrongType, "", "_aws.CloudWatchMetrics[%d].Dimensions is %s, not an array of arrays of dimension keys", di, sc.nodes[dims].kind)
	case sc.nodes[dims].n == 0:
		// "Dimensions": [] publishes the metrics without dimensions, like
		// [[]]: aws-embedded-metrics writes it for setDimensions([]), so
		// CloudWatch accepts it. No diagnostic.
		p.sets = append(p.sets, dimSet{ok: true})
	default:
		si := 0
		for s := sc.nodes[dims].first; s >= 0; s = sc.nodes[s].next {
			p.dimensionSet(root, s, di, si)
			si++
		}
		p.duplicateSets(di)
	}
	from := len(p.evSets)
	p.evSets = append(p.evSets, p.sets...)
	to := len(p.evSets)

	// Metrics
	switch {
	case ms < 0:
		p.fail(RuleMissingMember, "", "_aws.CloudWatchMetrics[%d] has no Metrics", di)
		return
	case sc.nodes[ms].kind != jArray:
		p.fail(RuleWrongType, "", "_aws.CloudWatchMetrics[%d].Metrics is %s, not an array", di, sc.nodes[ms].kind)
		return
	case sc.nodes[ms].n == 0:
		p.warn(RuleNothingDeclared, metric.EffectNone, "", "_aws.CloudWatchMetrics[%d].Metrics is empty: the directive declares no metric", di)
		return
	case sc.nodes[ms].n > maxMetricsPerDir:
		p.fail(RuleMetricsCount, "split them over several directives or events",
			"_aws.CloudWatchMetrics[%d].Metrics has %d metric definitions, more than %d", di, sc.nodes[ms].n, maxMetricsPerDir)
	}
	p.defs = p.defs[:0]
	mi := 0
	for m := sc.nodes[ms].first; m >= 0; m = sc.nodes[m].next {
		p.metricDef(root, m, ns, nsOK, di, mi, from, to)
		mi++
	}
}

func (p *Parser) dimensionSet(root, s int32, di, si int) {
	sc := &p.sc
	if k := sc.nodes[s].kind; k != jArray {
		p.fail(RuleWrongType, "", "_aws.CloudWatchMetrics[%d].Dimensions[%d] is %s, not an array of dimension keys", di, si, k)
		p.sets = append(p.sets, dimSet{})
		return
	}
	if n := sc.nodes[s].n; n > maxDimensionsPerSet {
		p.fail(RuleDimensionSetSize, "split the set, or drop dimensions you never filter by",
			"_aws.CloudWatchMetrics[%d].Dimensions[%d] has %d dimension keys, more than %d", di, si, n, maxDimensionsPerSet)
	}
	p.labels = p.labels[:0]
	ok := true
	ki := 0
	for k := sc.nodes[s].first; k >= 0; k, ki = sc.nodes[k].next, ki+1 {
		if kk := sc.nodes[k].kind; kk != jString {
			p.fail(RuleWrongType, "", "_aws.CloudWatchMetrics[%d].Dimensions[%d][%d] is %s%s, not a string", di, si, ki, kk, p.show(k))
			ok = false
			continue
		}
		key := sc.raw(k, &p.keyBuf)
		if why := checkDimKey(key); why != "" {
			p.fail(RuleDimensionKey, "", "dimension key %s %s", clip(key), why)
			ok = false
			continue
		}
		mem := sc.rootMember(key, &p.tmpBuf)
		if mem < 0 {
			p.fail(RuleDimensionMissing, "add the member to the root object, or remove the key from Dimensions",
				"dimension %q: the root object has no member %q", key, key)
			ok = false
			continue
		}
		if vk := sc.nodes[mem].kind; vk != jString {
			hint := ""
			if vk == jNumber || vk == jTrue || vk == jFalse {
				hint = "CloudWatch needs dimension values as strings: write \"" + string(sc.s[sc.nodes[mem].start:sc.nodes[mem].end]) + "\""
			}
			p.fail(RuleDimensionValue, hint, "dimension %q: value%s is %s, not a string", key, p.show(mem), vk)
			ok = false
			continue
		}
		val := sc.raw(mem, &p.valBuf)
		if why := checkDimValue(val); why != "" {
			p.fail(RuleDimensionValue, "", "dimension %q: value %s %s", key, clip(val), why)
			ok = false
			continue
		}
		if !ok {
			continue
		}
		l := metric.Label{Name: p.str(key), Value: p.str(val)}
		p.observeDim(l.Name, val)
		p.labels = append(p.labels, l)
	}
	if !ok {
		p.sets = append(p.sets, dimSet{})
		return
	}
	dup := repeatsKey(p.labels)
	p.ix.dupSets = p.ix.dupSets || dup
	p.sets = append(p.sets, dimSet{labels: p.b.Labels(p.labels), ok: true, dup: dup})
}

// duplicateSets warns about a DimensionSet listed twice in one directive
// (the same keys, in any order).
func (p *Parser) duplicateSets(di int) {
	p.indexSets()
	for i := 1; i < len(p.sets); i++ {
		if !p.sets[i].ok {
			continue
		}
		if j := p.repeatedSet(i); j >= 0 {
			p.warn(RuleDuplicateDimSet, metric.EffectNone, "remove the repeated set",
				"_aws.CloudWatchMetrics[%d].Dimensions[%d] repeats Dimensions[%d]: every value is published twice", di, i, j)
		}
	}
}

// duplicateAcrossDirectives warns when an earlier directive of the event
// defines the same metric in the same namespace with a DimensionSet of the
// same keys: CloudWatch publishes the values twice.
func (p *Parser) duplicateAcrossDirectives(ns, name string, di, from, to int) {
	if i, ok := p.sameDimsDef(ns, name, di, from, to); ok {
		if i >= 0 {
			p.warnDuplicateAcross(ns, name, p.ev[i].di, di)
		}
		return
	}
	for i := p.firstDef(name); i >= 0; i = p.nextDef(i, name) {
		e := &p.ev[i]
		if e.di == di {
			break // the definitions of this directive come last
		}
		if e.ns != ns {
			continue
		}
		if p.setsMatch(p.evSets[e.from:e.to], p.evSets[from:to]) {
			p.warnDuplicateAcross(ns, name, e.di, di)
			return
		}
	}
}

func (p *Parser) warnDuplicateAcross(ns, name string, earlier, di int) {
	p.warn(RuleDuplicateMetric, metric.EffectNone, "remove one of the definitions",
		"metric %q in namespace %q is defined in _aws.CloudWatchMetrics[%d] and [%d] with the same dimensions: its values are published twice",
		name, ns, earlier, di)
}

func sameKeys(a, b []metric.Label) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		found := false
		for _, y := range b {
			if x.Name == y.Name {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func (p *Parser) metricDef(root, m int32, ns string, nsOK bool, di, mi, from, to int) {
	sc := &p.sc
	if k := sc.nodes[m].kind; k != jObject {
		p.fail(RuleWrongType, "", "_aws.CloudWatchMetrics[%d].Metrics[%d] is %s, not an object", di, mi, k)
		return
	}
	nm, u, r := sc.find3(m, "Name", "Unit", "StorageResolution")
	if nm < 0 {
		p.fail(RuleMissingMember, "", "_aws.CloudWatchMetrics[%d].Metrics[%d] has no Name", di, mi)
		return
	}
	if k := sc.nodes[nm].kind; k != jString {
		p.fail(RuleWrongType, "", "_aws.CloudWatchMetrics[%d].Metrics[%d].Name is %s%s, not a string", di, mi, k, p.show(nm))
		return
	}
	rawName := sc.raw(nm, &p.nameBuf)
	switch l := utf8.RuneCount(rawName); {
	case l == 0:
		p.fail(RuleMetricName, "", "_aws.CloudWatchMetrics[%d].Metrics[%d].Name is empty", di, mi)
		return
	case l > maxNameLen:
		p.fail(RuleMetricName, "", "_aws.CloudWatchMetrics[%d].Metrics[%d].Name is %d characters long, more than %d", di, mi, l, maxNameLen)
		return
	case blank(rawName):
		p.fail(RuleMetricName, "", "_aws.CloudWatchMetrics[%d].Metrics[%d].Name is only white space", di, mi)
		return
	}
	name := p.str(rawName)
	if p.definedIn(name, di) {
		p.warn(RuleDuplicateMetric, metric.EffectNone, "remove the repeated definition",
			"metric %q is defined twice in _aws.CloudWatchMetrics[%d]: its values are published twice", name, di)
	}
	p.defs = append(p.defs, name)
	valid := nsOK

	// Unit
	unit, kind := "", noUnitKind
	if u >= 0 {
		if k := sc.nodes[u].kind; k != jString {
			p.fail(RuleWrongType, "", "metric %q: Unit is %s%s, not a string", name, k, p.show(u))
			valid = false
		} else {
			// "Unit": "" is the default, None (metric.ValidUnit agrees;
			// OpenTelemetry's EMF exporter writes it).
			raw := sc.raw(u, &p.tmpBuf)
			if i := unitIndex(raw); i >= 0 {
				unit, kind = units[i], unitKinds[i]
			} else if len(raw) > 0 {
				p.fail(RuleUnit, unitHint(raw), "metric %q: Unit %s is not a CloudWatch unit", name, clip(raw))
				valid = false
			}
		}
	}

	// StorageResolution
	res := 0
	if r >= 0 {
		nd := sc.nodes[r]
		if nd.kind != jNumber {
			p.fail(RuleWrongType, "", "metric %q: StorageResolution is %s%s, not a number", name, nd.kind, p.show(r))
			valid = false
		} else if v := parseNumber(sc.s[nd.start:nd.end]); v == 1 || v == 60 {
			res = int(v)
		} else {
			p.fail(RuleStorageResolution, "1 for high resolution, 60 (the default) for standard resolution",
				"metric %q: StorageResolution %s is not 1 or 60", name, sc.s[nd.start:nd.end])
			valid = false
		}
	}
	eff := res
	if eff == 0 {
		eff = 60
	}
	if i := p.resolutionConflict(name, eff); i >= 0 {
		p.fail(RuleResolutionConflict, "use one StorageResolution per metric name within an event",
			"metric %q has StorageResolution %d and %d in one event", name, p.ev[i].res, eff)
		p.reported(i) // report once
		valid = false
	}

	// Value
	vals, ok := p.metricValues(root, rawName, name)
	if !ok {
		valid = false
	}
	if nsOK {
		p.duplicateAcrossDirectives(ns, name, di, from, to)
	}
	p.addEv(evMetric{ns: ns, name: name, unit: unit, res: eff, valid: valid && vals != nil, di: di, from: from, to: to})
	if !valid || vals == nil || p.drop {
		return
	}
	if kind == metric.Counter {
		p.negativeCount(name, vals)
	}
	vs := p.b.Values(vals)
	for _, s := range p.sets {
		if !s.ok {
			continue
		}
		p.b.AddPoint(metric.Point{Format: metric.FormatEMF, Namespace: ns, Name: name, Kind: kind, Unit: unit,
			Labels: s.labels, Values: vs, TimeMs: p.ts, Resolution: res, Origin: p.o})
	}
}

// negativeCount warns, once per metric, about a Count value below zero:
// CloudWatch takes it, a Prometheus counter cannot.
func (p *Parser) negativeCount(name string, vals []float64) {
	for _, v := range vals {
		if v < 0 {
			p.warn(RuleNegativeCount, metric.EffectNone, "use another unit (None) for a value that goes down: it becomes a gauge",
				"metric %q: Count value %g is below zero: CloudWatch accepts it, but its Unit Count makes it a Prometheus counter, and counters only go up (a decrease reads as a reset to rate() and increase()), so lambdabridge drops the value (counted as negative_counter)", name, v)
			return
		}
	}
}

// metricValues reads the values of the metric name from the root object.
// It returns nil values with ok when the metric is skipped (a warning), and
// !ok after an error.
func (p *Parser) metricValues(root int32, rawName []byte, name string) (vals []float64, ok bool) {
	sc := &p.sc
	v := sc.rootMember(rawName, &p.tmpBuf)
	if v < 0 {
		p.warn(RuleMetricNoValue, metric.EffectDropsMetric, "set the member, or remove the metric definition",
			"metric %q: the root object has no member %q, nothing is published for it", name, name)
		return nil, true
	}
	vals = p.values[:0]
	precision := false
	add := func(n int32, idx int) bool {
		nd := sc.nodes[n]
		if nd.kind != jNumber {
			where := ""
			if idx >= 0 {
				where = fmt.Sprintf(" [%d]", idx)
			}
			hint := ""
			if nd.kind == jString {
				if _, err := strconv.ParseFloat(string(sc.raw(n, &p.valBuf)), 64); err == nil {
					hint = "write the number without quotes"
				}
			} else if nd.kind == jObject && idx < 0 && p.deepMember(n, "Values") {
				hint = "the Values/Counts statistic-set form is not in the EMF specification; lambdabridge does not read it"
			}
			p.fail(RuleMetricValue, hint, "metric %q: value%s%s is %s, not a number", name, where, p.show(n), nd.kind)
			return false
		}
		txt := sc.s[nd.start:nd.end]
		f := parseNumber(txt)
		a := math.Abs(f)
		switch {
		case math.IsInf(f, 0):
			p.fail(RuleMetricValueRange, "", "metric %q: value %s overflows a 64-bit float", name, short(txt))
			return false
		case a > maxCloudWatchValue || a != 0 && a < minCloudWatchValue:
			p.fail(RuleMetricValueRange, "", "metric %q: value %s is outside CloudWatch's range (2^-360 to 2^360 in magnitude)", name, short(txt))
			return false
		case a > maxSafeInteger && !precision:
			precision = true
			p.warn(RuleMetricPrecision, metric.EffectNone, "",
				"metric %q: value %s exceeds 2^53-1 in magnitude: client libraries refuse it and integers lose precision", name, short(txt))
		}
		vals = append(vals, f)
		return true
	}
	switch sc.nodes[v].kind {
	case jArray:
		if vals, ok := p.numberArray(v); ok {
			return vals, true
		}
		sc.deepen(v)
		n := sc.nodes[v].n
		if n == 0 {
			p.warn(RuleMetricNoValue, metric.EffectDropsMetric, "", "metric %q: value is an empty array, nothing is published for it", name)
			return nil, true
		}
		ok = true
		if n > maxValuesPerMetric {
			p.fail(RuleMetricValueCount, "split the values over several events",
				"metric %q: %d values, more than %d", name, n, maxValuesPerMetric)
			ok = false
		}
		i := 0
		for e := sc.nodes[v].first; e >= 0; e = sc.nodes[e].next {
			if !add(e, i) {
				ok = false
			}
			i++
		}
	default:
		ok = add(v, -1)
	}
	p.values = vals
	if !ok {
		return nil, false
	}
	return vals, true
}

// show renders a scalar node for a message: ` "abc"`, ` 42`; containers
// give "".
func (p *Parser) show(n int32) string {
	nd := p.sc.nodes[n]
	switch nd.kind {
	case jString:
		return " " + clip(p.sc.raw(n, &p.tmpBuf))
	case jNumber, jTrue, jFalse, jNull:
		if nd.kind == jNull {
			return ""
		}
		return " " + string(p.sc.s[nd.start:nd.end])
	}
	return ""
}

// short returns b (a number) for a message, shortened to 80 bytes.
func short(b []byte) string {
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}

// deepMember reports whether the root member n, an object, has a member
// called name.
func (p *Parser) deepMember(n int32, name string) bool {
	p.sc.deepen(n)
	return p.sc.member(n, name) >= 0
}

// clip quotes b for a message, shortened to 80 bytes.
func clip(b []byte) string {
	if len(b) > 80 {
		return strconv.Quote(string(b[:77])) + "..."
	}
	return strconv.Quote(string(b))
}

// blank reports whether b is empty or only white space.
func blank(b []byte) bool {
	if len(b) > 0 && b[0] > ' ' && b[0] < utf8.RuneSelf {
		return false
	}
	return len(bytes.TrimSpace(b)) == 0
}

// parseNumber converts a valid JSON number. Small integers, the common
// case, skip strconv.
func parseNumber(b []byte) float64 {
	if len(b) > 0 && len(b) <= 15 {
		neg := b[0] == '-'
		d := b
		if neg {
			d = b[1:]
		}
		v, ok := int64(0), len(d) > 0
		for _, c := range d {
			if c < '0' || c > '9' {
				ok = false
				break
			}
			v = v*10 + int64(c-'0')
		}
		if ok {
			if neg {
				return -float64(v)
			}
			return float64(v)
		}
	}
	f, _ := strconv.ParseFloat(unsafeString(b), 64) // ±Inf on overflow
	return f
}

// parseInt converts a valid JSON number written as an integer that fits an
// int64; ok is false otherwise.
func parseInt(b []byte) (int64, error) {
	if len(b) > 0 && len(b) <= 18 && b[0] != '-' {
		v := int64(0)
		for _, c := range b {
			if c < '0' || c > '9' {
				return strconv.ParseInt(unsafeString(b), 10, 64)
			}
			v = v*10 + int64(c-'0')
		}
		return v, nil
	}
	return strconv.ParseInt(unsafeString(b), 10, 64)
}

// lambdaPrefix reports whether b is the metadata a Lambda runtime writes
// before a message: tab-separated fields ending with a tab, one of them a
// timestamp (Node: "2024-05-01T10:00:00.000Z\t<id>\tINFO\t", Python:
// "[INFO]\t2024-05-01T10:00:00.000Z\t<id>\t").
func lambdaPrefix(b []byte) bool {
	if len(b) == 0 || b[len(b)-1] != '\t' || bytes.IndexByte(b, '\n') >= 0 {
		return false
	}
	for f := range bytes.SplitSeq(b[:len(b)-1], []byte{'\t'}) {
		if isDate(f) {
			return true
		}
	}
	return false
}

// isDate reports whether b starts like 2024-05-01.
func isDate(b []byte) bool {
	if len(b) < 10 {
		return false
	}
	for i, c := range b[:10] {
		if i == 4 || i == 7 {
			if c != '-' {
				return false
			}
		} else if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func namespaceChars(b []byte) bool {
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == '#' || c == ':' || c == '/' || c == '-') {
			return false
		}
	}
	return true
}

// checkDimKey says what is wrong with a dimension key, or "".
func checkDimKey(k []byte) string {
	switch {
	case len(k) == 0:
		return "is empty"
	case blank(k):
		return "is only white space"
	case k[0] == ':':
		return "starts with ':'"
	}
	if why := asciiProblem(k); why != "" {
		return why
	}
	if len(k) > maxDimKeyLen {
		return fmt.Sprintf("is %d characters long, more than %d", len(k), maxDimKeyLen)
	}
	return ""
}

// checkDimValue says what is wrong with a dimension value, or "".
func checkDimValue(v []byte) string {
	switch {
	case len(v) == 0:
		return "is empty"
	case blank(v):
		return "is only white space"
	}
	if why := asciiProblem(v); why != "" {
		return why
	}
	if len(v) > maxNameLen {
		return fmt.Sprintf("is %d characters long, more than %d", len(v), maxNameLen)
	}
	return ""
}

func asciiProblem(b []byte) string {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return "is not ASCII"
		}
		if c < 0x20 || c == 0x7f {
			return "holds a control character"
		}
	}
	return ""
}
