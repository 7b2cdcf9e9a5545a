package tokens

import (
	"strconv"
	"testing"
	"time"
)

// testNow is the fixed "current time" the tests run at.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// testGrants returns n interned grants, as a caller of Store would hold them.
func testGrants(n int) []*Grant {
	gs := make([]*Grant, n)
	for i := range gs {
		gs[i] = NewGrant("client_credentials", "client-"+strconv.Itoa(i), "read write")
	}
	return gs
}

// opaqueTokens returns n distinct tokens from NewOpaque.
func opaqueTokens(tb testing.TB, n int) []string {
	tb.Helper()
	toks := make([]string, n)
	for i := range toks {
		t, err := NewOpaque()
		if err != nil {
			tb.Fatal(err)
		}
		toks[i] = t
	}
	return toks
}

// newTestSigner returns a Signer with a freshly generated key.
func newTestSigner(tb testing.TB, opts SignerOptions) *Signer {
	tb.Helper()
	s, err := NewSigner(opts)
	if err != nil {
		tb.Fatalf("NewSigner(%+v): %v", opts, err)
	}
	return s
}
