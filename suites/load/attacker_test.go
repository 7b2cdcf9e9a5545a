package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// staticTargeter sends GET / to a server, as kind k.
func staticTargeter(t *testing.T, url string, k Kind) Targeter {
	t.Helper()
	tg, err := newTarget(k, http.MethodGet, url, http.Header{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return single{tg}
}

func TestAttackIsBounded(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(srv.Close)
	tests := []struct {
		name         string
		opts         Options
		pacer        Pacer
		wantRequests uint64 // exact
		wantAtMost   uint64 // when the duration is the bound
	}{
		{name: "the closed model stops at the request count", opts: Options{MaxRequests: 300, Duration: time.Minute, Concurrency: 8}, wantRequests: 300},
		{name: "the open model stops at the request count", opts: Options{MaxRequests: 50, Duration: time.Minute}, pacer: Rate{Freq: 1000, Per: time.Second}, wantRequests: 50},
		{name: "the open model sends no more than is due within the duration", opts: Options{MaxRequests: 1_000_000, Duration: 300 * time.Millisecond}, pacer: Rate{Freq: 100, Per: time.Second}, wantAtMost: 30},
		{name: "a stepped pacer sends no more than is due within the duration", opts: Options{MaxRequests: 1_000_000, Duration: 400 * time.Millisecond}, pacer: StepPacer{Start: Rate{Freq: 50}, Step: Rate{Freq: 50}, Every: 200 * time.Millisecond}, wantAtMost: 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := NewAttacker(tt.opts).Attack(context.Background(), staticTargeter(t, srv.URL, KindValid), tt.pacer)
			if tt.wantRequests > 0 && m.Requests != tt.wantRequests {
				t.Errorf("requests = %d, want %d", m.Requests, tt.wantRequests)
			}
			if tt.wantAtMost > 0 && (m.Requests > tt.wantAtMost || m.Requests == 0) {
				t.Errorf("requests = %d, want 1..%d", m.Requests, tt.wantAtMost)
			}
			if got := m.Outcomes[KindValid][OutcomeCorrect]; got != m.Requests {
				t.Errorf("correct = %d of %d", got, m.Requests)
			}
			if m.Latency.TotalCount() != int64(m.Requests) || m.Service.TotalCount() != int64(m.Requests) {
				t.Errorf("histograms hold %d and %d values for %d requests", m.Latency.TotalCount(), m.Service.TotalCount(), m.Requests)
			}
			var inTimeline uint64
			for _, s := range m.Timeline {
				inTimeline += s.Requests
			}
			if inTimeline != m.Requests {
				t.Errorf("timeline counts %d requests, want %d", inTimeline, m.Requests)
			}
		})
	}
}

func TestAttackClassifiesFailures(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); slow.Close() })
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	t.Cleanup(failing.Close)
	tests := []struct {
		name string
		url  string
		kind Kind
		want Outcome
		key  string
	}{
		{"a server that does not answer in time is a timeout", slow.URL, KindValid, OutcomeTimeout, "timeout"},
		{"a refused connection is a connection error", closed.URL, KindValid, OutcomeConnection, "connection"},
		{"a 503 on a bad token is a status error, not a wrong verdict", failing.URL, KindInvalid, OutcomeServerError, "status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := Options{MaxRequests: 3, Concurrency: 1, Timeout: 100 * time.Millisecond, Duration: 10 * time.Second}
			m := NewAttacker(opts).Attack(context.Background(), staticTargeter(t, tt.url, tt.kind), nil)
			if got := m.Outcomes[tt.kind][tt.want]; got != 3 {
				t.Errorf("%s = %d, want 3 (outcomes %v)", tt.want, got, m.Outcomes[tt.kind])
			}
			if got := m.ErrorsByKind()[tt.key]; got != 3 {
				t.Errorf("errors by kind %s = %d, want 3", tt.key, got)
			}
			if m.WrongVerdicts() != 0 {
				t.Errorf("wrong verdicts = %d, want 0", m.WrongVerdicts())
			}
		})
	}
}

// TestOpenModelHonoursRetryAfter: after a 429 with Retry-After: 1, nothing
// is sent for a second, and the requests due then are counted as skipped.
func TestOpenModelHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var limitedAt time.Time
	var during int
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		// A request already on its way when the 429 left is no fault of
		// the sender: look from 50 ms after it.
		if since := time.Since(limitedAt); !limitedAt.IsZero() && since > 50*time.Millisecond && since < 900*time.Millisecond {
			during++
		}
		if n.Add(1) == 5 {
			limitedAt = time.Now()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	opts := Options{MaxRequests: 1000, Duration: 1500 * time.Millisecond}
	m := NewAttacker(opts).Attack(context.Background(), staticTargeter(t, srv.URL, KindIssue), Rate{Freq: 40})
	if got := m.Outcomes[KindIssue][OutcomeRateLimited]; got != 1 {
		t.Errorf("rate limited = %d, want 1", got)
	}
	if m.Errors() != 0 || m.WrongVerdicts() != 0 {
		t.Errorf("errors %d, wrong %d: a 429 is neither", m.Errors(), m.WrongVerdicts())
	}
	if during != 0 {
		t.Errorf("%d requests arrived within the Retry-After second", during)
	}
	if m.Skipped == 0 {
		t.Error("no request was counted as skipped for the Retry-After")
	}
}

// TestOpenModelCorrectsCoordinatedOmission: one connection, a fixed rate,
// and a handler that stalls once for a second. Every request due during
// the stall waits for it, so the latency measured from the intended send
// time has the stall in its p99; the service time, measured from when each
// request actually left, sees one slow request in hundreds and hides it.
func TestOpenModelCorrectsCoordinatedOmission(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1) == 20 {
			time.Sleep(time.Second)
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	opts := Options{MaxRequests: 400, Duration: 2 * time.Second, Workers: 1, MaxWorkers: 1}
	m := NewAttacker(opts).Attack(context.Background(), staticTargeter(t, srv.URL, KindValid), Rate{Freq: 200})
	if m.Requests < 300 {
		t.Fatalf("only %d requests were answered; the run is too short to judge", m.Requests)
	}
	corrected := m.Quantile(99)
	uncorrected := time.Duration(m.Service.ValueAtQuantile(99)) * time.Microsecond
	// About 200 requests were due during the stall, waiting from 1 s down
	// to 0: the corrected p99 (the slowest 4 of 400) is close to a second.
	if corrected < 800*time.Millisecond {
		t.Errorf("corrected p99 = %s, want ≥ 800ms: the stall is missing", corrected)
	}
	// Only the request that hit the stall took a second to answer.
	if uncorrected >= 500*time.Millisecond {
		t.Errorf("uncorrected p99 = %s, want < 500ms: the test no longer shows the omission", uncorrected)
	}
	if m.Service.Max() < int64(900*time.Millisecond/time.Microsecond) {
		t.Errorf("service-time max = %dµs, want the stall (≈1s)", m.Service.Max())
	}
}
