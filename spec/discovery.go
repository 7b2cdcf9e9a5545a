package spec

import (
	"net/url"
	"slices"
	"strings"
)

// Well-known URI suffixes of authorization server metadata, and the rules
// that say which issuer a document found there must carry.
const (
	WellKnownOAuthMetadata       = "/.well-known/oauth-authorization-server" // RFC 8414 §3
	WellKnownOpenIDConfiguration = "/.well-known/openid-configuration"       // OpenID Connect Discovery 1.0 §4

	IssuerRuleRFC8414 = "RFC 8414 §3.3"
	IssuerRuleOpenID  = "OpenID Connect Discovery 1.0 §4.3"
)

// MetadataLocation is a URL where authorization server metadata may be,
// and who named it, for messages.
type MetadataLocation struct{ URL, Source string }

// DiscoveryLocations are where discovery looks for the metadata of the
// issuer (a target's base URL), RFC 8414's first: RFC 8414 §3.1 inserts
// /.well-known/oauth-authorization-server between the host and the path
// of the issuer; OpenID Connect Discovery 1.0 §4 appends
// /.well-known/openid-configuration to it ("concatenating ... to the
// Issuer"), a terminating "/" removed first in both.
func DiscoveryLocations(issuer string) []MetadataLocation {
	rfc8414 := issuer + WellKnownOAuthMetadata
	if u, err := url.Parse(issuer); err == nil {
		rfc8414 = u.Scheme + "://" + u.Host + WellKnownOAuthMetadata + strings.TrimSuffix(u.EscapedPath(), "/")
	}
	return []MetadataLocation{
		{rfc8414, "RFC 8414 discovery"},
		{strings.TrimSuffix(issuer, "/") + WellKnownOpenIDConfiguration, "OpenID Connect discovery"},
	}
}

// MetadataIssuers returns the rule a metadata URL's issuer is judged by
// (IssuerRuleRFC8414 or IssuerRuleOpenID) and the issuer values it
// accepts: the URL with the well-known part taken out as DiscoveryLocations
// put it in, with and without a terminating "/" (either may have been
// removed). A URL of neither form has no rule and no issuers.
func MetadataIssuers(rawURL string) (rule string, issuers []string) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "", nil
	}
	origin := u.Scheme + "://" + u.Host
	p := u.EscapedPath()
	var iss string
	switch {
	case p == WellKnownOAuthMetadata || strings.HasPrefix(p, WellKnownOAuthMetadata+"/"):
		rule, iss = IssuerRuleRFC8414, origin+strings.TrimPrefix(p, WellKnownOAuthMetadata)
	case strings.HasSuffix(p, WellKnownOpenIDConfiguration):
		rule, iss = IssuerRuleOpenID, origin+strings.TrimSuffix(p, WellKnownOpenIDConfiguration)
	default:
		return "", nil
	}
	return rule, []string{iss, iss + "/"}
}

// MetadataUsable reports whether metadata fetched from rawURL with the
// given issuer member may be used: RFC 8414 §3.3 "If these values are not
// identical, the data contained in the response MUST NOT be used", and
// OpenID Discovery §4.3 likewise. Metadata at a URL of neither well-known
// form (one the user named) is taken on trust.
func MetadataUsable(rawURL, issuer string) bool {
	rule, issuers := MetadataIssuers(rawURL)
	return rule == "" || slices.Contains(issuers, issuer)
}
