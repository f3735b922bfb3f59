package backend

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Sample is one series of an instant query result.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Series is one series of a range query result.
type Series struct {
	Labels map[string]string
	Points []Point
}

// Point is one sample of a range query.
type Point struct {
	T time.Time
	V float64
}

// PromQL is a small client of the Prometheus HTTP query API.
type PromQL struct {
	base   string
	client *http.Client
}

// NewPromQL returns a client for the server at baseURL (http://host:port).
func NewPromQL(baseURL string) (*PromQL, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("promql client: bad base URL %q", baseURL)
	}
	return &PromQL{base: strings.TrimSuffix(baseURL, "/"), client: &http.Client{Timeout: 30 * time.Second}}, nil
}

func (q *PromQL) call(ctx context.Context, path string, form url.Values) (model.ValueType, json.RawMessage, error) {
	endpoint := q.base + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return model.ValNone, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := q.client.Do(req)
	if err != nil {
		return model.ValNone, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return model.ValNone, nil, fmt.Errorf("read %s: %w", endpoint, err)
	}
	var r struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
		Data      struct {
			ResultType model.ValueType `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
		if len(body) > 512 {
			body = body[:512]
		}
		return model.ValNone, nil, fmt.Errorf("%s: status %d: %s %s", endpoint, resp.StatusCode, r.ErrorType, strings.TrimSpace(string(body)))
	}
	return r.Data.ResultType, r.Data.Result, nil
}

func formatTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

func labelsOf(m model.Metric) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[string(k)] = string(v)
	}
	return out
}

// Query runs an instant query at ts. A scalar result is one sample
// without labels.
func (q *PromQL) Query(ctx context.Context, query string, ts time.Time) ([]Sample, error) {
	typ, raw, err := q.call(ctx, "/api/v1/query", url.Values{"query": {query}, "time": {formatTime(ts)}})
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", query, err)
	}
	switch typ {
	case model.ValVector:
		var v model.Vector
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("query %q: %w", query, err)
		}
		out := make([]Sample, 0, len(v))
		for _, s := range v {
			out = append(out, Sample{Labels: labelsOf(s.Metric), Value: float64(s.Value)})
		}
		return out, nil
	case model.ValScalar:
		var s model.Scalar
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("query %q: %w", query, err)
		}
		return []Sample{{Value: float64(s.Value)}}, nil
	}
	return nil, fmt.Errorf("query %q: unexpected result type %s", query, typ)
}

// QueryScalar runs an instant query and sums its samples (0 when empty).
func (q *PromQL) QueryScalar(ctx context.Context, query string, ts time.Time) (float64, error) {
	ss, err := q.Query(ctx, query, ts)
	if err != nil {
		return 0, err
	}
	sum := 0.0
	for _, s := range ss {
		sum += s.Value
	}
	return sum, nil
}

// QueryRange runs a range query from start to end every step.
func (q *PromQL) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]Series, error) {
	form := url.Values{"query": {query}, "start": {formatTime(start)}, "end": {formatTime(end)},
		"step": {strconv.FormatFloat(step.Seconds(), 'f', 3, 64)}}
	return q.matrix(ctx, "/api/v1/query_range", "query_range", query, form)
}

// QuerySeries runs an instant query whose result is a range vector (a
// selector with [range]) at ts and returns every raw sample.
func (q *PromQL) QuerySeries(ctx context.Context, query string, ts time.Time) ([]Series, error) {
	return q.matrix(ctx, "/api/v1/query", "query", query, url.Values{"query": {query}, "time": {formatTime(ts)}})
}

// matrix calls path with form and returns its matrix result as series; op
// names the call in errors.
func (q *PromQL) matrix(ctx context.Context, path, op, query string, form url.Values) ([]Series, error) {
	typ, raw, err := q.call(ctx, path, form)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", op, query, err)
	}
	if typ != model.ValMatrix {
		return nil, fmt.Errorf("%s %q: unexpected result type %s, want a range vector", op, query, typ)
	}
	var m model.Matrix
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s %q: %w", op, query, err)
	}
	out := make([]Series, 0, len(m))
	for _, s := range m {
		ser := Series{Labels: labelsOf(s.Metric)}
		for _, p := range s.Values {
			ser.Points = append(ser.Points, Point{T: p.Timestamp.Time(), V: float64(p.Value)})
		}
		out = append(out, ser)
	}
	return out, nil
}
