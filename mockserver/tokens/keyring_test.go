package tokens

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// signAt returns a token from s issued at iat that lives for lifetime.
func signAt(tb testing.TB, s *Signer, iat time.Time, lifetime time.Duration) string {
	tb.Helper()
	c := testClaims()
	c.IssuedAt, c.ExpiresAt = iat, iat.Add(lifetime)
	raw, err := s.Sign(c)
	if err != nil {
		tb.Fatalf("Sign: %v", err)
	}
	return raw
}

// jwksKids returns the kids of a JWK Set, in order, after checking that it
// is a set of valid public keys.
func jwksKids(tb testing.TB, data []byte) []string {
	tb.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		tb.Fatalf("JWKS is not a JWK Set: %v\n%s", err, data)
	}
	kids := make([]string, len(set.Keys))
	for i, k := range set.Keys {
		if !k.IsPublic() || !k.Valid() || k.Use != "sig" {
			tb.Errorf("JWK %q is not a valid public signing key", k.KeyID)
		}
		kids[i] = k.KeyID
	}
	return kids
}

// newECKey returns a new P-256 key.
func newECKey(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// checkErr reports whether err is want (nil meaning success).
func checkErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Errorf("%s: error = %v, want %v", what, err, want)
	}
}

// TestKeyRingRotation follows one rotation: a key signs tokens that live at
// most an hour, is replaced five minutes in, and retires an hour later.
func TestKeyRingRotation(t *testing.T) {
	t.Parallel()
	const lifetime = time.Hour
	a := newTestSigner(t, SignerOptions{Algorithm: "ES256"})
	b := newTestSigner(t, SignerOptions{Algorithm: "ES256"})
	ring := NewKeyRing(a)
	tokA := signAt(t, ring.Current(), testNow, lifetime)
	// Longer-lived than the ring was told: shows the key, not the token, expires.
	tokLong := signAt(t, ring.Current(), testNow, 3*time.Hour)

	rotatedAt := testNow.Add(5 * time.Minute)
	retireAt := rotatedAt.Add(lifetime)
	if err := ring.Rotate(b, retireAt); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if ring.Current() != b {
		t.Fatal("Current() is not the key rotated to")
	}
	tokB := signAt(t, ring.Current(), rotatedAt.Add(25*time.Minute), lifetime)
	if h, _, err := Inspect(tokB); err != nil || h.KeyID != b.KeyID() {
		t.Fatalf("token signed after Rotate has kid %q (err %v), want the new key's %q", h.KeyID, err, b.KeyID())
	}

	tests := []struct {
		name            string
		now             time.Time
		wantA, wantLong error
		wantB           error
		wantKids        []string
	}{
		{"before rotation", testNow.Add(time.Minute), nil, nil, ErrNotYetValid, []string{b.KeyID(), a.KeyID()}},
		{"after rotation", rotatedAt.Add(30 * time.Minute), nil, nil, nil, []string{b.KeyID(), a.KeyID()}},
		{"old token expired", testNow.Add(lifetime), ErrExpired, nil, nil, []string{b.KeyID(), a.KeyID()}},
		{"last second of old key", retireAt.Add(-time.Second), ErrExpired, nil, nil, []string{b.KeyID(), a.KeyID()}},
		{"old key retired", retireAt, ErrKeyID, ErrKeyID, nil, []string{b.KeyID()}},
		{"long after", retireAt.Add(24 * time.Hour), ErrKeyID, ErrKeyID, ErrExpired, []string{b.KeyID()}},
		{"clock set back", testNow.Add(2 * time.Minute), nil, nil, ErrNotYetValid, []string{b.KeyID(), a.KeyID()}},
	}
	for _, tt := range tests { // in order: JWKS's cache must follow the clock both ways
		_, err := ring.Verify(tokA, tt.now)
		checkErr(t, tt.name+": old key's token", err, tt.wantA)
		_, err = ring.Verify(tokLong, tt.now)
		checkErr(t, tt.name+": old key's long-lived token", err, tt.wantLong)
		_, err = ring.Verify(tokB, tt.now)
		checkErr(t, tt.name+": new key's token", err, tt.wantB)
		if got := jwksKids(t, ring.JWKS(tt.now)); !reflect.DeepEqual(got, tt.wantKids) {
			t.Errorf("%s: JWKS kids = %q, want %q", tt.name, got, tt.wantKids)
		}
	}
}

