package mockserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/mockserver/mockservertest"
	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
)

// sendUndocumented performs req without checking the answer against the
// flow document: the 503 of a full store is the mock's own, not the
// documents'.
func sendUndocumented(t *testing.T, srv *mockservertest.Server, req *http.Request) exchange {
	t.Helper()
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return exchange{req: req, status: resp.StatusCode, header: resp.Header, body: body}
}

// tokenRequest is the body-credentials token request of a client on the simple flow.
func simpleTokenRequest(t *testing.T, srv *mockservertest.Server, id, secret string) *http.Request {
	t.Helper()
	body, err := json.Marshal(map[string]string{"clientId": id, "secret": secret})
	if err != nil {
		t.Fatal(err)
	}
	return newRequest(t, http.MethodPost, srv.URL+"/token", "application/json", string(body))
}

// wantUnavailable checks the answer of a full store: 503
// temporarily_unavailable, no-store, and Retry-After in whole seconds.
func wantUnavailable(t *testing.T, ex exchange, retryAfter string) {
	t.Helper()
	if ex.status != http.StatusServiceUnavailable {
		t.Fatalf("status %d, body %s; want 503", ex.status, ex.body)
	}
	if e := oauthError(t, ex.body); e.Code != "temporarily_unavailable" || e.Description == "" {
		t.Errorf("error %q (%q), want temporarily_unavailable with a description", e.Code, e.Description)
	}
	if got := ex.header.Get("Retry-After"); got != retryAfter {
		t.Errorf("Retry-After %q, want %q", got, retryAfter)
	}
	if got := ex.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", got)
	}
}

// TestMaxTokensToken fills the store of a server bounded at two live
// tokens: the third token request is refused with Retry-After until the
// earliest token expires, no live token is evicted, and once the earliest
// has expired issuance works again.
func TestMaxTokensToken(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{MaxTokens: 2}))
	short := token(t, srv, "simple", mockserver.ShortLivedClientID, mockserver.ShortLivedClientSecret) // 5 s
	seed := token(t, srv, "simple", mockserver.SeedClientID, mockserver.SeedClientSecret)              // 30 min
	wantUnavailable(t, sendUndocumented(t, srv, simpleTokenRequest(t, srv, mockserver.SeedClientID, mockserver.SeedClientSecret)), "5")
	for name, tok := range map[string]string{"short-lived": short, "seed": seed} {
		if got := protectedStatus(t, srv, "simple", tok); got != http.StatusOK {
			t.Errorf("the %s token after a refusal: status %d, want 200 (no live token is evicted)", name, got)
		}
	}
	srv.Clock.Advance(2 * time.Second)
	wantUnavailable(t, sendUndocumented(t, srv, simpleTokenRequest(t, srv, mockserver.SeedClientID, mockserver.SeedClientSecret)), "3")

	srv.Clock.Advance(3 * time.Second) // the short-lived token expires
	fresh := token(t, srv, "simple", mockserver.SeedClientID, mockserver.SeedClientSecret)
	for name, tok := range map[string]string{"seed": seed, "fresh": fresh} {
		if got := protectedStatus(t, srv, "simple", tok); got != http.StatusOK {
			t.Errorf("the %s token: status %d, want 200", name, got)
		}
	}
	// JWTs are not stored: the oauth2 flow still issues.
	token(t, srv, "oauth2", mockserver.SeedClientID, mockserver.SeedClientSecret)
}

