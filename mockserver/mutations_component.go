package mockserver

import (
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tollgate/tollgate/mockserver/tokens"
	"github.com/tollgate/tollgate/spec/oautherr"
)

// This file holds the mutations that replace a component of the request
// path (an authenticator, a minter, a validator, an invalidator) or change
// the server at construction (signers, keys, issuer, metadata).

// authenticatorFunc adapts a function to clientAuthenticator.
type authenticatorFunc func(id, secret string) (*registeredClient, *oautherr.Error)

func (f authenticatorFunc) authenticate(id, secret string) (*registeredClient, *oautherr.Error) {
	return f(id, secret)
}

// ignoreSecret takes a known client's id without its secret.
func (m *mutant) ignoreSecret(_ endpoint, next clientAuthenticator) clientAuthenticator {
	return authenticatorFunc(func(id, secret string) (*registeredClient, *oautherr.Error) {
		if c := m.s.clients.get(id); c != nil {
			return c, nil
		}
		return next.authenticate(id, secret)
	})
}

// acceptUnknownClient takes any unknown id as a client.
func acceptUnknownClient(_ endpoint, next clientAuthenticator) clientAuthenticator {
	return authenticatorFunc(func(id, secret string) (*registeredClient, *oautherr.Error) {
		c, oerr := next.authenticate(id, secret)
		if oerr != nil && id != "" {
			return &registeredClient{Client: Client{ID: id}}, nil
		}
		return c, oerr
	})
}

// firstClientWithoutAuth gives a token request without credentials the
// first registered client.
func (m *mutant) firstClientWithoutAuth(ep endpoint, next clientAuthenticator) clientAuthenticator {
	if ep.kind != endpointToken || len(m.s.opts.Clients) == 0 {
		return next
	}
	first := m.s.clients.get(m.s.opts.Clients[0].ID)
	return authenticatorFunc(func(id, secret string) (*registeredClient, *oautherr.Error) {
		if id == "" {
			return first, nil
		}
		return next.authenticate(id, secret)
	})
}

// trustClientID takes the client id of requests to kind on trust.
func trustClientID(kind endpointKind) func(endpoint, clientAuthenticator) clientAuthenticator {
	return func(ep endpoint, next clientAuthenticator) clientAuthenticator {
		if ep.kind != kind {
			return next
		}
		return authenticatorFunc(func(id, _ string) (*registeredClient, *oautherr.Error) {
			return &registeredClient{Client: Client{ID: id}}, nil
		})
	}
}

// refuseEveryClient refuses every client at kind's endpoints with
// invalid_client, as a server does that keeps an endpoint for other clients.
func refuseEveryClient(kind endpointKind) func(endpoint, clientAuthenticator) clientAuthenticator {
	return func(ep endpoint, next clientAuthenticator) clientAuthenticator {
		if ep.kind != kind {
			return next
		}
		return authenticatorFunc(func(string, string) (*registeredClient, *oautherr.Error) {
			return nil, oautherr.New("invalid_client", "this client may not use this endpoint")
		})
	}
}

// minterFunc adapts a function to tokenMinter.
type minterFunc func(r *http.Request, client *registeredClient, scope string) (mintedToken, error)

func (f minterFunc) mint(r *http.Request, client *registeredClient, scope string) (mintedToken, error) {
	return f(r, client, scope)
}

// tokenWithSpace puts a space inside every token, and records it as live.
func (m *mutant) tokenWithSpace(fr *flowRuntime, next tokenMinter) tokenMinter {
	return minterFunc(func(r *http.Request, client *registeredClient, scope string) (mintedToken, error) {
		t, err := next.mint(r, client, scope)
		if err != nil || len(t.token) <= 8 {
			return t, err
		}
		t.token = t.token[:8] + " " + t.token[8:]
		m.s.store.Put(t.token, fr.grants.get(fr.flow.Name, client.ID, scope), t.issuedAt.Add(t.lifetime), t.issuedAt)
		return t, nil
	})
}

