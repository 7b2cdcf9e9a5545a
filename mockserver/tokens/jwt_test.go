package tokens

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

var allAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"}

func testClaims() Claims {
	return Claims{
		Issuer:    "https://tollgate.test",
		Subject:   "user-1",
		ClientID:  "web-app",
		Scope:     "openid profile",
		ID:        "4172bbf1-0890-41c7-b0db-477095a288b6",
		Audience:  []string{"https://api.test"},
		IssuedAt:  testNow.Add(-time.Minute),
		ExpiresAt: testNow.Add(time.Hour),
	}
}

// segment decodes part i (0 header, 1 payload) of a compact JWS into a map.
func segment(t *testing.T, raw string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("decode part %d: %v", i, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("unmarshal part %d: %v", i, err)
	}
	return m
}

func TestSignVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	for _, alg := range allAlgorithms {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			s := newTestSigner(t, SignerOptions{Algorithm: alg})
			if s.Algorithm() != alg {
				t.Errorf("Algorithm() = %q, want %q", s.Algorithm(), alg)
			}
			in := testClaims()
			raw, err := s.Sign(in)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			got, err := s.Verify(raw, testNow)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			want := in
			want.IssuedAt = in.IssuedAt.UTC()
			want.ExpiresAt = in.ExpiresAt.UTC()
			want.NotBefore = in.IssuedAt.UTC() // nbf defaults to iat
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Verify claims =\n%+v\nwant\n%+v", got, want)
			}

			h := segment(t, raw, 0)
			wantHeader := map[string]any{"alg": alg, "kid": s.KeyID(), "typ": "at+jwt"}
			if !reflect.DeepEqual(h, wantHeader) {
				t.Errorf("header = %v, want %v", h, wantHeader)
			}
			p := segment(t, raw, 1)
			for _, k := range []string{"client_id", "scope", "iss", "sub", "jti", "aud"} {
				if _, ok := p[k].(string); !ok {
					t.Errorf("claim %q = %#v, want a JSON string", k, p[k])
				}
			}
			for _, k := range []string{"exp", "iat", "nbf"} {
				f, ok := p[k].(float64)
				if !ok || f != float64(int64(f)) {
					t.Errorf("claim %q = %#v, want an integer NumericDate", k, p[k])
				}
			}
			if p["exp"] != float64(in.ExpiresAt.Unix()) {
				t.Errorf("exp = %v, want %d", p["exp"], in.ExpiresAt.Unix())
			}
		})
	}
}

