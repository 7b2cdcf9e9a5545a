package tokens

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Errors returned (wrapped, with details) by Signer.Verify. Test for them
// with errors.Is.
var (
	ErrMalformed   = errors.New("malformed token")
	ErrAlgorithm   = errors.New("unexpected signing algorithm")
	ErrType        = errors.New("unexpected token type")
	ErrKeyID       = errors.New("unknown key id")
	ErrSignature   = errors.New("signature invalid")
	ErrExpired     = errors.New("token expired")
	ErrNotYetValid = errors.New("token not yet valid")
)

// DefaultAlgorithm is the JWS algorithm a Signer uses when
// SignerOptions.Algorithm is empty.
const DefaultAlgorithm = "RS256"

// DefaultType is the JOSE "typ" header a Signer writes when SignerOptions.Type
// is empty: the RFC 9068 media type for JWT access tokens.
const DefaultType = "at+jwt"

// minRSABits is the smallest RSA modulus RFC 7518 section 3.3 allows.
const minRSABits = 2048

// keyKind is the family of key an algorithm needs.
type keyKind int

const (
	kindRSA keyKind = iota + 1
	kindEC
	kindEd25519
)

// algSpec describes one supported algorithm.
type algSpec struct {
	kind  keyKind
	curve elliptic.Curve // for kindEC
}

// lookupAlg returns the spec of a supported algorithm name. A switch rather
// than a package-level map keeps the package free of mutable state.
func lookupAlg(name string) (algSpec, bool) {
	switch name {
	case "RS256", "RS384", "RS512", "PS256":
		return algSpec{kind: kindRSA}, true
	case "ES256":
		return algSpec{kind: kindEC, curve: elliptic.P256()}, true
	case "ES384":
		return algSpec{kind: kindEC, curve: elliptic.P384()}, true
	case "EdDSA":
		return algSpec{kind: kindEd25519}, true
	default:
		return algSpec{}, false
	}
}

const supportedAlgs = `"RS256", "RS384", "RS512", "PS256", "ES256", "ES384" or "EdDSA"`

// SignerOptions configures NewSigner.
type SignerOptions struct {
	// Algorithm is the JWS "alg": "RS256" (the default when empty), "RS384",
	// "RS512", "PS256", "ES256", "ES384" or "EdDSA".
	Algorithm string
	// Key is the private key. nil means generate one: RSA 2048 for RS*/PS*,
	// P-256 for ES256, P-384 for ES384, Ed25519 for EdDSA. Besides the
	// standard library key types, any crypto.Signer (e.g. an HSM or KMS
	// handle) whose public key fits the algorithm works.
	Key crypto.Signer
	// KeyID is the "kid" header and JWK key ID. Empty means the RFC 7638 JWK
	// thumbprint (base64url SHA-256) of the public key.
	KeyID string
	// Type is the "typ" header. Empty means "at+jwt" (RFC 9068).
	Type string
	// OmitKeyID leaves kid out of token headers; the JWK Set still names
	// the key. RFC 7515 §4.1.4 makes kid optional, which is harmless while
	// the set holds one key and leaves a verifier guessing among several.
	OmitKeyID bool
}

// Claims are the claims of a JWT access token issued by the mock server.
type Claims struct {
	Issuer   string // iss
	Subject  string // sub
	ClientID string // client_id (RFC 9068)
	Scope    string // scope, space-delimited (RFC 9068)
	ID       string // jti
	// Audience is aud; omitted when empty. A single audience is written as
	// a JSON string, several as an array.
	Audience []string
	// IssuedAt (iat) and ExpiresAt (exp) are required by Sign. NotBefore
	// (nbf) defaults to IssuedAt when zero. All are written as NumericDate
	// (whole seconds, truncated).
	IssuedAt, ExpiresAt, NotBefore time.Time
	// Extra holds further claims Sign writes beside the ones above, in
	// sorted key order, each value encoded with encoding/json. A registered
	// claim name (iss, sub, aud, exp, nbf, iat, jti, client_id, scope) is an
	// error: set the field instead. Verify leaves Extra nil.
	Extra map[string]any
}

