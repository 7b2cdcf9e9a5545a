package conformance

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega" //nolint:revive // matchers read as prose in checks

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/probe"
)

// wellKnownJWKS is where the suite looks for the JWK Set when nothing
// names it and no usable metadata does (Commerce Layer serves it there).
const wellKnownJWKS = "/.well-known/jwks.json"

// JWTChecks defines the JWT checks for r's flow: RFC 9068 JWT access
// tokens and forgeries of them. They apply only when the primary token is
// a JWT.
func JWTChecks(r *framework.Registrar) {
	f := r.F
	target := func() spec.Operation { return probedOperation(f) }
	// primary returns the primary token, ending the check N/A when it is
	// not a JWT.
	primary := func(ctx ginkgo.SpecContext, g Gomega) *jwtToken {
		tr, err := f.PrimaryToken(ctx)
		framework.Sent(g, nil, err)
		t, ok := parseJWT(tr.AccessToken)
		if !ok {
			framework.NotApplicable("the access token is not a JWT (three base64url parts, a JSON header and JSON claims): RFC 9068 applies to JWT access tokens only")
		}
		return t
	}
	call := func(ctx ginkgo.SpecContext, g Gomega, token string) *probe.Exchange {
		ex, err := f.Call(ctx, target(), "", "Bearer "+token)
		return framework.Sent(g, ex, err)
	}
	// genuine observes the probed route (routeAnswers) and ends the check
	// INCONCLUSIVE when the route enforces nothing (BEAR-019), accepts an
	// unknown token (BEAR-004) or the genuine token is not seen working
	// (BEAR-001): the refusal of a
	// forgery would then prove nothing.
	genuine := func(ctx ginkgo.SpecContext, g Gomega) *routeAnswers {
		rt := observeRoute(ctx, g, f, target())
		rt.needEnforcement()
		rt.needUnknownRefused()
		rt.needWorkingToken()
		return rt
	}
	// refused judges only whether the forgery was accepted: the status of
	// a refusal is BEAR-004's to judge.
	refused := func(ctx ginkgo.SpecContext, g Gomega, rt *routeAnswers, forged, what string) {
		f.AddSecret(forged) // it carries the genuine claims
		rt.expectRefusedVariant(g, call(ctx, g, forged), what)
	}

	r.CheckIt("JWT-001", func(ctx ginkgo.SpecContext, g Gomega) {
		t := primary(ctx, g)
		alg := t.headerString("alg")
		// RFC 9068 §2.1: "JWT access tokens MUST be signed." … "The JWT
		// access token MUST NOT use "none" as the signing algorithm."
		g.Expect(alg).NotTo(BeEmpty(), "the JWT header has no alg")
		g.Expect(strings.EqualFold(alg, "none")).To(BeFalse(), "the JWT is unsigned: alg %q", alg)
		g.Expect(t.signaturePart).NotTo(BeEmpty(), "the JWT has an empty signature")
		if strings.HasPrefix(strings.ToUpper(alg), "HS") {
			framework.NotVerified("the JWT is signed with %s, a shared secret no JWK Set publishes: its signature cannot be checked from outside", alg)
		}
		keys, at := fetchJWKS(ctx, g, f)
		kid := t.headerString("kid")
		candidates := keysFor(keys, kid)
		g.Expect(candidates).NotTo(BeEmpty(), "kid %q is not in the JWK Set at %s", kid, at)
		jws, err := jose.ParseSignedCompact(t.raw, verifiableAlgorithms())
		g.Expect(err).NotTo(HaveOccurred(), "the JWT is not a compact JWS with an asymmetric algorithm")
		verified := false
		for _, k := range candidates {
			if _, err := jws.Verify(k); err == nil {
				verified = true
				break
			}
		}
		g.Expect(verified).To(BeTrue(), "the signature does not verify with the key(s) of the JWK Set at %s", at)
	})

	r.CheckIt("JWT-002", func(ctx ginkgo.SpecContext, g Gomega) {
		typ := primary(ctx, g).headerString("typ")
		// RFC 9068 §2.1: "JWT access tokens MUST include this media type in
		// the "typ" header parameter" … "the "typ" value used SHOULD be
		// "at+jwt"". RFC 7515 §4.1.9 compares media types case-insensitively.
		g.Expect(strings.EqualFold(typ, "at+jwt") || strings.EqualFold(typ, "application/at+jwt")).To(BeTrue(), "typ is %q, not at+jwt", typ)
	})

	r.CheckIt("JWT-003", func(ctx ginkgo.SpecContext, g Gomega) {
		claims := primary(ctx, g).claims
		// RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat and jti are
		// each "REQUIRED".
		present := []struct {
			name string
			ok   bool
		}{
			{"iss", isNonEmptyString(claims["iss"])},
			{"exp", isNumber(claims["exp"])},
			{"aud", isAudience(claims["aud"])},
			{"sub", isNonEmptyString(claims["sub"])},
			{"client_id", isNonEmptyString(claims["client_id"])},
			{"iat", isNumber(claims["iat"])},
			{"jti", isNonEmptyString(claims["jti"])},
		}
		var missing []string
		for _, c := range present {
			if !c.ok {
				missing = append(missing, c.name)
			}
		}
		g.Expect(missing).To(BeEmpty(), "required claims missing or not of their type")
	})

	r.CheckIt("JWT-009", func(ctx ginkgo.SpecContext, g Gomega) {
		t := primary(ctx, g)
		if alg := t.headerString("alg"); strings.HasPrefix(strings.ToUpper(alg), "HS") || strings.EqualFold(alg, "none") {
			framework.NotApplicable("the JWT is signed with %q, with no key a JWK Set publishes (JWT-001 judges the algorithm)", alg)
		}
		if t.headerString("kid") != "" {
			return // it names its key
		}
		keys, at := fetchJWKS(ctx, g, f)
		var signing []string
		for _, k := range keys {
			if k.Use == "" || k.Use == "sig" {
				signing = append(signing, fmt.Sprintf("%q", k.KeyID))
			}
		}
		g.Expect(len(signing)).To(BeNumerically("<=", 1),
			"the JWT has no kid while the JWK Set at %s holds %d signing keys (kids %s): RFC 7515 §4.1.4 kid is \"a hint indicating which key was used\", and RFC 7517 §4.5 has it \"choose among a set of keys within a JWK Set\"; without it a resource server must try each key",
			at, len(signing), strings.Join(signing, ", "))
	})

	r.CheckIt("JWT-004", func(ctx ginkgo.SpecContext, g Gomega) {
		t := primary(ctx, g)
		rt := genuine(ctx, g)
		for _, alg := range []string{"none", "None", "NONE"} {
			// RFC 9068 §4: "The resource server MUST reject any JWT in which
			// the value of "alg" is "none"." The claims are the genuine
			// ones; the signature is empty.
			forged := t.headerWith("alg", alg) + "." + t.payloadPart + "."
			refused(ctx, g, rt, forged, fmt.Sprintf("the genuine claims with alg %q and no signature", alg))
		}
	})

	r.CheckIt("JWT-005", func(ctx ginkgo.SpecContext, g Gomega) {
		t := primary(ctx, g)
		rt := genuine(ctx, g)
		claims := map[string]any{}
		for k, v := range t.claims {
			claims[k] = v
		}
		change := "exp a day later"
		if exp, ok := claims["exp"].(json.Number); ok {
			if n, err := exp.Int64(); err == nil {
				claims["exp"] = n + 86400
			} else {
				change = "a member added"
				claims["tollgate_forged"] = true
			}
		} else {
			change = "a member added"
			claims["tollgate_forged"] = true
		}
		payload, err := json.Marshal(claims)
		g.Expect(err).NotTo(HaveOccurred())
		// RFC 9068 §4: "The resource server MUST validate the signature of
		// all incoming JWT access tokens".
		forged := t.headerPart + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + t.signaturePart
		refused(ctx, g, rt, forged, "the genuine signature over changed claims ("+change+")")
	})

	r.CheckIt("JWT-006", func(ctx ginkgo.SpecContext, g Gomega) {
		t := primary(ctx, g)
		rt := genuine(ctx, g)
		keys, at := fetchJWKS(ctx, g, f)
		candidates := keysFor(keys, t.headerString("kid"))
		if len(candidates) == 0 {
			candidates = keys
		}
		for _, k := range candidates {
			secrets, err := publicKeyBytes(k.Key)
			g.Expect(err).NotTo(HaveOccurred(), "key %q of the JWK Set at %s", k.KeyID, at)
			for _, s := range secrets {
				// ASVS 5.0 9.1.2: "additional controls will be needed to
				// prevent key confusion": a verifier that takes the
				// algorithm from the token would check this HMAC with the
				// public key's bytes as the secret.
				forged, err := signJWS(jose.HS256, s.secret, t.payload, false, t.keptHeaders(true))
				g.Expect(err).NotTo(HaveOccurred(), "HS256 with the %s", s.name)
				refused(ctx, g, rt, forged, fmt.Sprintf("an HS256 forgery keyed with the %s of key %q", s.name, k.KeyID))
			}
		}
	})

	r.CheckIt("JWT-007", func(ctx ginkgo.SpecContext, g Gomega) {
		t := primary(ctx, g)
		rt := genuine(ctx, g)
		alg, key, err := attackerKey(t.headerString("alg"))
		g.Expect(err).NotTo(HaveOccurred(), "generate a key")
		// RFC 9068 §4: "The resource server MUST use the keys provided by
		// the authorization server." ASVS 5.0 9.1.3: "headers such as 'jku',
		// 'x5u', and 'jwk' must be validated against an allowlist of
		// trusted sources".
		for _, kid := range []bool{false, true} {
			forged, err := signJWS(alg, key, t.payload, true, t.keptHeaders(kid))
			g.Expect(err).NotTo(HaveOccurred())
			what := "the genuine claims signed with a key of ours embedded as a jwk header"
			if kid {
				what += ", with the genuine kid"
			}
			refused(ctx, g, rt, forged, what)
		}
	})

	r.CheckIt("JWT-008", func(ctx ginkgo.SpecContext, g Gomega) {
		t := primary(ctx, g)
		rt := genuine(ctx, g)
		alg, key, err := attackerKey(t.headerString("alg"))
		g.Expect(err).NotTo(HaveOccurred(), "generate a key")
		var nonce [8]byte
		_, _ = rand.Read(nonce[:])
		headers := t.keptHeaders(false)
		headers["kid"] = "tollgate-unknown-" + hex.EncodeToString(nonce[:])
		// RFC 9068 §4: "The resource server MUST use the keys provided by
		// the authorization server." A kid the authorization server never
		// published names no such key, so the token must not verify.
		forged, err := signJWS(alg, key, t.payload, false, headers)
		g.Expect(err).NotTo(HaveOccurred())
		refused(ctx, g, rt, forged, fmt.Sprintf("the genuine claims signed with a key of ours under the unknown kid %q", headers["kid"]))
	})
}