// TestKeyRingSeveralRotations rotates three times in a row; each replaced
// key keeps its own retireAt, even when a later one retires first.
func TestKeyRingSeveralRotations(t *testing.T) {
	t.Parallel()
	keys := make([]*Signer, 4)
	for i := range keys {
		keys[i] = newTestSigner(t, SignerOptions{Algorithm: "EdDSA", KeyID: "k" + strconv.Itoa(i)})
	}
	ring := NewKeyRing(keys[0])
	toks := make([]string, len(keys))
	retire := []time.Duration{3 * time.Hour, 5 * time.Hour, 4 * time.Hour} // of keys[0..2]
	for i, s := range keys {
		toks[i] = signAt(t, ring.Current(), testNow, 10*time.Hour)
		if i+1 < len(keys) {
			if err := ring.Rotate(keys[i+1], testNow.Add(retire[i])); err != nil {
				t.Fatalf("Rotate to %s: %v", keys[i+1].KeyID(), err)
			}
		}
		if h, _, _ := Inspect(toks[i]); h.KeyID != s.KeyID() {
			t.Fatalf("token %d has kid %q, want %q", i, h.KeyID, s.KeyID())
		}
	}

	tests := []struct {
		name  string
		at    time.Duration // after testNow
		alive []string      // JWKS kids, in order; the others' tokens fail with ErrKeyID
	}{
		{"all kept", time.Hour, []string{"k3", "k2", "k1", "k0"}},
		{"first retired", 3 * time.Hour, []string{"k3", "k2", "k1"}},
		{"third retired before second", 4 * time.Hour, []string{"k3", "k1"}},
		{"only current", 5 * time.Hour, []string{"k3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := testNow.Add(tt.at)
			if got := jwksKids(t, ring.JWKS(now)); !reflect.DeepEqual(got, tt.alive) {
				t.Errorf("JWKS kids = %q, want %q", got, tt.alive)
			}
			for i, raw := range toks {
				want := ErrKeyID
				for _, kid := range tt.alive {
					if kid == keys[i].KeyID() {
						want = nil
					}
				}
				_, err := ring.Verify(raw, now)
				checkErr(t, "token of "+keys[i].KeyID(), err, want)
			}
		})
	}
}

func TestKeyRingVerifyRejects(t *testing.T) {
	t.Parallel()
	oldKey, curKey := newECKey(t), newECKey(t)
	old := newTestSigner(t, SignerOptions{Algorithm: "ES256", Key: oldKey})
	cur := newTestSigner(t, SignerOptions{Algorithm: "ES256", Key: curKey})
	stranger := newTestSigner(t, SignerOptions{Algorithm: "ES256"})
	ring := NewKeyRing(old)
	if err := ring.Rotate(cur, testNow.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	payload := `{"sub":"u","iat":` + itoa(testNow.Unix()) + `,"exp":` + itoa(testNow.Add(time.Minute).Unix()) + `}`

	tests := []struct {
		name string
		raw  string
		want error
	}{
		{"kid of current key", signAt(t, cur, testNow, time.Minute), nil},
		{"kid of kept key", signAt(t, old, testNow, time.Minute), nil},
		{"no kid, current key", signWith(t, jose.ES256, curKey, "", "at+jwt", payload), nil},
		{"no kid, kept key", signWith(t, jose.ES256, oldKey, "", "at+jwt", payload), ErrSignature},
		{"kid never in the ring", signAt(t, stranger, testNow, time.Minute), ErrKeyID},
		{"kid of kept key, signed by current", signWith(t, jose.ES256, curKey, old.KeyID(), "at+jwt", payload), ErrSignature},
		{"kid of current key, wrong typ", signWith(t, jose.ES256, curKey, cur.KeyID(), "JWT", payload), ErrType},
		{"kid of kept key, wrong typ", signWith(t, jose.ES256, oldKey, old.KeyID(), "JWT", payload), ErrType},
		{"empty", "", ErrMalformed},
		{"one segment", "abc", ErrMalformed},
		{"header not base64", "!!.e30.sig", ErrMalformed},
		{"kid not a string", forge(`{"alg":"ES256","kid":5}`, payload, []byte("sig")), ErrMalformed},
		{"alg none", forge(`{"alg":"none","kid":"`+old.KeyID()+`"}`, payload, nil), ErrAlgorithm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ring.Verify(tt.raw, testNow)
			checkErr(t, "Verify", err, tt.want)
		})
	}
}

