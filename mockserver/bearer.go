package mockserver

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tollgate/tollgate/mockserver/tokens"
	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/authheader"
	"github.com/tollgate/tollgate/spec/oautherr"
)

// TokenValidator decides whether a raw Bearer token is live and what it was
// granted. Implementations must not allocate on a valid token.
type TokenValidator interface {
	Validate(raw string, now time.Time) (*tokens.Grant, bool)
}

// storeValidator validates opaque and UUID tokens against the issued-token store.
type storeValidator struct {
	store *tokens.Store
	flow  string
}

func (v storeValidator) Validate(raw string, now time.Time) (*tokens.Grant, bool) {
	g, _, ok := v.store.Lookup(raw, now)
	return g, ok && g.Flow == v.flow
}

// jwtValidator verifies JWTs and caches the verdict until the token
// expires. The revocation deny-list is consulted after the cache, on hits
// and misses alike, so a revoked token never passes, cached or not.
type jwtValidator struct {
	fr      *flowRuntime
	issuers *issuerSet
}

func (v jwtValidator) Validate(raw string, now time.Time) (*tokens.Grant, bool) {
	if g, jti, ok := v.fr.cache.Lookup(raw, now); ok {
		return g, g.Flow == v.fr.flow.Name && !v.fr.isRevoked(jti, raw, now)
	}
	claims, ok := v.fr.verifyJWT(raw, now, v.issuers)
	if !ok {
		return nil, false
	}
	g := v.fr.grants.get(v.fr.flow.Name, claims.ClientID, claims.Scope)
	v.fr.cache.Add(raw, g, claims.ID, claims.ExpiresAt, now)
	return g, true
}

// verifyJWT verifies a JWT of the flow at now: canonical encoding,
// signature, time claims, audience, issuer and the revocation deny-list.
func (fr *flowRuntime) verifyJWT(raw string, now time.Time, issuers *issuerSet) (tokens.Claims, bool) {
	if !canonicalJWS(raw) {
		return tokens.Claims{}, false
	}
	claims, err := fr.keys.Verify(raw, now)
	if err != nil || !slices.Contains(claims.Audience, fr.flow.Name) || !issuers.allows(claims.Issuer) {
		return tokens.Claims{}, false
	}
	return claims, !fr.isRevoked(claims.ID, raw, now)
}

// revocationKey is the deny-list key of a JWT: its jti, or the whole token
// when it has none.
func revocationKey(jti, raw string) string {
	if jti != "" {
		return jti
	}
	return raw
}

// isRevoked reports whether the JWT raw (with jti) is on the deny-list. It
// does not allocate.
func (fr *flowRuntime) isRevoked(jti, raw string, now time.Time) bool {
	_, _, revoked := fr.revoked.Lookup(revocationKey(jti, raw), now)
	return revoked
}

// canonicalJWS reports whether each part of a compact JWS is canonical
// base64url: lenient decoders ignore the unused low bits of the last
// character, so the same signature has several spellings, and a token with
// a changed character would otherwise still pass.
func canonicalJWS(raw string) bool {
	for _, part := range strings.SplitN(raw, ".", 4) {
		if _, err := base64.RawURLEncoding.Strict().DecodeString(part); err != nil {
			return false
		}
	}
	return true
}

// validator is the correct TokenValidator of a flow; New may wrap it.
func (s *Server) validator(fr *flowRuntime) TokenValidator {
	if fr.format == spec.FormatJWT {
		return jwtValidator{fr: fr, issuers: s.issuers}
	}
	return storeValidator{store: s.store, flow: fr.flow.Name}
}

// bearerReply is a precomputed RFC 6750 rejection.
type bearerReply struct {
	status      int
	challenge   []string
	body        []byte
	dialect     string
	description string // why, in words: the error_description (or the body's, when no credentials came)
}

func (b *bearerReply) write(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Www-Authenticate"] = b.challenge
	h["Content-Type"] = jsonContentType
	if accept := r.Header["Accept"]; len(accept) > 0 && oautherr.ResourceMediaType(b.dialect, strings.Join(accept, ",")) == oautherr.JSONAPIMediaType {
		h["Content-Type"] = jsonAPIContentType
	}
	h["Cache-Control"] = noStore
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body)
}

// jsonAPIContentType is the Content-Type of a JSON:API answer; never modified.
var jsonAPIContentType = []string{oautherr.JSONAPIMediaType}

// newBearerReply builds the rejection e in the error dialect; e without a
// code is the answer to a request without credentials, whose challenge
// carries no error information (RFC 6750 section 3.1).
func newBearerReply(realm, dialect string, e *oautherr.Error, extra ...authheader.Param) *bearerReply {
	params := []authheader.Param{{Name: "realm", Value: realm}}
	status := http.StatusUnauthorized
	if e.Code != "" {
		params = append(params, authheader.Param{Name: "error", Value: e.Code})
		status = e.HTTPStatus()
	}
	if e.Code != "" && e.Description != "" { // RFC 6750 section 3.1: no error information when no credentials came
		params = append(params, authheader.Param{Name: "error_description", Value: e.Description})
	}
	params = append(params, extra...)
	return &bearerReply{status: status, challenge: []string{authheader.Challenge{Scheme: "Bearer", Params: params}.String()}, body: e.ResourceBody(dialect), dialect: dialect, description: e.Description}
}

