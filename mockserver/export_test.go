package mockserver

import "time"

// RevokedJWTs counts the JWT deny-list entries of every flow after sweeping
// those whose tokens have expired at now: revocation memory is bounded by
// the live tokens.
func (s *Server) RevokedJWTs(now time.Time) int {
	n := 0
	for _, fr := range s.flows {
		if fr.revoked != nil {
			fr.revoked.Sweep(now)
			n += fr.revoked.Len()
		}
	}
	return n
}

// StoredTokens counts the uuid and opaque tokens held, expired ones not yet
// swept included.
func (s *Server) StoredTokens() int { return s.store.Len() }

// RevokedJWTsHeld counts the JWT deny-list entries of every flow without
// sweeping them.
func (s *Server) RevokedJWTsHeld() int {
	n := 0
	for _, fr := range s.flows {
		if fr.revoked != nil {
			n += fr.revoked.Len()
		}
	}
	return n
}

// SweeperStopped reports whether Close has stopped the sweeper.
func (s *Server) SweeperStopped() bool {
	select {
	case <-s.sweeper.done:
		return true
	default:
		return false
	}
}

// ScopeNeeded is scopeNeeded, for the external tests.
var ScopeNeeded = scopeNeeded
