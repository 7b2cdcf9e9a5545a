package mockserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/mockserver/mockservertest"
	"github.com/tollgate/tollgate/spec/authheader"
	"github.com/tollgate/tollgate/spec/oautherr"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestSourceDocuments replays the curl requests of the two source documents.
func TestSourceDocuments(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)

	ex := send(t, srv, newRequest(t, http.MethodPost, srv.URL+"/token", "application/json", `{"clientId":"testClient","secret":"superSecret"}`))
	if ex.status != http.StatusOK {
		t.Fatalf("POST /token: status %d: %s", ex.status, ex.body)
	}
	var simple struct {
		AccessToken string `json:"accessToken"`
		TokenType   string `json:"tokenType"`
		ExpiresIn   int    `json:"expiresIn"`
	}
	if err := json.Unmarshal(ex.body, &simple); err != nil {
		t.Fatal(err)
	}
	if !uuidV4.MatchString(simple.AccessToken) || simple.TokenType != "Bearer" || simple.ExpiresIn != 1800 {
		t.Errorf("POST /token = %s, want a UUIDv4 accessToken, tokenType Bearer, expiresIn 1800", ex.body)
	}
	if got := ex.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}

	req := newRequest(t, http.MethodGet, srv.URL+"/api/collections", "", "")
	req.Header.Set("Authorization", "Bearer "+simple.AccessToken)
	if ex := send(t, srv, req); ex.status != http.StatusOK || !strings.Contains(string(ex.body), "collections") {
		t.Errorf("GET /api/collections with the token: %d %s", ex.status, ex.body)
	}
	ex = send(t, srv, newRequest(t, http.MethodGet, srv.URL+"/api/collections", "", ""))
	if ex.status != http.StatusUnauthorized {
		t.Fatalf("GET /api/collections without a token: status %d", ex.status)
	}
	c := bearerChallenge(t, ex.header)
	if realm, _ := c.Param("realm"); realm != "tollgate" {
		t.Errorf("challenge realm = %q, want tollgate", realm)
	}
	if code, ok := c.Param("error"); ok {
		t.Errorf("challenge without credentials carries error=%q; RFC 6750 section 3.1 says it should not", code)
	}

	ex = send(t, srv, newRequest(t, http.MethodPost, srv.URL+"/oauth/token", "application/vnd.api+json",
		`{"grant_type":"client_credentials","client_id":"testClient","client_secret":"superSecret"}`))
	if ex.status != http.StatusOK {
		t.Fatalf("POST /oauth/token: status %d: %s", ex.status, ex.body)
	}
	var cl struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
		Scope       string `json:"scope"`
		CreatedAt   int64  `json:"created_at"`
	}
	if err := json.Unmarshal(ex.body, &cl); err != nil {
		t.Fatal(err)
	}
	if strings.Count(cl.AccessToken, ".") != 2 || cl.TokenType != "Bearer" || cl.ExpiresIn != 7200 ||
		cl.Scope != "metrics-api provisioning-api" || cl.CreatedAt != srv.Clock.Now().Unix() {
		t.Errorf("POST /oauth/token = %s, want a JWT, Bearer, 7200, both scopes, created_at now", ex.body)
	}
	if got := ex.header.Get("Pragma"); got != "no-cache" {
		t.Errorf("Pragma = %q, want no-cache", got)
	}
}

