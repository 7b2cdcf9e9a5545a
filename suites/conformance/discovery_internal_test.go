package conformance

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/framework"
)

// TestHMACJWT: the hand-built HS256 forgeries carry the header as given,
// the payload part untouched, and a signature that verifies with the
// secret, empty included.
func TestHMACJWT(t *testing.T) {
	t.Parallel()
	for _, secret := range [][]byte{nil, []byte("1")} {
		tok := hmacJWT(map[string]any{"alg": "HS256", "kid": "../../dev/null"}, "eyJzdWIiOiJ4In0", secret)
		parts := strings.Split(tok, ".")
		if len(parts) != 3 || parts[1] != "eyJzdWIiOiJ4In0" {
			t.Fatalf("hmacJWT = %q", tok)
		}
		head, err := base64.RawURLEncoding.DecodeString(parts[0])
		if err != nil || string(head) != `{"alg":"HS256","kid":"../../dev/null"}` {
			t.Errorf("header = %q, %v", head, err)
		}
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(parts[0] + "." + parts[1]))
		if got, want := parts[2], base64.RawURLEncoding.EncodeToString(mac.Sum(nil)); got != want {
			t.Errorf("secret %q: signature %s, want %s", secret, got, want)
		}
	}
}

// TestIsLoopbackTarget: JWT-012 runs only where the target can reach the
// run's loopback listener.
func TestIsLoopbackTarget(t *testing.T) {
	t.Parallel()
	for target, want := range map[string]bool{
		"http://127.0.0.1:4455": true, "http://localhost:8080": true, "http://[::1]:9000": true, "http://127.1.2.3": true,
		"https://auth.example": false, "http://10.0.0.1:80": false, "::not a url": false,
	} {
		if got := isLoopbackTarget(target); got != want {
			t.Errorf("isLoopbackTarget(%q) = %v, want %v", target, got, want)
		}
	}
}

// TestMetadataLocations: the configuration (flag or target file) beats
// the flow document, which beats discovery at both well-known URLs.
func TestMetadataLocations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, configured, documented string
		want                         []string
	}{
		{"discovery", "", "", []string{
			"http://127.0.0.1:9/.well-known/oauth-authorization-server/t",
			"http://127.0.0.1:9/t/.well-known/openid-configuration",
		}},
		{"flow document", "", "/meta", []string{"http://127.0.0.1:9/t/meta"}},
		{"configuration over flow document", "https://as.example/.well-known/openid-configuration", "/meta", []string{"https://as.example/.well-known/openid-configuration"}},
	}
	for _, tt := range tests {
		cfg := framework.Config{}
		cfg.Target = "http://127.0.0.1:9/t"
		cfg.MetadataURL = tt.configured
		f := framework.New(cfg, &spec.Flow{Name: "x", MetadataURL: tt.documented})
		var got []string
		for _, loc := range metadataLocations(f) {
			got = append(got, loc.url)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: locations %q, want %q", tt.name, got, tt.want)
		}
	}
}
