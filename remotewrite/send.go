package remotewrite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Remote Write 2.0 response headers: what the receiver wrote.
const (
	headerSamplesWritten    = "X-Prometheus-Remote-Write-Samples-Written"
	headerHistogramsWritten = "X-Prometheus-Remote-Write-Histograms-Written"
	headerExemplarsWritten  = "X-Prometheus-Remote-Write-Exemplars-Written"
)

// httpError is a non-2xx reply: status, URL (redacted) and the start of the body.
type httpError struct {
	url        string
	status     int
	body       string
	retryAfter time.Duration // -1: no usable Retry-After
}

func (e *httpError) Error() string {
	return fmt.Sprintf("remote write %s: status %d: %s", e.url, e.status, e.body)
}

type authError struct{ err error }

func (e *authError) Error() string { return e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

// written is what a 2.0 receiver says it wrote; confirmed is false when it
// sent none of the headers (a 1.0 receiver).
type written struct {
	samples, histograms int
	confirmed           bool
}

// shardEncoders are one shard's encoders, kept between batches.
type shardEncoders struct {
	v1 encoder
	v2 *encoderV2
}

// encodeBatch encodes batch in the protocol in use.
func (w *Writer) encodeBatch(enc *shardEncoders, batch []sample, v2 bool) (body []byte, floats, hists int) {
	if !v2 {
		return enc.v1.encode(batch), 0, 0
	}
	if enc.v2 == nil {
		enc.v2 = newEncoderV2()
	}
	return enc.v2.encode(batch, *w.cfg.MetadataConfig.Send)
}

// sendBatch sends batch until it is delivered or dropped: retryable errors
// (5xx, network, timeouts, 429 with retry_on_http_429) are retried with
// jittered exponential backoff; samples older than sample_age_limit are
// dropped before each attempt; a 2.0 request a receiver does not take (415,
// or 2xx without the written headers) is sent again as 1.0, and the writer
// stays on 1.0.
func (w *Writer) sendBatch(enc *shardEncoders, batch []sample) {
	qc := w.cfg.QueueConfig
	backoff := time.Duration(qc.MinBackoff)
	var body []byte
	var floats, hists int
	encodedV2, retried := false, false
	for attempt := 1; ; attempt++ {
		kept := w.dropOld(batch)
		v2 := w.v2.Load()
		if len(kept) == 0 {
			return
		}
		if body == nil || len(kept) != len(batch) || v2 != encodedV2 {
			body, floats, hists = w.encodeBatch(enc, kept, v2)
			encodedV2 = v2
		}
		batch = kept
		n := len(batch)
		wr, err := w.post(w.kill, body, v2)
		w.noteErr(err)
		if err == nil && v2 && !wr.confirmed {
			w.fallBack("2xx without the X-Prometheus-Remote-Write-*-Written headers: a 1.0 receiver")
			w.cnt.retried[reasonRW2Unsupported].Add(int64(n))
			continue
		}
		if err == nil {
			w.delivered(n, floats, hists, wr, v2)
			return
		}
		w.cnt.failing.Store(true)
		if w.kill.Err() != nil {
			w.drop(reasonShutdown, n, err)
			return
		}
		var he *httpError
		if v2 && errors.As(err, &he) && he.status == http.StatusUnsupportedMediaType {
			w.fallBack("415 Unsupported Media Type")
			w.cnt.retried[reasonRW2Unsupported].Add(int64(n))
			continue
		}
		r, wait, retry := w.classify(err, retried, backoff)
		if !retry {
			w.drop(r, n, err)
			return
		}
		w.cnt.retried[r].Add(int64(n))
		w.log.Debug("remote write failed, retrying", "samples", n, "attempt", attempt, "reason", r.String(), "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-w.kill.Done():
			t.Stop()
			w.drop(reasonShutdown, n, err)
			return
		}
		backoff = min(2*backoff, time.Duration(qc.MaxBackoff))
		retried = true
	}
}

// delivered accounts for an accepted batch of n samples; with 2.0, samples
// the receiver says it did not write are dropped (reason not_written).
func (w *Writer) delivered(n, floats, hists int, wr written, v2 bool) {
	w.cnt.failing.Store(false)
	missing := 0
	if v2 {
		missing = max(floats-wr.samples, 0) + max(hists-wr.histograms, 0)
	}
	w.cnt.pending.Add(-int64(n - missing))
	w.cnt.sent.Add(int64(n - missing))
	if missing > 0 {
		w.drop(reasonNotWritten, missing, fmt.Errorf("receiver wrote %d of %d samples and %d of %d histograms", wr.samples, floats, wr.histograms, hists))
	}
}

// fallBack switches the writer to Remote Write 1.0 for good.
func (w *Writer) fallBack(why string) {
	if w.v2.Swap(false) {
		w.log.Warn("remote write receiver does not take Remote Write 2.0, sending 1.0", "why", why)
	}
}

// dropOld drops the samples older than sample_age_limit (reason too_old)
// and returns the others, in order (batch's memory is reused).
func (w *Writer) dropOld(batch []sample) []sample {
	limit := time.Duration(w.cfg.QueueConfig.SampleAgeLimit)
	if limit <= 0 {
		return batch
	}
	oldest := time.Now().Add(-limit).UnixMilli()
	kept := batch[:0]
	for _, s := range batch {
		if s.t >= oldest {
			kept = append(kept, s)
		}
	}
	if d := len(batch) - len(kept); d > 0 {
		w.drop(reasonTooOld, d, nil)
	}
	return kept
}

// classify says why an attempt failed, whether to retry and how long to
// wait.
func (w *Writer) classify(err error, retried bool, backoff time.Duration) (r reason, wait time.Duration, retry bool) {
	qc := w.cfg.QueueConfig
	wait = max(backoff/2+rand.N(backoff/2+1), time.Duration(qc.MinBackoff))
	var he *httpError
	var ae *authError
	switch {
	case errors.As(err, &he) && he.status == http.StatusTooManyRequests:
		if he.retryAfter >= 0 {
			wait = he.retryAfter
		}
		return reasonHTTP429, wait, qc.RetryOnRateLimit
	case errors.As(err, &he) && he.status >= 500:
		return reasonHTTP5xx, wait, true
	case errors.As(err, &he) && retried && (he.status == http.StatusBadRequest || he.status == http.StatusConflict):
		// an earlier attempt may have been stored (a partial write, or a
		// reply lost on the way): the receiver now refuses the repeat as
		// out of order or duplicate
		return reasonRetried4xx, 0, false
	case errors.As(err, &he) && he.status >= 400:
		return reasonHTTP4xx, 0, false
	case errors.As(err, &he):
		return reasonHTTPStatus, 0, false
	case errors.As(err, &ae):
		return reasonAuth, wait, true
	case isTimeout(err):
		return reasonTimeout, wait, true
	}
	return reasonNetwork, wait, true
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// post sends one compressed request within remote_timeout.
func (w *Writer) post(ctx context.Context, body []byte, v2 bool) (written, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(w.cfg.RemoteTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return written{}, fmt.Errorf("remote write %s: new request: %w", w.display, err)
	}
	for k, v := range w.cfg.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Encoding", "snappy")
	if v2 {
		req.Header.Set("Content-Type", "application/x-protobuf;proto="+MessageV2)
		req.Header.Set("X-Prometheus-Remote-Write-Version", "2.0.0")
	} else {
		req.Header.Set("Content-Type", "application/x-protobuf")
		req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	}
	req.Header.Set("User-Agent", w.userAgent)
	if w.auth != nil {
		if err := w.auth(ctx, req, body); err != nil {
			return written{}, &authError{fmt.Errorf("remote write %s: %w", w.display, err)}
		}
	}
	resp, err := w.client.Do(req)
	if err != nil {
		// *url.Error quotes the full URL: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return written{}, fmt.Errorf("remote write %s: post: %w", w.display, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return parseWritten(resp.Header), nil
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return written{}, &httpError{
		url:        w.display,
		status:     resp.StatusCode,
		body:       strings.TrimSpace(strings.ToValidUTF8(string(snippet), "?")),
		retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
}

// parseWritten reads the 2.0 written headers (absent or bad: 0, as
// Prometheus reads them); confirmed when any is present.
func parseWritten(h http.Header) written {
	var wr written
	for _, x := range []struct {
		name string
		dst  *int
	}{{headerSamplesWritten, &wr.samples}, {headerHistogramsWritten, &wr.histograms}, {headerExemplarsWritten, nil}} {
		v := h.Get(x.name)
		if v == "" {
			continue
		}
		wr.confirmed = true
		if n, err := strconv.Atoi(v); err == nil && x.dst != nil {
			*x.dst = n
		}
	}
	return wr
}

// parseRetryAfter reads delay-seconds or an HTTP date; -1 when absent or bad.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return -1
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		if s < 0 {
			return -1
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return -1
}

// metadataLoop sends every family's metadata each send_interval (1.0 only:
// 2.0 sends it with the series) until the writer is killed.
func (w *Writer) metadataLoop() {
	t := time.NewTicker(time.Duration(w.cfg.MetadataConfig.SendInterval))
	defer t.Stop()
	for {
		select {
		case <-w.kill.Done():
			return
		case <-t.C:
			w.sendMetadata(w.kill, true)
		}
	}
}

// sendMetadata sends the families' metadata in 1.0 requests of at most
// metadata_config.max_samples_per_send entries, when sending metadata is on,
// the writer sends 1.0, and (unless all) a family appeared or changed since
// the last time. A failed request is retried as a batch of samples is,
// within ctx; then its entries are counted as failed.
func (w *Writer) sendMetadata(ctx context.Context, all bool) {
	mc := w.cfg.MetadataConfig
	if !*mc.Send || w.v2.Load() {
		return
	}
	w.convMu.Lock()
	gen := w.conv.metaGen
	if !all && gen == w.metaSent {
		w.convMu.Unlock()
		return
	}
	metas := w.conv.metadata()
	w.metaSent = gen
	w.convMu.Unlock()
	for chunk := range slices.Chunk(metas, mc.MaxSamplesPerSend) {
		if err := w.postMetadata(ctx, chunk); err != nil {
			w.cnt.metaFailed.Add(int64(len(chunk)))
			w.log.Warn("remote write metadata not sent", "families", len(chunk), "err", err)
			continue
		}
		w.cnt.metaSent.Add(int64(len(chunk)))
	}
}

func (w *Writer) postMetadata(ctx context.Context, metas []*familyMeta) error {
	body := encodeMetadataV1(metas)
	backoff := time.Duration(w.cfg.QueueConfig.MinBackoff)
	retried := false
	for {
		_, err := w.post(ctx, body, false)
		if err == nil {
			return nil
		}
		_, wait, retry := w.classify(err, retried, backoff)
		if !retry {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
		backoff = min(2*backoff, time.Duration(w.cfg.QueueConfig.MaxBackoff))
		retried = true
	}
}