// TestTokenErrors covers every RFC 6749 error the token endpoint gives.
func TestTokenErrors(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	const vnd = "application/vnd.api+json"
	const frm = "application/x-www-form-urlencoded"
	basic := func(id, secret string) string { return authheader.FormatBasic(id, secret) }
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		auth        string
		wantStatus  int
		wantCode    string
		wantBasic   bool // a Basic challenge is required
	}{
		{"GET is not allowed", http.MethodGet, "/token", "", "", "", 405, oautherr.InvalidRequest, false},
		{"PUT is not allowed on oauth2", http.MethodPut, "/oauth/token", vnd, `{}`, "", 405, oautherr.InvalidRequest, false},
		{"wrong secret", http.MethodPost, "/token", "application/json", `{"clientId":"testClient","secret":"nope"}`, "", 400, oautherr.InvalidClient, false},
		{"unknown client", http.MethodPost, "/token", "application/json", `{"clientId":"who","secret":"superSecret"}`, "", 400, oautherr.InvalidClient, false},
		{"missing secret", http.MethodPost, "/token", "application/json", `{"clientId":"testClient"}`, "", 400, oautherr.InvalidRequest, false},
		{"secret of the wrong type", http.MethodPost, "/token", "application/json", `{"clientId":"testClient","secret":42}`, "", 400, oautherr.InvalidRequest, false},
		{"wrong content type", http.MethodPost, "/token", "text/plain", `{"clientId":"testClient","secret":"superSecret"}`, "", 400, oautherr.InvalidRequest, false},
		{"no content type", http.MethodPost, "/token", "", `{"clientId":"testClient","secret":"superSecret"}`, "", 400, oautherr.InvalidRequest, false},
		{"form on a JSON-only flow", http.MethodPost, "/token", frm, "clientId=testClient&secret=superSecret", "", 400, oautherr.InvalidRequest, false},
		{"non-UTF-8 charset", http.MethodPost, "/token", "application/json; charset=latin1", `{"clientId":"testClient","secret":"superSecret"}`, "", 400, oautherr.InvalidRequest, false},
		{"truncated JSON", http.MethodPost, "/token", "application/json", `{"clientId":"testClient","sec`, "", 400, oautherr.InvalidRequest, false},
		{"JSON array", http.MethodPost, "/token", "application/json", `["testClient","superSecret"]`, "", 400, oautherr.InvalidRequest, false},
		{"trailing data", http.MethodPost, "/token", "application/json", `{"clientId":"testClient","secret":"superSecret"} {}`, "", 400, oautherr.InvalidRequest, false},
		{"invalid UTF-8", http.MethodPost, "/token", "application/json", "{\"clientId\":\"test\xff\",\"secret\":\"superSecret\"}", "", 400, oautherr.InvalidRequest, false},
		{"empty body", http.MethodPost, "/token", "application/json", "", "", 400, oautherr.InvalidRequest, false},
		{"client not allowed on the flow", http.MethodPost, "/token", "application/json", `{"clientId":"metricsClient","secret":"metricsSecret"}`, "", 400, oautherr.UnauthorizedClient, false},
		{"missing grant_type", http.MethodPost, "/oauth/token", vnd, `{"client_id":"testClient","client_secret":"superSecret"}`, "", 400, oautherr.InvalidRequest, false},
		{"unsupported grant_type", http.MethodPost, "/oauth/token", vnd, `{"grant_type":"password","client_id":"testClient","client_secret":"superSecret"}`, "", 400, oautherr.UnsupportedGrantType, false},
		{"no client authentication", http.MethodPost, "/oauth/token", frm, form("grant_type", "client_credentials"), "", 401, oautherr.InvalidClient, true},
		{"client id without secret", http.MethodPost, "/oauth/token", frm, form("grant_type", "client_credentials", "client_id", "testClient"), "", 401, oautherr.InvalidClient, true},
		{"wrong body secret on a Basic flow", http.MethodPost, "/oauth/token", frm, form("grant_type", "client_credentials", "client_id", "testClient", "client_secret", "nope"), "", 401, oautherr.InvalidClient, true},
		{"duplicate JSON member", http.MethodPost, "/oauth/token", vnd, `{"grant_type":"foo","grant_type":"client_credentials","client_id":"testClient","client_secret":"superSecret"}`, "", 400, oautherr.InvalidRequest, false},
		{"tab-separated scope", http.MethodPost, "/oauth/token", vnd, "{\"grant_type\":\"client_credentials\",\"client_id\":\"testClient\",\"client_secret\":\"superSecret\",\"scope\":\"metrics-api\\tprovisioning-api\"}", "", 400, oautherr.InvalidScope, false},
		{"Basic with a wrong secret", http.MethodPost, "/oauth/token", frm, form("grant_type", "client_credentials"), basic("testClient", "nope"), 401, oautherr.InvalidClient, true},
		{"malformed Basic", http.MethodPost, "/oauth/token", frm, form("grant_type", "client_credentials"), "Basic !!!", 401, oautherr.InvalidClient, true},
		{"Basic on a flow without Basic", http.MethodPost, "/token", "application/json", `{"clientId":"testClient","secret":"superSecret"}`, basic("testClient", "superSecret"), 401, oautherr.InvalidClient, true},
		{"two authentication methods", http.MethodPost, "/oauth/token", frm, form("grant_type", "client_credentials", "client_secret", "superSecret"), basic("testClient", "superSecret"), 400, oautherr.InvalidRequest, false},
		{"Basic and a different body client_id", http.MethodPost, "/oauth/token", frm, form("grant_type", "client_credentials", "client_id", "other"), basic("testClient", "superSecret"), 400, oautherr.InvalidRequest, false},
		{"repeated parameter", http.MethodPost, "/oauth/token", frm, "grant_type=client_credentials&grant_type=client_credentials&client_id=testClient&client_secret=superSecret", "", 400, oautherr.InvalidRequest, false},
		{"malformed form", http.MethodPost, "/oauth/token", frm, "grant_type=%zz", "", 400, oautherr.InvalidRequest, false},
		{"unknown scope", http.MethodPost, "/oauth/token", vnd, `{"grant_type":"client_credentials","client_id":"testClient","client_secret":"superSecret","scope":"admin"}`, "", 400, oautherr.InvalidScope, false},
		{"scope beyond the client's", http.MethodPost, "/oauth/token", vnd, `{"grant_type":"client_credentials","client_id":"metricsClient","client_secret":"metricsSecret","scope":"provisioning-api"}`, "", 400, oautherr.InvalidScope, false},
		{"1 MB body", http.MethodPost, "/oauth/token", vnd, `{"grant_type":"client_credentials","pad":"` + strings.Repeat("x", 1<<20) + `"}`, "", 413, oautherr.InvalidRequest, false},
		{"two Authorization headers", http.MethodPost, "/oauth/token", frm, form("grant_type", "client_credentials"), basic("testClient", "superSecret") + "\x00twice", 400, oautherr.InvalidRequest, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := newRequest(t, tt.method, srv.URL+tt.path, tt.contentType, tt.body)
			if first, second, twice := strings.Cut(tt.auth, "\x00"); twice {
				req.Header.Add("Authorization", first)
				req.Header.Add("Authorization", second)
			} else if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			ex := send(t, srv, req)
			if ex.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", ex.status, tt.wantStatus, ex.body)
			}
			if e := oauthError(t, ex.body); e.Code != tt.wantCode || e.Description == "" {
				t.Errorf("error = %q (%q), want %q with a description", e.Code, e.Description, tt.wantCode)
			}
			if got := ex.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store on every token-endpoint response", got)
			}
			if got := ex.header.Get("Pragma"); got != "no-cache" {
				t.Errorf("Pragma = %q, want no-cache", got)
			}
			if tt.wantStatus == 405 && ex.header.Get("Allow") != http.MethodPost {
				t.Errorf("Allow = %q, want POST", ex.header.Get("Allow"))
			}
			challenges, err := authheader.ParseChallenges(ex.header.Values("WWW-Authenticate")...)
			if err != nil {
				t.Fatalf("WWW-Authenticate: %v", err)
			}
			if _, ok := authheader.Find(challenges, "Basic"); ok != tt.wantBasic {
				t.Errorf("Basic challenge present = %v, want %v (%q)", ok, tt.wantBasic, ex.header.Values("WWW-Authenticate"))
			}
			for _, secret := range []string{"superSecret", "metricsSecret"} {
				if strings.Contains(string(ex.body), secret) {
					t.Errorf("the error body echoes a secret: %s", ex.body)
				}
			}
		})
	}
}

