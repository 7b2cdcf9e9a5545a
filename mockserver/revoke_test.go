package mockserver_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/mockserver/mockservertest"
	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/authheader"
	"github.com/tollgate/tollgate/spec/oautherr"
)

// protectedStatus calls the flow's first protected operation with token.
func protectedStatus(t *testing.T, srv *mockservertest.Server, flow, token string) int {
	t.Helper()
	op := srv.Flow(t, flow).Protected()[0]
	req := newRequest(t, op.Method, srv.URL+strings.ReplaceAll(op.Path, "{id}", "c-1001"), "", "")
	req.Header.Set("Authorization", "Bearer "+token)
	return send(t, srv, req).status
}

// actionBody builds a revocation or introspection body for co with the
// given members (client id, secret, token); empty values are left out.
func actionBody(t *testing.T, co *spec.ClientOperation, mediaType, id, secret, token string, extra ...string) string {
	t.Helper()
	doc := map[string]any{}
	for _, m := range []struct {
		p spec.Pointer
		v string
	}{{co.Request.ClientID, id}, {co.Request.ClientSecret, secret}, {co.Request.Token, token}} {
		if m.v != "" {
			mustSet(t, m.p, doc, m.v)
		}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		doc[extra[i]] = extra[i+1]
	}
	if mediaType == spec.FormMediaType {
		var kv []string
		for k, v := range doc {
			kv = append(kv, k, v.(string))
		}
		return form(kv...)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantOAuthError checks an RFC 6749 §5.2 error answer.
func wantOAuthError(t *testing.T, ex exchange, status int, code string) {
	t.Helper()
	if ex.status != status {
		t.Errorf("status %d, want %d (%s)", ex.status, status, ex.body)
	}
	if e := oauthError(t, ex.body); e.Code != code {
		t.Errorf("error %q, want %q", e.Code, code)
	}
	if got := ex.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", got)
	}
}

// TestRevocation covers RFC 7009 on every token format: the owner revokes,
// and the token is refused at once by the protected routes (a JWT even when
// its verification is cached); everything else keeps the token alive.
func TestRevocation(t *testing.T) {
	t.Parallel()
	formats := []struct {
		name, flow string
		opts       mockserver.Options
	}{
		{"uuid", "simple", mockserver.Options{}},
		{"opaque", "simple", mockserver.Options{Flows: map[string]mockserver.FlowOptions{"simple": {TokenFormat: spec.FormatOpaque}}}},
		{"jwt", "oauth2", mockserver.Options{}},
		{"opaque on oauth2", "oauth2", mockserver.Options{Flows: map[string]mockserver.FlowOptions{"oauth2": {TokenFormat: spec.FormatOpaque}}}},
	}
	for _, ff := range formats {
		t.Run(ff.name, func(t *testing.T) {
			t.Parallel()
			srv := mockservertest.NewServer(t, mockservertest.WithOptions(ff.opts))
			co := srv.Flow(t, ff.flow).Revocation
			mt := co.MediaTypes[0]
			revoke := func(body string, header ...string) exchange {
				req := newRequest(t, http.MethodPost, srv.URL+co.Path, mt, body)
				for i := 0; i+1 < len(header); i += 2 {
					req.Header.Set(header[i], header[i+1])
				}
				return send(t, srv, req)
			}
			tok := token(t, srv, ff.flow, mockserver.SeedClientID, mockserver.SeedClientSecret)
			if got := protectedStatus(t, srv, ff.flow, tok); got != http.StatusOK { // warms the JWT cache
				t.Fatalf("fresh token: %d", got)
			}

			// Refusals first: the token must survive each.
			refusals := []struct {
				name   string
				ex     func() exchange
				status int
				code   string
			}{
				{"wrong secret", func() exchange {
					return revoke(actionBody(t, co, mt, mockserver.SeedClientID, "wrong", tok))
				}, map[bool]int{true: 401, false: 400}[co.AcceptsClientAuth(spec.ClientAuthBasic)], oautherr.InvalidClient},
				{"unknown client", func() exchange {
					return revoke(actionBody(t, co, mt, "nobody", "x", tok))
				}, map[bool]int{true: 401, false: 400}[co.AcceptsClientAuth(spec.ClientAuthBasic)], oautherr.InvalidClient},
				{"no client authentication", func() exchange {
					return revoke(actionBody(t, co, mt, "", "", tok))
				}, 400, ""}, // simple: the schema requires the credentials; oauth2: invalid_client (below)
				{"another client's token", func() exchange {
					return revoke(actionBody(t, co, mt, mockserver.ShortLivedClientID, mockserver.ShortLivedClientSecret, tok))
				}, 400, oautherr.UnauthorizedClient},
				{"GET", func() exchange {
					ex := send(t, srv, newRequest(t, http.MethodGet, srv.URL+co.Path+"?token="+tok, "", ""))
					if got := ex.header.Get("Allow"); got != "POST" {
						t.Errorf("Allow %q, want POST", got)
					}
					return ex
				}, 405, oautherr.InvalidRequest},
				{"no token member", func() exchange {
					return revoke(actionBody(t, co, mt, mockserver.SeedClientID, mockserver.SeedClientSecret, ""))
				}, 400, oautherr.InvalidRequest},
				{"token not a string", func() exchange {
					return revoke(`{"clientId":"testClient","secret":"superSecret","client_id":"testClient","client_secret":"superSecret","token":5}`)
				}, 400, oautherr.InvalidRequest},
				{"not JSON", func() exchange { return revoke(`{"token":`) }, 400, oautherr.InvalidRequest},
				{"wrong media type", func() exchange {
					return revoke(actionBody(t, co, mt, mockserver.SeedClientID, mockserver.SeedClientSecret, tok), "Content-Type", "text/plain")
				}, 400, oautherr.InvalidRequest},
				{"two Authorization headers", func() exchange {
					req := newRequest(t, http.MethodPost, srv.URL+co.Path, mt, actionBody(t, co, mt, "", "", tok))
					req.Header.Add("Authorization", authheader.FormatBasic(mockserver.SeedClientID, mockserver.SeedClientSecret))
					req.Header.Add("Authorization", authheader.FormatBasic(mockserver.SeedClientID, mockserver.SeedClientSecret))
					return send(t, srv, req)
				}, 400, oautherr.InvalidRequest},
			}
			for _, rc := range refusals {
				ex := rc.ex()
				if rc.code == "" {
					if ex.status != 400 && ex.status != 401 {
						t.Errorf("%s: status %d, want 400 or 401", rc.name, ex.status)
					}
					if e := oauthError(t, ex.body); e.Code != oautherr.InvalidClient && e.Code != oautherr.InvalidRequest {
						t.Errorf("%s: error %q", rc.name, e.Code)
					}
				} else {
					t.Run(rc.name, func(t *testing.T) { wantOAuthError(t, ex, rc.status, rc.code) })
				}
				if rc.status == http.StatusUnauthorized {
					if c := ex.header.Get("WWW-Authenticate"); !strings.HasPrefix(c, "Basic ") {
						t.Errorf("%s: 401 without a Basic challenge: %q", rc.name, c)
					}
				}
				if got := protectedStatus(t, srv, ff.flow, tok); got != http.StatusOK {
					t.Fatalf("after %s the token gets %d, want 200", rc.name, got)
				}
			}

			// Tokens that are not live: 200 and nothing changes (RFC 7009 §2.2).
			for _, dead := range []string{"00000000-0000-4000-8000-000000000000", "not-a-token", tok + "x"} {
				if ex := revoke(actionBody(t, co, mt, mockserver.SeedClientID, mockserver.SeedClientSecret, dead)); ex.status != http.StatusOK || string(ex.body) != "{}" {
					t.Errorf("revoking %q: %d %s, want 200 {}", dead, ex.status, ex.body)
				}
			}

			// The owner revokes, with a hint the server does not know (ignored).
			ex := revoke(actionBody(t, co, mt, mockserver.SeedClientID, mockserver.SeedClientSecret, tok, "token_type_hint", "mystery_token"))
			if ex.status != http.StatusOK || string(ex.body) != "{}" || ex.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("revoke: %d %q %s, want 200 no-store {}", ex.status, ex.header.Get("Cache-Control"), ex.body)
			}
			if got := protectedStatus(t, srv, ff.flow, tok); got != http.StatusUnauthorized {
				t.Errorf("revoked token gets %d, want 401", got)
			}
			// Revoking twice is revoking an invalid token: 200.
			if ex := revoke(actionBody(t, co, mt, mockserver.SeedClientID, mockserver.SeedClientSecret, tok)); ex.status != http.StatusOK {
				t.Errorf("second revocation: %d", ex.status)
			}
			// Other tokens of the client live on.
			other := token(t, srv, ff.flow, mockserver.SeedClientID, mockserver.SeedClientSecret)
			if got := protectedStatus(t, srv, ff.flow, other); got != http.StatusOK {
				t.Errorf("another token of the client gets %d after the revocation", got)
			}
		})
	}
}

