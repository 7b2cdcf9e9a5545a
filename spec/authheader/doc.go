// Package authheader parses and formats the HTTP authentication header
// fields that OAuth 2.0 relies on: Authorization and WWW-Authenticate.
//
// Both sides of Tollgate use it: the mock server to validate the credentials
// a client sends, and the conformance suite to read the challenges a server
// under test answers with.
//
// The grammar followed is that of RFC 9110 §11 (HTTP authentication):
//
//	credentials      = auth-scheme [ 1*SP ( token68 / #auth-param ) ]   ; §11.6.2
//	WWW-Authenticate = #challenge                                       ; §11.6.1
//	challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]   ; §11.3
//	auth-param       = token BWS "=" BWS ( token / quoted-string )      ; §11.2
//	token68          = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//
// with tokens and quoted-strings as in RFC 9110 §5.6.2 and §5.6.4, and the
// list rules of RFC 9110 §5.6.1 (empty list elements and optional whitespace
// around commas are accepted). Anything else is rejected with a
// [*SyntaxError] that gives the byte offset of the problem.
//
// On top of the generic grammar:
//
//   - [ParseBearer] classifies an Authorization header for RFC 6750 §2.1
//     (b64token) and §3.1 (which error, if any, to answer with). It is the
//     mock server's per-request path and does not allocate.
//   - [ParseBasic] and [FormatBasic] handle HTTP Basic client authentication:
//     RFC 7617, with the extra application/x-www-form-urlencoded layer that
//     RFC 6749 §2.3.1 and Appendix B put around the client id and secret.
//   - [Challenge.String] and [Credentials.String] format header values, for
//     example the RFC 6750 §3 challenge
//     `Bearer realm="example", error="invalid_token"`.
//
// Scheme and auth-param names are case-insensitive (RFC 9110 §11.1, §11.2):
// they are returned as sent, and the lookup helpers ([Find],
// [Challenge.Param], [Credentials.Param]) compare them without regard to
// ASCII case.
package authheader
