package mockserver_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/mockserver/mockservertest"
	"github.com/tollgate/tollgate/spec/oautherr"
)

// flip changes the character at index i of s to another b64token character.
func flip(s string, i int) string {
	b := []byte(s)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// TestBearerEnforcement sends every kind of credential to protected routes.
func TestBearerEnforcement(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	simple := token(t, srv, "simple", "testClient", "superSecret")
	jwtTok := token(t, srv, "oauth2", "testClient", "superSecret")
	metricsOnly := token(t, srv, "oauth2", "metricsClient", "metricsSecret")
	header, payload, _ := strings.Cut(jwtTok, ".")
	payload, signature, _ := strings.Cut(payload, ".")

	tests := []struct {
		name       string
		path       string
		auth       []string // Authorization header lines
		query      string
		wantStatus int
		wantCode   string // "" means: no error attribute in the challenge
		wantScope  string
	}{
		{"valid UUID token", "/api/collections", []string{"Bearer " + simple}, "", 200, "", ""},
		{"path parameter route", "/api/collections/c-1001", []string{"Bearer " + simple}, "", 200, "", ""},
		{"lower-case scheme", "/api/collections", []string{"bearer " + simple}, "", 200, "", ""},
		{"upper-case scheme", "/api/collections", []string{"BEARER " + simple}, "", 200, "", ""},
		{"several spaces", "/api/collections", []string{"Bearer    " + simple}, "", 200, "", ""},
		{"no credentials", "/api/collections", nil, "", 401, "", ""},
		{"another scheme", "/api/collections", []string{"Basic dGVzdENsaWVudDpzdXBlclNlY3JldA=="}, "", 401, "", ""},
		{"token in the query only is ignored", "/api/collections", nil, "access_token=" + simple, 401, "", ""},
		{"Bearer without a token", "/api/collections", []string{"Bearer"}, "", 400, oautherr.InvalidRequest, ""},
		{"Bearer and a space", "/api/collections", []string{"Bearer "}, "", 400, oautherr.InvalidRequest, ""},
		{"two tokens", "/api/collections", []string{"Bearer a b"}, "", 400, oautherr.InvalidRequest, ""},
		{"a quote in the token", "/api/collections", []string{`Bearer x"y`}, "", 400, oautherr.InvalidRequest, ""},
		{"no space after the scheme", "/api/collections", []string{"Bearer" + simple}, "", 401, "", ""},
		{"two Authorization headers", "/api/collections", []string{"Bearer " + simple, "Bearer " + simple}, "", 400, oautherr.InvalidRequest, ""},
		{"header and query", "/api/collections", []string{"Bearer " + simple}, "access_token=" + simple, 400, oautherr.InvalidRequest, ""},
		{"unknown token", "/api/collections", []string{"Bearer 00000000-0000-4000-8000-000000000000"}, "", 401, oautherr.InvalidToken, ""},
		{"altered token", "/api/collections", []string{"Bearer " + flip(simple, len(simple)-1)}, "", 401, oautherr.InvalidToken, ""},
		{"truncated token", "/api/collections", []string{"Bearer " + simple[:len(simple)-1]}, "", 401, oautherr.InvalidToken, ""},
		{"16 KB token", "/api/collections", []string{"Bearer " + strings.Repeat("a", 16<<10)}, "", 401, oautherr.InvalidToken, ""},
		{"a simple token on an oauth2 route", "/api/markets", []string{"Bearer " + simple}, "", 401, oautherr.InvalidToken, ""},
		{"a JWT on a simple route", "/api/collections", []string{"Bearer " + jwtTok}, "", 401, oautherr.InvalidToken, ""},
		{"valid JWT", "/api/markets", []string{"Bearer " + jwtTok}, "", 200, "", ""},
		{"JWT with an altered payload", "/api/markets", []string{"Bearer " + header + "." + flip(payload, 10) + "." + signature}, "", 401, oautherr.InvalidToken, ""},
		{"JWT with an altered signature", "/api/markets", []string{"Bearer " + header + "." + payload + "." + flip(signature, 5)}, "", 401, oautherr.InvalidToken, ""},
		{"JWT with alg none", "/api/markets", []string{"Bearer eyJhbGciOiJub25lIn0." + payload + "."}, "", 401, oautherr.InvalidToken, ""},
		{"scope present", "/metrics/orders", []string{"Bearer " + metricsOnly}, "", 200, "", ""},
		{"any token on a route with no scope", "/api/markets", []string{"Bearer " + metricsOnly}, "", 200, "", ""},
		{"scope missing", "/provisioning/organizations", []string{"Bearer " + metricsOnly}, "", 403, oautherr.InsufficientScope, "provisioning-api"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := srv.URL + tt.path
			if tt.query != "" {
				url += "?" + tt.query
			}
			req := newRequest(t, http.MethodGet, url, "", "")
			for _, a := range tt.auth {
				req.Header.Add("Authorization", a)
			}
			ex := send(t, srv, req)
			if ex.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", ex.status, tt.wantStatus, ex.body)
			}
			if ex.status == http.StatusOK {
				return
			}
			c := bearerChallenge(t, ex.header)
			if realm, _ := c.Param("realm"); realm != "tollgate" {
				t.Errorf("realm = %q, want tollgate", realm)
			}
			code, _ := c.Param("error")
			if code != tt.wantCode {
				t.Errorf("challenge error = %q, want %q (%s)", code, tt.wantCode, ex.header.Get("WWW-Authenticate"))
			}
			if tt.wantCode != "" {
				if e := oauthError(t, ex.body); e.Code != tt.wantCode {
					t.Errorf("body error = %q, want %q", e.Code, tt.wantCode)
				}
			}
			if scope, _ := c.Param("scope"); scope != tt.wantScope {
				t.Errorf("challenge scope = %q, want %q", scope, tt.wantScope)
			}
			for _, tok := range []string{simple, jwtTok} {
				if strings.Contains(string(ex.body), tok) || strings.Contains(ex.header.Get("WWW-Authenticate"), tok) {
					t.Error("the rejection reflects the token")
				}
			}
		})
	}
}

