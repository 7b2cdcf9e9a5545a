package conformance

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/probe"
)

// goOAuth2Token is a token as go-oauth2 v4's generates.AccessGenerate
// makes it: the base64url of an MD5 (version 3) UUID's text, upper-cased,
// unpadded.
func goOAuth2Token() string {
	text := uuid.NewMD5(uuid.New(), []byte("client")).String()
	return strings.ToUpper(strings.TrimRight(base64.URLEncoding.EncodeToString([]byte(text)), "="))
}

func randomBase64URL(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestAssessTokens: what TOK-011 makes of real token shapes.
func TestAssessTokens(t *testing.T) {
	t.Parallel()
	uuidBytes := func(v uuid.UUID) string { return base64.RawURLEncoding.EncodeToString(v[:]) }
	tests := []struct {
		name     string
		samples  []string
		wantBits int // upper bound expected; -1: at least 128
		wantUUID int
		wantText string // in the structure description
	}{
		{"random UUIDv4 text", []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}, 122, 4, "122 random bits"},
		{"upper-case UUIDv4 text", []string{strings.ToUpper(uuid.NewString())}, 122, 4, "a UUID"},
		{"go-oauth2: base64 of an upper-cased v3 UUID's text", []string{goOAuth2Token(), goOAuth2Token(), goOAuth2Token()}, 122, 3, "hash of a name"},
		{"base64 of a v5 UUID's text", []string{base64.StdEncoding.EncodeToString([]byte(uuid.NewSHA1(uuid.New(), []byte("x")).String()))}, 122, 5, "version 5"},
		{"base64 of a v1 UUID's bytes", []string{uuidBytes(uuid.Must(uuid.NewUUID()))}, 122, 1, "time-based"},
		{"a sequence", []string{"tok-001", "tok-002", "tok-003"}, 4, 0, "a sequence"},
		{"a counter with a shared random-looking prefix", []string{"Xk9fQ2lLp0001", "Xk9fQ2lLp0002", "Xk9fQ2lLp0003"}, 4, 0, "share the prefix"},
		{"256 random bits", []string{randomBase64URL(32), randomBase64URL(32), randomBase64URL(32)}, -1, 0, ""},
		{"64 hex characters", []string{strings.Repeat("ab12", 16)}, 256, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := assessTokens(tc.samples)
			if tc.wantBits < 0 {
				if got.bits < 128 {
					t.Errorf("bits = %d, want at least 128 (%s)", got.bits, got.structure)
				}
			} else if got.bits > tc.wantBits {
				t.Errorf("bits = %d, want at most %d (%s)", got.bits, tc.wantBits, got.structure)
			}
			if got.uuidVersion != tc.wantUUID {
				t.Errorf("uuidVersion = %d, want %d", got.uuidVersion, tc.wantUUID)
			}
			if !strings.Contains(got.structure, tc.wantText) {
				t.Errorf("structure %q does not say %q", got.structure, tc.wantText)
			}
		})
	}
}

// TestLifetimeRounding: 5 s, or 1% of a long lifetime.
func TestLifetimeRounding(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ documented, want int64 }{{300, 5}, {1800, 18}, {7200, 72}, {60, 5}, {1, 5}} {
		if got := lifetimeRounding(tc.documented); got != tc.want {
			t.Errorf("lifetimeRounding(%d) = %d, want %d", tc.documented, got, tc.want)
		}
	}
}

// TestRequestSetsEmpty: scope= in a form, a query or JSON, and not when
// absent or set.
func TestRequestSetsEmpty(t *testing.T) {
	t.Parallel()
	scope, err := spec.ParsePointer("/scope")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ex   probe.Exchange
		want bool
	}{
		{"form scope=", probe.Exchange{URL: "http://x/token", RequestBody: []byte("grant_type=client_credentials&scope=")}, true},
		{"form with a scope", probe.Exchange{URL: "http://x/token", RequestBody: []byte("grant_type=client_credentials&scope=a")}, false},
		{"form without scope", probe.Exchange{URL: "http://x/token", RequestBody: []byte("grant_type=client_credentials")}, false},
		{"JSON empty scope", probe.Exchange{URL: "http://x/token", RequestBody: []byte(`{"grant_type":"client_credentials","scope":""}`)}, true},
		{"JSON with a scope", probe.Exchange{URL: "http://x/token", RequestBody: []byte(`{"scope":"a"}`)}, false},
		{"query scope=", probe.Exchange{URL: "http://x/token?scope=", RequestHead: http.Header{}}, true},
	}
	for _, tc := range tests {
		if got := requestSetsEmpty(&tc.ex, scope); got != tc.want {
			t.Errorf("%s: requestSetsEmpty = %v, want %v", tc.name, got, tc.want)
		}
	}
}
