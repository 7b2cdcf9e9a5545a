package mockserver

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// maxIssuers bounds the issuers a server without Options.Issuer accepts:
// one per origin it was reached at (127.0.0.1, localhost, a LAN name...).
const maxIssuers = 32

// errTooManyIssuers refuses to issue a JWT under one origin more than
// maxIssuers: its iss would be one the server does not accept.
var errTooManyIssuers = fmt.Errorf("the mock already issued tokens under %d origins (Host names), its most: "+
	"reach it under one of those, set issuer in its config, or POST /_tollgate/reset", maxIssuers)

// issuerSet decides which "iss" a JWT of this server may carry: the
// configured issuer, or else one of the origins the server has issued
// tokens from (Options.Issuer empty means the issuer is each token
// request's own origin). A token naming any other issuer is refused. Once
// maxIssuers origins are noted, issuing under another one is refused
// (note), so that every token the server issues validates; a control
// reset forgets them.
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

// note records that a token is about to be issued naming iss; it returns
// errTooManyIssuers, and records nothing, when iss would be one issuer too
// many. It allocates only the first time an issuer is seen.
func (s *issuerSet) note(iss string) error {
	if s.fixed != "" || slices.Contains(*s.seen.Load(), iss) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := *s.seen.Load()
	switch {
	case slices.Contains(seen, iss):
		return nil
	case len(seen) >= maxIssuers:
		return errTooManyIssuers
	}
	next := append(slices.Clone(seen), iss)
	s.seen.Store(&next)
	return nil
}

// reset forgets the issuers noted.
func (s *issuerSet) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen.Store(&[]string{})
}

// allows reports whether a token of this server may name iss.
func (s *issuerSet) allows(iss string) bool {
	if s.fixed != "" {
		return iss == s.fixed
	}
	return slices.Contains(*s.seen.Load(), iss)
}

// isTooManyIssuers reports whether err is errTooManyIssuers.
func isTooManyIssuers(err error) bool { return errors.Is(err, errTooManyIssuers) }