// TestMaxTokensRevokedJWTs bounds the live JWTs (recorded by jti so that
// the control API can list and revoke them) and the JWT deny-list: an
// issuance or a revocation that would not fit is refused with 503 and
// Retry-After (RFC 7009 section 2.2.1), and the token stays valid, as the
// client must then assume.
func TestMaxTokensRevokedJWTs(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{MaxTokens: 2}))
	co := srv.Flow(t, "oauth2").Revocation
	mt := co.MediaTypes[0]
	revoke := func(tok string) exchange {
		return sendUndocumented(t, srv, newRequest(t, http.MethodPost, srv.URL+co.Path, mt,
			actionBody(t, co, mt, mockserver.SeedClientID, mockserver.SeedClientSecret, tok)))
	}
	first := token(t, srv, "oauth2", mockserver.SeedClientID, mockserver.SeedClientSecret)
	srv.Clock.Advance(time.Second)
	second := token(t, srv, "oauth2", mockserver.SeedClientID, mockserver.SeedClientSecret)
	f := srv.Flow(t, "oauth2")
	full := sendUndocumented(t, srv, newRequest(t, http.MethodPost, srv.URL+f.Token.Path, "application/x-www-form-urlencoded", "grant_type=client_credentials"))
	if full.status != http.StatusUnauthorized { // no credentials: refused before any slot is taken
		t.Fatalf("a request without credentials: %d", full.status)
	}
	req := newRequest(t, http.MethodPost, srv.URL+f.Token.Path, "application/x-www-form-urlencoded", "grant_type=client_credentials")
	req.SetBasicAuth(mockserver.SeedClientID, mockserver.SeedClientSecret)
	wantUnavailable(t, sendUndocumented(t, srv, req), "7199") // two live JWTs: the first expires in 2 h less a second
	for _, tok := range []string{first, second} {
		if ex := revoke(tok); ex.status != http.StatusOK {
			t.Fatalf("revoking a JWT: status %d, body %s", ex.status, ex.body)
		}
	}
	third := token(t, srv, "oauth2", mockserver.SeedClientID, mockserver.SeedClientSecret) // revoked JWTs left the live ones
	wantUnavailable(t, revoke(third), "7199")                                              // the deny-list holds two
	if got := protectedStatus(t, srv, "oauth2", third); got != http.StatusOK {
		t.Errorf("a JWT whose revocation was refused: status %d, want 200", got)
	}
	if got := protectedStatus(t, srv, "oauth2", first); got != http.StatusUnauthorized {
		t.Errorf("the revoked JWT: status %d, want 401", got)
	}
}

// TestSweeperFreesIdleServer shows expired tokens and deny-list entries
// leaving memory with no new token issued: the clock moves past their
// lifetime and the background sweeper (every 5 ms here) deletes them.
func TestSweeperFreesIdleServer(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{SweepInterval: 5 * time.Millisecond}))
	for range 3 {
		token(t, srv, "simple", mockserver.SeedClientID, mockserver.SeedClientSecret)
	}
	jwt := token(t, srv, "oauth2", mockserver.SeedClientID, mockserver.SeedClientSecret)
	co := srv.Flow(t, "oauth2").Revocation
	mt := co.MediaTypes[0]
	if ex := send(t, srv, newRequest(t, http.MethodPost, srv.URL+co.Path, mt,
		actionBody(t, co, mt, mockserver.SeedClientID, mockserver.SeedClientSecret, jwt))); ex.status != http.StatusOK {
		t.Fatalf("revoke: status %d, body %s", ex.status, ex.body)
	}
	time.Sleep(50 * time.Millisecond) // ten sweeps: nothing has expired yet
	if got, held := srv.Mock.StoredTokens(), srv.Mock.RevokedJWTsHeld(); got != 3 || held != 1 {
		t.Fatalf("before expiry: %d stored tokens and %d revoked JWTs, want 3 and 1", got, held)
	}
	srv.Clock.Advance(2 * time.Hour) // past both flows' lifetimes
	deadline := time.Now().Add(10 * time.Second)
	for srv.Mock.StoredTokens() != 0 || srv.Mock.RevokedJWTsHeld() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after expiry: %d stored tokens and %d revoked JWTs remain, want none", srv.Mock.StoredTokens(), srv.Mock.RevokedJWTsHeld())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCloseStopsSweeper(t *testing.T) {
	t.Parallel()
	flows, err := spec.ReadAll(context.Background(), openapi.FS())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mockserver.New(flows, mockserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if srv.SweeperStopped() {
		t.Fatal("the sweeper is stopped before Close")
	}
	for i := range 2 { // Close may be called again
		if err := srv.Close(); err != nil {
			t.Fatalf("Close %d: %v", i+1, err)
		}
		if !srv.SweeperStopped() {
			t.Fatalf("the sweeper runs after Close %d", i+1)
		}
	}
}