// repeatToken hands every request of a client the client's first token.
func (m *mutant) repeatToken(fr *flowRuntime, next tokenMinter) tokenMinter {
	return minterFunc(func(r *http.Request, client *registeredClient, scope string) (mintedToken, error) {
		t, err := next.mint(r, client, scope)
		if err != nil {
			return t, err
		}
		key := fr.flow.Name + " " + client.ID
		m.mu.Lock()
		defer m.mu.Unlock()
		if first, ok := m.issued[key]; ok {
			t.token = first
		} else {
			m.issued[key] = t.token
		}
		return t, nil
	})
}

// cachedTok is a token reissue-cached-token hands out again.
type cachedTok struct {
	token string
	until time.Time
}

// reissueCached caches a client's token for its lifetime plus a minute
// and hands it out again meanwhile, dead or alive.
func (m *mutant) reissueCached(fr *flowRuntime, next tokenMinter) tokenMinter {
	return minterFunc(func(r *http.Request, client *registeredClient, scope string) (mintedToken, error) {
		t, err := next.mint(r, client, scope)
		if err != nil {
			return t, err
		}
		key := fr.flow.Name + " " + client.ID
		m.mu.Lock()
		defer m.mu.Unlock()
		if c, ok := m.cached[key]; ok && t.issuedAt.Before(c.until) {
			t.token = c.token
			return t, nil
		}
		m.cached[key] = cachedTok{token: t.token, until: t.issuedAt.Add(t.lifetime + time.Minute)}
		return t, nil
	})
}

// grantEveryAllowedScope grants every scope the client may have, whatever
// was asked for.
func grantEveryAllowedScope(fr *flowRuntime, next tokenMinter) tokenMinter {
	return minterFunc(func(r *http.Request, client *registeredClient, _ string) (mintedToken, error) {
		return next.mint(r, client, strings.Join(client.allowedScopes(fr.flow), " "))
	})
}

// validatorFunc adapts a function to TokenValidator.
type validatorFunc func(raw string, now time.Time) (*tokens.Grant, bool)

func (f validatorFunc) Validate(raw string, now time.Time) (*tokens.Grant, bool) { return f(raw, now) }

// acceptAnyToken takes any token as one with every scope of the flow.
func acceptAnyToken(fr *flowRuntime, next TokenValidator) TokenValidator {
	anyone := tokens.NewGrant(fr.flow.Name, "anyone", strings.Join(fr.flow.Scopes, " "))
	return validatorFunc(func(raw string, now time.Time) (*tokens.Grant, bool) {
		if g, ok := next.Validate(raw, now); ok {
			return g, true
		}
		return anyone, true
	})
}

// keepExpiredTokens keeps expired uuid and opaque tokens in the store for a
// day instead of sweeping them away every 30 s, for the mutations that
// still accept them: otherwise whether a sweep happened to run between a
// token's exp and its next use would decide whether the defect shows.
func keepExpiredTokens(s *Server) {
	const keep = 24 * time.Hour
	s.opts.SweepInterval = keep
	s.store = tokens.NewStore(tokens.StoreOptions{MaxTokens: s.opts.MaxTokens, SweepInterval: keep})
}

// acceptExpired validates tokens as if it were still 1970.
func acceptExpired(_ *flowRuntime, next TokenValidator) TokenValidator {
	return validatorFunc(func(raw string, now time.Time) (*tokens.Grant, bool) {
		if g, ok := next.Validate(raw, now); ok {
			return g, true
		}
		return next.Validate(raw, time.Unix(0, 0))
	})
}

// grantEveryScope gives every valid token every scope of the flow.
func grantEveryScope(fr *flowRuntime, next TokenValidator) TokenValidator {
	all := strings.Join(fr.flow.Scopes, " ")
	return validatorFunc(func(raw string, now time.Time) (*tokens.Grant, bool) {
		g, ok := next.Validate(raw, now)
		if !ok {
			return nil, false
		}
		return fr.grants.get(fr.flow.Name, g.ClientID, all), true
	})
}

