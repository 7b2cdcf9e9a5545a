package conformance

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega" //nolint:revive // matchers read as prose in checks

	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/probe"
)

// JWTAttackChecks defines the forgeries of jwt_tool's playbook that real
// resource servers fail (JWT-010 to JWT-012): a stripped signature, an
// empty HMAC key, alg none in mixed case, key IDs that inject a path or
// SQL, and jku/x5u headers that point at keys this run serves itself.
// Each forgery counts as accepted only when it is answered like the
// genuine token on the same route, and only the property the check owns
// is judged: a forgery some other fault lets through (any signature, alg
// none in lower case, any HS256 key) is left to that fault's check.
func JWTAttackChecks(r *framework.Registrar) {
	f := r.F

	r.CheckIt("JWT-010", func(ctx ginkgo.SpecContext, g Gomega) {
		a := startForging(ctx, g, f)
		t := a.token

		// RFC 9068 §4: "The resource server MUST validate the signature of
		// all incoming JWT access tokens". A signature segment left empty
		// is the null-signature attack: a verifier that skips the check
		// when there is nothing to check.
		if nullSig := t.headerPart + "." + t.payloadPart + "."; a.accepted(ctx, g, nullSig) {
			// A wrong signature of the same length accepted too: the
			// signature is not checked at all, which is JWT-005's finding.
			if !a.accepted(ctx, g, t.headerPart+"."+t.payloadPart+"."+flipped(t.signaturePart)) {
				a.found(nullSig, fmt.Sprintf("the genuine header (alg %q) and claims with the signature segment empty (header.payload.)", t.headerString("alg")))
			}
		}

		// An HS256 signature keyed with the empty string: a verifier whose
		// HMAC secret is unset, or that looks one up and finds none.
		for _, kid := range a.keyIDs() {
			h := t.keptHeaders(false)
			h["alg"] = "HS256"
			if kid != "" {
				h["kid"] = kid
			}
			forged := hmacJWT(h, t.payloadPart, nil)
			if !a.accepted(ctx, g, forged) {
				continue
			}
			// Any HS256 key accepted: not the empty key's doing (JWT-006
			// catches a verifier that takes the algorithm from the token).
			if !a.accepted(ctx, g, hmacJWT(h, t.payloadPart, randomSecret())) {
				a.found(forged, "the genuine claims signed HS256 with an empty secret"+withKeyID(kid))
			}
		}

		// RFC 9068 §4: "The resource server MUST reject any JWT in which
		// the value of "alg" is "none"." JWT-004 sends none, None and NONE;
		// a mixed-case spelling gets past a verifier that blocks those
		// spellings and then treats the algorithm name case-insensitively.
		if mixed := t.headerWith("alg", "nOnE") + "." + t.payloadPart + "."; a.accepted(ctx, g, mixed) &&
			!a.accepted(ctx, g, t.headerWith("alg", "none")+"."+t.payloadPart+".") {
			a.found(mixed, `the genuine claims with alg "nOnE" and no signature (alg "none" itself is refused: a blocklist of spellings)`)
		}
		a.judge(ctx, g)
	})

	r.CheckIt("JWT-011", func(ctx ginkgo.SpecContext, g Gomega) {
		a := startForging(ctx, g, f)
		t := a.token
		// RFC 8725 §3.10: the kid is used "to perform key lookup.
		// Applications should ensure that this does not create SQL or LDAP
		// injection vulnerabilities". ASVS 5.0 9.1.3: key material comes
		// "from trusted pre-configured sources". Each kid below makes a
		// naive lookup return the key the forgery is signed with.
		injections := []struct {
			kid    string
			secret []byte
			what   string
		}{
			{"../../dev/null", nil, "a path-traversal kid ../../dev/null, signed HS256 with the empty key the file holds"},
			{"/dev/null", nil, "the kid /dev/null, signed HS256 with the empty key the file holds"},
			{"x' UNION SELECT '1", []byte("1"), `an SQL-shaped kid x' UNION SELECT '1, signed HS256 with the key "1" the query selects`},
		}
		for _, in := range injections {
			h := t.keptHeaders(false)
			h["alg"] = "HS256"
			h["kid"] = in.kid
			forged := hmacJWT(h, t.payloadPart, in.secret)
			if !a.accepted(ctx, g, forged) {
				continue
			}
			// The same key under a harmless unknown kid accepted too: the
			// kid chose nothing (an empty HMAC key is JWT-010's finding).
			h["kid"] = unknownKeyID()
			if !a.accepted(ctx, g, hmacJWT(h, t.payloadPart, in.secret)) {
				a.found(forged, in.what)
			}
		}
		a.judge(ctx, g)
	})

	r.CheckIt("JWT-012", func(ctx ginkgo.SpecContext, g Gomega) {
		a := startForging(ctx, g, f)
		t := a.token
		if !isLoopbackTarget(f.Config.Target) {
			framework.NotVerified("the jku and x5u forgeries point at a JWK Set this run serves on 127.0.0.1, which a target on another host (%s) cannot reach: run the check against a target on this host", f.Config.Target)
		}
		alg, key, err := attackerKey(t.headerString("alg"))
		g.Expect(err).NotTo(HaveOccurred(), "generate a key")
		host, err := startKeyHost(ctx, key, string(alg), t.headerString("kid"))
		g.Expect(err).NotTo(HaveOccurred(), "serve a JWK Set on loopback")
		defer host.close()

		// ASVS 5.0 9.1.3: "headers such as 'jku', 'x5u', and 'jwk' must be
		// validated against an allowlist of trusted sources". RFC 8725
		// §3.10: "blindly following a "jku" (JWK set URL) or "x5u" (X.509
		// URL) header ... could result in server-side request forgery".
		forgeries := []struct {
			header map[string]any
			what   string
		}{
			{map[string]any{"jku": host.jwksURL, "kid": host.kid}, "the genuine claims signed with a key of ours, its jku naming our JWK Set at " + host.jwksURL},
			{map[string]any{"x5u": host.certURL}, "the genuine claims signed with a key of ours, its x5u naming our certificate at " + host.certURL},
		}
		if kid := t.headerString("kid"); kid != "" {
			forgeries = append(forgeries, struct {
				header map[string]any
				what   string
			}{map[string]any{"jku": host.jwksURL, "kid": kid}, "the genuine claims signed with a key of ours under the genuine kid, its jku naming our JWK Set at " + host.jwksURL})
		}
		for _, fg := range forgeries {
			h := t.keptHeaders(false)
			for k, v := range fg.header {
				h[k] = v
			}
			forged, err := signJWS(alg, key, t.payload, false, h)
			g.Expect(err).NotTo(HaveOccurred(), "sign %s", fg.what)
			// The same token without the URL, sent first (before a
			// fetched key could be cached under its kid): when it is
			// accepted too, the URL was not what let the forgery in (an
			// unknown kid skipped, or no signature check: JWT-008's or
			// JWT-005's finding).
			delete(h, "jku")
			delete(h, "x5u")
			plain, err := signJWS(alg, key, t.payload, false, h)
			g.Expect(err).NotTo(HaveOccurred(), "sign %s without the URL", fg.what)
			withoutURL := a.accepted(ctx, g, plain)
			if a.accepted(ctx, g, forged) && !withoutURL {
				a.found(forged, fg.what)
			}
		}
		a.judge(ctx, g)
		// A fetch may come after the answer (a background key refresh).
		fetches := host.fetchesAfter(ctx, fetchGrace)
		if len(fetches) > 0 {
			framework.Warn("the target fetched the URL a token's header named (a blind server-side request, RFC 8725 §3.10), though it refused the token: %s", strings.Join(fetches, "; "))
		}
	})
}

