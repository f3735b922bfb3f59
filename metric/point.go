package metric

import "strings"

// Format names the wire format a point or diagnostic came from.
type Format uint8

const (
	FormatUnknown     Format = iota
	FormatEMF                // CloudWatch Embedded Metric Format JSON
	FormatMonitoring         // Datadog MONITORING|ts|value|type|name|#tags log line
	FormatDatadogJSON        // Datadog flush-to-log JSON line {"m","v","e","t"}
	FormatDogStatsD          // DogStatsD datagram (UDP 8125)
	FormatPlatform           // the runner's own Lambda platform metrics
)

var formatNames = [...]string{"unknown", "emf", "monitoring", "datadog-json", "dogstatsd", "platform"}

func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return "unknown"
}

// ParseFormat is the inverse of Format.String.
func ParseFormat(s string) (Format, bool) {
	for i, n := range formatNames {
		if n == s {
			return Format(i), true
		}
	}
	return FormatUnknown, false
}

// Kind is what a producer declared a point to be. It is the producer's view;
// Translate turns it into a Prometheus type.
type Kind uint8

const (
	KindUnknown Kind = iota
	// Counter values are increments (DogStatsD c, MONITORING count, EMF unit Count).
	Counter
	// Gauge values replace the previous value (DogStatsD g, EMF units other than
	// Count and time units).
	Gauge
	// Histogram values are observations (DogStatsD h, MONITORING histogram,
	// EMF time units).
	Histogram
	// Distribution values are observations aggregated globally (DogStatsD d,
	// Datadog JSON lines).
	Distribution
	// Timer values are durations in milliseconds (DogStatsD ms).
	Timer
	// Set members are counted once each (DogStatsD s); see Point.Members.
	Set
	// ServiceCheck carries a Datadog service check status, 0 OK .. 3 UNKNOWN,
	// in Values[0] (DogStatsD _sc, MONITORING check).
	ServiceCheck
	// Event is a Datadog event (DogStatsD _e); Values[0] is 1.
	Event
)

var kindNames = [...]string{"unknown", "counter", "gauge", "histogram", "distribution", "timer", "set", "service_check", "event"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Label is one dimension (EMF) or tag (Datadog) as the producer wrote it.
// A Datadog tag without a colon has an empty Value.
type Label struct {
	Name, Value string
}

// Origin says where a point or diagnostic was read.
type Origin struct {
	Source      string // file name, "-" for stdin, "udp://127.0.0.1:8125", ...
	Line        int    // 1-based line number within Source; 0 when not line based
	Function    string // function name, when the runner knows it
	Environment string // execution environment id, when the runner knows it
	RequestID   string // request id of the invocation that wrote it, when known
}

// String renders the origin as FILE:LINE, the way compilers do.
func (o Origin) String() string {
	src := o.Source
	if src == "" {
		src = "-"
	}
	if o.Line <= 0 {
		return src
	}
	return src + ":" + itoa(o.Line)
}

// Point is one metric record as the producer wrote it: the identity
// (format, namespace, name, labels), what the producer declared it to be
// (kind, unit) and one or more values.
//
// Names, units and label names are kept exactly as written; Translate derives
// the Prometheus family from them. Points handed out by a parser in a Batch
// share the batch's memory: call Clone to keep one past the batch's Reset.
type Point struct {
	Format Format
	// Namespace is the EMF namespace; empty for other formats.
	Namespace string
	// Name is the metric name as written (EMF metric Name, Datadog metric name,
	// service check name, event title).
	Name string
	Kind Kind
	// Unit is the CloudWatch unit as declared ("Milliseconds", "Count", "None"),
	// empty when none was given. DogStatsD timers carry "Milliseconds".
	Unit string
	// Labels are the EMF dimensions of one DimensionSet (in the set's order) or
	// the Datadog tags (in written order).
	Labels []Label
	// Values holds one value, or several for EMF arrays and DogStatsD v1.1
	// multi-value datagrams.
	Values []float64
	// Members holds the members of a DogStatsD set.
	Members []string
	// SampleRate is the DogStatsD sample rate in (0,1]; 0 means 1.
	SampleRate float64
	// TimeMs is the producer's timestamp in Unix milliseconds; 0 when none.
	TimeMs int64
	// Resolution is the EMF StorageResolution (1 or 60); 0 when not declared.
	Resolution int
	Origin     Origin
}

// Weight is the number of events each value stands for (1/SampleRate).
func (p *Point) Weight() float64 {
	if p.SampleRate <= 0 || p.SampleRate >= 1 {
		return 1
	}
	return 1 / p.SampleRate
}

// Clone returns a deep copy that shares no memory with p.
func (p *Point) Clone() Point {
	c := *p
	c.Labels = append([]Label(nil), p.Labels...)
	c.Values = append([]float64(nil), p.Values...)
	if p.Members != nil {
		c.Members = append([]string(nil), p.Members...)
	}
	return c
}

// Label returns the value of the label called name and whether it is present.
func (p *Point) Label(name string) (string, bool) {
	for _, l := range p.Labels {
		if l.Name == name {
			return l.Value, true
		}
	}
	return "", false
}

// String renders the point for messages and tests, e.g.
// emf Shop/Latency{Service=checkout} histogram Milliseconds [100 200].
func (p *Point) String() string {
	var b strings.Builder
	b.WriteString(p.Format.String())
	b.WriteByte(' ')
	if p.Namespace != "" {
		b.WriteString(p.Namespace)
		b.WriteByte('/')
	}
	b.WriteString(p.Name)
	b.WriteByte('{')
	for i, l := range p.Labels {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l.Name)
		if l.Value != "" {
			b.WriteByte('=')
			b.WriteString(l.Value)
		}
	}
	b.WriteString("} ")
	b.WriteString(p.Kind.String())
	if p.Unit != "" {
		b.WriteByte(' ')
		b.WriteString(p.Unit)
	}
	b.WriteString(" [")
	for i, v := range p.Values {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(ftoa(v))
	}
	for i, m := range p.Members {
		if i > 0 || len(p.Values) > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(m)
	}
	b.WriteByte(']')
	return b.String()
}