// slidingExpiry keeps a token alive while it is used within a lifetime of
// its last use (the lifetime its client's tokens get), whatever its expiry
// says: each use extends the token's life by its lifetime.
func (m *mutant) slidingExpiry(fr *flowRuntime, next TokenValidator) TokenValidator {
	return validatorFunc(func(raw string, now time.Time) (*tokens.Grant, bool) {
		g, ok := next.Validate(raw, now)
		if !ok {
			// Dead by its exp, but used within its lifetime: alive.
			if g, ok = next.Validate(raw, time.Unix(0, 0)); !ok {
				return nil, false
			}
			m.mu.Lock()
			last, used := m.lastUse[raw]
			m.mu.Unlock()
			lifetime := fr.lifetime
			if c := m.s.clients.get(g.ClientID); c != nil {
				lifetime = fr.lifetimeOf(c)
			}
			if !used || now.Sub(last) >= lifetime {
				return nil, false
			}
		}
		m.mu.Lock()
		m.lastUse[raw] = now
		m.mu.Unlock()
		return g, true
	})
}

// otherFlowsToo accepts the tokens of every other flow as well.
func (m *mutant) otherFlowsToo(fr *flowRuntime, next TokenValidator) TokenValidator {
	var others []TokenValidator
	for _, o := range m.s.flows {
		if o != fr {
			others = append(others, m.s.validator(o))
		}
	}
	return validatorFunc(func(raw string, now time.Time) (*tokens.Grant, bool) {
		if g, ok := next.Validate(raw, now); ok {
			return g, true
		}
		for _, o := range others {
			if g, ok := o.Validate(raw, now); ok {
				return g, true
			}
		}
		return nil, false
	})
}

// rememberAccepted keeps accepting a JWT it once accepted until the token
// expires, as a verification cache that revocation neither evicts nor is
// consulted after would.
func (m *mutant) rememberAccepted(fr *flowRuntime, next TokenValidator) TokenValidator {
	if fr.keys == nil {
		return next
	}
	return validatorFunc(func(raw string, now time.Time) (*tokens.Grant, bool) {
		if g, ok := next.Validate(raw, now); ok {
			if _, c, err := tokens.Inspect(raw); err == nil {
				m.mu.Lock()
				m.accepted[raw] = c.ExpiresAt
				m.mu.Unlock()
			}
			return g, true
		}
		m.mu.Lock()
		exp, ok := m.accepted[raw]
		m.mu.Unlock()
		if !ok || !exp.After(now) {
			return nil, false
		}
		_, c, err := tokens.Inspect(raw)
		if err != nil {
			return nil, false
		}
		return fr.grants.get(fr.flow.Name, c.ClientID, c.Scope), true
	})
}

// forgery reports whether a JWT the correct validator refused is one kind
// of forgery a defective verifier lets through. parts are the token's
// three compact parts.
type forgery func(signer *tokens.Signer, h tokens.Header, raw string, parts []string) bool

func unsignedJWT(_ *tokens.Signer, h tokens.Header, _ string, _ []string) bool {
	return strings.EqualFold(h.Algorithm, "none")
}

func anySignature(signer *tokens.Signer, h tokens.Header, _ string, _ []string) bool {
	return h.Algorithm == signer.Algorithm() && (h.KeyID == "" || h.KeyID == signer.KeyID())
}

func unknownKeyID(signer *tokens.Signer, h tokens.Header, _ string, _ []string) bool {
	return h.KeyID != "" && h.KeyID != signer.KeyID()
}

func embeddedKey(signer *tokens.Signer, h tokens.Header, raw string, _ []string) bool {
	return h.EmbeddedJWK && tokens.VerifiesWithEmbeddedKey(raw, signer.Algorithm())
}

// hmacWithPublicKey checks an HS256 signature with the PEM of the public
// key as the secret, as verifiers that take the algorithm from the token do.
func hmacWithPublicKey(signer *tokens.Signer, h tokens.Header, _ string, parts []string) bool {
	if h.Algorithm != "HS256" {
		return false
	}
	return hmacVerifies(signer.PublicKey(), parts)
}

func hmacVerifies(pub crypto.PublicKey, parts []string) bool {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	return hmac.Equal(sig, mac.Sum(nil))
}