// fetchGrace is how long JWT-012 waits after its last forgery for a fetch
// the target makes in the background.
const fetchGrace = 300 * time.Millisecond

// forging sends forged tokens to the protected route the single-route
// checks use, next to the genuine token's answer there.
type forging struct {
	f     *framework.Framework
	token *jwtToken
	route *routeAnswers // the canonical answers: what "accepted" is judged by

	accepted1st string   // the first forgery accepted, sent again for the evidence
	findings    []string // what each accepted forgery was
}

// found records an accepted forgery the check owns.
func (a *forging) found(forged, what string) {
	if len(a.findings) == 0 {
		a.accepted1st = forged
	}
	a.findings = append(a.findings, what)
}

// judge fails the check when a forgery was found accepted, with that
// forgery's exchange as the last one (the evidence): the control requests
// sent after it were refused.
func (a *forging) judge(ctx ginkgo.SpecContext, g Gomega) {
	if len(a.findings) > 0 {
		a.send(ctx, g, a.accepted1st)
	}
	g.Expect(a.findings).To(BeEmpty(), "forgeries were answered like the genuine token (status %d; an unknown token gets %d) on %s", a.route.valid.Status, a.route.invalid.Status, a.route.route())
}

// startForging returns the primary token and the route's canonical
// answers, ending the check N/A when the token is not a JWT, and
// INCONCLUSIVE when the route enforces nothing or the genuine token is not
// seen working, since the refusal of a forgery then proves nothing.
func startForging(ctx ginkgo.SpecContext, g Gomega, f *framework.Framework) *forging {
	tr, err := f.PrimaryToken(ctx)
	framework.Sent(g, nil, err)
	t, ok := parseJWT(tr.AccessToken)
	if !ok {
		framework.NotApplicable("the access token is not a JWT (three base64url parts, a JSON header and JSON claims): RFC 9068 applies to JWT access tokens only")
	}
	a := &forging{f: f, token: t, route: observeRoute(ctx, g, f, probedOperation(f))}
	a.route.needEnforcement()
	a.route.needUnknownRefused()
	a.route.needWorkingToken()
	return a
}

