package mockserver

import (
	"slices"
	"sync"
	"sync/atomic"
)

// maxIssuers bounds the issuers a server without Options.Issuer accepts:
// one per origin it was reached at (127.0.0.1, localhost, a LAN name...).
const maxIssuers = 32

// issuerSet decides which "iss" a JWT of this server may carry: the
// configured issuer, or else one of the origins the server has issued
// tokens from (Options.Issuer empty means the issuer is each token
// request's own origin). A token naming any other issuer is refused.
type issuerSet struct {
	fixed string
	mu    sync.Mutex
	seen  atomic.Pointer[[]string]
}

func newIssuerSet(fixed string) *issuerSet {
	s := &issuerSet{fixed: fixed}
	s.seen.Store(&[]string{})
	return s
}

// note records that a token was issued naming iss. It allocates only the
// first time an issuer is seen.
func (s *issuerSet) note(iss string) {
	if s.fixed != "" || slices.Contains(*s.seen.Load(), iss) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := *s.seen.Load()
	if slices.Contains(seen, iss) || len(seen) >= maxIssuers {
		return
	}
	next := append(slices.Clone(seen), iss)
	s.seen.Store(&next)
}

// allows reports whether a token of this server may name iss.
func (s *issuerSet) allows(iss string) bool {
	if s.fixed != "" {
		return iss == s.fixed
	}
	return slices.Contains(*s.seen.Load(), iss)
}
