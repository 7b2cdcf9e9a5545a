package mockserver

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/tollgate/tollgate/mockserver/tokens"
	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/oautherr"
)

// inactiveJSON is the whole RFC 7662 §2.2 answer for a token that is not
// active: nothing more is said about it.
const inactiveJSON = `{"active":false}`

// tokenInfo is what the server knows about a live token of a flow.
type tokenInfo struct {
	grant          *tokens.Grant
	issued, expiry time.Time
	claims         *tokens.Claims // jwt flows only
}

// lookupToken finds a live token of fr: a store-backed (uuid, opaque) token
// in the store, a JWT by verification. Tokens of other flows, expired and
// revoked tokens are not found.
func (s *Server) lookupToken(fr *flowRuntime, raw string, now time.Time) (tokenInfo, bool) {
	if g, exp, ok := s.store.Lookup(raw, now); ok {
		if g.Flow != fr.flow.Name {
			return tokenInfo{}, false
		}
		return tokenInfo{grant: g, expiry: exp, issued: exp.Add(-s.lifetimeFor(fr, g.ClientID))}, true
	}
	if fr.signer == nil {
		return tokenInfo{}, false
	}
	claims, ok := fr.verifyJWT(raw, now, s.opts.Issuer)
	if !ok {
		return tokenInfo{}, false
	}
	g := fr.grants.get(fr.flow.Name, claims.ClientID, claims.Scope)
	return tokenInfo{grant: g, issued: claims.IssuedAt, expiry: claims.ExpiresAt, claims: &claims}, true
}

// lifetimeFor is the lifetime the flow gives a client's tokens.
func (s *Server) lifetimeFor(fr *flowRuntime, clientID string) time.Duration {
	if c := s.clients[clientID]; c != nil && c.TokenLifetime != 0 {
		return c.TokenLifetime
	}
	return fr.lifetime
}

// revoke invalidates raw for client (RFC 7009 §2.1). Unknown, expired and
// foreign-flow tokens are left alone: §2.2 answers 200 for them. A token
// issued to another client is refused with unauthorized_client.
func (s *Server) revoke(fr *flowRuntime, client *registeredClient, raw string, now time.Time) *oautherr.Error {
	info, ok := s.lookupToken(fr, raw, now)
	if !ok && s.defects != nil && s.defects.revokeUnknown400 {
		return oautherr.New(oautherr.InvalidRequest, "unknown token")
	}
	if !ok {
		return nil
	}
	if info.grant.ClientID != client.ID && (s.defects == nil || !s.defects.revokeOtherClientsToken) {
		// RFC 7009 §2.1: "If this validation fails, the request is
		// refused and the client is informed of the error".
		return oautherr.New(oautherr.UnauthorizedClient, "the token was not issued to this client, so it cannot revoke it")
	}
	if s.defects != nil && s.defects.revokeNoop {
		return nil
	}
	if s.defects != nil && s.defects.revocationDelay > 0 {
		// RFC 7009 §2.1 allows "a propagation delay": a conformant variation.
		time.AfterFunc(s.defects.revocationDelay, func() { _ = s.invalidate(fr, info, raw, now) }) // a variation: a full deny-list loses it
		return nil
	}
	if full := (*tokens.FullError)(nil); errors.As(s.invalidate(fr, info, raw, now), &full) {
		return storeFull(full, "revoked JWTs")
	}
	return nil
}

// invalidate makes a live token dead: a store-backed token is deleted, a
// JWT's jti goes on the deny-list until the token would have expired and
// its cached verification is dropped. A full deny-list (Options.MaxTokens)
// leaves the JWT live and returns a *tokens.FullError.
func (s *Server) invalidate(fr *flowRuntime, info tokenInfo, raw string, now time.Time) error {
	if info.claims == nil {
		s.store.Revoke(raw)
		return nil
	}
	if err := fr.revoked.Add(revocationKey(info.claims.ID, raw), info.grant, info.expiry, now); err != nil {
		return err
	}
	if s.defects == nil || !s.defects.jwtRevocationIgnoredByCache {
		fr.cache.Remove(raw)
	}
	return nil
}

// clientHandler serves a revocation or introspection operation: POST only,
// client authentication as at the token endpoint, the token at its pointer.
func (s *Server) clientHandler(fr *flowRuntime, ep *clientEndpoint, co *spec.ClientOperation, unauthenticated bool,
	serve func(w http.ResponseWriter, client *registeredClient, token string) *oautherr.Error) http.Handler {
	noStore, pragma, allow := []string{"no-store"}, []string{"no-cache"}, []string{http.MethodPost}
	challenge := basicChallengeFor(fr.flow.Realm)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Cache-Control"] = noStore
		h["Pragma"] = pragma
		if r.Method != http.MethodPost {
			h["Allow"] = allow
			writeOAuthError(w, &oautherr.Error{Code: oautherr.InvalidRequest, Status: http.StatusMethodNotAllowed,
				Description: "this endpoint takes POST only (RFC 7009 section 2.1, RFC 7662 section 2.1)"})
			return
		}
		var token string
		cr, oerr := s.readClientRequest(ep, w, r, readOptions{check: func(cr *clientRequest) *oautherr.Error {
			var err error
			if token, err = stringField(cr.doc, co.Request.Token); err != nil {
				return invalidRequest("%s", err.Error())
			}
			if token == "" {
				return invalidRequest("%s is missing: say which token", co.Request.Token.Name())
			}
			// token_type_hint: RFC 7009 section 2.1 lets the server ignore
			// it, and this one finds every kind of token without it.
			if _, err := stringField(cr.doc, co.Request.TokenTypeHint); err != nil {
				return invalidRequest("%s", err.Error())
			}
			return nil
		}})
		var client *registeredClient
		switch {
		case oerr != nil:
		case unauthenticated:
			client = &registeredClient{Client: Client{ID: cr.clientID}}
		case cr.clientID == "":
			oerr = noClientAuth()
		default:
			var err error
			if client, err = s.authenticate(cr.clientID, cr.secret); err != nil {
				oerr = oautherr.New(oautherr.InvalidClient, "client authentication failed: unknown client or wrong secret")
			}
		}
		if oerr == nil {
			oerr = serve(w, client, token)
		}
		if oerr != nil {
			s.writeClientError(w, oerr, cr.basic, ep.acceptsBasic, challenge)
		}
	})
}

