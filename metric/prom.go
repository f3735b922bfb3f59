package metric

import (
	"strings"
)

// Type is a Prometheus metric type.
type Type uint8

const (
	TypeUntyped Type = iota
	TypeCounter
	TypeGauge
	TypeHistogram
	TypeSummary
)

var typeNames = [...]string{"untyped", "counter", "gauge", "histogram", "summary"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "untyped"
}

// ParseType is the inverse of Type.String.
func ParseType(s string) (Type, bool) {
	for i, n := range typeNames {
		if n == s {
			return Type(i), true
		}
	}
	return TypeUntyped, false
}

// Family is the Prometheus identity of a point: what Translate derives from
// the producer's format, namespace, name, kind and unit.
type Family struct {
	// Name is the full family name, unit suffix and, for counters, "_total"
	// included: shop_latency_seconds, shop_orders_total.
	Name string
	Type Type
	// Unit is the Prometheus base unit the values are in after scaling
	// ("seconds", "bytes", "bits", "percent", "bytes_per_second",
	// "bits_per_second", "per_second"), or "" when the values have none.
	Unit string
	// Scale converts the producer's values to Unit: base = value * Scale.
	Scale float64
	// Help describes where the family comes from, for HELP lines.
	Help string
}

// unitRule is how one CloudWatch unit translates.
type unitRule struct {
	typ    Type
	suffix string
	scale  float64
}

// Byte multiples use binary factors (1 Kilobyte = 1024 bytes), the factor AWS
// uses for Lambda memory (Memory Size: 128 MB = 128 MiB); bit multiples use
// decimal factors (1 Kilobit = 1000 bits), the networking convention.
var unitRules = map[string]unitRule{
	"Seconds":          {TypeHistogram, "seconds", 1},
	"Milliseconds":     {TypeHistogram, "seconds", 1e-3},
	"Microseconds":     {TypeHistogram, "seconds", 1e-6},
	"Bytes":            {TypeGauge, "bytes", 1},
	"Kilobytes":        {TypeGauge, "bytes", 1 << 10},
	"Megabytes":        {TypeGauge, "bytes", 1 << 20},
	"Gigabytes":        {TypeGauge, "bytes", 1 << 30},
	"Terabytes":        {TypeGauge, "bytes", 1 << 40},
	"Bits":             {TypeGauge, "bits", 1},
	"Kilobits":         {TypeGauge, "bits", 1e3},
	"Megabits":         {TypeGauge, "bits", 1e6},
	"Gigabits":         {TypeGauge, "bits", 1e9},
	"Terabits":         {TypeGauge, "bits", 1e12},
	"Percent":          {TypeGauge, "percent", 1},
	"Count":            {TypeCounter, "", 1},
	"Bytes/Second":     {TypeGauge, "bytes_per_second", 1},
	"Kilobytes/Second": {TypeGauge, "bytes_per_second", 1 << 10},
	"Megabytes/Second": {TypeGauge, "bytes_per_second", 1 << 20},
	"Gigabytes/Second": {TypeGauge, "bytes_per_second", 1 << 30},
	"Terabytes/Second": {TypeGauge, "bytes_per_second", 1 << 40},
	"Bits/Second":      {TypeGauge, "bits_per_second", 1},
	"Kilobits/Second":  {TypeGauge, "bits_per_second", 1e3},
	"Megabits/Second":  {TypeGauge, "bits_per_second", 1e6},
	"Gigabits/Second":  {TypeGauge, "bits_per_second", 1e9},
	"Terabits/Second":  {TypeGauge, "bits_per_second", 1e12},
	"Count/Second":     {TypeGauge, "per_second", 1},
	"None":             {TypeGauge, "", 1},
	"":                 {TypeGauge, "", 1},
}

// ValidUnit reports whether u is one of the units CloudWatch accepts
// (the empty string stands for the default, None).
func ValidUnit(u string) bool {
	_, ok := unitRules[u]
	return ok
}

