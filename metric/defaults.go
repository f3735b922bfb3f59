package metric

// DefaultQuantiles are the quantiles lambdabridge shows and checks for by
// default: the summaries the aggregator keeps (with their allowed errors),
// the quantile panels of generated dashboards and the bucket check of the
// catalog lint all use these.
var DefaultQuantiles = []float64{0.5, 0.9, 0.99}

// DefaultBuckets returns the classic histogram bucket bounds used when
// nothing else gives them, by Prometheus base unit: for "seconds", Lambda-ish
// durations from 1 ms to 15 minutes (the Lambda timeout ceiling); for
// "bytes", powers of 4 from 256 B to 1 GiB; otherwise 1-2.5-5 steps from 0.01
// to 500000. The aggregator fills these and the catalog lint assumes them, so
// both live here. Each call returns a new slice.
func DefaultBuckets(unit string) []float64 {
	switch unit {
	case "seconds":
		return []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 900}
	case "bytes":
		b := make([]float64, 12)
		for i, v := 0, 256.0; i < len(b); i, v = i+1, v*4 {
			b[i] = v
		}
		return b
	}
	var b []float64
	for e := 0.01; e < 1e6; e *= 10 {
		b = append(b, e, 2.5*e, 5*e)
	}
	return b
}
