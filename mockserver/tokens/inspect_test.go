package tokens

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

func TestInspect(t *testing.T) {
	t.Parallel()
	s := newTestSigner(t, SignerOptions{Algorithm: "ES256"})
	raw, err := s.Sign(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	h, c, err := Inspect(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := testClaims()
	if h.Algorithm != "ES256" || h.KeyID != s.KeyID() || h.EmbeddedJWK {
		t.Errorf("header = %+v, want ES256 with kid %s and no jwk", h, s.KeyID())
	}
	if c.ClientID != want.ClientID || c.Scope != want.Scope || !c.ExpiresAt.Equal(want.ExpiresAt) || c.Audience[0] != want.Audience[0] {
		t.Errorf("claims = %+v, want %+v", c, want)
	}
	for _, bad := range []string{"", "a.b", "a.b.c.d", "!!.e30.", "e30.!!.", "bm90IGpzb24.e30."} {
		if _, _, err := Inspect(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("Inspect(%q) = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestVerifiesWithEmbeddedKey(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, &jose.SignerOptions{EmbedJWK: true})
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign([]byte(`{"exp":4102444800}`))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	if !VerifiesWithEmbeddedKey(raw, "ES256") {
		t.Error("a token signed with its embedded key does not verify with it")
	}
	if h, _, err := Inspect(raw); err != nil || !h.EmbeddedJWK {
		t.Errorf("Inspect: %+v, %v: want the embedded key seen", h, err)
	}
	plain := newTestSigner(t, SignerOptions{Algorithm: "ES256"})
	other, err := plain.Sign(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	if VerifiesWithEmbeddedKey(other, "ES256") {
		t.Error("a token without a jwk header verifies with an embedded key")
	}
}

// TestVerifiesWithJWKS: a token verifies with the JWK Set holding its
// signer's key, under its kid or without one, and not with another set,
// another kid or a set that does not parse.
func TestVerifiesWithJWKS(t *testing.T) {
	t.Parallel()
	s := newTestSigner(t, SignerOptions{Algorithm: "ES256", KeyID: "k1"})
	other := newTestSigner(t, SignerOptions{Algorithm: "ES256", KeyID: "k1"})
	renamed := newTestSigner(t, SignerOptions{Algorithm: "ES256", KeyID: "k2"})
	raw, err := s.Sign(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		jwks []byte
		alg  string
		want bool
	}{
		{"its own key", s.JWKS(), "ES256", true},
		{"another key under the same kid", other.JWKS(), "ES256", false},
		{"another kid", renamed.JWKS(), "ES256", false},
		{"another algorithm expected", s.JWKS(), "RS256", false},
		{"not a JWK Set", []byte("<html>"), "ES256", false},
	}
	for _, tt := range tests {
		if got := VerifiesWithJWKS(raw, tt.alg, tt.jwks); got != tt.want {
			t.Errorf("%s: VerifiesWithJWKS = %v, want %v", tt.name, got, tt.want)
		}
	}
}
