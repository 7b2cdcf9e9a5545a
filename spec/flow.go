package spec

import (
	"net/http"
	"slices"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
)

// Token formats a flow can issue (x-tollgate.token.format).
const (
	FormatUUID   = "uuid"   // RFC 4122 version 4 UUID, like the simple flow's source document
	FormatOpaque = "opaque" // 256 random bits, base64url
	FormatJWT    = "jwt"    // a signed JWT (RFC 9068 shape) verifiable against the JWKS
)

// Client authentication methods a token operation accepts
// (x-tollgate.tokenEndpoint.clientAuth).
const (
	ClientAuthBody  = "body"  // credentials at the request pointers (client_secret_post and its JSON variants)
	ClientAuthBasic = "basic" // HTTP Basic, RFC 6749 §2.3.1 (client_secret_basic)
)

// Profiles returns the names of the conformance profiles a flow can be judged
// by (see shared conformance catalog): x-tollgate.profile picks the default.
// rfc9068 is rfc6749 with RFC 9068's JWT access token profile binding.
func Profiles() []string { return []string{"rfc6749", "oauth21", "cl", "simple", "rfc9068"} }

// ProfileBase returns the profile a profile extends, "" for none: rfc9068
// judges as rfc6749 wherever it says nothing of its own.
func ProfileBase(profile string) string {
	if profile == "rfc9068" {
		return "rfc6749"
	}
	return ""
}

// Flow is the compiled, immutable view of one flow document. All fields are
// read-only after Read; a Flow is safe for concurrent use.
type Flow struct {
	Name         string        // the flow's name, e.g. "simple"
	Document     string        // where it was loaded from, e.g. "openapi/simple.yaml"
	Profile      string        // default conformance profile
	Realm        string        // the Bearer realm on challenges
	ErrorDialect string        // oautherr.DialectRFC6749 or oautherr.DialectCL: the shape of error bodies
	TokenFormat  string        // FormatUUID, FormatOpaque or FormatJWT; DefaultTokenFormat when the document says none
	TokenType    string        // the token_type value issued, e.g. "Bearer"
	Lifetime     time.Duration // default token lifetime
	Algorithm    string        // JWS algorithm for FormatJWT, e.g. "RS256"
	Claims       string        // claim set of FormatJWT tokens: ClaimsRFC9068 or ClaimsCL; "" for other formats
	Scopes       []string      // scopes the document defines (oauth2 schemes), sorted
	Token        TokenOperation
	// Revocation is the RFC 7009 token revocation operation; nil when the
	// document declares none (x-tollgate.revocationEndpoint).
	Revocation *ClientOperation
	// Introspection is the RFC 7662 token introspection operation; nil
	// when the document declares none (x-tollgate.introspectionEndpoint).
	Introspection *ClientOperation
	// JWKSURI and MetadataURL locate the JWK Set (jwt flows) and the
	// authorization server metadata, as absolute URLs or paths on the
	// server (x-tollgate.jwksUri, x-tollgate.metadataUrl); "" when the
	// document leaves them to discovery.
	JWKSURI     string
	MetadataURL string
	// Optional lists the capabilities (CapabilityRevocation, …) the
	// document marks optional (x-tollgate.optional), sorted: a target
	// that answers 404 or 405 there does not offer them.
	Optional []string
	// GraphQL is the flow's protected GraphQL endpoint (x-tollgate.graphql);
	// nil when the document declares none.
	GraphQL    *GraphQL
	Operations []Operation // every other operation, protected or public, in path then method order
	// OperationsDocument names the API document (WithAPISpec) the
	// operations come from; "" when they are the flow document's own.
	OperationsDocument string
	Doc                *openapi3.T // the loaded document, for request and response validation
}

// Protected returns the operations that need a Bearer token.
func (f *Flow) Protected() []Operation {
	var out []Operation
	for _, op := range f.Operations {
		if op.Protected {
			out = append(out, op)
		}
	}
	return out
}

// Operation is one OpenAPI operation with what Tollgate needs at run time.
type Operation struct {
	ID        string         // operationId, or "METHOD /path" when the document has none
	Method    string         // upper case, e.g. "GET"
	Path      string         // the OpenAPI path template, e.g. "/api/collections/{id}"
	Protected bool           // needs a Bearer token
	Scopes    [][]string     // alternatives of required scopes (any one suffices); empty: any valid token
	Success   Response       // the documented success response, from the document's example
	Route     *routers.Route // precomputed route for openapi3filter validation
	// Probe is the concrete request a probe sends, for an operation of an
	// API document (ReadAPISpec); zero for a flow document's operation,
	// which is called at SamplePath(Path) without a body.
	Probe ProbeRequest
}

// ProbeRequest is a concrete request for an operation: its path with every
// template variable filled and the server's base path before it, and the
// query, headers and body the operation requires, if any.
type ProbeRequest struct {
	Path        string      // e.g. "/v1/items/42"; "": SamplePath of the operation's path
	Query       string      // the required query parameters, encoded, e.g. "page=1"; "" for none
	Header      http.Header // the required header parameters; nil for none
	ContentType string      // the body's media type; "": no body
	Body        []byte      // the caller must not modify it
}

// Named reports whether name identifies the operation: its ID
// (operationId) or "METHOD /path", the two ways a user names an operation
// to probe.
func (op Operation) Named(name string) bool {
	return name == op.ID || name == op.Method+" "+op.Path
}

// Response is a documented response with a concrete body.
type Response struct {
	Status      int
	ContentType string
	Body        []byte // JSON (empty for another media type without example); the caller must not modify it
}

// TokenOperation is the operation that issues tokens, and where its fields are.
type TokenOperation struct {
	Operation
	MediaTypes []string // accepted request media types, e.g. "application/json"
	ClientAuth []string // accepted client authentication methods, ClientAuthBody and/or ClientAuthBasic
	GrantType  string   // required grant_type value; empty when the flow has none
	Request    RequestFields
	Response   ResponseFields
}

// AcceptsClientAuth reports whether the token operation accepts method m.
func (t TokenOperation) AcceptsClientAuth(m string) bool { return slices.Contains(t.ClientAuth, m) }

// RequestFields locates the token request members in its body.
type RequestFields struct {
	ClientID     Pointer
	ClientSecret Pointer
	GrantType    Pointer // zero when the flow has no grant type
	Scope        Pointer // zero when the flow takes no scope parameter
}

// ResponseFields locates the token response members.
type ResponseFields struct {
	AccessToken Pointer
	TokenType   Pointer
	ExpiresIn   Pointer
	Scope       Pointer // zero when the response carries no scope
	CreatedAt   Pointer // zero when the response carries no issue time
}

// ClientOperation is an operation a client calls with its own credentials to
// act on a token: RFC 7009 revocation or RFC 7662 introspection. Clients
// authenticate as at the token endpoint.
type ClientOperation struct {
	Operation
	MediaTypes []string // accepted request media types
	ClientAuth []string // accepted client authentication; default: the token operation's
	Request    ClientRequestFields
}

// AcceptsClientAuth reports whether the operation accepts method m.
func (c ClientOperation) AcceptsClientAuth(m string) bool { return slices.Contains(c.ClientAuth, m) }

// ClientRequestFields locates the members of a revocation or introspection
// request in its body.
type ClientRequestFields struct {
	ClientID      Pointer // default: the token operation's
	ClientSecret  Pointer // default: the token operation's
	Token         Pointer // the token revoked or introspected (RFC 7009 §2.1, RFC 7662 §2.1 "token")
	TokenTypeHint Pointer // zero when the request takes no token_type_hint
}