// TestExpiry moves the clock past each flow's token lifetime: a token works
// up to its expiry and never after, whether verification was cached or not.
func TestExpiry(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ flow, path string }{{"simple", "/api/collections"}, {"oauth2", "/api/markets"}} {
		t.Run(tt.flow, func(t *testing.T) {
			t.Parallel()
			srv := mockservertest.NewServer(t)
			tok := token(t, srv, tt.flow, mockserver.ShortLivedClientID, mockserver.ShortLivedClientSecret)
			call := func() int {
				req := newRequest(t, http.MethodGet, srv.URL+tt.path, "", "")
				req.Header.Set("Authorization", "Bearer "+tok)
				return send(t, srv, req).status
			}
			if got := call(); got != 200 {
				t.Fatalf("fresh token: %d", got)
			}
			srv.Clock.Advance(mockserver.ShortLivedLifetime - time.Second)
			if got := call(); got != 200 {
				t.Fatalf("one second before expiry: %d", got)
			}
			srv.Clock.Advance(time.Second)
			if got := call(); got != 401 {
				t.Fatalf("at expiry: %d, want 401", got)
			}
			srv.Clock.Advance(time.Hour)
			if got := call(); got != 401 {
				t.Fatalf("an hour after expiry: %d, want 401", got)
			}
		})
	}
}

