package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

// Vector is the result of an instant query: value by label set. The key is
// the series as Prometheus prints it, `name{a="x", b="y"}` with labels sorted
// (model.Metric.String); a scalar result has the key "".
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

// PromQL is a small client of the Prometheus HTTP query API
// (/api/v1/query, /api/v1/query_range), which Prometheus and VictoriaMetrics
// both serve. It decodes with prometheus/common/model. (client_golang's
// api/prometheus/v1 would pull json-iterator into go.mod for tests only.)
type PromQL struct {
	url    string
	client *http.Client
}

// NewPromQL returns a client for the server at baseURL (http://host:port).
func NewPromQL(baseURL string) (*PromQL, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("promql client: bad base URL %q", baseURL)
	}
	return &PromQL{url: strings.TrimSuffix(baseURL, "/"), client: &http.Client{Timeout: 30 * time.Second}}, nil
}

// apiResponse is the envelope of the query API.
type apiResponse struct {
	Status    string          `json:"status"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Data      json.RawMessage `json:"data"`
}

type queryData struct {
	ResultType model.ValueType `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

func (q *PromQL) call(ctx context.Context, path string, form url.Values) (*queryData, error) {
	endpoint := q.url + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := q.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", endpoint, err)
	}
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
		if len(body) > 512 {
			body = body[:512]
		}
		if err == nil && r.Error != "" {
			return nil, fmt.Errorf("%s: status %d: %s: %s", endpoint, resp.StatusCode, r.ErrorType, r.Error)
		}
		return nil, fmt.Errorf("%s: status %d: %s", endpoint, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	var d queryData
	if err := json.Unmarshal(r.Data, &d); err != nil {
		return nil, fmt.Errorf("decode %s: %w", endpoint, err)
	}
	return &d, nil
}

// Query runs an instant query at the current time.
func (q *PromQL) Query(ctx context.Context, query string) (Vector, error) {
	return q.QueryAt(ctx, query, time.Now())
}

// QueryAt runs an instant query at ts.
func (q *PromQL) QueryAt(ctx context.Context, query string, ts time.Time) (Vector, error) {
	form := url.Values{"query": {query}, "time": {formatTime(ts)}}
	d, err := q.call(ctx, "/api/v1/query", form)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", query, err)
	}
	out := Vector{}
	switch d.ResultType {
	case model.ValVector:
		var v model.Vector
		if err := json.Unmarshal(d.Result, &v); err != nil {
			return nil, fmt.Errorf("query %q: decode vector: %w", query, err)
		}
		for _, s := range v {
			out[s.Metric.String()] = float64(s.Value)
		}
	case model.ValScalar:
		var s model.Scalar
		if err := json.Unmarshal(d.Result, &s); err != nil {
			return nil, fmt.Errorf("query %q: decode scalar: %w", query, err)
		}
		out[""] = float64(s.Value)
	default:
		return nil, fmt.Errorf("query %q at %s: unexpected result type %s", query, q.url, d.ResultType)
	}
	return out, nil
}

// QueryRange runs a range query.
func (q *PromQL) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) (Matrix, error) {
	form := url.Values{
		"query": {query},
		"start": {formatTime(start)},
		"end":   {formatTime(end)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	}
	d, err := q.call(ctx, "/api/v1/query_range", form)
	if err != nil {
		return nil, fmt.Errorf("query_range %q: %w", query, err)
	}
	if d.ResultType != model.ValMatrix {
		return nil, fmt.Errorf("query_range %q at %s: unexpected result type %s", query, q.url, d.ResultType)
	}
	var m model.Matrix
	if err := json.Unmarshal(d.Result, &m); err != nil {
		return nil, fmt.Errorf("query_range %q: decode matrix: %w", query, err)
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

func formatTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', 3, 64)
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
