package authheader

import "strconv"

// BearerResult classifies an Authorization header for RFC 6750 enforcement.
type BearerResult uint8

const (
	// BearerMissing: an empty header or a scheme other than Bearer. This is
	// RFC 6750 §3.1's "no authentication information": answer 401 with a
	// Bearer challenge but without an error code.
	BearerMissing BearerResult = iota
	// BearerMalformed: the scheme is Bearer (in any case) but there is no
	// token, there is something after the token, or the token has characters
	// outside b64token. Answer 400 with error="invalid_request".
	BearerMalformed
	// BearerOK: the token is a syntactically valid b64token.
	BearerOK
)

// String returns "missing", "malformed" or "ok".
func (r BearerResult) String() string {
	switch r {
	case BearerMissing:
		return "missing"
	case BearerMalformed:
		return "malformed"
	case BearerOK:
		return "ok"
	}
	return "BearerResult(" + strconv.Itoa(int(r)) + ")"
}

// ParseBearer parses an Authorization header value as RFC 6750 §2.1 Bearer
// credentials:
//
//	credentials = "Bearer" 1*SP b64token
//	b64token    = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//
// The scheme is matched without regard to case, any number of SP may
// separate it from the token (RFC 9110's 1*SP), and OWS (SP / HTAB) around
// the whole value is ignored. On BearerOK, token is the b64token, a
// substring of v; otherwise it is empty.
//
// ParseBearer is on the mock server's per-request path: it does not
// allocate.
func ParseBearer(v string) (token string, r BearerResult) {
	i, j := 0, len(v)
	for i < j && isOWS(v[i]) {
		i++
	}
	for j > i && isOWS(v[j-1]) {
		j--
	}
	const scheme = "bearer"
	if j-i < len(scheme) {
		return "", BearerMissing
	}
	for k := 0; k < len(scheme); k++ {
		if v[i+k]|0x20 != scheme[k] { // ASCII lower-casing; scheme is all letters
			return "", BearerMissing
		}
	}
	i += len(scheme)
	if i == j {
		return "", BearerMalformed // "Bearer" alone
	}
	if v[i] != ' ' {
		if isTchar(v[i]) {
			return "", BearerMissing // a longer scheme, e.g. "Bearers"
		}
		return "", BearerMalformed // e.g. "Bearer\tabc", "Bearer,abc"
	}
	for i < j && v[i] == ' ' {
		i++
	}
	if n := b64tokenLen(v[i:j]); n == 0 || i+n != j {
		return "", BearerMalformed
	}
	return v[i:j], BearerOK
}

// IsB64Token reports whether s is an RFC 6750 §2.1 b64token, the only
// token an Authorization header can carry:
//
//	b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
func IsB64Token(s string) bool {
	n := b64tokenLen(s)
	return n > 0 && n == len(s)
}

// b64tokenLen returns the length of the b64token s starts with, 0 when it
// starts with none. It does not allocate.
func b64tokenLen(s string) int {
	i := token68Len(s)
	if i == 0 {
		return 0
	}
	for i < len(s) && s[i] == '=' {
		i++
	}
	return i
}