// EMFKind is the kind an EMF metric with unit u has: Counter for Count,
// Histogram for time units, Gauge for everything else.
func EMFKind(unit string) Kind {
	switch unitRules[unit].typ {
	case TypeCounter:
		return Counter
	case TypeHistogram:
		return Histogram
	}
	return Gauge
}

// Translate derives the Prometheus family of p. The rules, documented in the
// README because users write PromQL against them:
//
//   - EMF: snake_case(Namespace) + "_" + snake_case(Name) + unit suffix.
//     Count is a counter ("_total"); time units a histogram in seconds;
//     byte units "_bytes" (binary factors); bit units "_bits" (decimal);
//     rates "_bytes_per_second", "_bits_per_second", "_per_second";
//     Percent "_percent"; anything else a gauge.
//   - Datadog: the name with every character Prometheus does not allow
//     (dots, dashes, ...) replaced by "_". count is a counter ("_total"),
//     gauge a gauge, histogram and distribution a histogram, ms a histogram
//     in seconds ("_seconds"), set a gauge of the number of distinct members.
//     Service checks are the gauge datadog_service_check_status (label
//     check), events the counter datadog_events_total.
//   - Platform points are already named in Prometheus style.
func Translate(p *Point) Family {
	switch p.Format {
	case FormatEMF:
		r, ok := unitRules[p.Unit]
		if !ok {
			r = unitRules[""]
		}
		base := joinName(SnakeCase(p.Namespace), SnakeCase(p.Name))
		if base != "" && base[0] >= '0' && base[0] <= '9' {
			base = "_" + base // a valid EMF namespace may start with a digit
		}
		return finish(base, r.typ, r.suffix, r.scale, "EMF metric "+p.Namespace+" "+p.Name+unitNote(p.Unit))
	case FormatPlatform:
		r, ok := unitRules[p.Unit]
		if !ok {
			r = unitRules[""]
		}
		return Family{Name: p.Name, Type: kindType(p.Kind), Unit: r.suffix, Scale: r.scale, Help: "Lambda platform metric " + p.Name}
	}
	help := "Datadog " + p.Kind.String() + " " + p.Name
	switch p.Kind {
	case Counter:
		return finish(Sanitize(p.Name), TypeCounter, "", 1, help)
	case Histogram, Distribution:
		return finish(Sanitize(p.Name), TypeHistogram, "", 1, help)
	case Timer:
		return finish(Sanitize(p.Name), TypeHistogram, "seconds", 1e-3, help+" (milliseconds)")
	case ServiceCheck:
		return Family{Name: "datadog_service_check_status", Type: TypeGauge, Scale: 1, Help: "Datadog service check status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN"}
	case Event:
		return Family{Name: "datadog_events_total", Type: TypeCounter, Scale: 1, Help: "Datadog events"}
	}
	return finish(Sanitize(p.Name), TypeGauge, "", 1, help)
}

func unitNote(u string) string {
	if u == "" {
		return ""
	}
	return " (" + u + ")"
}

func kindType(k Kind) Type {
	switch k {
	case Counter, Event:
		return TypeCounter
	case Histogram, Distribution, Timer:
		return TypeHistogram
	}
	return TypeGauge
}

func joinName(ns, name string) string {
	switch {
	case ns == "":
		return name
	case name == "":
		return ns
	}
	return ns + "_" + name
}

// finish adds the unit suffix (unless the name already ends with it) and,
// for counters, "_total".
func finish(base string, typ Type, unit string, scale float64, help string) Family {
	name := base
	if name == "" {
		name = "_"
	}
	if unit != "" && !strings.HasSuffix(name, "_"+unit) {
		name += "_" + unit
	}
	if typ == TypeCounter && !strings.HasSuffix(name, "_total") {
		name += "_total"
	}
	return Family{Name: name, Type: typ, Unit: unit, Scale: scale, Help: help}
}