// Signer signs JWT access tokens with one key and verifies tokens signed with
// it. It is safe for concurrent use.
type Signer struct {
	alg    string
	algs   []jose.SignatureAlgorithm // exactly {alg}; the only one Verify accepts
	kid    string
	typ    string
	signer jose.Signer
	pub    crypto.PublicKey
	jwks   []byte
}

// NewSigner returns a Signer for opts. It fails, saying what to change, when
// the algorithm is unknown or the key does not fit it.
func NewSigner(opts SignerOptions) (*Signer, error) {
	alg := opts.Algorithm
	if alg == "" {
		alg = DefaultAlgorithm
	}
	spec, ok := lookupAlg(alg)
	if !ok {
		return nil, fmt.Errorf("tokens: new signer: unsupported algorithm %q; set Algorithm to one of %s", alg, supportedAlgs)
	}

	key := opts.Key
	if key == nil {
		var err error
		if key, err = generateKey(spec); err != nil {
			return nil, fmt.Errorf("tokens: new signer: generate %s key: %w", alg, err)
		}
	}
	if k, ok := key.(*ed25519.PrivateKey); ok { // accept a pointer too
		if k == nil {
			return nil, errors.New("tokens: new signer: Key is a nil *ed25519.PrivateKey")
		}
		key = *k
	}
	pub := key.Public()
	if err := checkKey(alg, spec, pub); err != nil {
		return nil, fmt.Errorf("tokens: new signer: %w", err)
	}

	kid := opts.KeyID
	if kid == "" {
		var err error
		if kid, err = thumbprint(pub); err != nil {
			return nil, fmt.Errorf("tokens: new signer: key id: %w", err)
		}
	}
	typ := opts.Type
	if typ == "" {
		typ = DefaultType
	}

	var signingKey any
	switch k := key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		signingKey = k
	default:
		signingKey = cryptosigner.Opaque(key)
	}
	joseAlg := jose.SignatureAlgorithm(alg)
	headerKID := kid
	if opts.OmitKeyID {
		headerKID = ""
	}
	js, err := jose.NewSigner(
		jose.SigningKey{Algorithm: joseAlg, Key: jose.JSONWebKey{Key: signingKey, KeyID: headerKID}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)),
	)
	if err != nil {
		return nil, fmt.Errorf("tokens: new signer: %s with %T: %w", alg, key, err)
	}

	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key:       pub,
		KeyID:     kid,
		Algorithm: alg,
		Use:       "sig",
	}}})
	if err != nil {
		return nil, fmt.Errorf("tokens: new signer: marshal JWKS: %w", err)
	}

	s := &Signer{
		alg:    alg,
		algs:   []jose.SignatureAlgorithm{joseAlg},
		kid:    kid,
		typ:    typ,
		signer: js,
		pub:    pub,
		jwks:   jwks,
	}

	// Self-test: catches opaque crypto.Signers whose Sign does not match
	// their Public key, or that cannot do this algorithm, at start-up rather
	// than on the first token request.
	now := time.Now()
	probe, err := s.Sign(Claims{Subject: "tokens-self-test", IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		return nil, fmt.Errorf("tokens: new signer: self-test: %w", err)
	}
	if _, err := s.verifyAt(probe, now, false); err != nil {
		return nil, fmt.Errorf("tokens: new signer: self-test: the key's signatures do not verify with its public key: %w", err)
	}
	return s, nil
}

func generateKey(spec algSpec) (crypto.Signer, error) {
	switch spec.kind {
	case kindRSA:
		return rsa.GenerateKey(rand.Reader, minRSABits)
	case kindEC:
		return ecdsa.GenerateKey(spec.curve, rand.Reader)
	case kindEd25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	default:
		return nil, fmt.Errorf("no key generator for kind %d", spec.kind)
	}
}