// TestTokenRequestVariants covers the accepted shapes of a token request.
func TestTokenRequestVariants(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	const frm = "application/x-www-form-urlencoded"
	tests := []struct {
		name        string
		contentType string
		body        string
		auth        string
		wantScope   string
	}{
		{"JSON", "application/json", `{"grant_type":"client_credentials","client_id":"testClient","client_secret":"superSecret"}`, "", "metrics-api provisioning-api"},
		{"JSON with charset", "application/vnd.api+json; charset=utf-8", `{"grant_type":"client_credentials","client_id":"testClient","client_secret":"superSecret"}`, "", "metrics-api provisioning-api"},
		{"form with body credentials", frm, form("grant_type", "client_credentials", "client_id", "testClient", "client_secret", "superSecret"), "", "metrics-api provisioning-api"},
		{"form with Basic", frm, form("grant_type", "client_credentials"), authheader.FormatBasic("testClient", "superSecret"), "metrics-api provisioning-api"},
		{"Basic with the same client_id in the body", frm, form("grant_type", "client_credentials", "client_id", "testClient"), authheader.FormatBasic("testClient", "superSecret"), "metrics-api provisioning-api"},
		{"Basic with Appendix B encoding", frm, form("grant_type", "client_credentials"), authheader.FormatBasic(mockserver.EncodedClientID, mockserver.EncodedClientSecret), "metrics-api provisioning-api"},
		{"lower-case Basic scheme", frm, form("grant_type", "client_credentials"), "basic " + strings.TrimPrefix(authheader.FormatBasic("testClient", "superSecret"), "Basic "), "metrics-api provisioning-api"},
		{"unknown parameters are ignored", frm, form("grant_type", "client_credentials", "client_id", "testClient", "client_secret", "superSecret", "foo", "bar"), "", "metrics-api provisioning-api"},
		{"an empty scope counts as omitted", frm, form("grant_type", "client_credentials", "client_id", "testClient", "client_secret", "superSecret", "scope", ""), "", "metrics-api provisioning-api"},
		{"a narrower scope", frm, form("grant_type", "client_credentials", "client_id", "testClient", "client_secret", "superSecret", "scope", "provisioning-api"), "", "provisioning-api"},
		{"a scope-limited client", frm, form("grant_type", "client_credentials", "client_id", "metricsClient", "client_secret", "metricsSecret"), "", "metrics-api"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := newRequest(t, http.MethodPost, srv.URL+"/oauth/token", tt.contentType, tt.body)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			ex := send(t, srv, req)
			if ex.status != http.StatusOK {
				t.Fatalf("status %d: %s", ex.status, ex.body)
			}
			tr, err := srv.Flow(t, "oauth2").ParseTokenResponse(ex.body)
			if err != nil {
				t.Fatal(err)
			}
			if tr.Scope != tt.wantScope {
				t.Errorf("scope = %q, want %q", tr.Scope, tt.wantScope)
			}
		})
	}
}

