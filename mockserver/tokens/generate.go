package tokens

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/google/uuid"
)

// opaqueBytes is the number of random bytes in an opaque token (256 bits).
const opaqueBytes = 32

// OpaqueLen is the length in characters of a token returned by [NewOpaque].
const OpaqueLen = (opaqueBytes*8 + 5) / 6 // 43

// NewUUID returns a random (version 4, RFC 4122) UUID in lower-case canonical
// form, e.g. "4172bbf1-0890-41c7-b0db-477095a288b6".
func NewUUID() (string, error) {
	u, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("tokens: new uuid: %w", err)
	}
	return u.String(), nil
}

// NewOpaque returns 256 bits from crypto/rand encoded as unpadded base64url:
// a 43-character token that is safe in URLs, headers and form bodies.
func NewOpaque() (string, error) {
	var b [opaqueBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("tokens: new opaque token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
