package tokens_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/tollgate/tollgate/mockserver/tokens"
)

// ExampleKeyRing rotates an issuer's key while tokens signed with the old
// one are still in use.
func ExampleKeyRing() {
	const lifetime = time.Hour
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

	first, err := tokens.NewSigner(tokens.SignerOptions{Algorithm: "EdDSA"})
	if err != nil {
		log.Fatal(err)
	}
	ring := tokens.NewKeyRing(first)
	old, err := ring.Current().Sign(tokens.Claims{Subject: "user-1", IssuedAt: now, ExpiresAt: now.Add(lifetime)})
	if err != nil {
		log.Fatal(err)
	}

	// Rotate: the old key verifies until the last token it signed expires.
	next, err := tokens.NewSigner(tokens.SignerOptions{Algorithm: "EdDSA"})
	if err != nil {
		log.Fatal(err)
	}
	if err := ring.Rotate(next, now.Add(lifetime)); err != nil {
		log.Fatal(err)
	}
	fmt.Println("new tokens signed with the new key:", ring.Current() == next)

	for _, at := range []time.Duration{30 * time.Minute, lifetime} {
		t := now.Add(at)
		_, err := ring.Verify(old, t)
		fmt.Printf("after %v: old token verifies: %v, unknown kid: %v, keys published: %d\n",
			at, err == nil, errors.Is(err, tokens.ErrKeyID), countKeys(ring.JWKS(t)))
	}
	// Output:
	// new tokens signed with the new key: true
	// after 30m0s: old token verifies: true, unknown kid: false, keys published: 2
	// after 1h0m0s: old token verifies: false, unknown kid: true, keys published: 1
}

func countKeys(jwks []byte) int {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &set); err != nil {
		log.Fatal(err)
	}
	return len(set.Keys)
}
