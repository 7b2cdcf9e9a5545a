package mockserver

import (
	"net/http"
)

// This file holds the mutations that publish metadata through OpenID
// Connect discovery, which the correct server does not serve: a server
// that publishes only that, and one whose discovery document names
// another issuer.

// openIDPath is where OpenID Connect Discovery 1.0 §4 puts the discovery
// document of an issuer without a path.
const openIDPath = "/.well-known/openid-configuration"

// movedJWKSPath is where openIDDiscoveryOnly serves the JWK Set.
const movedJWKSPath = "/oauth/jwks"

// discoveryDocument is the server's metadata as an OpenID discovery
// document, edited by change.
func (m *mutant) discoveryDocument(change func(r *http.Request, md map[string]any)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		md := m.s.metadataDocument(r)
		change(r, md)
		writeJSON(w, md)
	})
}

// openIDDiscoveryOnly publishes the metadata only as an OpenID discovery
// document whose jwks_uri is movedJWKSPath: the RFC 8414 metadata and
// /.well-known/jwks.json answer 404, as zitadel's OP does.
func (m *mutant) openIDDiscoveryOnly() {
	if m.s.metadata == nil {
		return
	}
	notFound := staticJSON(http.StatusNotFound, []byte(`{"error":"not_found"}`))
	m.wrap(endpointMetadata, func(endpoint, http.Handler) http.Handler { return notFound })
	m.wrap(endpointJWKS, func(endpoint, http.Handler) http.Handler { return notFound })
	m.serve("GET "+movedJWKSPath, http.HandlerFunc(m.s.serveJWKS))
	m.serve("GET "+openIDPath, m.discoveryDocument(func(r *http.Request, md map[string]any) {
		if _, ok := md["jwks_uri"]; ok {
			md["jwks_uri"] = m.s.issuer(r) + movedJWKSPath
		}
	}))
}

// openIDWrongIssuer adds a discovery document, beside the correct RFC 8414
// metadata, that names an internal host as issuer (an OP behind a proxy).
func (m *mutant) openIDWrongIssuer() {
	if m.s.metadata == nil {
		return
	}
	m.serve("GET "+openIDPath, m.discoveryDocument(func(_ *http.Request, md map[string]any) {
		md["issuer"] = "https://auth.internal.invalid"
	}))
}