func TestSignClaimsEncoding(t *testing.T) {
	t.Parallel()
	s := newTestSigner(t, SignerOptions{Algorithm: "ES256"})
	tests := []struct {
		name    string
		mutate  func(c *Claims)
		check   func(t *testing.T, payload map[string]any, got Claims)
		wantErr string
	}{
		{
			name:   "no audience omits aud",
			mutate: func(c *Claims) { c.Audience = nil },
			check: func(t *testing.T, p map[string]any, got Claims) {
				if _, ok := p["aud"]; ok {
					t.Errorf("aud present: %v", p["aud"])
				}
				if got.Audience != nil {
					t.Errorf("Audience = %v, want nil", got.Audience)
				}
			},
		},
		{
			name:   "several audiences as array",
			mutate: func(c *Claims) { c.Audience = []string{"a", "b"} },
			check: func(t *testing.T, p map[string]any, got Claims) {
				if !reflect.DeepEqual(p["aud"], []any{"a", "b"}) {
					t.Errorf("aud = %#v, want [a b]", p["aud"])
				}
				if !reflect.DeepEqual(got.Audience, []string{"a", "b"}) {
					t.Errorf("Audience = %v", got.Audience)
				}
			},
		},
		{
			name:   "explicit nbf",
			mutate: func(c *Claims) { c.NotBefore = testNow.Add(-30 * time.Second) },
			check: func(t *testing.T, p map[string]any, got Claims) {
				if !got.NotBefore.Equal(testNow.Add(-30 * time.Second)) {
					t.Errorf("NotBefore = %v", got.NotBefore)
				}
			},
		},
		{
			name:   "sub-second times truncate",
			mutate: func(c *Claims) { c.ExpiresAt = testNow.Add(90*time.Minute + 999*time.Millisecond) },
			check: func(t *testing.T, p map[string]any, got Claims) {
				if !got.ExpiresAt.Equal(testNow.Add(90 * time.Minute)) {
					t.Errorf("ExpiresAt = %v", got.ExpiresAt)
				}
			},
		},
		{
			name:   "empty optional strings omitted",
			mutate: func(c *Claims) { c.ClientID, c.Scope, c.ID = "", "", "" },
			check: func(t *testing.T, p map[string]any, got Claims) {
				for _, k := range []string{"client_id", "scope", "jti"} {
					if _, ok := p[k]; ok {
						t.Errorf("%s present", k)
					}
				}
			},
		},
		{name: "zero IssuedAt", mutate: func(c *Claims) { c.IssuedAt = time.Time{} }, wantErr: "IssuedAt is zero"},
		{name: "zero ExpiresAt", mutate: func(c *Claims) { c.ExpiresAt = time.Time{} }, wantErr: "ExpiresAt is zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := testClaims()
			tt.mutate(&c)
			raw, err := s.Sign(c)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Sign error = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Verify(raw, testNow)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, segment(t, raw, 1), got)
		})
	}
}