// jwtToken is a compact JWS split into its parts, decoded but unverified.
type jwtToken struct {
	raw                                    string
	headerPart, payloadPart, signaturePart string
	header                                 map[string]any
	payload                                []byte
	claims                                 map[string]any // numbers as json.Number
}

// parseJWT splits a compact JWS whose header and payload are JSON objects.
func parseJWT(raw string) (*jwtToken, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, false
	}
	t := &jwtToken{raw: raw, headerPart: parts[0], payloadPart: parts[1], signaturePart: parts[2]}
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, false
	}
	if t.payload, err = base64.RawURLEncoding.DecodeString(parts[1]); err != nil {
		return nil, false
	}
	if t.header, err = decodeObject(header); err != nil {
		return nil, false
	}
	if t.claims, err = decodeObject(t.payload); err != nil {
		return nil, false
	}
	return t, true
}

func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the JSON object")
	}
	return m, nil
}

func (t *jwtToken) headerString(name string) string {
	s, _ := t.header[name].(string)
	return s
}

// headerWith returns the encoded header with one member replaced.
func (t *jwtToken) headerWith(name string, v any) string {
	h := map[string]any{}
	for k, old := range t.header {
		h[k] = old
	}
	h[name] = v
	b, _ := json.Marshal(h) // decoded from JSON: it encodes back
	return base64.RawURLEncoding.EncodeToString(b)
}

