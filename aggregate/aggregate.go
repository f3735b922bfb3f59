package aggregate

import (
	"hash/maphash"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"

	"github.com/lambdabridge/lambdabridge/metric"
)

// Family is the Prometheus family a point is aggregated into, and how.
// The embedded metric.Family gives the name, type, unit, scale (values are
// multiplied by Scale before they are aggregated) and help. A Mapper returns
// *Family values that the aggregator may keep: they must not be changed
// afterwards. The first Family seen for a name defines it: later points with
// the same name and type share its settings.
type Family struct {
	metric.Family

	// Buckets are the upper bounds of the classic histogram buckets, sorted
	// ascending, +Inf implied. Nil picks DefaultBuckets(Unit).
	Buckets []float64
	// NativeBucketFactor is the growth factor from one native histogram
	// bucket to the next; the schema is the largest whose factor is at most
	// this. 0 picks DefaultNativeBucketFactor (1.1, schema 3); a negative
	// value disables native buckets.
	NativeBucketFactor float64
	// NativeMaxBuckets bounds the populated native buckets of one series;
	// beyond it the resolution is halved until it fits. 0 picks
	// DefaultNativeMaxBuckets.
	NativeMaxBuckets int

	// Objectives are the summary quantiles with their allowed error; nil
	// picks DefaultObjectives.
	Objectives map[float64]float64
	// MaxAge is the summary window (0: 10 minutes), AgeBuckets the number of
	// buckets it rotates through (0: 5), BufCap the sample buffer (0: 500).
	MaxAge     time.Duration
	AgeBuckets uint32
	BufCap     uint32

	// TTL removes a series that received no point for this long. 0 uses the
	// aggregator's default (WithTTL); a negative TTL never expires.
	TTL time.Duration
}

// Mapper decides the family and the labels of a point. Map appends the
// point's Prometheus labels to dst and returns the extended slice with the
// family; a nil family drops the point (counted as mapping_drop). When two
// labels have the same name the first one in dst wins, so a mapper that
// wants its labels to override the point's tags appends them first.
//
// Map is called concurrently and on the hot path: it should cache what it
// derives from the point's identity and must not keep p or its slices.
type Mapper interface {
	Map(dst []metric.Label, p *metric.Point) (*Family, []metric.Label)
}

// Reasons a value is dropped; they are the values of the reason label of
// lambdabridge_aggregate_dropped_values_total.
const (
	ReasonNonFinite        = "non_finite"        // NaN or ±Inf value
	ReasonNegativeCounter  = "negative_counter"  // a counter increment below zero
	ReasonOutOfOrder       = "superseded"        // a gauge value older (TimeMs) than the one it already holds: a newer value won (last write wins)
	ReasonTypeConflict     = "type_conflict"     // family exists with another type or label-name set
	ReasonNameCollision    = "name_collision"    // exposed names collide with another family (foo vs foo_count)
	ReasonInvalidName      = "invalid_name"      // the mapped family name is not a valid metric name
	ReasonCardinalityLimit = "cardinality_limit" // a new series beyond WithMaxSeries / WithMaxSeriesPerFamily
	ReasonMappingDrop      = "mapping_drop"      // the Mapper dropped the point
	ReasonSetLimit         = "set_limit"         // a set member beyond WithMaxSetMembers
	ReasonUnsupportedKind  = "unsupported_kind"  // e.g. set members into a histogram
	ReasonLabelLimit       = "label_limit"       // more labels than WithMaxLabels
)

// Defaults.
const (
	DefaultNativeBucketFactor = 1.1
	DefaultNativeMaxBuckets   = 160
	DefaultMaxSetMembers      = 10000
	DefaultMaxLabels          = 64
	// DefaultMaxSeriesPerFamily bounds the series of one family unless
	// WithMaxSeriesPerFamily says otherwise: one tag with a value per
	// request (a request id, a user id) stops at 10,000 series, about 2 MB
	// of counters, instead of growing without end; the rest is dropped
	// (cardinality_limit) and Stats names the label that exploded.
	DefaultMaxSeriesPerFamily = 10000
	// DefaultMaxSeries bounds the series of all families unless
	// WithMaxSeries says otherwise: about 50 MB of counters (190 bytes a
	// series) or 140 MB of histograms (560 bytes).
	DefaultMaxSeries = 250000
	// DefaultZeroThreshold is the width of the native histograms' zero
	// bucket, client_golang's default (2^-128).
	DefaultZeroThreshold = 2.938735877055719e-39
)

// EnvironmentLabel is the label WithPerEnvironment adds.
const EnvironmentLabel = "lambda_environment"

// Option configures an Aggregator.
type Option func(*Aggregator)