// checkKey reports, with a hint on what to fix, whether pub fits alg.
func checkKey(alg string, spec algSpec, pub crypto.PublicKey) error {
	switch spec.kind {
	case kindRSA:
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return keyMismatch(alg, "an RSA", pub)
		}
		if bits := k.N.BitLen(); bits < minRSABits {
			return fmt.Errorf("%s needs an RSA key of at least %d bits (RFC 7518), got %d bits; supply a larger key or leave Key nil to generate one", alg, minRSABits, bits)
		}
	case kindEC:
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return keyMismatch(alg, "an ECDSA "+spec.curve.Params().Name, pub)
		}
		if k.Curve != spec.curve {
			return keyMismatch(alg, "an ECDSA "+spec.curve.Params().Name, pub)
		}
	case kindEd25519:
		k, ok := pub.(ed25519.PublicKey)
		if !ok {
			return keyMismatch(alg, "an Ed25519", pub)
		}
		if len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("%s needs an Ed25519 key, got a public key of %d bytes instead of %d", alg, len(k), ed25519.PublicKeySize)
		}
	}
	return nil
}

func keyMismatch(alg, want string, pub crypto.PublicKey) error {
	got, suggest := describeKey(pub)
	hint := "supply " + want + " key or leave Key nil to generate one"
	if suggest != "" {
		hint = fmt.Sprintf("set Algorithm to %s to use this key, or %s", suggest, hint)
	}
	return fmt.Errorf("algorithm %s needs %s key, got %s; %s", alg, want, got, hint)
}

// describeKey names pub's type and suggests algorithms that would fit it.
func describeKey(pub crypto.PublicKey) (desc, algs string) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("an RSA %d-bit key", k.N.BitLen()), `"RS256", "RS384", "RS512" or "PS256"`
	case *ecdsa.PublicKey:
		name := "unknown-curve"
		if k.Curve != nil && k.Params() != nil {
			name = k.Curve.Params().Name
		}
		switch k.Curve {
		case elliptic.P256():
			return "an ECDSA P-256 key", `"ES256"`
		case elliptic.P384():
			return "an ECDSA P-384 key", `"ES384"`
		}
		return "an ECDSA " + name + " key (not supported; use P-256 or P-384)", ""
	case ed25519.PublicKey:
		return "an Ed25519 key", `"EdDSA"`
	default:
		return fmt.Sprintf("a %T", pub), ""
	}
}

