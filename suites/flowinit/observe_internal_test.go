package flowinit

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/spec"
)

// TestTokenFormat: a v4 UUID and a JWT with an alg are recognised; any
// other token, dotted or not, has no format (opaque is never claimed).
func TestTokenFormat(t *testing.T) {
	t.Parallel()
	b64 := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		name, token, format, alg string
	}{
		{"uuid v4", "4172bbf1-0890-41c7-b0db-477095a288b6", spec.FormatUUID, ""},
		{"uuid v4, upper case", "4172BBF1-0890-41C7-B0DB-477095A288B6", spec.FormatUUID, ""},
		{"uuid v1", "4172bbf1-0890-11c7-b0db-477095a288b6", "", ""},
		{"jwt", b64([]byte(`{"alg":"RS256","typ":"at+jwt"}`)) + "." + b64([]byte(`{"sub":"x"}`)) + ".c2ln", spec.FormatJWT, "RS256"},
		{"jwt with an alg the mock lacks", b64([]byte(`{"alg":"HS256"}`)) + "." + b64([]byte(`{}`)) + ".c2ln", spec.FormatJWT, "HS256"},
		{"unsigned jwt", b64([]byte(`{"alg":"none"}`)) + "." + b64([]byte(`{}`)) + ".", "", ""},
		{"header without alg", b64([]byte(`{"typ":"JWT"}`)) + "." + b64([]byte(`{}`)) + ".c2ln", "", ""},
		{"dotted counter token", "tok.17.9f86d081884c7d65", "", ""},
		{"three parts, not base64url JSON", "abc.def.ghi", "", ""},
		{"random base64", "q83vEjRWeJq8nN7xZmZmZmZmZmZmZmZmZmZmZmZmZmY=", "", ""},
		{"empty", "", "", ""},
	}
	for _, tt := range tests {
		format, alg := tokenFormat(tt.token)
		if format != tt.format || alg != tt.alg {
			t.Errorf("%s: tokenFormat(%q) = %q, %q; want %q, %q", tt.name, tt.token, format, alg, tt.format, tt.alg)
		}
	}
}

// TestReadTokenResponse: the members are found by RFC 6749's names, the
// simple flow's camelCase and common variants, at the top level or one
// object down; a body without a token member is refused, naming what it
// has.
func TestReadTokenResponse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body                                       string
		accessToken, tokenType, expiresIn, scope, issued string
		typeValue                                        string
		lifetime                                         int64
		wantErr                                          string
	}{
		{name: "RFC 6749", body: `{"access_token":"a","token_type":"Bearer","expires_in":3600,"scope":"x y","created_at":1}`,
			accessToken: "/access_token", tokenType: "/token_type", expiresIn: "/expires_in", scope: "/scope", issued: "/created_at", typeValue: "Bearer", lifetime: 3600},
		{name: "camelCase", body: `{"accessToken":"a","tokenType":"bearer","expiresIn":1800}`,
			accessToken: "/accessToken", tokenType: "/tokenType", expiresIn: "/expiresIn", typeValue: "bearer", lifetime: 1800},
		{name: "token, type, ttl", body: `{"token":"a","type":"Bearer","ttl":60}`,
			accessToken: "/token", tokenType: "/type", expiresIn: "/ttl", typeValue: "Bearer", lifetime: 60},
		{name: "access_token beats token", body: `{"token":"b","access_token":"a"}`, accessToken: "/access_token"},
		{name: "one level down", body: `{"data":{"access_token":"a","expires_in":5},"meta":{}}`,
			accessToken: "/data/access_token", expiresIn: "/data/expires_in", lifetime: 5},
		{name: "lifetime as a string is found, not read", body: `{"access_token":"a","expires_in":"3600"}`, accessToken: "/access_token", expiresIn: "/expires_in"},
		{name: "no token member", body: `{"jwt":"a","exp":3}`, wantErr: `"exp" (integer), "jwt" (string)`},
		{name: "token not a string", body: `{"access_token":5}`, wantErr: `the member /access_token has type integer, not string; the body has members "access_token" (integer)`},
		{name: "token null", body: `{"data":{"token":null}}`, wantErr: `the member /data/token has type null, not string`},
		{name: "not an object", body: `["a"]`, wantErr: "not a JSON object"},
		{name: "not JSON", body: `access_token=a`, wantErr: "not JSON"},
	}
	for _, tt := range tests {
		got, err := readTokenResponse([]byte(tt.body))
		if tt.wantErr != "" {
			if !errors.Is(err, errNoToken) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err %v, want errNoToken naming %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got.accessToken != tt.accessToken || got.tokenType != tt.tokenType || got.expiresIn != tt.expiresIn || got.scope != tt.scope || got.issued != tt.issued {
			t.Errorf("%s: pointers %q %q %q %q %q, want %q %q %q %q %q", tt.name, got.accessToken, got.tokenType, got.expiresIn, got.scope, got.issued,
				tt.accessToken, tt.tokenType, tt.expiresIn, tt.scope, tt.issued)
		}
		if got.tokenTypeValue != tt.typeValue || got.lifetime != tt.lifetime {
			t.Errorf("%s: token type %q, lifetime %d; want %q, %d", tt.name, got.tokenTypeValue, got.lifetime, tt.typeValue, tt.lifetime)
		}
	}
}

// TestLikelyLifetime: a value up to 5 s short of a whole minute (a server
// computing exp minus now) stands for that minute; other values stay as
// they are, and one out of token.lifetime's range is left out.
func TestLikelyLifetime(t *testing.T) {
	t.Parallel()
	for in, want := range map[int64]int64{
		3600: 3600, 3599: 3600, 3595: 3600, 3594: 3594, 7199: 7200, 7100: 7100,
		1799: 1800, 59: 60, 55: 60, 50: 50, 90: 90, 1: 1, 0: 0, -5: 0, 400 * 24 * 3600: 0,
	} {
		if got := likelyLifetime(in); got != want {
			t.Errorf("likelyLifetime(%d) = %d, want %d", in, got, want)
		}
	}
}

// TestPathOnTarget: a URL on the target becomes its path below the
// target's own path; another host, a path outside the target's, or a
// query make it unusable in a flow document.
func TestPathOnTarget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		target, url, want string
		ok                bool
	}{
		{"http://127.0.0.1:4455", "http://127.0.0.1:4455/oauth/token", "/oauth/token", true},
		{"http://127.0.0.1:4455", "HTTP://127.0.0.1:4455/oauth/token", "/oauth/token", true},
		{"https://as.example/tenant", "https://as.example/tenant/oauth/token", "/oauth/token", true},
		{"https://as.example/tenant", "https://as.example/other/oauth/token", "", false},
		{"https://as.example", "https://login.example/oauth/token", "", false},
		{"https://as.example", "https://as.example/token?x=1", "", false},
		{"https://as.example", "/token", "/token", true},
		{"https://as.example", "//evil.example/token", "", false},
	}
	for _, tt := range tests {
		got, ok := pathOnTarget(tt.target, tt.url)
		if got != tt.want || ok != tt.ok {
			t.Errorf("pathOnTarget(%q, %q) = %q, %v; want %q, %v", tt.target, tt.url, got, ok, tt.want, tt.ok)
		}
	}
}