// WithMapper sets the Mapper (default NewTranslateMapper()).
func WithMapper(m Mapper) Option { return func(a *Aggregator) { a.mapper = m } }

// WithConstLabels adds labels to every series; they override the point's
// labels of the same name. Labels with an empty value are ignored.
func WithConstLabels(ls ...metric.Label) Option {
	return func(a *Aggregator) {
		for _, l := range ls {
			if l.Value != "" {
				a.constLabels = append(a.constLabels, l)
			}
		}
	}
}

// WithPerEnvironment keeps one series per execution environment: the
// point's Origin.Environment becomes the label "lambda_environment" (not
// "environment", which users often have as a dimension). By default
// series are per function, summed across environments as CloudWatch does.
func WithPerEnvironment(on bool) Option { return func(a *Aggregator) { a.perEnv = on } }

// WithFunctionLabel puts the point's Origin.Function into the label called
// name (e.g. "function_name") when it is set. Empty name (the default): no
// such label.
func WithFunctionLabel(name string) Option { return func(a *Aggregator) { a.fnLabel = name } }

// WithMaxSeries bounds the total number of series; new series beyond it are
// dropped (cardinality_limit). The default is DefaultMaxSeries; 0 (or a
// negative n): no limit.
func WithMaxSeries(n int) Option { return func(a *Aggregator) { a.maxSeries = int64(n) } }

// WithMaxSeriesPerFamily bounds the series of each family; new series
// beyond it are dropped (cardinality_limit) and Stats names the label with
// the most distinct values in that family. The default is
// DefaultMaxSeriesPerFamily; 0 (or a negative n): no limit.
func WithMaxSeriesPerFamily(n int) Option { return func(a *Aggregator) { a.maxPerFamily = n } }

// WithTTL is the TTL of families whose Family.TTL is 0. 0 (default): series
// never expire.
func WithTTL(d time.Duration) Option { return func(a *Aggregator) { a.ttl = d } }

// WithOnExpire registers fn to receive the series that expired, as metric
// families holding each series' last state (same shape as Gather's), so a
// remote_write sink can send stale markers for them. It is called from the
// goroutine running Gather or Expire, without the aggregator's locks held;
// it may be given several times.
func WithOnExpire(fn func(ended []*dto.MetricFamily)) Option {
	return func(a *Aggregator) { a.onExpire = append(a.onExpire, fn) }
}

// WithClock sets the clock used for TTLs (default time.Now).
func WithClock(now func() time.Time) Option { return func(a *Aggregator) { a.now = now } }

// WithMaxSetMembers bounds the distinct members a set series remembers
// (default DefaultMaxSetMembers).
func WithMaxSetMembers(n int) Option { return func(a *Aggregator) { a.maxSetMembers = n } }

// WithMaxLabels bounds the labels of one series (default DefaultMaxLabels;
// CloudWatch allows 30 dimensions); points with more are dropped
// (label_limit), and so are points written with more than 4 times as many
// labels, before they are mapped. 0: no limit.
func WithMaxLabels(n int) Option { return func(a *Aggregator) { a.maxLabels = n } }

// WithMixedLabelSets lets one family hold series with different label-name
// sets (valid in Prometheus, but sum() over such a family double counts when
// the sets overlap, e.g. two EMF DimensionSets of one metric). By default the
// first label-name set seen wins and points with another are dropped
// (type_conflict).
func WithMixedLabelSets(on bool) Option { return func(a *Aggregator) { a.mixedLabels = on } }

// Aggregator holds the aggregated series. Create it with New.
type Aggregator struct {
	mapper        Mapper
	constLabels   []metric.Label
	perEnv        bool
	fnLabel       string
	maxSeries     int64
	maxPerFamily  int
	ttl           time.Duration
	onExpire      []func([]*dto.MetricFamily)
	now           func() time.Time
	maxSetMembers int
	maxLabels     int
	mixedLabels   bool
	seed          maphash.Seed

	pool sync.Pool // *scratch

	mu       sync.RWMutex
	families map[string]*family
	occupied map[string]string // exposed sample name -> family name
	sorted   []*family         // by name; nil when it must be rebuilt
	// snap is a copy of families for lock-free lookups on the hot path;
	// republished (under mu) whenever families changes.
	snap   atomic.Pointer[map[string]*family]
	anyTTL atomic.Bool

	nseries atomic.Int64
	expired atomic.Uint64
	// accepted by families since removed (their TTL passed)
	retiredPoints, retiredValues atomic.Uint64

	dropMu  sync.Mutex
	drops   map[dropKey]uint64
	byReas  map[string]uint64
	dropped atomic.Uint64
}

type dropKey struct{ reason, family string }

// maxDropKeys bounds the (reason, family) pairs remembered; beyond it drops
// are counted under family "_other".
const maxDropKeys = 1000