// TestJWTAgainstJWKS verifies an oauth2 token with go-jose against the served
// JWKS and checks its claims against the token response.
func TestJWTAgainstJWKS(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	ex := send(t, srv, newRequest(t, http.MethodPost, srv.URL+"/oauth/token", "application/json",
		`{"grant_type":"client_credentials","client_id":"testClient","client_secret":"superSecret","scope":"metrics-api"}`))
	tr, err := srv.Flow(t, "oauth2").ParseTokenResponse(ex.body)
	if err != nil {
		t.Fatal(err)
	}
	jwksEx := send(t, srv, newRequest(t, http.MethodGet, srv.URL+mockserver.JWKSPath, "", ""))
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwksEx.body, &set); err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	parsed, err := jwt.ParseSigned(tr.AccessToken, []jose.SignatureAlgorithm{jose.RS512})
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Key(parsed.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("JWKS has %d keys for kid %q", len(keys), parsed.Headers[0].KeyID)
	}
	var std jwt.Claims
	var custom struct {
		ClientID string `json:"client_id"`
		Scope    string `json:"scope"`
	}
	if err := parsed.Claims(keys[0].Key, &std, &custom); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: srv.URL, AnyAudience: jwt.Audience{"oauth2"}, Time: srv.Clock.Now()}, 0); err != nil {
		t.Errorf("claims: %v", err)
	}
	if got := std.Expiry.Time().Sub(std.IssuedAt.Time()); got != time.Duration(tr.ExpiresIn)*time.Second {
		t.Errorf("exp - iat = %v, want expires_in %ds", got, tr.ExpiresIn)
	}
	if std.IssuedAt.Time().Unix() != tr.CreatedAt || std.ID == "" || std.Subject != "testClient" {
		t.Errorf("claims %+v do not match the response (created_at %d)", std, tr.CreatedAt)
	}
	if custom.ClientID != "testClient" || custom.Scope != "metrics-api" {
		t.Errorf("client_id, scope = %q, %q", custom.ClientID, custom.Scope)
	}

	mdEx := send(t, srv, newRequest(t, http.MethodGet, srv.URL+mockserver.MetadataPath, "", ""))
	var md map[string]any
	if err := json.Unmarshal(mdEx.body, &md); err != nil {
		t.Fatal(err)
	}
	if md["issuer"] != srv.URL || md["token_endpoint"] != srv.URL+"/oauth/token" || md["jwks_uri"] != srv.URL+mockserver.JWKSPath {
		t.Errorf("metadata = %v", md)
	}
}

// TestThirdFlow serves a document the code has never seen.
func TestThirdFlow(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithFlows(), mockservertest.WithDocuments("../testdata/flows/userpass.yaml"))
	ex := send(t, srv, newRequest(t, http.MethodPost, srv.URL+"/login", "application/json", `{"username":"testClient","password":"superSecret"}`))
	if ex.status != 200 {
		t.Fatalf("login: %d %s", ex.status, ex.body)
	}
	var resp struct {
		Token string `json:"token"`
		Type  string `json:"type"`
		TTL   int    `json:"ttl"`
	}
	if err := json.Unmarshal(ex.body, &resp); err != nil || len(resp.Token) != 43 || resp.Type != "Bearer" || resp.TTL != 600 {
		t.Fatalf("login response %s (%v), want a 43-character opaque token, Bearer, 600", ex.body, err)
	}
	req := newRequest(t, http.MethodGet, srv.URL+"/me", "", "")
	req.Header.Set("Authorization", "Bearer "+resp.Token)
	if ex := send(t, srv, req); ex.status != 200 || !strings.Contains(string(ex.body), "testClient") {
		t.Errorf("GET /me: %d %s", ex.status, ex.body)
	}
	ex = send(t, srv, newRequest(t, http.MethodGet, srv.URL+"/me", "", ""))
	if c := bearerChallenge(t, ex.header); ex.status != 401 {
		t.Errorf("GET /me without a token: %d", ex.status)
	} else if realm, _ := c.Param("realm"); realm != "userpass-demo" {
		t.Errorf("realm = %q, want the document's userpass-demo", realm)
	}
	if ex := send(t, srv, newRequest(t, http.MethodGet, srv.URL+"/status", "", "")); ex.status != 200 {
		t.Errorf("public GET /status: %d", ex.status)
	}
	ex = send(t, srv, newRequest(t, http.MethodPost, srv.URL+"/login", "application/json", `{"username":"testClient","password":"wrong"}`))
	if ex.status != 400 || oauthError(t, ex.body).Code != oautherr.InvalidClient {
		t.Errorf("wrong password: %d %s", ex.status, ex.body)
	}
	// Its revocation operation ("log out") works from the document alone.
	ex = send(t, srv, newRequest(t, http.MethodPost, srv.URL+"/logout", "application/json", `{"username":"testClient","password":"superSecret","token":"`+resp.Token+`"}`))
	if ex.status != 200 {
		t.Fatalf("logout: %d %s", ex.status, ex.body)
	}
	if ex := send(t, srv, req); ex.status != 401 {
		t.Errorf("GET /me after logout: %d", ex.status)
	}
}