// keptHeaders are the genuine header members a forgery keeps, so that it
// is refused for its signature and nothing else: typ, and kid when asked.
func (t *jwtToken) keptHeaders(kid bool) map[string]any {
	h := map[string]any{}
	if v, ok := t.header["typ"]; ok {
		h["typ"] = v
	}
	if v, ok := t.header["kid"]; ok && kid {
		h["kid"] = v
	}
	return h
}

// signJWS signs payload as a compact JWS with the header alg, the extra
// members, and with embedJWK the public key as a jwk member.
func signJWS(alg jose.SignatureAlgorithm, key any, payload []byte, embedJWK bool, extra map[string]any) (string, error) {
	opts := &jose.SignerOptions{EmbedJWK: embedJWK, ExtraHeaders: map[jose.HeaderKey]any{}}
	for k, v := range extra {
		opts.ExtraHeaders[jose.HeaderKey(k)] = v
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		return "", err
	}
	jws, err := s.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// attackerKey generates a key of our own for the algorithm family of alg,
// so that a forgery differs from the genuine token only in its key; RS256
// with RSA for anything else.
func attackerKey(alg string) (jose.SignatureAlgorithm, crypto.Signer, error) {
	switch alg {
	case "ES256", "ES384", "ES512":
		curve := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}[alg]
		k, err := ecdsa.GenerateKey(curve, rand.Reader)
		return jose.SignatureAlgorithm(alg), k, err
	case "EdDSA":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return jose.EdDSA, k, err
	case "RS384", "RS512", "PS256", "PS384", "PS512":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		return jose.SignatureAlgorithm(alg), k, err
	default:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		return jose.RS256, k, err
	}
}