// LabelName translates a dimension or tag key to a Prometheus label name:
// snake_case for EMF dimensions (ServiceName -> service_name), only invalid
// characters replaced for Datadog tags (env.name -> env_name). A name
// Prometheus reserves ("__" prefix) loses the extra underscores.
func LabelName(f Format, key string) string {
	var s string
	if f == FormatEMF {
		s = SnakeCase(key)
	} else {
		s = sanitize(key, false)
	}
	s = strings.TrimLeft(s, "_")
	if s == "" {
		return "label"
	}
	if s[0] >= '0' && s[0] <= '9' {
		s = "_" + s
	}
	return s
}

// TagValueTrue is the label value a Datadog tag without a value gets
// (tag "canary" becomes canary="true"), because Prometheus treats an empty
// label value as an absent label.
const TagValueTrue = "true"

// PromLabels appends to dst the Prometheus labels of p, translated with
// LabelName, with their values, in the producer's order (not sorted). A
// service check gets its name as label "check". When two keys translate to
// the same label name the first wins; the validator reports the clash.
func PromLabels(dst []Label, p *Point) []Label {
	if p.Kind == ServiceCheck {
		dst = append(dst, Label{Name: "check", Value: p.Name})
	}
	start := len(dst)
	var seen map[string]struct{} // for many labels: the linear scan is quadratic
	if len(p.Labels) > 16 {
		seen = make(map[string]struct{}, len(p.Labels))
		for _, d := range dst[:start] {
			seen[d.Name] = struct{}{}
		}
	}
	for _, l := range p.Labels {
		n := LabelName(p.Format, l.Name)
		if p.Format == FormatPlatform {
			n = l.Name
		}
		if seen != nil {
			if _, dup := seen[n]; dup {
				continue
			}
			seen[n] = struct{}{}
		} else if hasLabel(dst, n) {
			continue
		}
		v := l.Value
		if v == "" {
			v = TagValueTrue
		}
		dst = append(dst, Label{Name: n, Value: v})
	}
	return dst
}

func hasLabel(ls []Label, name string) bool {
	for _, l := range ls {
		if l.Name == name {
			return true
		}
	}
	return false
}

// Sanitize replaces every character not allowed in a Prometheus metric name
// with "_", collapses runs of "_" and prefixes a leading digit with "_".
func Sanitize(s string) string {
	out := sanitize(s, true)
	if out != "" && out[0] >= '0' && out[0] <= '9' {
		out = "_" + out
	}
	return out
}

func sanitize(s string, colonOK bool) string {
	var b strings.Builder
	b.Grow(len(s))
	last := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || colonOK && c == ':'
		if !ok {
			c = '_'
		}
		if c == '_' && last == '_' {
			continue
		}
		b.WriteByte(c)
		last = c
	}
	return strings.Trim(b.String(), "_")
}

// SnakeCase turns a CloudWatch name into snake_case: ProcessingLatency ->
// processing_latency, MyApp/Orders -> my_app_orders, HTTPRequests ->
// http_requests, S3Bucket -> s3_bucket. Characters that are not letters or
// digits become "_"; runs of "_" collapse; the result has no leading or
// trailing "_".
func SnakeCase(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 4)
	under := true // suppress a leading underscore
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			if !under && i > 0 {
				prev := s[i-1]
				lowerOrDigit := prev >= 'a' && prev <= 'z' || prev >= '0' && prev <= '9'
				upperThenLower := prev >= 'A' && prev <= 'Z' && i+1 < len(s) && s[i+1] >= 'a' && s[i+1] <= 'z'
				if lowerOrDigit || upperThenLower {
					b.WriteByte('_')
				}
			}
			b.WriteByte(c + 'a' - 'A')
			under = false
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteByte(c)
			under = false
		default:
			if !under {
				b.WriteByte('_')
				under = true
			}
		}
	}
	return strings.TrimRight(b.String(), "_")
}