// TestRevocationBasicAndForm: the oauth2 flow revokes with HTTP Basic and a
// form, as RFC 7009 §2.1's example does, and refuses Basic plus a body secret.
func TestRevocationBasicAndForm(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	co := srv.Flow(t, "oauth2").Revocation
	tok := token(t, srv, "oauth2", mockserver.SeedClientID, mockserver.SeedClientSecret)
	post := func(body, basicSecret string) exchange {
		req := newRequest(t, http.MethodPost, srv.URL+co.Path, spec.FormMediaType, body)
		req.Header.Set("Authorization", authheader.FormatBasic(mockserver.SeedClientID, basicSecret))
		return send(t, srv, req)
	}
	ex := post(form("token", tok, "client_secret", mockserver.SeedClientSecret), mockserver.SeedClientSecret)
	wantOAuthError(t, ex, http.StatusBadRequest, oautherr.InvalidRequest)
	ex = post(form("token", tok), "wrong")
	wantOAuthError(t, ex, http.StatusUnauthorized, oautherr.InvalidClient)
	if c := ex.header.Get("WWW-Authenticate"); !strings.HasPrefix(c, "Basic ") {
		t.Errorf("challenge %q, want Basic", c)
	}
	if ex := post(form("token", tok, "token_type_hint", "access_token"), mockserver.SeedClientSecret); ex.status != http.StatusOK {
		t.Fatalf("revoke with Basic: %d %s", ex.status, ex.body)
	}
	if got := protectedStatus(t, srv, "oauth2", tok); got != http.StatusUnauthorized {
		t.Errorf("revoked JWT gets %d, want 401", got)
	}
}

