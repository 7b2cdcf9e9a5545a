package tokens

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// Header is what a compact JWS's protected header says about how it was
// signed, read without verifying anything.
type Header struct {
	Algorithm   string // alg, as written (any case)
	KeyID       string // kid
	EmbeddedJWK bool   // the header carries its own key (jwk)
}

// Inspect reads the header and claims of a compact JWS without verifying
// its signature or checking its time claims. It is for tests of verifiers
// (what a forged token claims), never for deciding whether to trust one.
// ExpiresAt is zero when the token has no exp.
func Inspect(raw string) (Header, Claims, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return Header{}, Claims{}, fmt.Errorf("tokens: inspect: %w: %d parts, want 3", ErrMalformed, len(parts))
	}
	var h struct {
		Alg string          `json:"alg"`
		Kid string          `json:"kid"`
		JWK json.RawMessage `json:"jwk"`
	}
	if err := decodePart(parts[0], &h); err != nil {
		return Header{}, Claims{}, fmt.Errorf("tokens: inspect: header: %w", err)
	}
	var in claimsIn
	if err := decodePart(parts[1], &in); err != nil {
		return Header{}, Claims{}, fmt.Errorf("tokens: inspect: claims: %w", err)
	}
	c := Claims{Issuer: in.Issuer, Subject: in.Subject, ClientID: in.ClientID, Scope: in.Scope, ID: in.ID,
		Audience: []string(in.Audience), ExpiresAt: numericTime(in.ExpiresAt),
		IssuedAt: numericTime(in.IssuedAt), NotBefore: numericTime(in.NotBefore)}
	return Header{Algorithm: h.Alg, KeyID: h.Kid, EmbeddedJWK: len(h.JWK) > 0}, c, nil
}

func decodePart(part string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return nil
}

// VerifiesWithEmbeddedKey reports whether a compact JWS signed with alg
// verifies with the key of its own jwk header: what a verifier that trusts
// embedded keys would accept (RFC 7515 section 4.1.3 leaves trust in that
// key to the application). For tests of verifiers only.
func VerifiesWithEmbeddedKey(raw, alg string) bool {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil || len(jws.Signatures) != 1 || jws.Signatures[0].Header.JSONWebKey == nil {
		return false
	}
	_, err = jws.Verify(jws.Signatures[0].Header.JSONWebKey)
	return err == nil
}

// VerifiesWithJWKS reports whether a compact JWS signed with alg verifies
// with a key of the JWK Set jwks (the one its kid names, when it has one):
// what a verifier that trusts the JWK Set a token's jku names would accept
// (RFC 7515 section 4.1.2 leaves trust in that URL to the application).
// For tests of verifiers only.
func VerifiesWithJWKS(raw, alg string, jwks []byte) bool {
	var set jose.JSONWebKeySet
	if json.Unmarshal(jwks, &set) != nil {
		return false
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil || len(jws.Signatures) != 1 {
		return false
	}
	keys := set.Keys
	if kid := jws.Signatures[0].Header.KeyID; kid != "" {
		keys = set.Key(kid)
	}
	for _, k := range keys {
		if _, err := jws.Verify(k); err == nil {
			return true
		}
	}
	return false
}