func TestSignerOptions(t *testing.T) {
	t.Parallel()
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    SignerOptions
		wantAlg string
		wantKID string // "" means: the RFC 7638 thumbprint
		wantTyp string
		wantPub crypto.PublicKey
	}{
		{name: "defaults", opts: SignerOptions{}, wantAlg: "RS256", wantTyp: "at+jwt"},
		{name: "custom kid and typ", opts: SignerOptions{Algorithm: "ES256", Key: ecKey, KeyID: "k1", Type: "JWT"}, wantAlg: "ES256", wantKID: "k1", wantTyp: "JWT", wantPub: ecKey.Public()},
		{name: "ed25519 value", opts: SignerOptions{Algorithm: "EdDSA", Key: edKey}, wantAlg: "EdDSA", wantTyp: "at+jwt", wantPub: edKey.Public()},
		{name: "ed25519 pointer", opts: SignerOptions{Algorithm: "EdDSA", Key: &edKey}, wantAlg: "EdDSA", wantTyp: "at+jwt", wantPub: edKey.Public()},
		{name: "opaque crypto.Signer", opts: SignerOptions{Algorithm: "ES256", Key: opaqueKey{ecKey}}, wantAlg: "ES256", wantTyp: "at+jwt", wantPub: ecKey.Public()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newTestSigner(t, tt.opts)
			if s.Algorithm() != tt.wantAlg {
				t.Errorf("Algorithm() = %q, want %q", s.Algorithm(), tt.wantAlg)
			}
			wantKID := tt.wantKID
			if wantKID == "" {
				jwk := jose.JSONWebKey{Key: s.PublicKey()}
				sum, err := jwk.Thumbprint(crypto.SHA256)
				if err != nil {
					t.Fatal(err)
				}
				wantKID = base64.RawURLEncoding.EncodeToString(sum)
			}
			if s.KeyID() != wantKID {
				t.Errorf("KeyID() = %q, want %q", s.KeyID(), wantKID)
			}
			if tt.wantPub != nil {
				if eq, ok := tt.wantPub.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(s.PublicKey()) {
					t.Error("PublicKey() is not the supplied key's public key")
				}
			}
			raw, err := s.Sign(testClaims())
			if err != nil {
				t.Fatal(err)
			}
			if h := segment(t, raw, 0); h["typ"] != tt.wantTyp || h["kid"] != wantKID {
				t.Errorf("header = %v, want typ %q kid %q", h, tt.wantTyp, wantKID)
			}
			if _, err := s.Verify(raw, testNow); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

// opaqueKey hides the concrete key type, as an HSM or KMS handle would.
type opaqueKey struct{ k crypto.Signer }

func (o opaqueKey) Public() crypto.PublicKey { return o.k.Public() }
func (o opaqueKey) Sign(r io.Reader, d []byte, opts crypto.SignerOpts) ([]byte, error) {
	return o.k.Sign(r, d, opts)
}

// lyingKey signs with one key but claims another's public key.
type lyingKey struct {
	signer crypto.Signer
	pub    crypto.PublicKey
}

func (l lyingKey) Public() crypto.PublicKey { return l.pub }
func (l lyingKey) Sign(r io.Reader, d []byte, opts crypto.SignerOpts) ([]byte, error) {
	return l.signer.Sign(r, d, opts)
}

func TestNewSignerErrors(t *testing.T) {
	t.Parallel()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	smallRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts SignerOptions
		want []string // substrings of the error
	}{
		{name: "unknown algorithm", opts: SignerOptions{Algorithm: "HS256"}, want: []string{`unsupported algorithm "HS256"`, `"RS256"`, `"EdDSA"`}},
		{name: "lower-case algorithm", opts: SignerOptions{Algorithm: "rs256"}, want: []string{`unsupported algorithm "rs256"`}},
		{name: "none", opts: SignerOptions{Algorithm: "none"}, want: []string{`unsupported algorithm "none"`}},
		{name: "EC key for RS256", opts: SignerOptions{Algorithm: "RS256", Key: p256}, want: []string{"needs an RSA key", "ECDSA P-256", `"ES256"`}},
		{name: "RSA key for ES256", opts: SignerOptions{Algorithm: "ES256", Key: rsaKey}, want: []string{"needs an ECDSA P-256 key", "RSA 2048-bit", `"RS256"`}},
		{name: "P-384 key for ES256", opts: SignerOptions{Algorithm: "ES256", Key: p384}, want: []string{"needs an ECDSA P-256 key", `"ES384"`}},
		{name: "P-521 key for ES384", opts: SignerOptions{Algorithm: "ES384", Key: p521}, want: []string{"needs an ECDSA P-384 key", "P-521"}},
		{name: "Ed25519 key for PS256", opts: SignerOptions{Algorithm: "PS256", Key: edKey}, want: []string{"needs an RSA key", `"EdDSA"`}},
		{name: "RSA key for EdDSA", opts: SignerOptions{Algorithm: "EdDSA", Key: rsaKey}, want: []string{"needs an Ed25519 key"}},
		{name: "small RSA key", opts: SignerOptions{Algorithm: "RS256", Key: smallRSA}, want: []string{"at least 2048 bits", "got 1024 bits"}},
		{name: "key whose signatures do not match its public key", opts: SignerOptions{Algorithm: "ES256", Key: lyingKey{signer: p256, pub: other.Public()}}, want: []string{"self-test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := NewSigner(tt.opts)
			if err == nil {
				t.Fatalf("NewSigner succeeded with alg %s, want error", s.Algorithm())
			}
			if !strings.HasPrefix(err.Error(), "tokens: new signer: ") {
				t.Errorf("error %q lacks context prefix", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// forge returns header.payload.signature with the given JSON header and
// payload and raw signature bytes.
func forge(header, payload string, sig []byte) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(sig)
}

// signWith signs payload with key via go-jose directly, bypassing Signer, so
// tests can mint tokens Signer.Sign would never produce.
func signWith(t *testing.T, alg jose.SignatureAlgorithm, key any, kid, typ, payload string) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := js.Sign([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s := newTestSigner(t, SignerOptions{Algorithm: "RS256", Key: key})
	kid := s.KeyID()
	sameKID := newTestSigner(t, SignerOptions{Algorithm: "RS256", KeyID: kid})
	otherKID := newTestSigner(t, SignerOptions{Algorithm: "RS256"})
	ecSameKID := newTestSigner(t, SignerOptions{Algorithm: "ES256", KeyID: kid})

	sign := func(signer *Signer, mutate func(c *Claims)) string {
		t.Helper()
		c := testClaims()
		if mutate != nil {
			mutate(&c)
		}
		raw, err := signer.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	valid := sign(s, nil)
	parts := strings.Split(valid, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])

	tamperedPayload := parts[0] + "." +
		base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"openid profile"`, `"openid admin"`, 1))) +
		"." + parts[2]
	flipped := append([]byte(nil), sig...)
	flipped[len(flipped)/2] ^= 0x01
	tamperedSig := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(flipped)

	pubDER, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	exp := testNow.Add(time.Hour).Unix()
	iat := testNow.Add(-time.Minute).Unix()
	claimsJSON := func(extra string) string {
		return `{"sub":"user-1","client_id":"web-app","scope":"openid profile","iat":` + itoa(iat) + `,"nbf":` + itoa(iat) + extra + `}`
	}

	tests := []struct {
		name    string
		raw     string
		now     time.Time
		wantErr error
		wantMsg string
	}{
		{name: "expired: exp equals now", raw: sign(s, func(c *Claims) { c.ExpiresAt = testNow }), now: testNow, wantErr: ErrExpired, wantMsg: "token expired at 2025-06-01T12:00:00Z"},
		{name: "expired: exp before now", raw: sign(s, func(c *Claims) { c.ExpiresAt = testNow.Add(-time.Second) }), now: testNow, wantErr: ErrExpired},
		{name: "expired: checked at later now", raw: valid, now: testNow.Add(time.Hour), wantErr: ErrExpired},
		{name: "not yet valid: nbf after now", raw: sign(s, func(c *Claims) { c.NotBefore = testNow.Add(time.Second) }), now: testNow, wantErr: ErrNotYetValid, wantMsg: "nbf"},
		{name: "not yet valid: iat after now", raw: sign(s, func(c *Claims) { c.IssuedAt = testNow.Add(time.Minute); c.NotBefore = testNow.Add(-time.Minute) }), now: testNow, wantErr: ErrNotYetValid, wantMsg: "iat"},
		{name: "not yet valid: issued in the future", raw: sign(s, func(c *Claims) { c.IssuedAt = testNow.Add(time.Minute) }), now: testNow, wantErr: ErrNotYetValid},
		{name: "tampered payload", raw: tamperedPayload, now: testNow, wantErr: ErrSignature},
		{name: "tampered signature", raw: tamperedSig, now: testNow, wantErr: ErrSignature},
		{name: "truncated signature", raw: parts[0] + "." + parts[1] + "." + parts[2][:20], now: testNow, wantErr: ErrSignature},
		{name: "signature stripped", raw: parts[0] + "." + parts[1] + ".", now: testNow, wantErr: ErrSignature},
		{name: "alg none", raw: forge(`{"alg":"none","kid":"`+kid+`","typ":"at+jwt"}`, string(payload), nil), now: testNow, wantErr: ErrAlgorithm},
		{name: "alg none with original signature", raw: forge(`{"alg":"none","kid":"`+kid+`","typ":"at+jwt"}`, string(payload), sig), now: testNow, wantErr: ErrAlgorithm},
		{name: "HS256 keyed with the public key", raw: signWith(t, jose.HS256, pubDER, kid, "at+jwt", string(payload)), now: testNow, wantErr: ErrAlgorithm},
		{name: "other RS256 key with the same kid", raw: sign(sameKID, nil), now: testNow, wantErr: ErrSignature},
		{name: "other RS256 key with its own kid", raw: sign(otherKID, nil), now: testNow, wantErr: ErrKeyID},
		{name: "ES256 token", raw: sign(ecSameKID, nil), now: testNow, wantErr: ErrAlgorithm},
		{name: "other RS384 alg same key", raw: signWith(t, jose.RS384, key, kid, "at+jwt", string(payload)), now: testNow, wantErr: ErrAlgorithm},
		{name: "wrong typ", raw: signWith(t, jose.RS256, key, kid, "JWT", string(payload)), now: testNow, wantErr: ErrType},
		{name: "missing typ", raw: signWith(t, jose.RS256, key, kid, "", string(payload)), now: testNow, wantErr: ErrType},
		{name: "missing exp", raw: signWith(t, jose.RS256, key, kid, "at+jwt", claimsJSON("")), now: testNow, wantErr: ErrMalformed, wantMsg: "no exp"},
		{name: "client_id not a string", raw: signWith(t, jose.RS256, key, kid, "at+jwt", `{"exp":`+itoa(exp)+`,"client_id":42}`), now: testNow, wantErr: ErrMalformed},
		{name: "payload not JSON", raw: signWith(t, jose.RS256, key, kid, "at+jwt", "hello"), now: testNow, wantErr: ErrMalformed},
		{name: "header not JSON", raw: forge("nope", string(payload), sig), now: testNow, wantErr: ErrMalformed},
		{name: "empty", raw: "", now: testNow, wantErr: ErrMalformed},
		{name: "two parts", raw: parts[0] + "." + parts[1], now: testNow, wantErr: ErrMalformed},
		{name: "four parts", raw: valid + ".x", now: testNow, wantErr: ErrMalformed},
		{name: "bad base64", raw: parts[0] + ".***." + parts[2], now: testNow, wantErr: ErrMalformed},
		{name: "garbage", raw: "not a token", now: testNow, wantErr: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := s.Verify(tt.raw, tt.now)
			if err == nil {
				t.Fatalf("Verify accepted the token, claims %+v", c)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Verify error = %v, want errors.Is %v", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "tokens: verify: ") {
				t.Errorf("error %q lacks context prefix", err)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
		})
	}
}

// TestVerifyAccepts covers the edges of the validity window and header
// variants that must pass.
func TestVerifyAccepts(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s := newTestSigner(t, SignerOptions{Algorithm: "ES256", Key: key})
	exp := itoa(testNow.Add(time.Hour).Unix())
	tests := []struct {
		name string
		raw  func(t *testing.T) string
		now  time.Time
	}{
		{
			name: "exp one second after now",
			raw: func(t *testing.T) string {
				c := testClaims()
				c.ExpiresAt = testNow.Add(time.Second)
				r, err := s.Sign(c)
				if err != nil {
					t.Fatal(err)
				}
				return r
			},
			now: testNow,
		},
		{
			name: "iat and nbf equal to now",
			raw: func(t *testing.T) string {
				c := testClaims()
				c.IssuedAt = testNow
				r, err := s.Sign(c)
				if err != nil {
					t.Fatal(err)
				}
				return r
			},
			now: testNow,
		},
		{name: "no kid header", raw: func(t *testing.T) string { return signWith(t, jose.ES256, key, "", "at+jwt", `{"exp":`+exp+`}`) }, now: testNow},
		{name: "application/at+jwt typ", raw: func(t *testing.T) string {
			return signWith(t, jose.ES256, key, s.KeyID(), "application/at+JWT", `{"exp":`+exp+`}`)
		}, now: testNow},
		{name: "no iat or nbf", raw: func(t *testing.T) string { return signWith(t, jose.ES256, key, s.KeyID(), "at+jwt", `{"exp":`+exp+`}`) }, now: testNow},
		{name: "single audience string", raw: func(t *testing.T) string {
			return signWith(t, jose.ES256, key, s.KeyID(), "at+jwt", `{"exp":`+exp+`,"aud":"x"}`)
		}, now: testNow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := s.Verify(tt.raw(t), tt.now); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestJWKS(t *testing.T) {
	t.Parallel()
	wantKty := map[string]string{"RS256": "RSA", "RS384": "RSA", "RS512": "RSA", "PS256": "RSA", "ES256": "EC", "ES384": "EC", "EdDSA": "OKP"}
	for _, alg := range allAlgorithms {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			s := newTestSigner(t, SignerOptions{Algorithm: alg})
			data := s.JWKS()

			var raw struct {
				Keys []map[string]any `json:"keys"`
			}
			if err := json.Unmarshal(data, &raw); err != nil {
				t.Fatalf("JWKS is not JSON: %v\n%s", err, data)
			}
			if len(raw.Keys) != 1 {
				t.Fatalf("JWKS has %d keys, want 1", len(raw.Keys))
			}
			k := raw.Keys[0]
			for name, want := range map[string]string{"kty": wantKty[alg], "kid": s.KeyID(), "use": "sig", "alg": alg} {
				if k[name] != want {
					t.Errorf("JWK %s = %v, want %q", name, k[name], want)
				}
			}
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
				if _, ok := k[private]; ok {
					t.Errorf("JWKS leaks private parameter %q", private)
				}
			}

			var set jose.JSONWebKeySet
			if err := json.Unmarshal(data, &set); err != nil {
				t.Fatalf("jose.JSONWebKeySet: %v", err)
			}
			keys := set.Key(s.KeyID())
			if len(keys) != 1 || !keys[0].IsPublic() || !keys[0].Valid() {
				t.Fatalf("JWKS key for kid %q = %+v, want one valid public key", s.KeyID(), keys)
			}
			sum, err := keys[0].Thumbprint(crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if got := base64.RawURLEncoding.EncodeToString(sum); got != s.KeyID() {
				t.Errorf("kid %q is not the RFC 7638 thumbprint %q", s.KeyID(), got)
			}

			// A third-party verifier using only the JWKS accepts our token.
			raw2, err := s.Sign(testClaims())
			if err != nil {
				t.Fatal(err)
			}
			tok, err := jwt.ParseSigned(raw2, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(keys[0].Algorithm)})
			if err != nil {
				t.Fatal(err)
			}
			var std jwt.Claims
			var custom struct {
				ClientID string `json:"client_id"`
				Scope    string `json:"scope"`
			}
			if err := tok.Claims(keys[0], &std, &custom); err != nil {
				t.Fatalf("verify with JWKS key: %v", err)
			}
			if err := std.ValidateWithLeeway(jwt.Expected{Issuer: "https://tollgate.test", AnyAudience: jwt.Audience{"https://api.test"}, Time: testNow}, 0); err != nil {
				t.Errorf("go-jose validation: %v", err)
			}
			if custom.ClientID != "web-app" || custom.Scope != "openid profile" {
				t.Errorf("custom claims = %+v", custom)
			}

			// JWKS returns a copy.
			data[0] = 'X'
			if s.JWKS()[0] != '{' {
				t.Error("modifying the JWKS result changed the Signer's JWKS")
			}
		})
	}
}

// TestSignerConcurrent signs and verifies from many goroutines; run with -race.
func TestSignerConcurrent(t *testing.T) {
	t.Parallel()
	s := newTestSigner(t, SignerOptions{Algorithm: "ES256"})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 20 {
				raw, err := s.Sign(testClaims())
				if err == nil {
					_, err = s.Verify(raw, testNow)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func BenchmarkSignRS256(b *testing.B) {
	b.ReportAllocs()
	s := newTestSigner(b, SignerOptions{Algorithm: "RS256"})
	c := testClaims()
	for b.Loop() {
		if _, err := s.Sign(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyRS256(b *testing.B) {
	b.ReportAllocs()
	s := newTestSigner(b, SignerOptions{Algorithm: "RS256"})
	raw, err := s.Sign(testClaims())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Verify(raw, testNow); err != nil {
			b.Fatal(err)
		}
	}
}