// TestRevocationOfExpiredToken: an expired token is an invalid token: 200.
func TestRevocationOfExpiredToken(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	for _, flow := range []string{"simple", "oauth2"} {
		co := srv.Flow(t, flow).Revocation
		tok := token(t, srv, flow, mockserver.ShortLivedClientID, mockserver.ShortLivedClientSecret)
		srv.Clock.Advance(mockserver.ShortLivedLifetime + time.Second)
		ex := send(t, srv, newRequest(t, http.MethodPost, srv.URL+co.Path, co.MediaTypes[0],
			actionBody(t, co, co.MediaTypes[0], mockserver.ShortLivedClientID, mockserver.ShortLivedClientSecret, tok)))
		if ex.status != http.StatusOK {
			t.Errorf("%s: revoking an expired token: %d %s", flow, ex.status, ex.body)
		}
	}
}

// TestRevocationExpiresWithTheToken: the JWT deny-list forgets an entry
// once the token it names has expired, and the token stays dead.
func TestRevocationExpiresWithTheToken(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	co := srv.Flow(t, "oauth2").Revocation
	tok := token(t, srv, "oauth2", mockserver.ShortLivedClientID, mockserver.ShortLivedClientSecret)
	ex := send(t, srv, newRequest(t, http.MethodPost, srv.URL+co.Path, "application/json",
		actionBody(t, co, "application/json", mockserver.ShortLivedClientID, mockserver.ShortLivedClientSecret, tok)))
	if ex.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", ex.status, ex.body)
	}
	srv.Clock.Advance(mockserver.ShortLivedLifetime + time.Second)
	if got := protectedStatus(t, srv, "oauth2", tok); got != http.StatusUnauthorized {
		t.Errorf("revoked and expired token gets %d", got)
	}
	if n := srv.Mock.RevokedJWTs(srv.Clock.Now().Add(time.Minute)); n != 0 {
		t.Errorf("%d deny-list entries outlive their tokens", n)
	}
}

