package backend

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// PromQL queries a server that speaks the Prometheus HTTP API (Prometheus,
// VictoriaMetrics) through client_golang's api/prometheus/v1, and checks
// the shape of the result each caller expects. API gives the full client.
type PromQL struct {
	url string
	api v1.API
}

// NewPromQL returns a client for the server at baseURL (http://host:port).
func NewPromQL(baseURL string) (*PromQL, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("promql client: bad base URL %q", baseURL)
	}
	c, err := api.NewClient(api.Config{Address: baseURL, Client: &http.Client{Timeout: 30 * time.Second}})
	if err != nil {
		return nil, fmt.Errorf("promql client: %w", err)
	}
	return &PromQL{url: baseURL, api: v1.NewAPI(c)}, nil
}

// API is client_golang's client of the server.
func (q *PromQL) API() v1.API { return q.api }

// Instant runs an instant query at ts whose result is an instant vector;
// a scalar result is one sample without labels.
func (q *PromQL) Instant(ctx context.Context, query string, ts time.Time) (model.Vector, error) {
	v, _, _, err := q.api.Query(ctx, query, ts)
	if err != nil {
		return nil, fmt.Errorf("query %q at %s: %w", query, q.url, err)
	}
	switch v := v.(type) {
	case model.Vector:
		return v, nil
	case *model.Scalar:
		return model.Vector{{Metric: model.Metric{}, Value: v.Value, Timestamp: v.Timestamp}}, nil
	}
	return nil, fmt.Errorf("query %q at %s: result is a %s, want an instant vector", query, q.url, v.Type())
}

// RangeVector runs an instant query at ts whose result is a range vector
// (a selector with [range]): every raw sample of every series.
func (q *PromQL) RangeVector(ctx context.Context, query string, ts time.Time) (model.Matrix, error) {
	v, _, _, err := q.api.Query(ctx, query, ts)
	return q.matrix(query, v, err)
}

// Range runs a range query.
func (q *PromQL) Range(ctx context.Context, query string, r v1.Range) (model.Matrix, error) {
	v, _, _, err := q.api.QueryRange(ctx, query, r)
	return q.matrix(query, v, err)
}

func (q *PromQL) matrix(query string, v model.Value, err error) (model.Matrix, error) {
	if err != nil {
		return nil, fmt.Errorf("query %q at %s: %w", query, q.url, err)
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("query %q at %s: result is a %s, want a range vector", query, q.url, v.Type())
	}
	return m, nil
}
