package spec_test

import (
	"slices"
	"testing"

	"github.com/tollgate/tollgate/spec"
)

// TestMetadataIssuers: the issuer a metadata URL must carry follows RFC
// 8414 §3.1 for /.well-known/oauth-authorization-server (inserted before
// the issuer's path) and OpenID Discovery §4 for
// /.well-known/openid-configuration (appended to it); other URLs have no
// rule, and their metadata is taken on trust.
func TestMetadataIssuers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url, rule, issuer string
	}{
		{"https://as.example/.well-known/oauth-authorization-server", spec.IssuerRuleRFC8414, "https://as.example"},
		{"https://as.example/.well-known/oauth-authorization-server/tenant/a", spec.IssuerRuleRFC8414, "https://as.example/tenant/a"},
		{"https://as.example/.well-known/openid-configuration", spec.IssuerRuleOpenID, "https://as.example"},
		{"https://as.example/realms/x/.well-known/openid-configuration", spec.IssuerRuleOpenID, "https://as.example/realms/x"},
		{"http://127.0.0.1:8080/.well-known/openid-configuration", spec.IssuerRuleOpenID, "http://127.0.0.1:8080"},
		{"https://as.example/.well-known/oauth-authorization-serverX", "", ""},
		{"https://as.example/oauth/metadata.json", "", ""},
		{"not a url at all", "", ""},
	}
	for _, tt := range tests {
		rule, issuers := spec.MetadataIssuers(tt.url)
		if rule != tt.rule {
			t.Errorf("MetadataIssuers(%q) rule = %q, want %q", tt.url, rule, tt.rule)
			continue
		}
		if tt.rule == "" {
			if issuers != nil {
				t.Errorf("MetadataIssuers(%q) issuers = %q, want none", tt.url, issuers)
			}
			if !spec.MetadataUsable(tt.url, "https://anything.example") {
				t.Errorf("MetadataUsable(%q): metadata at a URL of no well-known form is taken on trust", tt.url)
			}
			continue
		}
		// With or without the terminating "/" removed before the
		// well-known string was added; nothing else.
		if !slices.Equal(issuers, []string{tt.issuer, tt.issuer + "/"}) {
			t.Errorf("MetadataIssuers(%q) issuers = %q, want %q and its / form", tt.url, issuers, tt.issuer)
		}
		if !spec.MetadataUsable(tt.url, tt.issuer) || spec.MetadataUsable(tt.url, tt.issuer+"/other") {
			t.Errorf("MetadataUsable(%q) accepts other than %q", tt.url, tt.issuer)
		}
	}
}

// TestDiscoveryLocations: RFC 8414 inserts its well-known string before
// the issuer's path, OpenID Discovery appends its own; a terminating "/"
// goes first in both.
func TestDiscoveryLocations(t *testing.T) {
	t.Parallel()
	for issuer, want := range map[string][]string{
		"http://127.0.0.1:9":     {"http://127.0.0.1:9/.well-known/oauth-authorization-server", "http://127.0.0.1:9/.well-known/openid-configuration"},
		"http://127.0.0.1:9/t/":  {"http://127.0.0.1:9/.well-known/oauth-authorization-server/t", "http://127.0.0.1:9/t/.well-known/openid-configuration"},
		"https://as.example/a/b": {"https://as.example/.well-known/oauth-authorization-server/a/b", "https://as.example/a/b/.well-known/openid-configuration"},
	} {
		var got []string
		for _, loc := range spec.DiscoveryLocations(issuer) {
			got = append(got, loc.URL)
		}
		if !slices.Equal(got, want) {
			t.Errorf("DiscoveryLocations(%q) = %q, want %q", issuer, got, want)
		}
	}
}
