package probe_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/mockserver/mockservertest"
	"github.com/tollgate/tollgate/suites/probe"
)

// controlOf returns a Prober for the simple flow of a target and the
// control API it detects (nil, and why, when none).
func controlOf(t *testing.T, target, token string) (*probe.Prober, *probe.Control, string) {
	t.Helper()
	cfg := probe.Config{Target: target, Flow: "simple", Client: probe.Credentials{ID: "c", Secret: "s"}, ControlToken: token}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p := probe.New(cfg, builtinFlow(t, "simple"))
	ctl, why := p.DetectControl(context.Background())
	return p, ctl, why
}

// TestDetectControl: only an answer of the clock's shape is a control API;
// anything else means none, with the reason for the report.
func TestDetectControl(t *testing.T) {
	t.Parallel()
	answering := func(status int, contentType, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	tests := []struct {
		name    string
		target  string
		want    bool
		wantWhy string
	}{
		{"the mock", mockservertest.NewServer(t, mockservertest.WithSystemClock()).URL, true, ""},
		{"the mock with control off", mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{Control: mockserver.ControlOff})).URL, false, "answered 404"},
		{"a 404", answering(http.StatusNotFound, "text/plain", "not found"), false, "answered 404"},
		{"a 401", answering(http.StatusUnauthorized, "application/json", `{"error":"invalid_token"}`), false, "answered 401"},
		{"an HTML page", answering(http.StatusOK, "text/html", "<html>clock</html>"), false, "not a JSON object"},
		{"no frozen", answering(http.StatusOK, "application/json", `{"now":"2030-01-02T15:04:05Z"}`), false, "no frozen boolean"},
		{"a bad time", answering(http.StatusOK, "application/json", `{"now":"tomorrow","frozen":false}`), false, "not an RFC 3339 time"},
		{"a clock-shaped answer", answering(http.StatusOK, "application/json", `{"now":"2030-01-02T15:04:05Z","frozen":true}`), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, ctl, why := controlOf(t, tt.target, "")
			if (ctl != nil) != tt.want || !strings.Contains(why, tt.wantWhy) {
				t.Errorf("DetectControl = %v, %q; want a control API %v, why containing %q", ctl != nil, why, tt.want, tt.wantWhy)
			}
		})
	}
}

// TestControlToken: the control token opens a guarded control API, goes
// to the target only (a redirect elsewhere is not followed) and is
// redacted like any secret.
func TestControlToken(t *testing.T) {
	t.Parallel()
	const token = "control-token-0123456789"
	guarded := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{ControlToken: token}))
	if _, ctl, why := controlOf(t, guarded.URL, ""); ctl != nil || !strings.Contains(why, "answered 401") {
		t.Errorf("without the token: control API %v (%q), want none: 401", ctl != nil, why)
	}
	p, ctl, why := controlOf(t, guarded.URL, token)
	if ctl == nil {
		t.Fatalf("with the token: no control API: %s", why)
	}
	if got := p.Redact("Bearer " + token); strings.Contains(got, token) {
		t.Errorf("Redact left the control token in %q", got)
	}

	var leaked atomic.Bool
	elsewhere := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Authorization"), token) {
			leaked.Store(true)
		}
	}))
	t.Cleanup(elsewhere.Close)
	redirecting := httptest.NewServer(http.RedirectHandler(elsewhere.URL+"/_tollgate/clock", http.StatusTemporaryRedirect))
	t.Cleanup(redirecting.Close)
	if _, ctl, _ := controlOf(t, redirecting.URL, token); ctl != nil {
		t.Error("a redirect was taken for a control API")
	}
	if leaked.Load() {
		t.Error("the control token went to the server the target redirected to")
	}
}

// TestControlRestore: Restore puts back a frozen clock at its instant, the
// system clock as the system clock, and an offset clock at its offset.
func TestControlRestore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	instant := time.Date(2030, 1, 2, 15, 4, 5, 0, time.UTC)
	tests := []struct {
		name  string
		setup func(*mockservertest.Server)
		want  func(now time.Time) (time.Time, bool) // the clock after Restore, and frozen
	}{
		{"system clock", func(*mockservertest.Server) {}, func(now time.Time) (time.Time, bool) { return now, false }},
		{"frozen", func(s *mockservertest.Server) { s.SetClock(instant, true) }, func(time.Time) (time.Time, bool) { return instant, true }},
		{"an hour ahead", func(s *mockservertest.Server) { s.SetClock(time.Now().Add(time.Hour), false) }, func(now time.Time) (time.Time, bool) { return now.Add(time.Hour), false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := mockservertest.NewServer(t, mockservertest.WithSystemClock())
			tt.setup(srv)
			_, ctl, why := controlOf(t, srv.URL, "")
			if ctl == nil {
				t.Fatalf("no control API: %s", why)
			}
			snap, err := ctl.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ctl.Advance(ctx, 2*time.Hour+3*time.Second); err != nil {
				t.Fatal(err)
			}
			if !ctl.Moved() {
				t.Error("Moved() = false after Advance")
			}
			if err := ctl.Restore(ctx, snap); err != nil {
				t.Fatal(err)
			}
			if ctl.Moved() {
				t.Error("Moved() = true after Restore")
			}
			got, err := ctl.Clock(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want, frozen := tt.want(time.Now())
			if got.Frozen != frozen || got.Now.Sub(want).Abs() > time.Second {
				t.Errorf("after Restore the clock is %v (frozen %v), want %v (frozen %v)", got.Now, got.Frozen, want, frozen)
			}
		})
	}
}

// TestControlMint: minted tokens come back usable and redacted; a defect
// the flow cannot have is an error naming it.
func TestControlMint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := mockservertest.NewServer(t, mockservertest.WithSystemClock())
	p, ctl, why := controlOf(t, srv.URL, "")
	if ctl == nil {
		t.Fatalf("no control API: %s", why)
	}
	tok, err := ctl.Mint(ctx, probe.MintRequest{Flow: "simple", ClientID: mockserver.SeedClientID, Defect: "expired"})
	if err != nil {
		t.Fatal(err)
	}
	if !tok.ExpiresAt.Before(time.Now()) || tok.Flow != "simple" {
		t.Errorf("minted %+v, want an expired simple token", tok)
	}
	if got := p.Redact("token " + tok.AccessToken); strings.Contains(got, tok.AccessToken) {
		t.Errorf("Redact left the minted token in %q", got)
	}
	_, err = ctl.Mint(ctx, probe.MintRequest{Flow: "simple", Defect: "wrong-audience"})
	if err == nil || !strings.Contains(err.Error(), "answered 400") || !strings.Contains(err.Error(), "defect") {
		t.Errorf("a wrong-audience UUID token: %v, want a 400 naming the defect", err)
	}
}
