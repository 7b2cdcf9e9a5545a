// Package oautherr is Tollgate's single definition of the OAuth 2.0 error
// response body: the JSON object with "error", "error_description" and
// "error_uri" members that a token endpoint returns (RFC 6749 §5.2) and
// that a protected resource describes in its WWW-Authenticate challenge
// (RFC 6750 §3, §3.1). It also knows the revocation endpoint's extra code
// (RFC 7009 §2.2.1).
//
// The mock server builds errors with [New] and writes [Error.JSON] with
// [Error.HTTPStatus]; the conformance suite reads a server's response with
// [Parse], which is lenient about what RFC 6749 leaves open (unknown members
// are ignored) and reports, as a [*ParseError], every deviation from what it
// requires: a missing or empty "error", members that are not strings, and
// characters outside the sets of RFC 6749 §5.2:
//
//	error, error_description = *( %x20-21 / %x23-5B / %x5D-7E )
//	error_uri                = *( %x21 / %x23-5B / %x5D-7E )
//
// Some servers wrap the same body in a vendor's dialect: [Error.ServerBody]
// and [Error.ResourceBody] write it in one of [Dialects], e.g. Commerce
// Layer's, which adds a JSON:API "errors" array beside the RFC members.
// [Parse] reads every dialect, since it ignores members it does not know.
//
// *Error implements error, and errors.Is matches two *Error values with the
// same code, so callers can write
//
//	errors.Is(err, oautherr.New(oautherr.InvalidClient, ""))
package oautherr
