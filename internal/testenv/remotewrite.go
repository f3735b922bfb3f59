package testenv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
)

// Series is one series for WriteSamples: its labels (with __name__) and
// samples (timestamps in Unix ms; 0 means now).
type Series struct {
	Labels  map[string]string
	Samples []prompb.Sample
}

// WriteSamples sends one remote-write 1.0 request (protobuf, snappy block)
// to url, a reference sender for tests that need data in a backend without
// lambdabridge's own sender.
func WriteSamples(ctx context.Context, url string, series ...Series) error {
	now := time.Now().UnixMilli()
	var wr prompb.WriteRequest
	for _, s := range series {
		var ts prompb.TimeSeries
		for n, v := range s.Labels {
			ts.Labels = append(ts.Labels, prompb.Label{Name: n, Value: v})
		}
		sort.Slice(ts.Labels, func(i, j int) bool { return ts.Labels[i].Name < ts.Labels[j].Name })
		for _, smp := range s.Samples {
			if smp.Timestamp == 0 {
				smp.Timestamp = now
			}
			ts.Samples = append(ts.Samples, smp)
		}
		wr.Timeseries = append(wr.Timeseries, ts)
	}
	raw, err := wr.Marshal()
	if err != nil {
		return fmt.Errorf("remote write to %s: marshal: %w", url, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(snappy.Encode(nil, raw)))
	if err != nil {
		return fmt.Errorf("remote write to %s: %w", url, err)
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("remote write to %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("remote write to %s: status %d: %s", url, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return nil
}
