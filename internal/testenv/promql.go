package testenv

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/lambdabridge/lambdabridge/compare/backend"
)

// Vector is the result of an instant query: value by label set. The key is
// the series as Prometheus prints it, `name{a="x", b="y"}` with labels sorted
// (model.Metric.String); a scalar result has the key "{}", as a vector
// sample without labels.
type Vector map[string]float64

// String lists the samples sorted by key, one per line.
func (v Vector) String() string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %g\n", k, v[k])
	}
	return b.String()
}

// Point is one sample of a range query.
type Point struct {
	T time.Time
	V float64
}

// Matrix is the result of a range query: points by label set (keys as in
// Vector).
type Matrix map[string][]Point

// Querier answers instant PromQL queries; Prometheus, VictoriaMetrics and
// PromQL implement it.
type Querier interface {
	Query(ctx context.Context, query string) (Vector, error)
}

// PromQL gives backend.PromQL's results (client_golang's api/prometheus/v1)
// the shapes tests compare: Vector and Matrix.
type PromQL struct{ q *backend.PromQL }

// NewPromQL returns a client for the server at baseURL (http://host:port).
func NewPromQL(baseURL string) (*PromQL, error) {
	q, err := backend.NewPromQL(baseURL)
	if err != nil {
		return nil, err
	}
	return &PromQL{q: q}, nil
}

// Query runs an instant query at the current time.
func (q *PromQL) Query(ctx context.Context, query string) (Vector, error) {
	return q.QueryAt(ctx, query, time.Now())
}

// QueryAt runs an instant query at ts.
func (q *PromQL) QueryAt(ctx context.Context, query string, ts time.Time) (Vector, error) {
	v, err := q.q.Instant(ctx, query, ts)
	if err != nil {
		return nil, err
	}
	out := Vector{}
	for _, s := range v {
		out[s.Metric.String()] = float64(s.Value)
	}
	return out, nil
}

// QueryRange runs a range query.
func (q *PromQL) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) (Matrix, error) {
	m, err := q.q.Range(ctx, query, v1.Range{Start: start, End: end, Step: step})
	if err != nil {
		return nil, err
	}
	out := Matrix{}
	for _, s := range m {
		pts := make([]Point, 0, len(s.Values))
		for _, p := range s.Values {
			pts = append(pts, Point{T: p.Timestamp.Time(), V: float64(p.Value)})
		}
		out[s.Metric.String()] = pts
	}
	return out, nil
}

// Value runs an instant query that must return exactly one sample and
// returns its value.
func Value(ctx context.Context, q Querier, query string) (float64, error) {
	v, err := q.Query(ctx, query)
	if err != nil {
		return 0, err
	}
	if len(v) != 1 {
		return 0, fmt.Errorf("query %q: want 1 sample, got %d:\n%s", query, len(v), v)
	}
	for _, f := range v {
		return f, nil
	}
	return 0, nil
}

// EventuallyValue polls query until it returns exactly one sample equal to
// want (within 1e-9 relative), failing the test after timeout with the last
// result seen.
func EventuallyValue(t testing.TB, q Querier, query string, want float64, timeout time.Duration) {
	t.Helper()
	var last Vector
	var lastErr error
	eventually(t, timeout, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		last, lastErr = q.Query(ctx, query)
		if lastErr != nil || len(last) != 1 {
			return false
		}
		for _, got := range last {
			return almostEqual(got, want)
		}
		return false
	}, func() string { return fmt.Sprintf("%s == %g; last result (err %v):\n%s", query, want, lastErr, last) })
}

// EventuallyVector polls query until its result equals want exactly (same
// keys, values within 1e-9 relative).
func EventuallyVector(t testing.TB, q Querier, query string, want Vector, timeout time.Duration) {
	t.Helper()
	var last Vector
	var lastErr error
	eventually(t, timeout, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		last, lastErr = q.Query(ctx, query)
		if lastErr != nil || len(last) != len(want) {
			return false
		}
		for k, w := range want {
			g, ok := last[k]
			if !ok || !almostEqual(g, w) {
				return false
			}
		}
		return true
	}, func() string {
		return fmt.Sprintf("%s;\nwant:\n%slast result (err %v):\n%s", query, want, lastErr, last)
	})
}

func almostEqual(a, b float64) bool {
	if a == b {
		return true
	}
	if math.IsNaN(a) && math.IsNaN(b) {
		return true
	}
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}
