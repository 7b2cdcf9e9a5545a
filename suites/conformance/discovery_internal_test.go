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

// TestIssuerRule: the issuer a metadata URL must carry follows RFC 8414
// §3.1 for /.well-known/oauth-authorization-server (inserted before the
// issuer's path) and OpenID Discovery §4 for
// /.well-known/openid-configuration (appended to it); other URLs have no
// rule.
func TestIssuerRule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url, rule, issuer string
	}{
		{"https://as.example/.well-known/oauth-authorization-server", ruleRFC8414, "https://as.example"},
		{"https://as.example/.well-known/oauth-authorization-server/tenant/a", ruleRFC8414, "https://as.example/tenant/a"},
		{"https://as.example/.well-known/openid-configuration", ruleOpenID, "https://as.example"},
		{"https://as.example/realms/x/.well-known/openid-configuration", ruleOpenID, "https://as.example/realms/x"},
		{"http://127.0.0.1:8080/.well-known/openid-configuration", ruleOpenID, "http://127.0.0.1:8080"},
		{"https://as.example/.well-known/oauth-authorization-serverX", "", ""},
		{"https://as.example/oauth/metadata.json", "", ""},
		{"not a url at all", "", ""},
	}
	for _, tt := range tests {
		rule, issuers := issuerRule(tt.url)
		if rule != tt.rule {
			t.Errorf("issuerRule(%q) rule = %q, want %q", tt.url, rule, tt.rule)
			continue
		}
		if tt.rule == "" {
			if issuers != nil {
				t.Errorf("issuerRule(%q) issuers = %q, want none", tt.url, issuers)
			}
			continue
		}
		// With or without the terminating "/" removed before the
		// well-known string was added; nothing else.
		if !slices.Equal(issuers, []string{tt.issuer, tt.issuer + "/"}) {
			t.Errorf("issuerRule(%q) issuers = %q, want %q and its / form", tt.url, issuers, tt.issuer)
		}
	}
}

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