// thumbprint returns the RFC 7638 JWK thumbprint of pub: base64url (no
// padding) of the SHA-256 of the canonical JWK.
func thumbprint(pub crypto.PublicKey) (string, error) {
	jwk := jose.JSONWebKey{Key: pub}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// Algorithm returns the JWS algorithm ("alg") the Signer signs with.
func (s *Signer) Algorithm() string { return s.alg }

// KeyID returns the "kid" the Signer writes in token headers and the JWKS.
func (s *Signer) KeyID() string { return s.kid }

// Type returns the "typ" header the Signer writes.
func (s *Signer) Type() string { return s.typ }

// PublicKey returns the public half of the signing key.
func (s *Signer) PublicKey() crypto.PublicKey { return s.pub }

// JWKS returns the JSON of the public JWK Set,
// {"keys":[{"kty":...,"kid":...,"use":"sig","alg":...,...}]}, as served from
// a jwks_uri. The JSON is computed once by NewSigner; each call returns a
// fresh copy the caller may keep or modify.
func (s *Signer) JWKS() []byte { return bytes.Clone(s.jwks) }

// claimsOut is the JSON form Sign writes.
type claimsOut struct {
	Issuer    string       `json:"iss,omitempty"`
	Subject   string       `json:"sub,omitempty"`
	Audience  jwt.Audience `json:"aud,omitempty"`
	ExpiresAt int64        `json:"exp"`
	NotBefore int64        `json:"nbf"`
	IssuedAt  int64        `json:"iat"`
	ID        string       `json:"jti,omitempty"`
	ClientID  string       `json:"client_id,omitempty"`
	Scope     string       `json:"scope,omitempty"`
}

// registeredField returns the Claims field that Sign writes claim name
// from, if any; Claims.Extra must not hold those names.
func registeredField(name string) (string, bool) {
	switch name {
	case "iss":
		return "Issuer", true
	case "sub":
		return "Subject", true
	case "aud":
		return "Audience", true
	case "exp":
		return "ExpiresAt", true
	case "nbf":
		return "NotBefore", true
	case "iat":
		return "IssuedAt", true
	case "jti":
		return "ID", true
	case "client_id":
		return "ClientID", true
	case "scope":
		return "Scope", true
	default:
		return "", false
	}
}

// appendExtra adds the members of extra, in sorted key order, to obj, the
// JSON of a claimsOut (never empty: exp, nbf and iat are always written).
func appendExtra(obj []byte, extra map[string]any) ([]byte, error) {
	names := slices.Sorted(maps.Keys(extra))
	for _, name := range names {
		if field, ok := registeredField(name); ok {
			return nil, fmt.Errorf("claim %q in Extra is registered; set Claims.%s instead", name, field)
		}
	}
	out := obj[:len(obj)-1] // drop the closing brace
	for _, name := range names {
		v, err := json.Marshal(extra[name])
		if err != nil {
			return nil, fmt.Errorf("marshal claim %q in Extra: %w", name, err)
		}
		k, _ := json.Marshal(name) // a string always encodes
		out = append(append(append(append(out, ','), k...), ':'), v...)
	}
	return append(out, '}'), nil
}

// claimsIn is the JSON form Verify reads; pointers tell absent from zero.
type claimsIn struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  jwt.Audience     `json:"aud"`
	ExpiresAt *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
	ID        string           `json:"jti"`
	ClientID  string           `json:"client_id"`
	Scope     string           `json:"scope"`
}

// Sign returns c as a compact JWS whose protected header holds alg, kid and
// typ. c.IssuedAt and c.ExpiresAt must be set; c.NotBefore defaults to
// c.IssuedAt. Sign does not check that ExpiresAt is after IssuedAt, so that
// tests can mint already-expired tokens. It fails when c.Extra names a
// registered claim or holds a value encoding/json cannot encode.
func (s *Signer) Sign(c Claims) (string, error) {
	if c.IssuedAt.IsZero() {
		return "", errors.New("tokens: sign: IssuedAt is zero; set it to the issue time")
	}
	if c.ExpiresAt.IsZero() {
		return "", errors.New("tokens: sign: ExpiresAt is zero; set it to when the token expires")
	}
	nbf := c.NotBefore
	if nbf.IsZero() {
		nbf = c.IssuedAt
	}
	payload, err := json.Marshal(claimsOut{
		Issuer:    c.Issuer,
		Subject:   c.Subject,
		Audience:  jwt.Audience(c.Audience),
		ExpiresAt: c.ExpiresAt.Unix(),
		NotBefore: nbf.Unix(),
		IssuedAt:  c.IssuedAt.Unix(),
		ID:        c.ID,
		ClientID:  c.ClientID,
		Scope:     c.Scope,
	})
	if err != nil {
		return "", fmt.Errorf("tokens: sign: marshal claims: %w", err)
	}
	if len(c.Extra) > 0 {
		if payload, err = appendExtra(payload, c.Extra); err != nil {
			return "", fmt.Errorf("tokens: sign: %w", err)
		}
	}
	jws, err := s.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("tokens: sign: %s: %w", s.alg, err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("tokens: sign: serialize: %w", err)
	}
	return raw, nil
}

// Verify checks raw and returns its claims. It accepts only tokens signed
// with this Signer's key and algorithm (so "none", HS256 and every other alg
// are rejected), whose kid, if present, is this Signer's, whose typ matches
// the Signer's Type (case-insensitively, optionally with an "application/"
// prefix, as RFC 9068 section 4 requires), and that are valid at now with
// zero leeway: exp must be present and after now; nbf and iat, when present,
// must not be after now.
//
// Errors wrap one of ErrMalformed, ErrAlgorithm, ErrType, ErrKeyID,
// ErrSignature, ErrExpired or ErrNotYetValid and say what was wrong. Verify
// allocates; cache its successes in a VerifiedCache.
func (s *Signer) Verify(raw string, now time.Time) (Claims, error) {
	return s.verifyAt(raw, now, true)
}

