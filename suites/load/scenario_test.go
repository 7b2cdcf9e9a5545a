package load_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/mockserver/mockservertest"
	"github.com/tollgate/tollgate/suites/load"
	"github.com/tollgate/tollgate/suites/probe"
)

// newProber points a prober at a mock (loopback) for one flow, with
// the mock's seed client and its short-lived client as the expiry client.
func newProber(t *testing.T, srv *mockservertest.Server, flow string) *probe.Prober {
	t.Helper()
	cfg := probe.Config{
		Target:       srv.URL,
		Flow:         flow,
		Client:       probe.Credentials{ID: mockserver.SeedClientID, Secret: mockserver.SeedClientSecret},
		ExpiryClient: probe.Credentials{ID: mockserver.ShortLivedClientID, Secret: mockserver.ShortLivedClientSecret},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	f := probe.New(cfg, srv.Flow(t, flow))
	if err := f.Preflight(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f
}

// moveClock waits out a token's life on the mock's manual clock.
func moveClock(srv *mockservertest.Server) func(context.Context, time.Duration) error {
	return func(_ context.Context, d time.Duration) error {
		srv.Clock.Advance(d)
		return nil
	}
}

func TestValidateMixVerdicts(t *testing.T) {
	t.Parallel()
	mix, err := load.ParseMix("valid=90,invalid=5,missing=3,expired=2")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		flow         string
		mutations    []string
		wantAccepted bool
	}{
		{"simple flow, correct mock: every verdict right", "simple", nil, false},
		{"oauth2 flow, correct mock: every verdict right", "oauth2", nil, false},
		{"simple flow, mock accepting any Bearer token: bad tokens accepted", "simple", []string{"accept-any-bearer"}, true},
		{"oauth2 flow, mock accepting any Bearer token: bad tokens accepted", "oauth2", []string{"accept-any-bearer"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{Mutations: tt.mutations}))
			f := newProber(t, srv, tt.flow)
			sc, err := load.BuildValidate(context.Background(), load.ValidateInput{F: f, Mix: mix, Sleep: moveClock(srv)})
			if err != nil {
				t.Fatal(err)
			}
			if len(sc.Notes) != 0 || sc.Mix != mix {
				t.Fatalf("mix %v, notes %q: want the whole mix", sc.Mix, sc.Notes)
			}
			m := load.NewAttacker(load.Options{MaxRequests: 400, Duration: 2 * time.Second, Concurrency: 4}).Attack(context.Background(), sc.Targeter, nil)
			if m.Requests != 400 {
				t.Fatalf("requests = %d, want 400", m.Requests)
			}
			for _, k := range []load.Kind{load.KindValid, load.KindInvalid, load.KindMissing, load.KindExpired} {
				if got, want := kindTotal(m, k), uint64(4*mix[k]); got != want {
					t.Errorf("%s requests = %d, want %d", k, got, want)
				}
			}
			if m.Errors() != 0 {
				t.Errorf("errors = %d, want 0", m.Errors())
			}
			if tt.wantAccepted {
				// Only the missing requests (no token at all) are still refused.
				if got, want := m.Accepted(), uint64(4*(mix[load.KindInvalid]+mix[load.KindExpired])); got != want {
					t.Errorf("accepted bad tokens = %d, want %d", got, want)
				}
				return
			}
			if m.WrongVerdicts() != 0 {
				t.Errorf("wrong verdicts = %d, want 0 (outcomes %v)", m.WrongVerdicts(), m.Outcomes)
			}
		})
	}
}

func kindTotal(m *load.Metrics, k load.Kind) uint64 {
	return m.Count(func(got load.Kind, _ load.Outcome) bool { return got == k })
}

func TestValidateSkipsExpiredShareWithoutExpiryClient(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	f := newProber(t, srv, "simple")
	f.Config.ExpiryClient = probe.Credentials{}
	mix, _ := load.ParseMix("valid=8,expired=2")
	sc, err := load.BuildValidate(context.Background(), load.ValidateInput{F: f, Mix: mix})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Mix[load.KindExpired] != 0 || len(sc.Notes) != 1 || !strings.Contains(sc.Notes[0], "expired share skipped") {
		t.Fatalf("mix %v, notes %q: want the expired share dropped with a note", sc.Mix, sc.Notes)
	}
	m := load.NewAttacker(load.Options{MaxRequests: 20, Concurrency: 2}).Attack(context.Background(), sc.Targeter, nil)
	if got := kindTotal(m, load.KindExpired); got != 0 {
		t.Errorf("%d expired requests were sent without an expired token", got)
	}
}

func TestValidateRespectsScopes(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	f := newProber(t, srv, "oauth2")
	f.Config.Client = probe.Credentials{ID: mockserver.ScopedClientID, Secret: mockserver.ScopedClientSecret}
	sc, err := load.BuildValidate(context.Background(), load.ValidateInput{F: f})
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Notes) == 0 {
		t.Fatal("no note says an operation the client's scopes do not cover was left out")
	}
	m := load.NewAttacker(load.Options{MaxRequests: 60, Concurrency: 2}).Attack(context.Background(), sc.Targeter, nil)
	if m.WrongVerdicts() != 0 {
		t.Errorf("wrong verdicts = %d: a scope-limited token was sent where it cannot pass", m.WrongVerdicts())
	}
}

func TestIssueCountsRateLimitingApart(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{Mutations: []string{"rate-limit"}}))
	f := newProber(t, srv, "oauth2")
	sc, err := load.BuildIssue(f)
	if err != nil {
		t.Fatal(err)
	}
	m := load.NewAttacker(load.Options{MaxRequests: 30, Duration: 2 * time.Second}).Attack(context.Background(), sc.Targeter, load.Rate{Freq: 200})
	limited := m.Count(func(_ load.Kind, o load.Outcome) bool { return o == load.OutcomeRateLimited })
	if limited == 0 {
		t.Fatal("no 429 was seen from a mock that rate-limits every 10th token request")
	}
	if m.Errors() != 0 || m.WrongVerdicts() != 0 {
		t.Errorf("errors %d, wrong %d: 429 answers are neither", m.Errors(), m.WrongVerdicts())
	}
	if m.Outcomes[load.KindIssue][load.OutcomeCorrect] == 0 {
		t.Error("no token was issued")
	}
}

func TestValidateRefusesTokensThatExpireDuringTheRun(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	f := newProber(t, srv, "simple")
	f.Config.Client = probe.Credentials{ID: mockserver.ShortLivedClientID, Secret: mockserver.ShortLivedClientSecret}
	_, err := load.BuildValidate(context.Background(), load.ValidateInput{F: f, RunFor: 10 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "shorten --duration") {
		t.Fatalf("BuildValidate = %v, want a refusal naming --duration", err)
	}
	if _, err := load.BuildValidate(context.Background(), load.ValidateInput{F: f, RunFor: 0}); err != nil {
		t.Errorf("without a run length: %v", err)
	}
}
