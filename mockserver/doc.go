// Package mockserver serves compiled flow documents (package spec) as a
// working auth server: an http.Handler that issues tokens as each document
// says, enforces Bearer tokens on every operation the document secures
// (RFC 6750), and answers protected requests with the document's examples.
//
// It is the mock that frontend developers run with `tollgate serve` and the
// reference implementation the conformance suite is tested against. Build
// one with New from the flows and a plain Options struct; the zero Options
// gives the documented defaults (the seed client testClient/superSecret on
// every flow, secrets checked, tokens as the documents say).
//
// Everything that can be decided from the documents is decided in New: the
// route table, the challenge headers, the response bodies. The Bearer check
// on a protected route does no OpenAPI routing, no reflection and no regular
// expressions, and allocates nothing when the token is valid.
//
// Token requests follow RFC 6749: POST only, form or JSON bodies as the
// document lists, HTTP Basic with the Appendix B decoding, one client
// authentication method per request, RFC 6749 §5.2 errors, and
// Cache-Control: no-store on every token-endpoint response.
//
// Flows that declare them also get RFC 7009 revocation and RFC 7662
// introspection, with client authentication exactly as at the token
// endpoint. A revocation takes effect at once on every protected route:
// store-backed tokens are deleted, a JWT's jti goes on a deny-list that
// expires with the token and is consulted after the verification cache.
package mockserver
