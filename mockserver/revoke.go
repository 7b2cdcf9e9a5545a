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
	if g, issued, exp, ok := s.store.LookupIssued(raw, now); ok {
		if g.Flow != fr.flow.Name {
			return tokenInfo{}, false
		}
		return tokenInfo{grant: g, expiry: exp, issued: issued}, true
	}
	if fr.keys == nil {
		return tokenInfo{}, false
	}
	claims, ok := fr.verifyJWT(raw, now, s.issuers)
	if !ok {
		return tokenInfo{}, false
	}
	g := fr.grants.get(fr.flow.Name, claims.ClientID, claims.Scope)
	return tokenInfo{grant: g, issued: claims.IssuedAt, expiry: claims.ExpiresAt, claims: &claims}, true
}

// revoke invalidates raw for client (RFC 7009 §2.1). Unknown, expired and
// foreign-flow tokens are left alone: §2.2 answers 200 for them. A token
// issued to another client is refused with unauthorized_client.
func (s *Server) revoke(fr *flowRuntime, client *registeredClient, raw string, now time.Time) *oautherr.Error {
	info, ok := s.lookupToken(fr, raw, now)
	if !ok {
		return nil
	}
	if info.grant.ClientID != client.ID {
		// RFC 7009 §2.1: "If this validation fails, the request is
		// refused and the client is informed of the error".
		return oautherr.New(oautherr.UnauthorizedClient, "the token was not issued to this client, so it cannot revoke it")
	}
	if full := (*tokens.FullError)(nil); errors.As(fr.invalidate(info, raw, now), &full) {
		return storeFull(full, "revoked JWTs")
	}
	return nil
}

// invalidator makes a live token of a flow dead. Each flow's is chosen by
// New. A full deny-list (Options.MaxTokens) leaves a JWT live and returns
// a *tokens.FullError.
type invalidator func(info tokenInfo, raw string, now time.Time) error

// invalidator returns the correct invalidator of fr: a store-backed token is
// deleted, a JWT's jti goes on the deny-list until the token would have
// expired and its cached verification is dropped.
func (s *Server) invalidator(fr *flowRuntime) invalidator {
	return func(info tokenInfo, raw string, now time.Time) error {
		if info.claims == nil {
			if s.store.Revoke(raw) {
				// Only to explain later refusals: a full list costs the word "revoked", nothing else.
				_ = s.revokedStored.Add(raw, info.grant, info.expiry, now)
			}
			return nil
		}
		if err := fr.revoked.Add(revocationKey(info.claims.ID, raw), info.grant, info.expiry, now); err != nil {
			return err
		}
		fr.cache.Remove(raw)
		fr.issued.Revoke(info.claims.ID) // no longer live
		return nil
	}
}

// tokenActionHandler serves a revocation or introspection operation: POST
// only, the request read and the client authenticated by co, the token at
// its pointer, then act answers.
func (s *Server) tokenActionHandler(co *clientOperation, fields spec.ClientRequestFields,
	act func(w http.ResponseWriter, client *registeredClient, token string) *oautherr.Error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cr, oerr, ok := co.begin(w, r, "this endpoint takes POST only (RFC 7009 section 2.1, RFC 7662 section 2.1)")
		if !ok {
			return
		}
		if oerr == nil {
			oerr = s.actOnToken(co, fields, r, cr, w, act)
		}
		if oerr != nil {
			co.refuse(w, oerr, cr.basic)
		}
	})
}

// actOnToken takes a read revocation or introspection request the rest of
// the way: the token, the documented schema, the client's credentials, then act.
func (s *Server) actOnToken(co *clientOperation, fields spec.ClientRequestFields, r *http.Request, cr clientRequest, w http.ResponseWriter,
	act func(w http.ResponseWriter, client *registeredClient, token string) *oautherr.Error) *oautherr.Error {
	token, err := stringField(cr.doc, fields.Token)
	if err != nil {
		return invalidRequest("%s", err.Error())
	}
	if token == "" {
		return invalidRequest("%s is missing: say which token", fields.Token.Name())
	}
	// token_type_hint: RFC 7009 section 2.1 lets the server ignore it, and
	// this one finds every kind of token without it.
	if _, err := stringField(cr.doc, fields.TokenTypeHint); err != nil {
		return invalidRequest("%s", err.Error())
	}
	if oerr := co.validate(r, cr); oerr != nil {
		return oerr
	}
	client, oerr := co.authenticate(cr)
	if oerr != nil {
		return oerr
	}
	return act(w, client, token)
}

// revocationHandler serves RFC 7009 token revocation.
func (s *Server) revocationHandler(fr *flowRuntime) http.Handler {
	co := fr.flow.Revocation
	contentType := []string{co.Success.ContentType}
	return s.tokenActionHandler(fr.revocation, co.Request, func(w http.ResponseWriter, client *registeredClient, token string) *oautherr.Error {
		now := s.opts.Clock.Now()
		if oerr := s.revoke(fr, client, token, now); oerr != nil {
			if oerr.Code == temporarilyUnavailable {
				w.Header()["Retry-After"] = retryAfter(fr.revoked, now)
			}
			return oerr
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
	inactiveBody := []byte(inactiveJSON)
	return s.tokenActionHandler(fr.introspection, fr.flow.Introspection.Request, func(w http.ResponseWriter, _ *registeredClient, token string) *oautherr.Error {
		w.Header()["Content-Type"] = jsonContentType
		body := inactiveBody
		if info, ok := s.introspect(fr, token); ok {
			var err error
			if body, err = json.Marshal(info); err != nil {
				return &oautherr.Error{Code: "server_error", Description: "the mock could not encode the answer", Status: http.StatusInternalServerError}
			}
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
