package mockserver

import (
	"net/http"
	"strings"
	"time"

	"github.com/tollgate/tollgate/mockserver/tokens"
)

// RotatedKey says what a key rotation did for one flow.
type RotatedKey struct {
	Flow        string    `json:"flow"`
	KeyID       string    `json:"kid"`          // the new key's
	PreviousKey string    `json:"previous_kid"` // kept in the JWKS until RetiresAt
	RetiresAt   time.Time `json:"retires_at"`   // when the last token the previous key signed expires
}

// RotateKeys gives flow (every jwt flow when empty) a new signing key: it
// signs from now on, and the previous key stays in the JWKS, and keeps
// verifying, until the last token it signed has expired: the latest expiry
// of a live token of the flow, and at least now plus the longest lifetime
// the flow gives a client's tokens.
func (s *Server) RotateKeys(flow string) ([]RotatedKey, error) {
	var targets []*flowRuntime
	if flow != "" {
		fr := s.flow(flow)
		switch {
		case fr == nil:
			return nil, fieldError("flow", "no flow %q (serving %s)", flow, strings.Join(s.flowNames(), ", "))
		case fr.keys == nil:
			return nil, fieldError("flow", "flow %s issues %s tokens, which are not signed", flow, fr.format)
		}
		targets = []*flowRuntime{fr}
	} else {
		for _, fr := range s.flows {
			if fr.keys != nil {
				targets = append(targets, fr)
			}
		}
		if len(targets) == 0 {
			return nil, fieldError("flow", "no flow of this server signs its tokens")
		}
	}
	now := s.clock.Now()
	var out []RotatedKey
	for _, fr := range targets {
		current := fr.keys.Current()
		next, err := tokens.NewSigner(tokens.SignerOptions{Algorithm: current.Algorithm(), Type: current.Type()})
		if err != nil {
			return out, err
		}
		// A token request that took the current key just before the
		// rotation may record its token just after the scan below: the
		// old key verifies for at least the longest lifetime the flow
		// gives, from now.
		retire := now.Add(s.longestLifetime(fr))
		fr.issued.Range(now, func(_ string, _ *tokens.Grant, exp time.Time) bool {
			if exp.After(retire) {
				retire = exp
			}
			return true
		})
		if err := fr.keys.Rotate(next, retire); err != nil {
			return out, err
		}
		out = append(out, RotatedKey{Flow: fr.flow.Name, KeyID: next.KeyID(), PreviousKey: current.KeyID(), RetiresAt: retire.UTC()})
	}
	return out, nil
}

func (s *Server) rotateKeys(w http.ResponseWriter, r *http.Request) {
	var flow string
	if err := decodeFields(r, map[string]any{"flow": &flow}); err != nil {
		badControlRequest(w, err)
		return
	}
	rotated, err := s.RotateKeys(flow)
	if err != nil {
		badControlRequest(w, err)
		return
	}
	writeControlJSON(w, http.StatusOK, map[string]any{"rotated": rotated})
}

// longestLifetime is the longest lifetime fr gives the tokens of any
// client that may use it.
func (s *Server) longestLifetime(fr *flowRuntime) time.Duration {
	longest := fr.lifetime
	for _, c := range s.clients.list() {
		if rc := s.clients.get(c.ID); rc != nil && rc.mayUse(fr.flow.Name) {
			longest = max(longest, fr.lifetimeOf(rc))
		}
	}
	return longest
}