func (s *Signer) verifyAt(raw string, now time.Time, checkTime bool) (Claims, error) {
	if raw == "" {
		return Claims{}, fmt.Errorf("tokens: verify: %w: empty token", ErrMalformed)
	}
	jws, err := jose.ParseSignedCompact(raw, s.algs)
	if err != nil {
		if _, ok := errors.AsType[*jose.ErrUnexpectedSignatureAlgorithm](err); ok {
			return Claims{}, fmt.Errorf("tokens: verify: %w: only %s is accepted: %w", ErrAlgorithm, s.alg, err)
		}
		return Claims{}, fmt.Errorf("tokens: verify: %w: %w", ErrMalformed, err)
	}
	if len(jws.Signatures) != 1 {
		return Claims{}, fmt.Errorf("tokens: verify: %w: %d signatures, want 1", ErrMalformed, len(jws.Signatures))
	}
	h := jws.Signatures[0].Header
	if h.KeyID != "" && h.KeyID != s.kid {
		return Claims{}, fmt.Errorf("tokens: verify: %w: kid %q, want %q", ErrKeyID, h.KeyID, s.kid)
	}
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if !s.typeOK(typ) {
		return Claims{}, fmt.Errorf("tokens: verify: %w: typ %q, want %q", ErrType, typ, s.typ)
	}
	payload, err := jws.Verify(s.pub)
	if err != nil {
		return Claims{}, fmt.Errorf("tokens: verify: %w: %w", ErrSignature, err)
	}

	var in claimsIn
	if err := json.Unmarshal(payload, &in); err != nil {
		return Claims{}, fmt.Errorf("tokens: verify: %w: claims: %w", ErrMalformed, err)
	}
	c := Claims{
		Issuer:   in.Issuer,
		Subject:  in.Subject,
		ClientID: in.ClientID,
		Scope:    in.Scope,
		ID:       in.ID,
		Audience: []string(in.Audience),
	}
	if in.ExpiresAt == nil {
		return Claims{}, fmt.Errorf("tokens: verify: %w: no exp claim", ErrMalformed)
	}
	c.ExpiresAt = numericTime(in.ExpiresAt)
	c.IssuedAt = numericTime(in.IssuedAt)
	c.NotBefore = numericTime(in.NotBefore)
	if !checkTime {
		return c, nil
	}
	const layout = time.RFC3339
	if !c.ExpiresAt.After(now) {
		return Claims{}, fmt.Errorf("tokens: verify: %w at %s (now %s)", ErrExpired, c.ExpiresAt.Format(layout), now.UTC().Format(layout))
	}
	if in.NotBefore != nil && c.NotBefore.After(now) {
		return Claims{}, fmt.Errorf("tokens: verify: %w: nbf %s is after now %s", ErrNotYetValid, c.NotBefore.Format(layout), now.UTC().Format(layout))
	}
	if in.IssuedAt != nil && c.IssuedAt.After(now) {
		return Claims{}, fmt.Errorf("tokens: verify: %w: iat %s is after now %s", ErrNotYetValid, c.IssuedAt.Format(layout), now.UTC().Format(layout))
	}
	return c, nil
}

func (s *Signer) typeOK(typ string) bool {
	if strings.EqualFold(typ, s.typ) {
		return true
	}
	rest, ok := strings.CutPrefix(strings.ToLower(typ), "application/")
	return ok && strings.EqualFold(rest, s.typ)
}

func numericTime(n *jwt.NumericDate) time.Time {
	if n == nil {
		return time.Time{}
	}
	return time.Unix(int64(*n), 0).UTC()
}