func TestKeyRingRotateErrors(t *testing.T) {
	t.Parallel()
	first := newTestSigner(t, SignerOptions{Algorithm: "ES256", KeyID: "first"})
	kept := newTestSigner(t, SignerOptions{Algorithm: "ES256", KeyID: "kept"})
	tests := []struct {
		name string
		next *Signer
		want string
	}{
		{"nil", nil, "nil"},
		{"other algorithm", newTestSigner(t, SignerOptions{Algorithm: "ES384"}), "one algorithm and type"},
		{"other type", newTestSigner(t, SignerOptions{Algorithm: "ES256", Type: "JWT"}), "one algorithm and type"},
		{"kid of current key", newTestSigner(t, SignerOptions{Algorithm: "ES256", KeyID: "kept"}), `kid "kept" is already in the ring`},
		{"kid of kept key", newTestSigner(t, SignerOptions{Algorithm: "ES256", KeyID: "first"}), `kid "first" is already in the ring`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ring := NewKeyRing(first)
			if err := ring.Rotate(kept, testNow.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			before := ring.JWKS(testNow)
			err := ring.Rotate(tt.next, testNow.Add(time.Hour))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Rotate error = %v, want one containing %q", err, tt.want)
			}
			if ring.Current() != kept || string(ring.JWKS(testNow)) != string(before) {
				t.Error("a failed Rotate changed the ring")
			}
		})
	}
	t.Run("same type in other case", func(t *testing.T) {
		t.Parallel()
		ring := NewKeyRing(first)
		if err := ring.Rotate(newTestSigner(t, SignerOptions{Algorithm: "ES256", Type: "AT+JWT"}), testNow); err != nil {
			t.Errorf("Rotate: %v", err)
		}
	})
}

func TestKeyRingReset(t *testing.T) {
	t.Parallel()
	a := newTestSigner(t, SignerOptions{Algorithm: "ES256"})
	b := newTestSigner(t, SignerOptions{Algorithm: "ES256"})
	ring := NewKeyRing(a)
	if err := ring.Rotate(b, testNow.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	tokB := signAt(t, b, testNow, time.Minute)
	ring.Reset(a)
	if ring.Current() != a {
		t.Error("Current() after Reset is not the key reset to")
	}
	if got := jwksKids(t, ring.JWKS(testNow)); !reflect.DeepEqual(got, []string{a.KeyID()}) {
		t.Errorf("JWKS kids after Reset = %q, want only %q", got, a.KeyID())
	}
	_, err := ring.Verify(tokB, testNow)
	checkErr(t, "token of a key dropped by Reset", err, ErrKeyID)
	// A key dropped by Reset may come back.
	if err := ring.Rotate(b, testNow); err != nil {
		t.Errorf("Rotate back to a key dropped by Reset: %v", err)
	}
}

func TestKeyRingJWKS(t *testing.T) {
	t.Parallel()
	for _, alg := range allAlgorithms {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			s := newTestSigner(t, SignerOptions{Algorithm: alg})
			ring := NewKeyRing(s)
			data := ring.JWKS(testNow)
			if string(data) != string(s.JWKS()) {
				t.Errorf("one-key ring JWKS =\n%s\nwant the Signer's\n%s", data, s.JWKS())
			}
			data[0] = 'X'
			if ring.JWKS(testNow)[0] != '{' {
				t.Error("modifying the JWKS result changed the ring's JWKS")
			}
		})
	}
	t.Run("cache", func(t *testing.T) {
		t.Parallel()
		a := newTestSigner(t, SignerOptions{Algorithm: "EdDSA"})
		b := newTestSigner(t, SignerOptions{Algorithm: "EdDSA"})
		ring := NewKeyRing(a)
		if err := ring.Rotate(b, testNow.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		ring.JWKS(testNow)
		cached := ring.jwks.Load()
		for _, now := range []time.Time{testNow.Add(-time.Hour), testNow, testNow.Add(time.Hour - time.Nanosecond)} {
			ring.JWKS(now)
			if ring.jwks.Load() != cached {
				t.Errorf("JWKS at %v re-encoded a set that had not changed", now)
			}
		}
		if got := jwksKids(t, ring.JWKS(testNow.Add(time.Hour))); len(got) != 1 || ring.jwks.Load() == cached {
			t.Errorf("JWKS at retirement = %q from the cache? %v; want one key, re-encoded", got, ring.jwks.Load() == cached)
		}
	})
}