// revocationHandler serves RFC 7009 token revocation.
func (s *Server) revocationHandler(fr *flowRuntime) http.Handler {
	co := fr.flow.Revocation
	unauthenticated := s.defects != nil && s.defects.revokeWithoutAuth
	contentType := []string{co.Success.ContentType}
	return s.clientHandler(fr, fr.revocation, co, unauthenticated, func(w http.ResponseWriter, client *registeredClient, token string) *oautherr.Error {
		now := s.opts.Clock.Now()
		if oerr := s.revoke(fr, client, token, now); oerr != nil {
			if oerr.Code == temporarilyUnavailable {
				w.Header()["Retry-After"] = retryAfter(fr.revoked, now)
			}
			return oerr
		}
		switch {
		case s.defects != nil && s.defects.revoke204:
			w.WriteHeader(http.StatusNoContent)
			return nil
		case s.defects != nil && s.defects.revokeEmptyBody:
			w.WriteHeader(http.StatusOK) // RFC 7009 §2.2: "The content of the response body is ignored by the client"
			return nil
		}
		if co.Success.ContentType != "" {
			w.Header()["Content-Type"] = contentType
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(co.Success.Body)
		return nil
	})
}

// introspectionHandler serves RFC 7662 token introspection: any
// authenticated client may ask about any token of the flow.
func (s *Server) introspectionHandler(fr *flowRuntime) http.Handler {
	co := fr.flow.Introspection
	unauthenticated := s.defects != nil && s.defects.introspectWithoutAuth
	contentType, inactiveBody := []string{"application/json"}, []byte(inactiveJSON)
	return s.clientHandler(fr, fr.introspection, co, unauthenticated, func(w http.ResponseWriter, _ *registeredClient, token string) *oautherr.Error {
		w.Header()["Content-Type"] = contentType
		body := inactiveBody
		if info, ok := s.introspect(fr, token); ok {
			var err error
			if body, err = json.Marshal(info); err != nil {
				return &oautherr.Error{Code: "server_error", Description: "the mock could not encode the answer", Status: http.StatusInternalServerError}
			}
		} else if s.defects != nil && s.defects.introspectInactiveLeaksClaims {
			body = []byte(`{"active":false,"client_id":"` + SeedClientID + `","token_type":"` + fr.flow.TokenType + `"}`)
		}
		_, _ = w.Write(body)
		return nil
	})
}

// introspection is the RFC 7662 §2.2 answer for an active token.
type introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id"`
	TokenType string `json:"token_type"`
	Exp       int64  `json:"exp"`
	Iat       int64  `json:"iat"`
	Nbf       int64  `json:"nbf,omitempty"`
	Sub       string `json:"sub"`
	Aud       any    `json:"aud,omitempty"`
	Iss       string `json:"iss,omitempty"`
	Jti       string `json:"jti,omitempty"`
}

// introspect describes raw when it is a live token of fr.
func (s *Server) introspect(fr *flowRuntime, raw string) (introspection, bool) {
	now := s.opts.Clock.Now()
	info, ok := s.lookupToken(fr, raw, now)
	if !ok && s.defects != nil && s.defects.introspectDeadActive {
		// The defect: whatever is not live is still called active.
		return introspection{Active: true, ClientID: SeedClientID, TokenType: fr.flow.TokenType, Sub: SeedClientID,
			Exp: now.Add(fr.lifetime).Unix(), Iat: now.Unix()}, true
	}
	if !ok {
		return introspection{}, false
	}
	out := introspection{Active: true, Scope: info.grant.Scope, ClientID: info.grant.ClientID, TokenType: fr.flow.TokenType,
		Exp: info.expiry.Unix(), Iat: info.issued.Unix(), Sub: info.grant.ClientID}
	if c := info.claims; c != nil {
		out.Sub, out.Iss, out.Jti = c.Subject, c.Issuer, c.ID
		if !c.NotBefore.IsZero() {
			out.Nbf = c.NotBefore.Unix()
		}
		switch len(c.Audience) {
		case 0:
		case 1:
			out.Aud = c.Audience[0]
		default:
			out.Aud = c.Audience
		}
	}
	return out, true
}