// TestClientCredentialsLibrary uses the standard Go client for the oauth2
// flow with both client authentication styles.
func TestClientCredentialsLibrary(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		cfg := clientcredentials.Config{
			ClientID: "testClient", ClientSecret: "superSecret",
			TokenURL: srv.URL + "/oauth/token", AuthStyle: style, Scopes: []string{"metrics-api"},
		}
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client())
		tok, err := cfg.Token(ctx)
		if err != nil {
			t.Fatalf("style %d: %v", style, err)
		}
		if got := time.Until(tok.Expiry); got < 7100*time.Second || got > 7201*time.Second {
			t.Errorf("style %d: expiry in %v, want about 7200s", style, got)
		}
		client := cfg.Client(ctx)
		for path, want := range map[string]int{"/api/markets": 200, "/metrics/orders": 200, "/provisioning/organizations": 403} {
			resp, err := client.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("style %d: GET %s = %d, want %d", style, path, resp.StatusCode, want)
			}
		}
	}
}

// TestMissingMemberDescription checks that a token request without a
// required member says which one in words a reader can take in: kin-openapi
// quotes the name with '"', which RFC 6749 §5.2 does not allow in
// error_description, and the quotes used to come out as '?'.
func TestMissingMemberDescription(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	tests := []struct {
		name   string
		body   string
		member string
	}{
		{name: "clientId", body: `{"secret":"superSecret"}`, member: "clientId"},
		{name: "secret", body: `{"clientId":"testClient"}`, member: "secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ex := send(t, srv, newRequest(t, http.MethodPost, srv.URL+"/token", "application/json", tt.body))
			e := oauthError(t, ex.body)
			if ex.status != http.StatusBadRequest || e.Code != oautherr.InvalidRequest {
				t.Fatalf("%d %s, want 400 invalid_request", ex.status, ex.body)
			}
			if want := "'" + tt.member + "' is missing"; !strings.Contains(e.Description, want) || strings.Contains(e.Description, "?") {
				t.Errorf("error_description %q, want it to contain %q and no '?'", e.Description, want)
			}
		})
	}
}