type scratch struct {
	labels []metric.Label
	key    []byte
}

// New returns an empty Aggregator.
func New(opts ...Option) *Aggregator {
	a := &Aggregator{
		now:           time.Now,
		maxSetMembers: DefaultMaxSetMembers,
		maxLabels:     DefaultMaxLabels,
		maxSeries:     DefaultMaxSeries,
		maxPerFamily:  DefaultMaxSeriesPerFamily,
		seed:          maphash.MakeSeed(),
		families:      map[string]*family{},
		occupied:      map[string]string{},
		drops:         map[dropKey]uint64{},
		byReas:        map[string]uint64{},
	}
	for _, o := range opts {
		o(a)
	}
	if a.mapper == nil {
		a.mapper = NewTranslateMapper()
	}
	a.pool.New = func() any {
		return &scratch{labels: make([]metric.Label, 0, 16), key: make([]byte, 0, 256)}
	}
	return a
}

// valueCount is the number of values a point carries: its members for a
// set, its values otherwise.
func valueCount(p *metric.Point) int {
	if p.Kind == metric.Set && len(p.Members) > 0 {
		return len(p.Members)
	}
	return len(p.Values)
}

// Add aggregates p. It is safe for concurrent use and does not keep p.
func (a *Aggregator) Add(p *metric.Point) {
	n := valueCount(p)
	if n == 0 {
		return
	}
	s := a.pool.Get().(*scratch)
	a.add(s, p, n)
	clear(s.labels[:cap(s.labels)]) // do not pin the batch's strings
	a.pool.Put(s)
}

func (a *Aggregator) add(s *scratch, p *metric.Point, n int) {
	if a.maxLabels > 0 && len(p.Labels) > 4*a.maxLabels {
		// far beyond the limit whatever the mapper does: do not spend time on it
		a.drop(ReasonLabelLimit, p.Name, n)
		return
	}
	ls := append(s.labels[:0], a.constLabels...)
	if a.perEnv && p.Origin.Environment != "" {
		ls = append(ls, metric.Label{Name: EnvironmentLabel, Value: p.Origin.Environment})
	}
	if a.fnLabel != "" && p.Origin.Function != "" {
		ls = append(ls, metric.Label{Name: a.fnLabel, Value: p.Origin.Function})
	}
	fam, ls := a.mapper.Map(ls, p)
	s.labels = ls[:0]
	if fam == nil {
		a.drop(ReasonMappingDrop, p.Name, n)
		return
	}
	ls = normalizeLabels(ls, fam.Type)
	s.labels = ls[:0]
	if a.maxLabels > 0 && len(ls) > a.maxLabels {
		a.drop(ReasonLabelLimit, fam.Name, n)
		return
	}
	s.key = appendKey(s.key[:0], ls)

	for {
		f, reason := a.family(fam)
		if f == nil {
			a.drop(reason, fam.Name, n)
			return
		}
		if !a.addTo(f, s, ls, p, n) {
			continue // the family was removed meanwhile; look it up again
		}
		return
	}
}