// TestIntrospection covers RFC 7662 on the oauth2 flow (JWT) and on opaque
// tokens: client authentication is required, live tokens are described,
// every dead token is exactly {"active":false}.
func TestIntrospection(t *testing.T) {
	t.Parallel()
	for _, format := range []string{spec.FormatJWT, spec.FormatOpaque} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{
				Flows: map[string]mockserver.FlowOptions{"oauth2": {TokenFormat: format}}}))
			f := srv.Flow(t, "oauth2")
			co := f.Introspection
			introspect := func(body string, basic ...string) exchange {
				req := newRequest(t, http.MethodPost, srv.URL+co.Path, spec.FormMediaType, body)
				if len(basic) == 2 {
					req.Header.Set("Authorization", authheader.FormatBasic(basic[0], basic[1]))
				}
				return send(t, srv, req)
			}
			tok := token(t, srv, "oauth2", mockserver.SeedClientID, mockserver.SeedClientSecret)

			// Refusals.
			for _, rc := range []struct {
				name   string
				ex     exchange
				status int
				code   string
			}{
				{"no client authentication", introspect(form("token", tok)), 401, oautherr.InvalidClient},
				{"wrong secret", introspect(form("token", tok), mockserver.SeedClientID, "wrong"), 401, oautherr.InvalidClient},
				{"wrong body secret", introspect(form("token", tok, "client_id", mockserver.SeedClientID, "client_secret", "wrong")), 401, oautherr.InvalidClient},
				{"no token", introspect(form("token_type_hint", "access_token"), mockserver.SeedClientID, mockserver.SeedClientSecret), 400, oautherr.InvalidRequest},
				{"GET", send(t, srv, newRequest(t, http.MethodGet, srv.URL+co.Path, "", "")), 405, oautherr.InvalidRequest},
			} {
				t.Run(rc.name, func(t *testing.T) {
					wantOAuthError(t, rc.ex, rc.status, rc.code)
					if rc.status == 401 && !strings.HasPrefix(rc.ex.header.Get("WWW-Authenticate"), "Basic ") {
						t.Errorf("401 without a Basic challenge: %q", rc.ex.header.Get("WWW-Authenticate"))
					}
					if rc.status == 405 && rc.ex.header.Get("Allow") != "POST" {
						t.Errorf("Allow %q", rc.ex.header.Get("Allow"))
					}
				})
			}

			// A live token, asked about by another client, in JSON too.
			for _, ex := range []exchange{
				introspect(form("token", tok), mockserver.ShortLivedClientID, mockserver.ShortLivedClientSecret),
				send(t, srv, newRequest(t, http.MethodPost, srv.URL+co.Path, "application/json",
					actionBody(t, co, "application/json", mockserver.SeedClientID, mockserver.SeedClientSecret, tok))),
			} {
				var got map[string]any
				if err := json.Unmarshal(ex.body, &got); err != nil || ex.status != http.StatusOK {
					t.Fatalf("live token: %d %s", ex.status, ex.body)
				}
				now := srv.Clock.Now().Unix()
				if got["active"] != true || got["client_id"] != mockserver.SeedClientID || got["sub"] != mockserver.SeedClientID ||
					got["token_type"] != "Bearer" || got["scope"] != strings.Join(f.Scopes, " ") ||
					got["exp"] != float64(now+int64(f.Lifetime/time.Second)) || got["iat"] != float64(now) {
					t.Errorf("live token: %s", ex.body)
				}
				if ex.header.Get("Cache-Control") != "no-store" {
					t.Errorf("Cache-Control %q", ex.header.Get("Cache-Control"))
				}
			}

			// Dead tokens: unknown, another flow's, revoked, expired.
			simpleTok := token(t, srv, "simple", mockserver.SeedClientID, mockserver.SeedClientSecret)
			revoked := token(t, srv, "oauth2", mockserver.SeedClientID, mockserver.SeedClientSecret)
			rev := f.Revocation
			if ex := send(t, srv, newRequest(t, http.MethodPost, srv.URL+rev.Path, "application/json",
				actionBody(t, rev, "application/json", mockserver.SeedClientID, mockserver.SeedClientSecret, revoked))); ex.status != http.StatusOK {
				t.Fatalf("revoke: %d", ex.status)
			}
			short := token(t, srv, "oauth2", mockserver.ShortLivedClientID, mockserver.ShortLivedClientSecret)
			srv.Clock.Advance(mockserver.ShortLivedLifetime)
			for name, dead := range map[string]string{"unknown": "nope", "tampered": tok + "A", "other flow": simpleTok, "revoked": revoked, "expired": short} {
				ex := introspect(form("token", dead), mockserver.SeedClientID, mockserver.SeedClientSecret)
				if ex.status != http.StatusOK || string(ex.body) != `{"active":false}` {
					t.Errorf("%s token: %d %s, want exactly {\"active\":false}", name, ex.status, ex.body)
				}
			}
		})
	}
}