// bearerCheck evaluates the Bearer credentials of requests to one flow's
// protected routes: the Bearer middleware and the GraphQL endpoint share it.
// The replies are built here, once, except a dead token's when explain is
// set.
type bearerCheck struct {
	v                                            TokenValidator
	explain                                      RefusalExplainer
	clock                                        Clock
	realm, dialect                               string
	missing, malformed, repeated, twice, invalid *bearerReply
}

func newBearerCheck(v TokenValidator, explain RefusalExplainer, clock Clock, realm, dialect string) *bearerCheck {
	return &bearerCheck{v: v, explain: explain, clock: clock, realm: realm, dialect: dialect,
		missing:   newBearerReply(realm, dialect, &oautherr.Error{Description: "this operation needs an access token: send the header Authorization: Bearer followed by a token"}),
		malformed: newBearerReply(realm, dialect, oautherr.New(oautherr.InvalidRequest, "the Authorization header is not a well-formed Bearer credential (RFC 6750 section 2.1)")),
		repeated:  newBearerReply(realm, dialect, oautherr.New(oautherr.InvalidRequest, "send one Authorization header")),
		twice:     newBearerReply(realm, dialect, oautherr.New(oautherr.InvalidRequest, "the access token was sent in more than one way: use the Authorization header only")),
		invalid:   newBearerReply(realm, dialect, oautherr.New(oautherr.InvalidToken, "the access token is unknown, expired or revoked")),
	}
}

// check returns the grant of the request's live token, with its client
// noted for the request log; otherwise the reply that refuses the request,
// with the reason noted. A token in the query alone is ignored (OAuth 2.1
// section 5.1). A valid token's path does not allocate.
func (c *bearerCheck) check(w http.ResponseWriter, r *http.Request) (*tokens.Grant, *bearerReply) {
	var header string
	switch values := r.Header["Authorization"]; len(values) {
	case 0:
	case 1:
		header = values[0]
	default:
		noteRefusal(w, reasonMalformed)
		return nil, c.repeated
	}
	token, result := authheader.ParseBearer(header)
	if result != authheader.BearerMissing && r.URL.RawQuery != "" && queryHasToken(r.URL.RawQuery) {
		noteRefusal(w, reasonMalformed)
		return nil, c.twice
	}
	switch result {
	case authheader.BearerMissing:
		noteRefusal(w, reasonMissing)
		return nil, c.missing
	case authheader.BearerMalformed:
		noteRefusal(w, reasonMalformed)
		return nil, c.malformed
	}
	now := c.clock.Now()
	grant, ok := c.v.Validate(token, now)
	if !ok {
		if c.explain == nil {
			noteRefusal(w, ReasonUnknown)
			return nil, c.invalid
		}
		why := c.explain(token, now)
		noteRefusal(w, why.Reason)
		return nil, newBearerReply(c.realm, c.dialect, oautherr.New(oautherr.InvalidToken, why.Description))
	}
	noteClient(w, grant.ClientID)
	return grant, nil
}

// Bearer returns middleware that enforces RFC 6750 Bearer tokens for one
// operation, validating with v: no credentials get 401 with a bare challenge,
// a malformed header 400 invalid_request, a dead token 401 invalid_token, a
// token without the scopes (any one alternative of scopes suffices) 403
// insufficient_scope. The replies are built here, once, except a dead
// token's: explain (when not nil) says why it was refused, in the
// error_description of the challenge and body and as the reason of the
// request log line. A valid token's path does not allocate.
func Bearer(v TokenValidator, explain RefusalExplainer, clock Clock, realm, dialect string, scopes [][]string) func(http.Handler) http.Handler {
	check := newBearerCheck(v, explain, clock, realm, dialect)
	var scopeParams []authheader.Param
	if list := scopeList(scopes); list != "" {
		scopeParams = []authheader.Param{{Name: "scope", Value: list}}
	}
	insufficient := newBearerReply(realm, dialect, oautherr.New(oautherr.InsufficientScope, scopeNeeded(scopes)), scopeParams...)
	need := spec.Operation{Scopes: scopes} // Allows is the scope rule; only the scopes matter to it

	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			grant, refusal := check.check(w, r)
			if refusal != nil {
				refusal.write(w, r)
				return
			}
			if !need.Allows(grant.Scopes) {
				noteRefusal(w, reasonInsufficientScope)
				insufficient.write(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// scopeNeeded is the error_description of a 403 insufficient_scope: the
// scopes the operation needs, each alternative in full.
func scopeNeeded(alternatives [][]string) string {
	const lacks = "the access token lacks the scope this operation needs"
	var alts []string
	for _, alt := range alternatives {
		if len(alt) > 0 {
			alts = append(alts, strings.Join(alt, " and "))
		}
	}
	if len(alts) == 0 {
		return lacks
	}
	return lacks + ": " + strings.Join(alts, ", or ")
}

// bearer is the Bearer middleware of one protected operation of fr, with
// the validator New assembled for the flow.
func (s *Server) bearer(fr *flowRuntime, op spec.Operation) func(http.Handler) http.Handler {
	return Bearer(fr.validator, s.explainer(fr), s.opts.Clock, fr.flow.Realm, fr.flow.ErrorDialect, op.Scopes)
}

// queryHasToken reports whether a raw query carries an access_token parameter.
func queryHasToken(rawQuery string) bool {
	for rawQuery != "" {
		var param string
		param, rawQuery, _ = strings.Cut(rawQuery, "&")
		if strings.HasPrefix(param, "access_token=") || param == "access_token" {
			return true
		}
	}
	return false
}
