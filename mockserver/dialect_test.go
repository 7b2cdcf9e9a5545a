package mockserver_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/mockserver/mockservertest"
)

// clErrors is the JSON:API errors array of a Commerce Layer error body,
// status left raw: a number from the authorization server, a string from
// the API.
type clErrors struct {
	Error  string `json:"error"`
	Errors []struct {
		Code   string          `json:"code"`
		Title  string          `json:"title"`
		Detail string          `json:"detail"`
		Status json.RawMessage `json:"status"`
	} `json:"errors"`
}

func parseCLErrors(t *testing.T, body []byte) clErrors {
	t.Helper()
	var e clErrors
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	return e
}

// TestCommerceLayerErrorDialect sends what @commercelayer/js-auth sends and
// reads what it reads: a wrong secret must come back with an errors array
// js-auth sees (it ignores "error"), and the RFC members must still be
// there for RFC clients.
func TestCommerceLayerErrorDialect(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	jsAuthToken := func(secret string) exchange {
		req := newRequest(t, http.MethodPost, srv.URL+"/oauth/token", "application/json",
			`{"grant_type":"client_credentials","client_id":"testClient","client_secret":"`+secret+`"}`)
		req.Header.Set("Accept", "application/json")
		return send(t, srv, req)
	}

	t.Run("wrong secret", func(t *testing.T) {
		t.Parallel()
		ex := jsAuthToken("wrong")
		if ex.status != http.StatusUnauthorized || ex.header.Get("Content-Type") != "application/json" {
			t.Fatalf("status %d, Content-Type %q, want 401 application/json", ex.status, ex.header.Get("Content-Type"))
		}
		if got := oauthError(t, ex.body).Code; got != "invalid_client" {
			t.Errorf("error = %q, want invalid_client", got)
		}
		e := parseCLErrors(t, ex.body)
		if len(e.Errors) != 1 {
			t.Fatalf("errors = %s, want one", ex.body)
		}
		got := e.Errors[0]
		if got.Code != "UNAUTHORIZED" || got.Title != "invalid_client" || got.Detail == "" || string(got.Status) != "401" {
			t.Errorf("errors[0] = %+v (status %s), want code UNAUTHORIZED, title invalid_client, a detail, status 401 as a number", got, got.Status)
		}
	})

	t.Run("the simple flow keeps rfc6749", func(t *testing.T) {
		t.Parallel()
		ex := send(t, srv, newRequest(t, http.MethodPost, srv.URL+"/token", "application/json", `{"clientId":"testClient","secret":"wrong"}`))
		if strings.Contains(string(ex.body), `"errors"`) || oauthError(t, ex.body).Code != "invalid_client" {
			t.Errorf("simple flow error body %s, want an RFC 6749 body without errors", ex.body)
		}
	})

	for _, tt := range []struct {
		name, accept, wantType string
	}{
		{"dead token, JSON:API asked", "application/vnd.api+json", "application/vnd.api+json"},
		{"dead token, JSON asked", "application/json", "application/json"},
		{"dead token, nothing asked", "", "application/json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := newRequest(t, http.MethodGet, srv.URL+"/api/markets", "", "")
			req.Header.Set("Authorization", "Bearer not-a-token")
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			ex := send(t, srv, req)
			if ex.status != http.StatusUnauthorized || ex.header.Get("Content-Type") != tt.wantType {
				t.Fatalf("status %d, Content-Type %q, want 401 %s", ex.status, ex.header.Get("Content-Type"), tt.wantType)
			}
			if code, _ := bearerChallenge(t, ex.header).Param("error"); oauthError(t, ex.body).Code != "invalid_token" || code != "invalid_token" {
				t.Errorf("body %s, challenge %q: want invalid_token in both", ex.body, ex.header.Get("WWW-Authenticate"))
			}
			e := parseCLErrors(t, ex.body)
			if len(e.Errors) != 1 || e.Errors[0].Code != "INVALID_TOKEN" || e.Errors[0].Title != "Invalid token" || string(e.Errors[0].Status) != `"401"` {
				t.Errorf("errors = %s, want one INVALID_TOKEN, Invalid token, status \"401\"", ex.body)
			}
		})
	}
}

// TestCommerceLayerToken checks the oauth2 flow's token against what
// @commercelayer/js-auth's jwtVerify and jwtDecode need: RS512, a kid the
// JWKS holds, and the claims of its CommerceLayerJWT type.
func TestCommerceLayerToken(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	raw := token(t, srv, "oauth2", "testClient", "superSecret")
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a compact JWS", raw)
	}
	var header struct{ Alg, Kid string }
	var payload struct {
		Iss          string
		Scope        string
		Exp, Iat     int64
		Test         *bool
		Rand         *float64
		Application  map[string]any
		Organization map[string]any
	}
	for i, dst := range []any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatalf("part %d %s: %v", i, b, err)
		}
	}
	if header.Alg != "RS512" || header.Kid == "" {
		t.Errorf("header alg %q kid %q, want RS512 and a kid", header.Alg, header.Kid)
	}
	ex := send(t, srv, newRequest(t, http.MethodGet, srv.URL+"/.well-known/jwks.json", "", ""))
	var jwks struct {
		Keys []struct{ Kid, Alg, Kty string }
	}
	if err := json.Unmarshal(ex.body, &jwks); err != nil || len(jwks.Keys) == 0 {
		t.Fatalf("JWKS %s: %v", ex.body, err)
	}
	if k := jwks.Keys[0]; k.Kid != header.Kid || k.Kty != "RSA" {
		t.Errorf("JWKS key %+v, want kid %q of type RSA", k, header.Kid)
	}
	if payload.Iss != srv.URL {
		t.Errorf("iss %q, want the origin %q", payload.Iss, srv.URL)
	}
	if payload.Exp-payload.Iat != 7200 || payload.Scope == "" {
		t.Errorf("exp-iat %d, scope %q: want 7200 and a scope", payload.Exp-payload.Iat, payload.Scope)
	}
	if payload.Test == nil || !*payload.Test || payload.Rand == nil || *payload.Rand < 0 || *payload.Rand >= 1 {
		t.Errorf("test %v rand %v, want true and a number in [0,1)", payload.Test, payload.Rand)
	}
	app, org := payload.Application, payload.Organization
	if app["id"] != "testClient" || app["kind"] != "integration" || app["public"] != false {
		t.Errorf("application %v, want id testClient, kind integration, public false", app)
	}
	if org["slug"] == nil || org["id"] == nil {
		t.Errorf("organization %v, want an id and a slug", org)
	}
}
