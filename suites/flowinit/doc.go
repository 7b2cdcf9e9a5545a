// Package flowinit writes a starting flow document (docs/flow-documents.md)
// for a target, the work of `tollgate init`: what a person would otherwise
// copy by hand from the target's behaviour into OpenAPI and x-tollgate.
//
// Run reads the target's authorization server metadata (RFC 8414, else
// OpenID Connect discovery; spec.DiscoveryLocations), makes one token
// request with the given client, trying the client authentication methods
// the metadata advertises (else a JSON body as in the simple flow, then a
// form with HTTP Basic, then a form with the credentials in it) until one
// is answered with a token, and writes down what it saw: the token
// endpoint, the request's media type and member names, the token
// response's member names, token type and lifetime, the token format when
// it is one Tollgate knows (a v4 UUID or a JWT), the revocation,
// introspection, JWK Set and metadata locations the metadata names (the
// endpoints marked optional), and the protected operations of the user's
// API document when one is given. What the target cannot tell (the
// protected routes without an API document, the scopes, the profile) is
// left to a person in YAML comments marked TODO(decide).
//
// The document is compiled with spec.Compile before Run returns it, so
// that what it writes is always a document `tollgate check` loads. Every
// request goes through suites/probe, as the suite's do: secrets and tokens
// never reach a message.
package flowinit