// TestNotFound answers unknown paths with JSON, not a bare text page.
func TestNotFound(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	ex := send(t, srv, newRequest(t, http.MethodGet, srv.URL+"/nope", "", ""))
	if ex.status != 404 || ex.header.Get("Content-Type") != "application/json" {
		t.Errorf("GET /nope: %d %q", ex.status, ex.header.Get("Content-Type"))
	}
	ex = send(t, srv, newRequest(t, http.MethodPost, srv.URL+"/api/collections", "", ""))
	if ex.status != http.StatusMethodNotAllowed {
		t.Errorf("POST /api/collections: %d, want 405", ex.status)
	}
}

// TestLogsRedactSecrets checks that request logs never carry a secret or a
// whole token.
func TestLogsRedactSecrets(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}))
	tok := token(t, srv, "simple", "testClient", "superSecret")
	req := newRequest(t, http.MethodPost, srv.URL+"/oauth/token", "application/x-www-form-urlencoded", "grant_type=client_credentials")
	req.SetBasicAuth("testClient", "superSecret")
	send(t, srv, req)
	req = newRequest(t, http.MethodGet, srv.URL+"/api/collections?access_token="+tok, "", "")
	req.Header.Set("Authorization", "Bearer "+tok)
	send(t, srv, req)
	out := logs.String()
	if strings.Contains(out, "superSecret") || strings.Contains(out, tok) {
		t.Errorf("logs leak a secret or a token:\n%s", out)
	}
	if !strings.Contains(out, "client=testClient") || !strings.Contains(out, "Bearer sha256:") {
		t.Errorf("logs lack the redacted credentials:\n%s", out)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestJWTNonCanonicalSignature: changing the unused low bits of the last
// base64url character leaves the signature bytes alone; the mock still
// refuses the changed token.
func TestJWTNonCanonicalSignature(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	tok := token(t, srv, "oauth2", "testClient", "superSecret")
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, tok[len(tok)-1])
	// An RS256 signature is 256 bytes: 342 characters, the last carrying 2
	// bits of data and 4 unused ones.
	changed := tok[:len(tok)-1] + string(alphabet[last^1])
	req := newRequest(t, http.MethodGet, srv.URL+"/api/markets", "", "")
	req.Header.Set("Authorization", "Bearer "+changed)
	if ex := send(t, srv, req); ex.status != http.StatusUnauthorized {
		t.Errorf("a JWT with a non-canonical signature encoding: %d, want 401", ex.status)
	}
}

// TestNoScopeMember: a flow without scopes answers without a "scope"
// member rather than an empty one (RFC 6749 §3.3 has no empty scope).
func TestNoScopeMember(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithFlows(), mockservertest.WithDocuments("../testdata/flows/oauth2-mock-server.yaml"))
	req := newRequest(t, http.MethodPost, srv.URL+"/token", "application/x-www-form-urlencoded", "grant_type=client_credentials")
	req.SetBasicAuth(mockserver.SeedClientID, mockserver.SeedClientSecret)
	ex := send(t, srv, req)
	if ex.status != http.StatusOK {
		t.Fatalf("token: %d %s", ex.status, ex.body)
	}
	var resp map[string]any
	if err := json.Unmarshal(ex.body, &resp); err != nil {
		t.Fatalf("token response %s: %v", ex.body, err)
	}
	if v, ok := resp["scope"]; ok {
		t.Errorf("token response has scope %q, want no scope member: the flow has no scopes", v)
	}
	if resp["access_token"] == nil {
		t.Errorf("token response %s has no access_token", ex.body)
	}
}