// family returns the family called fam.Name, creating it if needed; nil and
// a reason when fam conflicts with an existing family.
func (a *Aggregator) family(fam *Family) (*family, string) {
	var f *family
	if m := a.snap.Load(); m != nil {
		f = (*m)[fam.Name]
	}
	if f != nil {
		if f.typ != fam.Type {
			return nil, ReasonTypeConflict
		}
		return f, ""
	}
	if !validMetricName(fam.Name) {
		return nil, ReasonInvalidName
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if f := a.families[fam.Name]; f != nil {
		if f.typ != fam.Type {
			return nil, ReasonTypeConflict
		}
		return f, ""
	}
	names := exposedNames(fam.Name, fam.Type)
	for _, n := range names {
		if _, ok := a.occupied[n]; ok {
			return nil, ReasonNameCollision
		}
	}
	f = newFamily(a, fam)
	f.exposed = names
	for _, n := range names {
		a.occupied[n] = f.name
	}
	a.families[f.name] = f
	a.publish()
	if f.ttl > 0 {
		a.anyTTL.Store(true)
	}
	return f, ""
}

// publish republishes the lock-free copy of the families (a.mu held).
func (a *Aggregator) publish() {
	m := maps.Clone(a.families)
	a.snap.Store(&m)
	a.sorted = nil
}

// exposedNames lists the sample and family names a family of type t called
// name occupies in the text, OpenMetrics and protobuf formats.
func exposedNames(name string, t metric.Type) []string {
	switch t {
	case metric.TypeCounter:
		base := strings.TrimSuffix(name, "_total")
		return []string{base, base + "_total", base + "_created"}
	case metric.TypeHistogram:
		return []string{name, name + "_bucket", name + "_count", name + "_sum", name + "_created", name + "_gcount", name + "_gsum"}
	case metric.TypeSummary:
		return []string{name, name + "_count", name + "_sum", name + "_created"}
	}
	return []string{name}
}

// drop counts n values of family as dropped for reason.
func (a *Aggregator) drop(reason, family string, n int) {
	if n <= 0 {
		return
	}
	a.dropped.Add(uint64(n))
	a.dropMu.Lock()
	k := dropKey{reason, family}
	if _, ok := a.drops[k]; !ok {
		if len(a.drops) >= maxDropKeys {
			k.family = "_other"
		} else {
			k.family = strings.Clone(family)
		}
	}
	a.drops[k] += uint64(n)
	a.byReas[reason] += uint64(n)
	a.dropMu.Unlock()
}

// normalizeLabels drops labels with empty values, renames labels the family
// type reserves (le, quantile) to exported_*, sorts by name (stable) and
// keeps the first of several with one name. Names and values are checked by
// repairLabels, only when a series is created.
func normalizeLabels(ls []metric.Label, t metric.Type) []metric.Label {
	out := ls[:0]
	for _, l := range ls {
		if l.Value == "" {
			continue
		}
		if l.Name == "le" && t == metric.TypeHistogram || l.Name == "quantile" && t == metric.TypeSummary {
			l.Name = "exported_" + l.Name
		}
		out = append(out, l)
	}
	return sortDedup(out)
}

func sortDedup(ls []metric.Label) []metric.Label {
	slices.SortStableFunc(ls, func(x, y metric.Label) int { return strings.Compare(x.Name, y.Name) })
	w := 0
	for i := range ls {
		if w > 0 && ls[w-1].Name == ls[i].Name {
			continue
		}
		ls[w] = ls[i]
		w++
	}
	return ls[:w]
}

// repairLabels makes normalized labels valid for every exposition format:
// invalid names are sanitized, invalid UTF-8 in values replaced. It reports
// whether it changed anything (then the labels are sorted again).
func repairLabels(ls []metric.Label) ([]metric.Label, bool) {
	changed := false
	for i := range ls {
		if !validLabelName(ls[i].Name) {
			ls[i].Name = metric.LabelName(metric.FormatDogStatsD, ls[i].Name)
			changed = true
		}
		if !utf8.ValidString(ls[i].Value) {
			ls[i].Value = strings.ToValidUTF8(ls[i].Value, "\uFFFD")
			changed = true
		}
	}
	if changed {
		ls = sortDedup(ls)
	}
	return ls, changed
}

func validMetricName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

func validLabelName(s string) bool {
	if s == "" || strings.HasPrefix(s, "__") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// appendKey encodes sorted labels as the series key: name 0x00 value 0x00
// per label, with 0x00 and 0x01 in values escaped as 0x01 0x01 and 0x01 0x02.
// Byte order of keys is the order of the label sets, so sorting keys sorts
// series.
func appendKey(dst []byte, ls []metric.Label) []byte {
	for _, l := range ls {
		dst = append(dst, l.Name...)
		dst = append(dst, 0)
		for i := 0; i < len(l.Value); i++ {
			switch c := l.Value[i]; c {
			case 0:
				dst = append(dst, 1, 1)
			case 1:
				dst = append(dst, 1, 2)
			default:
				dst = append(dst, c)
			}
		}
		dst = append(dst, 0)
	}
	return dst
}

// decodeKey appends the labels of key to dst; names and, when nothing was
// escaped, values share key's memory.
func decodeKey(dst []metric.Label, key string) []metric.Label {
	for len(key) > 0 {
		i := strings.IndexByte(key, 0)
		name := key[:i]
		key = key[i+1:]
		j := strings.IndexByte(key, 0)
		val := key[:j]
		key = key[j+1:]
		if strings.IndexByte(val, 1) >= 0 {
			var b strings.Builder
			for k := 0; k < len(val); k++ {
				if val[k] == 1 && k+1 < len(val) {
					k++
					b.WriteByte(val[k] - 1)
					continue
				}
				b.WriteByte(val[k])
			}
			val = b.String()
		}
		dst = append(dst, metric.Label{Name: name, Value: val})
	}
	return dst
}

// weight is the number of events each value of p stands for (1/SampleRate),
// 1 when the sample rate is not a usable number.
func weight(p *metric.Point) float64 {
	w := p.Weight()
	if !finite(w) || w < 1 {
		return 1
	}
	return w
}

// intWeight is a weight rounded for histograms and summaries.
func intWeight(w float64) uint64 {
	if w <= 1 {
		return 1
	}
	r := math.Round(w)
	if r > 1e9 {
		r = 1e9
	}
	return uint64(r)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
