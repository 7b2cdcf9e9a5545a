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
