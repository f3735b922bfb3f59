package metric

// Batch collects the points and diagnostics that parsers find. A batch is
// reused: Reset keeps its memory, so a parser that appends into it allocates
// nothing in the steady state. It is not safe for concurrent use.
type Batch struct {
	Points []Point
	Diags  []Diagnostic

	labels  []Label
	values  []float64
	members []string
}

// Reset empties the batch and keeps its memory. Points taken from it before
// must not be used afterwards (Clone them to keep them).
func (b *Batch) Reset() {
	b.Points = b.Points[:0]
	b.Diags = b.Diags[:0]
	b.labels = b.labels[:0]
	b.values = b.values[:0]
	b.members = b.members[:0]
}

// AddPoint appends p and returns a pointer to the stored copy.
func (b *Batch) AddPoint(p Point) *Point {
	b.Points = append(b.Points, p)
	return &b.Points[len(b.Points)-1]
}

// AddDiag appends d.
func (b *Batch) AddDiag(d Diagnostic) {
	b.Diags = append(b.Diags, d)
}

// Labels copies ls into the batch's arena and returns the copy, so a parser
// can build labels in a scratch slice and keep them without allocating.
func (b *Batch) Labels(ls []Label) []Label {
	start := len(b.labels)
	b.labels = append(b.labels, ls...)
	return b.labels[start:len(b.labels):len(b.labels)]
}

// Values copies vs into the batch's arena and returns the copy.
func (b *Batch) Values(vs []float64) []float64 {
	start := len(b.values)
	b.values = append(b.values, vs...)
	return b.values[start:len(b.values):len(b.values)]
}

// Members copies ms into the batch's arena and returns the copy.
func (b *Batch) Members(ms []string) []string {
	start := len(b.members)
	b.members = append(b.members, ms...)
	return b.members[start:len(b.members):len(b.members)]
}

// Errors counts the diagnostics of severity Error.
func (b *Batch) Errors() int {
	n := 0
	for i := range b.Diags {
		if b.Diags[i].Severity == Error {
			n++
		}
	}
	return n
}
