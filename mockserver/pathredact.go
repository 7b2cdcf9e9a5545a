package mockserver

import (
	"strings"

	"github.com/tollgate/tollgate/mockserver/tokens"
)

// redactPath returns path with every segment that looks like an access
// token replaced by "{token sha256:1a2b3c4d (36 chars)}", the fingerprint
// the log gives a token in the Authorization header, so that a token put in
// a URL path (GET /tokens/<token>, a frontend's mistake) never reaches the
// log or the captured requests while the same token still reads the same
// on every line.
//
// The rule is by shape alone, so it costs one pass over the path and no
// allocation when nothing matches: a segment is a token when it is
//   - a JWT: three non-empty base64url parts joined by '.', the first
//     starting "eyJ" (a JSON object),
//   - a UUID in canonical form (the uuid token format), or
//   - exactly tokens.OpaqueLen (43) base64url characters (the opaque
//     format).
//
// A resource id of one of these shapes (a UUID id) is fingerprinted too:
// the log can still tell such ids apart, not read them.
func redactPath(path string) string {
	if !pathHasToken(path) {
		return path
	}
	segments := strings.Split(path, "/")
	for i, seg := range segments {
		if looksLikeToken(seg) {
			segments[i] = "{token " + fingerprint(seg) + "}"
		}
	}
	return strings.Join(segments, "/")
}

// pathHasToken reports whether a segment of path looks like a token. It
// does not allocate.
func pathHasToken(path string) bool {
	for path != "" {
		var seg string
		seg, path, _ = strings.Cut(path, "/")
		if looksLikeToken(seg) {
			return true
		}
	}
	return false
}

// looksLikeToken reports whether a path segment has the shape of a JWT, a
// UUID or an opaque token (see redactPath).
func looksLikeToken(seg string) bool {
	switch {
	case len(seg) < 32:
		return false // shorter than any of the three shapes
	case isUUID(seg):
		return true
	case len(seg) == tokens.OpaqueLen && isBase64URL(seg):
		return true
	}
	return isJWT(seg)
}

// isJWT reports whether s is three non-empty base64url parts joined by '.',
// the first starting "eyJ".
func isJWT(s string) bool {
	if !strings.HasPrefix(s, "eyJ") {
		return false
	}
	header, rest, ok := strings.Cut(s, ".")
	if !ok {
		return false
	}
	payload, signature, ok := strings.Cut(rest, ".")
	return ok && isBase64URL(header) && isBase64URL(payload) && isBase64URL(signature)
}

// isUUID reports whether s is a UUID in canonical 8-4-4-4-12 hex form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHexDigit(c) {
				return false
			}
		}
	}
	return true
}

// isBase64URL reports whether s is non-empty unpadded base64url.
func isBase64URL(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isBase64URLByte(s[i]) {
			return false
		}
	}
	return true
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isBase64URLByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}
