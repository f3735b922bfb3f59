package remotewrite

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestDesiredShards(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		r                    rates
		backlog, cur, lo, hi int
		want                 int
	}{
		{"nothing sent yet: keep", rates{in: 1000}, 0, 1, 1, 50, 1},
		// 50 ms per 2000 samples: 25 µs a sample; 200k/s in needs 5 shards
		{"up", rates{in: 200_000, out: 40_000, busy: 1}, 0, 1, 1, 50, 5},
		{"backlog counts", rates{in: 40_000, out: 40_000, busy: 1}, 400_000, 1, 1, 50, 3},
		{"within tolerance", rates{in: 44_000, out: 40_000, busy: 1}, 0, 1, 1, 50, 1},
		{"capped", rates{in: 10_000_000, out: 40_000, busy: 1}, 0, 1, 1, 50, 50},
		{"down, not below min", rates{in: 100, out: 40_000, busy: 1}, 0, 10, 2, 50, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := desiredShards(&tc.r, tc.backlog, tc.cur, tc.lo, tc.hi); got != tc.want {
				t.Errorf("desiredShards = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestShardsSendInParallel: with min_shards 4 a slow receiver gets up to 4
// requests at once (one before), and every series' samples still arrive in
// time order (receiver.points checks it).
func TestShardsSendInParallel(t *testing.T) {
	rc := newReceiver(t)
	var inFlight, most atomic.Int32
	rc.respond = func(_ int, _ http.ResponseWriter, _ *http.Request) bool {
		n := inFlight.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(50 * time.Millisecond)
		inFlight.Add(-1)
		return false
	}
	cfg := testConfig(rc.url())
	cfg.QueueConfig.MinShards, cfg.QueueConfig.MaxShards = 4, 4
	cfg.QueueConfig.MaxSamplesPerSend = 50
	w := newTestWriter(t, cfg)
	for i := range 5 {
		_ = w.Append(gauges(1000, float64(i)), time.UnixMilli(int64(1000*(i+1))))
	}
	if err := flush(t, w); err != nil {
		t.Fatal(err)
	}
	s := checkAccounting(t, w, rc, false)
	if m := most.Load(); m < 2 || m > 4 {
		t.Errorf("at most %d requests at once, want 2..4", m)
	}
	if s.DroppedTotal() != 0 || s.Sent+s.Coalesced != 5000 {
		t.Errorf("stats %s", s)
	}
}

// TestSampleAgeLimit: samples older than sample_age_limit are dropped as
// too_old before a send (accepted and ignored before).
func TestSampleAgeLimit(t *testing.T) {
	rc := newReceiver(t)
	cfg := testConfig(rc.url())
	cfg.QueueConfig.SampleAgeLimit = mdur(10 * time.Minute)
	w := newTestWriter(t, cfg)
	_ = w.Append(gauges(2, 1), time.Now().Add(-time.Hour))
	_ = w.Append(gauges(3, 2), time.Now())
	_ = flush(t, w)
	s := checkAccounting(t, w, rc, false)
	// the first two series' old samples are too old; the new ones go
	if s.Dropped["too_old"] != 2 || s.Sent != 3 {
		t.Errorf("stats %s, want 2 too_old and 3 sent", s)
	}
}

// TestFollowRedirects: follow_redirects (default true) follows a 307; false
// takes it as the reply (a status that is not retried: http_status).
func TestFollowRedirects(t *testing.T) {
	for _, follow := range []bool{true, false} {
		rc := newReceiver(t)
		mux := http.NewServeMux()
		mux.Handle("/moved", http.RedirectHandler(rc.url(), http.StatusTemporaryRedirect))
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		cfg := testConfig(srv.URL + "/moved")
		cfg.FollowRedirects = &follow
		w := newTestWriter(t, cfg)
		_ = w.Append(gauges(2, 1), time.UnixMilli(1000))
		_ = flush(t, w)
		s := checkAccounting(t, w, rc, false)
		if follow && s.Sent != 2 || !follow && s.Dropped["http_status"] != 2 {
			t.Errorf("follow_redirects %v: stats %s", follow, s)
		}
	}
}

// TestEnableHTTP2: enable_http2 (default true) speaks HTTP/2 to a TLS
// receiver that offers it; false stays on HTTP/1.1.
func TestEnableHTTP2(t *testing.T) {
	for _, h2 := range []bool{true, false} {
		var proto atomic.Int32
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			proto.Store(int32(r.ProtoMajor))
			w.WriteHeader(http.StatusNoContent)
		}))
		srv.EnableHTTP2 = true
		srv.StartTLS()
		t.Cleanup(srv.Close)
		cfg := testConfig(srv.URL)
		cfg.TLSConfig.InsecureSkipVerify = true
		cfg.EnableHTTP2 = &h2
		w := newTestWriter(t, cfg)
		_ = w.Append(gauges(1, 1), time.UnixMilli(1000))
		if err := flush(t, w); err != nil {
			t.Fatal(err)
		}
		want := int32(1)
		if h2 {
			want = 2
		}
		if got := proto.Load(); got != want {
			t.Errorf("enable_http2 %v: HTTP/%d, want HTTP/%d", h2, got, want)
		}
	}
}
