package mockserver_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/mockserver/mockservertest"
	"github.com/tollgate/tollgate/spec/oautherr"
)

// TestRefusalReasons checks that a refused token's 401 says why, in the
// challenge's error_description and the body alike, and that the request
// log line carries the same reason without the token.
func TestRefusalReasons(t *testing.T) {
	t.Parallel()
	shortLived := func(flow string) func(*testing.T, *mockservertest.Server) string {
		return func(t *testing.T, srv *mockservertest.Server) string {
			return token(t, srv, flow, mockserver.ShortLivedClientID, mockserver.ShortLivedClientSecret)
		}
	}
	expire := func(srv *mockservertest.Server) { srv.Clock.Advance(mockserver.ShortLivedLifetime + time.Second) }
	revokeAll := func(srv *mockservertest.Server) { srv.Mock.RevokeAllTokens() }
	fixed := func(tok string) func(*testing.T, *mockservertest.Server) string {
		return func(*testing.T, *mockservertest.Server) string { return tok }
	}
	alterSignature := func(t *testing.T, srv *mockservertest.Server) string {
		tok := token(t, srv, "oauth2", mockserver.SeedClientID, mockserver.SeedClientSecret)
		return tok[:len(tok)-6] + flip(tok[len(tok)-6:], 0)
	}
	tests := []struct {
		name       string
		path       string
		token      func(*testing.T, *mockservertest.Server) string
		then       func(*mockservertest.Server) // nil: nothing
		wantReason string
		wantWords  string // in error_description
	}{
		{name: "uuid unknown", path: "/api/collections", token: fixed("00000000-0000-4000-8000-000000000000"), wantReason: "unknown", wantWords: "unknown to this server"},
		{name: "uuid expired", path: "/api/collections", token: shortLived("simple"), then: expire, wantReason: "expired", wantWords: "expired at 20"},
		{name: "uuid revoked", path: "/api/collections", token: shortLived("simple"), then: revokeAll, wantReason: "revoked", wantWords: "was revoked"},
		{name: "uuid of another flow", path: "/api/markets", token: shortLived("simple"), wantReason: "other_flow", wantWords: "issued for the flow simple, not for oauth2"},
		{name: "jwt of another flow", path: "/api/collections", token: shortLived("oauth2"), wantReason: "other_flow", wantWords: "issued for the flow oauth2, not for simple"},
		{name: "expired jwt of another flow", path: "/api/collections", token: shortLived("oauth2"), then: expire, wantReason: "other_flow", wantWords: "issued for the flow oauth2, not for simple"},
		{name: "jwt expired", path: "/api/markets", token: shortLived("oauth2"), then: expire, wantReason: "expired", wantWords: "expired at 20"},
		{name: "jwt revoked", path: "/api/markets", token: shortLived("oauth2"), then: revokeAll, wantReason: "revoked", wantWords: "was revoked"},
		{name: "jwt altered", path: "/api/markets", token: alterSignature, wantReason: "altered", wantWords: "does not verify"},
		{name: "jwt unknown", path: "/api/markets", token: fixed("not.a.jwt"), wantReason: "unknown", wantWords: "unknown to this server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs syncBuffer
			srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}))
			tok := tt.token(t, srv)
			if tt.then != nil {
				tt.then(srv)
			}
			req := newRequest(t, http.MethodGet, srv.URL+tt.path, "", "")
			req.Header.Set("Authorization", "Bearer "+tok)
			ex := send(t, srv, req)
			if ex.status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401; body %s", ex.status, ex.body)
			}
			c := bearerChallenge(t, ex.header)
			if code, _ := c.Param("error"); code != oautherr.InvalidToken {
				t.Errorf("challenge error = %q, want invalid_token", code)
			}
			desc, _ := c.Param("error_description")
			if !strings.Contains(desc, tt.wantWords) {
				t.Errorf("challenge error_description %q, want %q in it", desc, tt.wantWords)
			}
			if e := oauthError(t, ex.body); e.Code != oautherr.InvalidToken || e.Description != desc {
				t.Errorf("body %s, want invalid_token with the challenge's description %q", ex.body, desc)
			}
			if strings.Contains(desc, tok) {
				t.Error("the description repeats the token")
			}
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			last := lines[len(lines)-1]
			if !strings.Contains(last, "status=401") || !strings.Contains(last, " reason="+tt.wantReason) {
				t.Errorf("log line %q, want status=401 and reason=%s", last, tt.wantReason)
			}
			if strings.Contains(logs.String(), tok) {
				t.Error("the log holds the token")
			}
		})
	}
}

// TestInsufficientScopeNamesTheScope: a 403 says which scope the operation
// needs, in error_description as in the scope parameter, and the log line
// says reason=insufficient_scope.
func TestInsufficientScopeNamesTheScope(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}))
	tok := token(t, srv, "oauth2", "metricsClient", "metricsSecret")
	req := newRequest(t, http.MethodGet, srv.URL+"/provisioning/organizations", "", "")
	req.Header.Set("Authorization", "Bearer "+tok)
	ex := send(t, srv, req)
	if ex.status != http.StatusForbidden {
		t.Fatalf("status %d, want 403; body %s", ex.status, ex.body)
	}
	c := bearerChallenge(t, ex.header)
	desc, _ := c.Param("error_description")
	if scope, _ := c.Param("scope"); scope != "provisioning-api" || !strings.HasSuffix(desc, "needs: provisioning-api") {
		t.Errorf("challenge scope %q, error_description %q: want both to name provisioning-api", scope, desc)
	}
	if e := oauthError(t, ex.body); e.Code != oautherr.InsufficientScope || e.Description != desc {
		t.Errorf("body %s, want insufficient_scope with the challenge's description", ex.body)
	}
	if !strings.Contains(logs.String(), "reason=insufficient_scope") {
		t.Errorf("log %q lacks reason=insufficient_scope", logs.String())
	}
}

func TestScopeNeeded(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		scopes [][]string
		want   string
	}{
		{nil, "the access token lacks the scope this operation needs"},
		{[][]string{{"a"}}, "the access token lacks the scope this operation needs: a"},
		{[][]string{{"a", "b"}, {"c"}}, "the access token lacks the scope this operation needs: a and b, or c"},
	} {
		if got := mockserver.ScopeNeeded(tt.scopes); got != tt.want {
			t.Errorf("scopeNeeded(%v) = %q, want %q", tt.scopes, got, tt.want)
		}
	}
}
