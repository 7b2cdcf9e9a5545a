package mockserver

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/tollgate/tollgate/mockserver/tokens"
)

// Refusal says why a Bearer token was refused: Reason is one word for the
// request log (reason=expired), Description the error_description of the
// 401 answer. Neither ever holds the token.
type Refusal struct {
	Reason      string
	Description string
}

// Reasons of a refused token, as the request log writes them.
const (
	ReasonExpired     = "expired"
	ReasonRevoked     = "revoked"
	ReasonUnknown     = "unknown"
	ReasonOtherFlow   = "other_flow"
	ReasonAltered     = "altered"
	ReasonNotYetValid = "not_yet_valid"
)

// Reasons of the other refusals of a protected operation, for the log.
const (
	reasonMissing           = "missing"
	reasonMalformed         = "malformed"
	reasonInsufficientScope = "insufficient_scope"
)

// Reasons of refusals elsewhere, for the log and the metrics; a client
// operation's refusal is noted by its RFC 6749 error code.
const (
	reasonFault            = "fault"              // a fault of the control API answered instead
	reasonNotFound         = "not_found"          // no route of the served flows has the path
	reasonMethodNotAllowed = "method_not_allowed" // a documented path, an undocumented method
)

// refusalNoter is a ResponseWriter that wants to know why a request was
// refused.
type refusalNoter interface{ noteRefusal(reason string) }

// noteRefusal tells w, if it wants to know, why the request was refused.
// It does not allocate.
func noteRefusal(w http.ResponseWriter, reason string) {
	if n, ok := w.(refusalNoter); ok {
		n.noteRefusal(reason)
	}
}

// RefusalExplainer says why the token raw was refused at now. It runs only
// after a refusal, so it may allocate.
type RefusalExplainer func(raw string, now time.Time) Refusal

// explainer is the RefusalExplainer of fr's protected operations.
func (s *Server) explainer(fr *flowRuntime) RefusalExplainer {
	return func(raw string, now time.Time) Refusal { return s.explainRefusal(fr, raw, now) }
}

// explainRefusal tells why raw is not a live token of fr at now. A
// store-backed token is found expired until the store sweeps it
// (tokens.DefaultSweepInterval after its expiry at most) and revoked until
// it would have expired; after that, like a token never issued, it is
// unknown. A JWT is judged by its signature and claims, so it is found
// expired or revoked for as long as it is presented.
func (s *Server) explainRefusal(fr *flowRuntime, raw string, now time.Time) Refusal {
	if g, _, ok := s.store.Lookup(raw, now); ok && g.Flow != fr.flow.Name {
		return otherFlow(g.Flow, fr.flow.Name)
	}
	if exp, ok := s.store.Expired(raw, now); ok {
		return expiredAt(exp)
	}
	if _, _, ok := s.revokedStored.Lookup(raw, now); ok {
		return revoked()
	}
	if fr.keys != nil {
		if r, ok := explainJWT(fr, raw, now, s.issuers); ok {
			return r
		}
	}
	// A JWT another flow of this server signed, presented here.
	for _, other := range s.flows {
		if other != fr && other.keys != nil {
			if _, err := other.keys.Verify(raw, now); err == nil || errors.Is(err, tokens.ErrExpired) || errors.Is(err, tokens.ErrNotYetValid) {
				return otherFlow(other.flow.Name, fr.flow.Name)
			}
		}
	}
	return Refusal{Reason: ReasonUnknown, Description: "the access token is unknown to this server (never issued here, or forgotten since it expired, was revoked or the server restarted)"}
}

// explainJWT tells why a JWT of fr is refused; false when raw is not a JWT
// this flow could have signed.
func explainJWT(fr *flowRuntime, raw string, now time.Time, issuers *issuerSet) (Refusal, bool) {
	claims, err := fr.keys.Verify(raw, now)
	switch {
	case errors.Is(err, tokens.ErrExpired):
		// The signature verified before the time claims were read, so exp is the issuer's.
		if _, c, ierr := tokens.Inspect(raw); ierr == nil {
			return expiredAt(c.ExpiresAt), true
		}
		return Refusal{Reason: ReasonExpired, Description: "the access token expired"}, true
	case errors.Is(err, tokens.ErrNotYetValid):
		return Refusal{Reason: ReasonNotYetValid, Description: "the access token is not valid yet (its nbf or iat is in the future)"}, true
	case errors.Is(err, tokens.ErrSignature), errors.Is(err, tokens.ErrAlgorithm), errors.Is(err, tokens.ErrKeyID), errors.Is(err, tokens.ErrType):
		return Refusal{Reason: ReasonAltered, Description: "the access token's signature or header does not verify with this server's keys: it was altered, or signed by someone else"}, true
	case err != nil:
		return Refusal{}, false
	}
	switch {
	case !canonicalJWS(raw):
		return Refusal{Reason: ReasonAltered, Description: "the access token is not canonical base64url: it was altered"}, true
	case !slices.Contains(claims.Audience, fr.flow.Name):
		return otherFlow(firstOr(claims.Audience, "another flow"), fr.flow.Name), true
	case !issuers.allows(claims.Issuer):
		return Refusal{Reason: ReasonAltered, Description: "the access token names an issuer this server does not answer for"}, true
	case fr.isRevoked(claims.ID, raw, now):
		return revoked(), true
	}
	return Refusal{}, false
}

func expiredAt(exp time.Time) Refusal {
	return Refusal{Reason: ReasonExpired, Description: "the access token expired at " + exp.UTC().Format(time.RFC3339)}
}

func revoked() Refusal {
	return Refusal{Reason: ReasonRevoked, Description: "the access token was revoked"}
}

func otherFlow(issuedFor, this string) Refusal {
	return Refusal{Reason: ReasonOtherFlow, Description: "the access token was issued for the flow " + issuedFor + ", not for " + this}
}

func firstOr(list []string, fallback string) string {
	if len(list) == 0 {
		return fallback
	}
	return list[0]
}
