package oautherr

import (
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Error codes.
const (
	// RFC 6749 §5.2 (token endpoint); InvalidRequest is also RFC 6750 §3.1.
	InvalidRequest       = "invalid_request"
	InvalidClient        = "invalid_client"
	InvalidGrant         = "invalid_grant"
	UnauthorizedClient   = "unauthorized_client"
	UnsupportedGrantType = "unsupported_grant_type"
	InvalidScope         = "invalid_scope"

	// RFC 6750 §3.1 (protected resources).
	InvalidToken      = "invalid_token"
	InsufficientScope = "insufficient_scope"

	// RFC 7009 §2.2.1 (token revocation endpoint).
	UnsupportedTokenType = "unsupported_token_type"
)

// TokenEndpointCodes returns the error codes RFC 6749 §5.2 defines for the
// token endpoint, in RFC order. The slice is new on every call.
func TokenEndpointCodes() []string {
	return []string{InvalidRequest, InvalidClient, InvalidGrant, UnauthorizedClient, UnsupportedGrantType, InvalidScope}
}

// ResourceCodes returns the error codes RFC 6750 §3.1 defines for protected
// resources, in RFC order. The slice is new on every call.
func ResourceCodes() []string {
	return []string{InvalidRequest, InvalidToken, InsufficientScope}
}

// RevocationEndpointCodes returns the error codes a revocation endpoint may
// use: those of the token endpoint plus RFC 7009 §2.2.1's
// unsupported_token_type. The slice is new on every call.
func RevocationEndpointCodes() []string {
	return append(TokenEndpointCodes(), UnsupportedTokenType)
}

// Error is an OAuth 2.0 error response (RFC 6749 §5.2, RFC 6750 §3.1).
//
// A struct literal is written out exactly as given, which lets a mock send
// deliberately non-conforming bodies; [New] sanitises its arguments.
type Error struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	URI         string `json:"error_uri,omitempty"`
	Status      int    `json:"-"` // HTTP status to send; DefaultStatus(Code) when zero
}

// New returns an Error with the given code and description and
// Status = DefaultStatus(code). Characters that RFC 6749 §5.2 does not
// allow in the code or the description (anything outside printable ASCII,
// plus '"' and '\') are replaced so that the result always conforms and
// stays readable: quotation marks become ', a backslash /, a tab or line
// break a space, anything else '?'. An empty code stays empty.
func New(code, description string) *Error {
	code = sanitize(code)
	return &Error{Code: code, Description: sanitize(description), Status: DefaultStatus(code)}
}

// DefaultStatus returns the HTTP status that goes with an error code:
// 401 Unauthorized for invalid_client (RFC 6749 §5.2, for a client that
// authenticated with the Authorization header) and invalid_token
// (RFC 6750 §3.1), 403 Forbidden for insufficient_scope (RFC 6750 §3.1),
// and 400 Bad Request for everything else.
func DefaultStatus(code string) int {
	switch code {
	case InvalidClient, InvalidToken:
		return http.StatusUnauthorized
	case InsufficientScope:
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

// Error returns "oauth2 error CODE: DESCRIPTION", or "oauth2 error CODE"
// when there is no description.
func (e *Error) Error() string {
	if e.Description == "" {
		return "oauth2 error " + e.Code
	}
	return "oauth2 error " + e.Code + ": " + e.Description
}

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, New(InvalidClient, "")) matches any invalid_client error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && e != nil && t != nil && e.Code == t.Code
}

// HTTPStatus returns Status, or DefaultStatus(Code) when Status is zero.
func (e *Error) HTTPStatus() int {
	if e.Status != 0 {
		return e.Status
	}
	return DefaultStatus(e.Code)
}

// JSON returns the error response body, e.g.
// {"error":"invalid_client","error_description":"unknown client"}.
// Empty description and URI are left out.
func (e *Error) JSON() []byte {
	b, err := json.Marshal(e)
	if err != nil {
		// Unreachable: the struct holds only strings, which always marshal.
		return []byte(`{"error":"server_error"}`)
	}
	return b
}

// ValidCode reports whether s is a conforming error code: one or more
// characters from %x20-21 / %x23-5B / %x5D-7E (RFC 6749 §5.2).
func ValidCode(s string) bool {
	return s != "" && firstInvalid(s, false) < 0
}

// allowed reports whether c is in the RFC 6749 §5.2 set for error and
// error_description (%x20-21 / %x23-5B / %x5D-7E) or, with uri set, for
// error_uri (the same without %x20).
func allowed(c byte, uri bool) bool {
	if c == ' ' {
		return !uri
	}
	return 0x21 <= c && c <= 0x7E && c != '"' && c != '\\'
}

// firstInvalid returns the byte index of the first disallowed byte of s,
// or -1.
func firstInvalid(s string, uri bool) int {
	for i := 0; i < len(s); i++ {
		if !allowed(s[i], uri) {
			return i
		}
	}
	return -1
}

// sanitize replaces every disallowed character (a whole UTF-8 sequence, or
// a single byte of invalid UTF-8) with its stand-in (see [standIn]).
func sanitize(s string) string {
	if firstInvalid(s, false) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if allowed(s[i], false) {
			b.WriteByte(s[i])
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		b.WriteByte(standIn(r))
		i += n
	}
	return b.String()
}

// standIn returns the allowed byte that replaces a disallowed rune: quotes
// become ' (so `property "clientId" is missing` reads `property 'clientId'
// is missing`, not `?clientId?`), a backslash /, whitespace a space, and
// anything else (including invalid UTF-8) '?'.
func standIn(r rune) byte {
	switch r {
	case '"', '\u201c', '\u201d', '\u2018', '\u2019', '\u00ab', '\u00bb':
		return '\''
	case '\\':
		return '/'
	case '\t', '\n', '\r':
		return ' '
	}
	return '?'
}