func (a *forging) send(ctx ginkgo.SpecContext, g Gomega, token string) *probe.Exchange {
	ex, err := a.f.Call(ctx, probedOperation(a.f), "", "Bearer "+token)
	return framework.Sent(g, ex, err)
}

// accepted sends a forgery, which carries the genuine claims, and reports
// whether it was answered like the genuine token.
func (a *forging) accepted(ctx ginkgo.SpecContext, g Gomega, forged string) bool {
	a.f.AddSecret(forged)
	return a.route.accepted(a.send(ctx, g, forged))
}

// keyIDs are the kids an HMAC forgery tries: none, and the genuine one
// when the token names a key.
func (a *forging) keyIDs() []string {
	if kid := a.token.headerString("kid"); kid != "" {
		return []string{"", kid}
	}
	return []string{""}
}

// hmacJWT builds a compact JWS by hand: header as given, the payload part
// as encoded, and an HMAC-SHA256 over both with secret, which may be empty
// (go-jose refuses to sign with an empty key).
func hmacJWT(header map[string]any, payloadPart string, secret []byte) string {
	b, _ := json.Marshal(header) // strings and decoded JSON: it encodes
	input := base64.RawURLEncoding.EncodeToString(b) + "." + payloadPart
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// flipped returns a base64url signature with its first byte changed, so it
// has the genuine length but cannot verify.
func flipped(sig string) string {
	b, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || len(b) == 0 {
		return base64.RawURLEncoding.EncodeToString([]byte("tollgate-wrong-signature"))
	}
	b[0] ^= 0xff
	return base64.RawURLEncoding.EncodeToString(b)
}

func randomSecret() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	return b
}

func unknownKeyID() string {
	return "tollgate-unknown-" + hex.EncodeToString(randomSecret()[:8])
}

func withKeyID(kid string) string {
	if kid == "" {
		return " and no kid"
	}
	return fmt.Sprintf(" under the genuine kid %q", kid)
}

// isLoopbackTarget reports whether the target's host is this machine, so
// that it can reach a listener on 127.0.0.1.
func isLoopbackTarget(target string) bool {
	u, err := url.Parse(target)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// keyHost serves, on 127.0.0.1, a JWK Set and a self-signed certificate
// holding a public key of this run's, and records every request it gets:
// the target fetching a URL a token named.
type keyHost struct {
	srv              *http.Server
	kid              string
	jwksURL, certURL string

	mu      sync.Mutex
	fetches []string
}

// startKeyHost serves key's public half under kid (a fresh one) and, when
// genuineKID is not empty, under the genuine kid too.
func startKeyHost(ctx context.Context, key crypto.Signer, alg, genuineKID string) (*keyHost, error) {
	nonce := hex.EncodeToString(randomSecret()[:8])
	h := &keyHost{kid: "tollgate-jku-" + nonce}
	keys := []jose.JSONWebKey{{Key: key.Public(), KeyID: h.kid, Algorithm: alg, Use: "sig"}}
	if genuineKID != "" {
		keys = append(keys, jose.JSONWebKey{Key: key.Public(), KeyID: genuineKID, Algorithm: alg, Use: "sig"})
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		return nil, fmt.Errorf("key host: JWK Set: %w", err)
	}
	cert, err := selfSigned(key)
	if err != nil {
		return nil, fmt.Errorf("key host: certificate: %w", err)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("key host: listen on loopback: %w", err)
	}
	base := "http://" + ln.Addr().String() + "/" + nonce
	h.jwksURL, h.certURL = base+"/jwks.json", base+"/cert.pem"
	mux := http.NewServeMux()
	mux.HandleFunc("GET /"+nonce+"/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	})
	mux.HandleFunc("GET /"+nonce+"/cert.pem", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/pem-certificate-chain")
		_, _ = w.Write(cert)
	})
	h.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.mu.Lock()
			h.fetches = append(h.fetches, fmt.Sprintf("%s %s from %s", r.Method, r.URL.Path, r.RemoteAddr))
			h.mu.Unlock()
			mux.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = h.srv.Serve(ln) }() // ends with ErrServerClosed at close
	return h, nil
}

// fetchesAfter waits grace (or until ctx ends) and returns the requests
// the host has had.
func (h *keyHost) fetchesAfter(ctx ginkgo.SpecContext, grace time.Duration) []string {
	select {
	case <-time.After(grace):
	case <-ctx.Done():
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.fetches...)
}

// close stops the host and drops its connections; the check is done with it.
func (h *keyHost) close() { _ = h.srv.Close() }

// selfSigned returns a PEM certificate for key, signed by itself: what an
// x5u URL names (RFC 7515 §4.1.5).
func selfSigned(key crypto.Signer) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "tollgate JWT-012 forgery key"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
