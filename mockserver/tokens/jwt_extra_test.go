package tokens

import (
	"encoding/base64"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func TestSignExtra(t *testing.T) {
	t.Parallel()
	s := newTestSigner(t, SignerOptions{Algorithm: "EdDSA"})
	plain := func() string {
		raw, err := s.Sign(testClaims())
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(raw, ".")[1]
	}()

	type extraCase struct {
		name    string
		extra   map[string]any
		want    map[string]any // extra members of the payload
		wantErr string
	}
	tests := []extraCase{
		{"nil", nil, map[string]any{}, ""},
		{"empty", map[string]any{}, map[string]any{}, ""},
		{"values", map[string]any{"tenant": "t-1", "n": 3, "admin": true, "roles": []string{"a", "b"}, "cnf": map[string]string{"jkt": "x"}},
			map[string]any{"tenant": "t-1", "n": 3.0, "admin": true, "roles": []any{"a", "b"}, "cnf": map[string]any{"jkt": "x"}}, ""},
		{"null", map[string]any{"acr": nil}, map[string]any{"acr": nil}, ""},
		{"unencodable", map[string]any{"ok": 1, "bad": math.Inf(1)}, nil, `claim "bad" in Extra`},
	}
	for _, name := range []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "client_id", "scope"} {
		tests = append(tests, extraCase{"registered " + name, map[string]any{"a": 1, name: "x"}, nil, `claim "` + name + `" in Extra is registered; set Claims.`})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := testClaims()
			c.Extra = tt.extra
			raw, err := s.Sign(c)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Sign error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if len(tt.extra) == 0 && strings.Split(raw, ".")[1] != plain {
				t.Error("an empty Extra changed the payload")
			}
			got, err := s.Verify(raw, testNow)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.Extra != nil || got.Subject != c.Subject || got.Scope != c.Scope {
				t.Errorf("Verify claims = %+v", got)
			}
			p := segment(t, raw, 1)
			want := segment(t, signAt(t, s, c.IssuedAt, c.ExpiresAt.Sub(c.IssuedAt)), 1)
			for k, v := range tt.want {
				want[k] = v
			}
			if !reflect.DeepEqual(p, want) {
				t.Errorf("payload =\n%v\nwant\n%v", p, want)
			}
		})
	}
}

// TestSignExtraStable checks that the payload is the same whatever order the
// map iterates in, and that a third-party verifier reads the extra claims.
func TestSignExtraStable(t *testing.T) {
	t.Parallel()
	s := newTestSigner(t, SignerOptions{Algorithm: "EdDSA"})
	c := testClaims()
	c.Extra = map[string]any{"z": 1, "a": 2, "m": 3, "b": 4, "y": 5}
	var first string
	for i := range 20 {
		raw, err := s.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		payload := strings.Split(raw, ".")[1]
		if i == 0 {
			first = payload
			tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.EdDSA})
			if err != nil {
				t.Fatal(err)
			}
			var std jwt.Claims
			var extra struct {
				Z int `json:"z"`
				A int `json:"a"`
			}
			if err := tok.Claims(s.PublicKey(), &std, &extra); err != nil || extra.Z != 1 || extra.A != 2 || std.Subject != c.Subject {
				t.Errorf("go-jose read %+v, %+v (err %v)", std, extra, err)
			}
		} else if payload != first {
			t.Fatal("the payload depends on map iteration order")
		}
	}
	p, err := base64.RawURLEncoding.DecodeString(first)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(p), `,"a":2,"b":4,"m":3,"y":5,"z":1}`) {
		t.Errorf("payload %s does not end with the extra claims in sorted order", p)
	}
}

// TestOmitKeyID: the header names no kid, the JWK Set still does, and the
// token verifies, alone and through a ring that holds another key.
func TestOmitKeyID(t *testing.T) {
	t.Parallel()
	s := newTestSigner(t, SignerOptions{Algorithm: "EdDSA", OmitKeyID: true})
	raw, err := s.Sign(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := Inspect(raw)
	if err != nil {
		t.Fatal(err)
	}
	if h.KeyID != "" {
		t.Errorf("header kid = %q, want none", h.KeyID)
	}
	if s.KeyID() == "" || !strings.Contains(string(s.JWKS()), s.KeyID()) {
		t.Errorf("the JWK Set %s does not name the key (%q)", s.JWKS(), s.KeyID())
	}
	now := testClaims().IssuedAt
	if _, err := s.Verify(raw, now); err != nil {
		t.Errorf("Verify: %v", err)
	}
	ring := NewKeyRing(newTestSigner(t, SignerOptions{Algorithm: "EdDSA"}))
	if err := ring.Rotate(s, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := ring.Verify(raw, now); err != nil {
		t.Errorf("KeyRing.Verify: %v", err)
	}
}