// TestKeyRingConcurrent signs, verifies, publishes and rotates at once; run
// with -race. Every token verifies: rotation keeps old keys for a day.
func TestKeyRingConcurrent(t *testing.T) {
	t.Parallel()
	keys := make([]*Signer, 6)
	for i := range keys {
		keys[i] = newTestSigner(t, SignerOptions{Algorithm: "EdDSA"})
	}
	ring := NewKeyRing(keys[0])
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 4 {
		wg.Go(func() {
			for range 25 {
				raw, err := ring.Current().Sign(testClaims())
				if err == nil {
					_, err = ring.Verify(raw, testNow)
				}
				if err != nil {
					errs <- err
					return
				}
				var set jose.JSONWebKeySet
				if err := json.Unmarshal(ring.JWKS(testNow), &set); err != nil || len(set.Keys) == 0 {
					errs <- errors.New("JWKS is not a non-empty JWK Set")
					return
				}
			}
		})
	}
	wg.Go(func() {
		for _, next := range keys[1:] {
			if err := ring.Rotate(next, testNow.Add(24*time.Hour)); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(jwksKids(t, ring.JWKS(testNow))); got != len(keys) {
		t.Errorf("JWKS has %d keys after %d rotations, want %d", got, len(keys)-1, len(keys))
	}
}

func TestHeaderKeyID(t *testing.T) {
	t.Parallel()
	enc := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		name    string
		raw     string
		wantKid string
		wantOK  bool
	}{
		{"kid", enc([]byte(`{"alg":"ES256","kid":"k1"}`)) + ".e30.sig", "k1", true},
		{"no kid", enc([]byte(`{"alg":"ES256"}`)) + ".e30.sig", "", true},
		// encoding/json matches names in any case; Signer.Verify then
		// sees no kid (go-jose matches exactly) and checks the signature.
		{"kid in other case", enc([]byte(`{"alg":"ES256","KID":"k1"}`)) + ".e30.sig", "k1", true},
		{"escaped kid", enc([]byte(`{"kid":"\u006b1"}`)) + ".x", "k1", true},
		{"no dot", enc([]byte(`{"kid":"k1"}`)), "", false},
		{"not base64", "{}.e30.sig", "", false},
		{"not JSON", enc([]byte(`kid`)) + ".e30.sig", "", false},
		{"kid not a string", enc([]byte(`{"kid":1}`)) + ".e30.sig", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kid, ok := headerKeyID(tt.raw)
			if kid != tt.wantKid || ok != tt.wantOK {
				t.Errorf("headerKeyID = %q, %v; want %q, %v", kid, ok, tt.wantKid, tt.wantOK)
			}
		})
	}
}

// TestKeyRingVerifyAllocs checks that KeyRing.Verify allocates no more than
// Signer.Verify plus reading the kid.
func TestKeyRingVerifyAllocs(t *testing.T) {
	old := newTestSigner(t, SignerOptions{Algorithm: "EdDSA"})
	cur := newTestSigner(t, SignerOptions{Algorithm: "EdDSA"})
	ring := NewKeyRing(old)
	if err := ring.Rotate(cur, testNow.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	raw := signAt(t, old, testNow, time.Minute)
	readKid := testing.AllocsPerRun(50, func() { headerKeyID(raw) })
	direct := testing.AllocsPerRun(50, func() { _, _ = old.Verify(raw, testNow) })
	viaRing := testing.AllocsPerRun(50, func() { _, _ = ring.Verify(raw, testNow) })
	slack := 0.0
	if raceEnabled {
		slack = 1 // sync.Pool drops items at random under the race detector
	}
	if viaRing > direct+readKid+slack {
		t.Errorf("KeyRing.Verify: %v allocs, want at most Signer.Verify's %v + reading the kid's %v", viaRing, direct, readKid)
	}
}