// TestMetadataAdvertisesRevocationAndIntrospection: RFC 8414 §2 members.
func TestMetadataAdvertisesRevocationAndIntrospection(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	ex := send(t, srv, newRequest(t, http.MethodGet, srv.URL+mockserver.MetadataPath, "", ""))
	var md map[string]any
	if err := json.Unmarshal(ex.body, &md); err != nil {
		t.Fatal(err)
	}
	for member, want := range map[string]any{
		"revocation_endpoint":                           srv.URL + "/oauth/revoke",
		"introspection_endpoint":                        srv.URL + "/oauth/introspect",
		"revocation_endpoint_auth_methods_supported":    []any{"client_secret_basic", "client_secret_post"},
		"introspection_endpoint_auth_methods_supported": []any{"client_secret_basic", "client_secret_post"},
	} {
		got, _ := json.Marshal(md[member])
		w, _ := json.Marshal(want)
		if string(got) != string(w) {
			t.Errorf("%s = %s, want %s", member, got, w)
		}
	}
}

// TestOmitOptional: with OmitOptional the mock serves only what the source
// documents describe: the endpoints marked optional answer 404 and the
// metadata does not advertise them; the others still work.
func TestOmitOptional(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{OmitOptional: true}))
	tests := []struct {
		name, path, contentType, body string
		want                          int
	}{
		{"simple revocation (optional)", "/token/revoke", "application/json", `{"clientId":"testClient","secret":"superSecret","token":"x"}`, http.StatusNotFound},
		{"oauth2 introspection (optional)", "/oauth/introspect", "application/json", `{"client_id":"testClient","client_secret":"superSecret","token":"x"}`, http.StatusNotFound},
		{"oauth2 revocation (documented by Commerce Layer)", "/oauth/revoke", "application/json", `{"client_id":"testClient","client_secret":"superSecret","token":"x"}`, http.StatusOK},
		{"simple token endpoint", "/token", "application/json", `{"clientId":"testClient","secret":"superSecret"}`, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if status, body := optDo(t, srv, http.MethodPost, tt.path, tt.contentType, "", tt.body); status != tt.want {
				t.Errorf("POST %s: %d %s, want %d", tt.path, status, body, tt.want)
			}
		})
	}
	ex := send(t, srv, newRequest(t, http.MethodGet, srv.URL+mockserver.MetadataPath, "", ""))
	var md map[string]any
	if err := json.Unmarshal(ex.body, &md); err != nil {
		t.Fatal(err)
	}
	if _, ok := md["introspection_endpoint"]; ok {
		t.Errorf("the metadata advertises an introspection endpoint the server leaves out: %s", ex.body)
	}
	if md["revocation_endpoint"] != srv.URL+"/oauth/revoke" {
		t.Errorf("revocation_endpoint = %v, want the oauth2 flow's", md["revocation_endpoint"])
	}
	for _, f := range srv.Mock.Flows() {
		if f.Name == "simple" && f.Revocation != nil || f.Name == "oauth2" && f.Introspection != nil {
			t.Errorf("Flows() shows flow %s with an optional endpoint it does not serve", f.Name)
		}
	}
}