// namedSecret is one encoding of a public key, used as an HMAC secret.
type namedSecret struct {
	name   string
	secret []byte
}

// publicKeyBytes returns the encodings of a public key that vulnerable
// verifiers have used as HMAC secrets: SubjectPublicKeyInfo as DER and PEM,
// and for RSA PKCS #1 as DER and PEM.
func publicKeyBytes(pub any) ([]namedSecret, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	out := []namedSecret{
		{"SubjectPublicKeyInfo DER", der},
		{"PUBLIC KEY PEM", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})},
	}
	if k, ok := pub.(*rsa.PublicKey); ok {
		pkcs1 := x509.MarshalPKCS1PublicKey(k)
		out = append(out,
			namedSecret{"PKCS #1 DER", pkcs1},
			namedSecret{"RSA PUBLIC KEY PEM", pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1})})
	}
	return out, nil
}

// verifiableAlgorithms are the asymmetric JWS algorithms (RFC 7518 §3,
// RFC 8037) whose keys a JWK Set publishes.
func verifiableAlgorithms() []jose.SignatureAlgorithm {
	return []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512, jose.ES256, jose.ES384, jose.ES512, jose.EdDSA}
}

// fetchJWKS returns the public signing keys of the target's JWK Set and
// where it was found (jwksLocation). Without one the check ends NOT
// VERIFIED, naming the remedy.
func fetchJWKS(ctx ginkgo.SpecContext, g Gomega, f *framework.Framework) ([]jose.JSONWebKey, string) {
	at, ignored := jwksLocation(ctx, g, f)
	ex, err := f.Do(ctx, http.MethodGet, at, http.Header{"Accept": {"application/json"}}, nil)
	framework.Sent(g, ex, err)
	var keys []jose.JSONWebKey
	if ex.Status == http.StatusOK {
		keys = parseJWKS(ex.Body)
	}
	if len(keys) == 0 {
		if ignored != "" {
			framework.NotVerified("no JWK Set with a public signing key at %s (status %d); %s", at, ex.Status, ignored)
		}
		framework.NotVerified("no JWK Set with a signing key at %s (status %d): name it with --jwks-uri or publish jwks_uri in the metadata", at, ex.Status)
	}
	return keys, at
}

// parseJWKS returns the public signing keys of a JWK Set (RFC 7517 §5),
// skipping keys it cannot use.
func parseJWKS(body []byte) []jose.JSONWebKey {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if json.Unmarshal(body, &set) != nil {
		return nil
	}
	var out []jose.JSONWebKey
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if k.UnmarshalJSON(raw) != nil || !k.Valid() || !k.IsPublic() || (k.Use != "" && k.Use != "sig") {
			continue
		}
		out = append(out, k)
	}
	return out
}

// keysFor returns the keys a kid names; all of them without a kid.
func keysFor(keys []jose.JSONWebKey, kid string) []jose.JSONWebKey {
	if kid == "" {
		return keys
	}
	var out []jose.JSONWebKey
	for _, k := range keys {
		if k.KeyID == kid {
			out = append(out, k)
		}
	}
	return out
}

func isNonEmptyString(v any) bool {
	s, ok := v.(string)
	return ok && s != ""
}

func isNumber(v any) bool {
	n, ok := v.(json.Number)
	if !ok {
		return false
	}
	_, err := n.Float64()
	return err == nil
}

// isAudience reports whether v is an RFC 7519 §4.1.3 aud: a string or an
// array of strings, not empty.
func isAudience(v any) bool {
	if isNonEmptyString(v) {
		return true
	}
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return false
	}
	for _, e := range arr {
		if !isNonEmptyString(e) {
			return false
		}
	}
	return true
}
