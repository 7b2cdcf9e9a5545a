package mockserver

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestRedactPath checks which path segments are taken for tokens: JWT,
// UUID and opaque shapes are fingerprinted, everything else is kept.
func TestRedactPath(t *testing.T) {
	t.Parallel()
	const (
		jwt    = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0Q2xpZW50In0.c2lnbmF0dXJlLWJ5dGVz"
		uuid   = "0f8fad5b-d9cb-469f-a165-70867728950e"
		opaque = "q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c"
	)
	tests := []struct {
		name   string
		path   string
		redact []string // the segments that must go
	}{
		{name: "plain route", path: "/api/collections/c-1001"},
		{name: "root", path: "/"},
		{name: "empty", path: ""},
		{name: "JWT segment", path: "/tokens/" + jwt + "/info", redact: []string{jwt}},
		{name: "UUID segment", path: "/api/" + uuid, redact: []string{uuid}},
		{name: "opaque segment", path: "/x/" + opaque, redact: []string{opaque}},
		{name: "two tokens", path: "/" + uuid + "/" + jwt, redact: []string{uuid, jwt}},
		{name: "dotted name not a JWT", path: "/files/report.final.version-2024-12-03.pdf"},
		{name: "JWT with an empty part", path: "/t/eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0ZXN0Q2xpZW50In0."},
		{name: "UUID without hyphens", path: "/t/0f8fad5bd9cb469fa16570867728950e"},
		{name: "42 base64url characters", path: "/t/" + opaque[:42]},
		{name: "44 base64url characters", path: "/t/" + opaque + "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := redactPath(tt.path)
			if len(tt.redact) == 0 {
				if got != tt.path {
					t.Errorf("redactPath(%q) = %q, want it unchanged", tt.path, got)
				}
				return
			}
			for _, tok := range tt.redact {
				if strings.Contains(got, tok) {
					t.Errorf("redactPath(%q) = %q, still holds %q", tt.path, got, tok)
				}
				if want := "{token " + fingerprint(tok) + "}"; !strings.Contains(got, want) {
					t.Errorf("redactPath(%q) = %q, want %q in it", tt.path, got, want)
				}
			}
			if strings.Count(got, "/") != strings.Count(tt.path, "/") {
				t.Errorf("redactPath(%q) = %q: the segments changed", tt.path, got)
			}
		})
	}
}

// TestRedactPathAllocatesNothing: a path without a token costs no
// allocation, so the request log stays cheap.
func TestRedactPathAllocatesNothing(t *testing.T) {
	path := "/api/collections/c-1001/items/0f8fad5b"
	if n := testing.AllocsPerRun(100, func() { _ = redactPath(path) }); n != 0 {
		t.Errorf("redactPath allocates %v times on a path without a token, want 0", n)
	}
}

// TestRedactAuthorizationBasicTokenAsClient: a token pasted as the Basic
// client id (a frontend's mistake) is fingerprinted as in a path; an
// ordinary client id is logged as it is.
func TestRedactAuthorizationBasicTokenAsClient(t *testing.T) {
	t.Parallel()
	const token = "274c8137-cf08-4557-bebd-c2d82f96b8bd"
	basic := func(id string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":superSecret"))
	}
	if got := redactAuthorization(basic(token)); strings.Contains(got, token) || got != "Basic client={token "+fingerprint(token)+"}" {
		t.Errorf("a token as the client id: %q", got)
	}
	if got := redactAuthorization(basic("testClient")); got != "Basic client=testClient" {
		t.Errorf("an ordinary client id: %q, want Basic client=testClient", got)
	}
}