// acceptForged lets one kind of forged JWT through when its claims are
// otherwise valid (exp in the future, the flow in aud).
func acceptForged(forged forgery) func(*flowRuntime, TokenValidator) TokenValidator {
	return func(fr *flowRuntime, next TokenValidator) TokenValidator {
		if fr.keys == nil {
			return next
		}
		return validatorFunc(func(raw string, now time.Time) (*tokens.Grant, bool) {
			if g, ok := next.Validate(raw, now); ok {
				return g, true
			}
			parts := strings.Split(raw, ".")
			if len(parts) != 3 {
				return nil, false
			}
			h, c, err := tokens.Inspect(raw)
			if err != nil || !forged(fr.keys.Current(), h, raw, parts) {
				return nil, false
			}
			if !c.ExpiresAt.After(now) || !slices.Contains(c.Audience, fr.flow.Name) {
				return nil, false
			}
			return fr.grants.get(fr.flow.Name, c.ClientID, c.Scope), true
		})
	}
}

// neverInvalidate leaves revoked tokens alive.
func neverInvalidate(*flowRuntime, invalidator) invalidator {
	return func(tokenInfo, string, time.Time) error { return nil }
}

// invalidateAfter makes revocation take effect after a delay (RFC 7009
// section 2.1 allows "a propagation delay").
func invalidateAfter(delay time.Duration) func(*flowRuntime, invalidator) invalidator {
	return func(_ *flowRuntime, next invalidator) invalidator {
		return func(info tokenInfo, raw string, now time.Time) error {
			time.AfterFunc(delay, func() { _ = next(info, raw, now) }) // a variation: a full deny-list loses it
			return nil
		}
	}
}

// signWithTypJWT signs every jwt flow's tokens with typ JWT instead of
// at+jwt, and accepts them. Key generation cannot fail for an algorithm a
// flow already signs with; if it did, the flow keeps its signer.
func signWithTypJWT(s *Server) {
	for _, fr := range s.flows {
		if fr.keys == nil {
			continue
		}
		if alt, err := tokens.NewSigner(tokens.SignerOptions{Algorithm: fr.keys.Current().Algorithm(), Type: "JWT"}); err == nil {
			fr.keys, fr.firstKey = tokens.NewKeyRing(alt), alt
		}
	}
}

// publishAnotherKey publishes keys no token is signed with.
func (m *mutant) publishAnotherKey(_ endpoint, next http.Handler) http.Handler {
	var others []*tokens.Signer
	for _, fr := range m.s.flows {
		if fr.keys == nil {
			continue
		}
		if other, err := tokens.NewSigner(tokens.SignerOptions{Algorithm: fr.keys.Current().Algorithm()}); err == nil {
			others = append(others, other)
		}
	}
	sets := make([][]byte, len(others))
	for i, o := range others {
		sets[i] = o.JWKS()
	}
	jwks, err := mergeJWKSets(sets)
	if err != nil || jwks == nil {
		return next
	}
	return staticJSON(http.StatusOK, jwks)
}

// internalIssuer names an internal host as issuer, in the metadata and
// in the tokens.
func internalIssuer(s *Server) { s.opts.Issuer = "https://auth.internal.invalid" }

// wrongTokenEndpoint advertises a token endpoint the server does not serve.
func wrongTokenEndpoint(s *Server) {
	if s.metadata == nil {
		return
	}
	flow := *s.metadata.flow
	flow.Token.Path += "/v2"
	s.metadata = &flowRuntime{flow: &flow, keys: s.metadata.keys}
}

// forgetForgedJTIs deny-lists the jti of every JWT the correct validator
// refuses (a forgery carries the genuine claims), and from then on refuses
// every token with that jti, the genuine one included.
func (m *mutant) forgetForgedJTIs(fr *flowRuntime, next TokenValidator) TokenValidator {
	if fr.keys == nil {
		return next
	}
	return validatorFunc(func(raw string, now time.Time) (*tokens.Grant, bool) {
		g, ok := next.Validate(raw, now)
		_, c, err := tokens.Inspect(raw)
		if err != nil || c.ID == "" {
			return g, ok
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if !ok {
			m.forgotten[c.ID] = true
			return nil, false
		}
		if m.forgotten[c.ID] {
			return nil, false
		}
		return g, true
	})
}
