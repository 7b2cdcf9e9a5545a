package mockserver

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/tollgate/tollgate/mockserver/tokens"
	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/authheader"
	"github.com/tollgate/tollgate/spec/oautherr"
)

// Mutation is a deliberate defect the mock can be told to have
// (Options.Mutations), so that the conformance suite can be shown to catch
// real defects: suites/selftest runs `tollgate check` against the mock with
// each one and expects named checks to fail. A mutated mock is never the
// default and says so in its banner.
type Mutation struct {
	Name        string // kebab-case, describes the bug
	Area        string // issuance, client-auth, bearer, expiry, jwt, metadata, revocation, introspection or variation
	Description string
}

// mutationTable lists every mutation with the defect it switches on.
func mutationTable() []struct {
	Mutation
	apply func(*defects)
} {
	type row = struct {
		Mutation
		apply func(*defects)
	}
	m := func(name, area, desc string, apply func(*defects)) row {
		return row{Mutation{name, area, desc}, apply}
	}
	return []row{
		m("no-cache-control", "issuance", "token responses and errors carry no Cache-Control", func(d *defects) { d.token = append(d.token, dropHeader("Cache-Control")) }),
		m("text-plain-token", "issuance", "token responses are labelled text/plain", func(d *defects) { d.token = append(d.token, successOnly(setHeader("Content-Type", "text/plain"))) }),
		m("token-type-mac", "issuance", "token_type is mac, not Bearer", func(d *defects) { d.token = append(d.token, successOnly(d.setMember(tokenTypeField, "mac"))) }),
		m("expires-in-string", "issuance", "expires_in is a JSON string", func(d *defects) { d.token = append(d.token, successOnly(d.mapMember(expiresInField, toString))) }),
		m("expires-in-wrong", "issuance", "expires_in is 100 s longer than the real lifetime", func(d *defects) { d.token = append(d.token, successOnly(d.mapMember(expiresInField, addSeconds(100)))) }),
		m("expires-in-milliseconds", "expiry", "expires_in is in milliseconds", func(d *defects) { d.token = append(d.token, successOnly(d.mapMember(expiresInField, timesThousand))) }),
		m("no-expires-in", "expiry", "the token response has no lifetime", func(d *defects) { d.token = append(d.token, successOnly(d.dropMember(expiresInField))) }),
		m("duplicate-member", "issuance", "the token response repeats its token member", func(d *defects) { d.token = append(d.token, successOnly(d.duplicateMember(accessTokenField))) }),
		m("refresh-token", "issuance", "client-credentials responses carry a refresh_token", func(d *defects) { d.token = append(d.token, successOnly(addMember("refresh_token", "r-1"))) }),
		m("token-with-space", "issuance", "issued tokens contain a space, so no Authorization header can carry them", func(d *defects) { d.tokenWithSpace = true }),
		m("repeat-token", "issuance", "every request of a client gets the same token", func(d *defects) { d.repeatToken = true }),
		m("token-on-get", "issuance", "a GET to the token endpoint issues a token", func(d *defects) { d.tokenOnGet = true }),
		m("errors-without-code", "issuance", "error bodies have a message but no error member", func(d *defects) { d.token = append(d.token, errorsOnly(replaceBody(`{"message":"request failed"}`))) }),
		m("errors-as-500", "issuance", "every token-endpoint error is a 500", func(d *defects) { d.token = append(d.token, errorsOnly(setStatus(http.StatusInternalServerError))) }),
		m("echo-secret", "client-auth", "error descriptions repeat the client secret that was sent", func(d *defects) { d.token = append(d.token, errorsOnly(d.echoSecret)) }),
		m("basic-no-form-decode", "client-auth", "HTTP Basic credentials are not form-decoded (RFC 6749 Appendix B), so ids and secrets with reserved characters fail", func(d *defects) { d.basicNoFormDecode = true }),
		m("credentials-in-query", "client-auth", "client_id and client_secret in the request URI authenticate the client", func(d *defects) { d.credentialsInQuery = true }),
		m("grant-more-scope", "issuance", "a request for some scopes is granted every scope the client may have", func(d *defects) { d.grantMoreScope = true }),
		m("scope-trailing-space", "issuance", "the granted scope ends with a space", func(d *defects) { d.token = append(d.token, successOnly(d.mapMember(scopeField, appendSpace))) }),
		m("expiry-slides", "expiry", "each use of a token moves its expiry (an idle timeout instead of exp)", func(d *defects) { d.expirySlides = true }),
		m("reissue-cached-token", "expiry", "a client's token is cached for its lifetime plus a minute and handed out again, dead or alive", func(d *defects) { d.reissueCached = true }),
		m("accept-other-flow-tokens", "bearer", "a flow's protected operations accept tokens issued for another flow (another audience)", func(d *defects) { d.acceptOtherFlowTokens = true }),
		m("ignore-secret", "client-auth", "a known client gets a token with any secret", func(d *defects) { d.ignoreSecret = true }),
		m("accept-unknown-client", "client-auth", "an unknown client id gets a token", func(d *defects) { d.acceptUnknownClient = true }),
		m("accept-no-client-auth", "client-auth", "a request without credentials gets a token", func(d *defects) { d.acceptNoClientAuth = true }),
		m("basic-401-without-challenge", "client-auth", "failed client authentication gets 401 with no WWW-Authenticate", func(d *defects) { d.basicWithoutChallenge = true }),
		m("reject-basic", "client-auth", "HTTP Basic client authentication is refused", func(d *defects) { d.rejectBasic = true }),
		m("reject-json", "issuance", "JSON token requests are refused", func(d *defects) { d.rejectJSON = true }),
		m("allow-two-auth-methods", "client-auth", "Basic and body credentials together are accepted", func(d *defects) { d.allowTwoAuthMethods = true }),
		m("ignore-missing-grant-type", "issuance", "a request without grant_type gets a token", func(d *defects) { d.ignoreMissingGrantType = true }),
		m("accept-any-grant-type", "issuance", "any grant_type gets a token", func(d *defects) { d.acceptAnyGrantType = true }),
		m("reject-unknown-params", "issuance", "unknown request parameters are refused", func(d *defects) { d.rejectUnknownParams = true }),
		m("empty-scope-invalid", "issuance", "scope= (no value) is refused instead of treated as omitted", func(d *defects) { d.emptyScopeInvalid = true }),
		m("allow-repeated-params", "issuance", "a repeated form parameter is accepted", func(d *defects) { d.allowRepeatedParams = true }),
		m("accept-any-bearer", "bearer", "any Bearer token is accepted", func(d *defects) { d.acceptAnyBearer = true }),
		m("accept-expired", "expiry", "expired opaque and UUID tokens are still accepted", func(d *defects) { d.acceptExpired = true }),
		m("ignore-scope", "bearer", "operations that need a scope accept any valid token", func(d *defects) { d.ignoreScope = true }),
		m("case-sensitive-scheme", "bearer", "only the exact spelling Bearer is recognised", func(d *defects) { d.caseSensitiveScheme = true }),
		m("accept-any-scheme", "bearer", "a valid token is accepted after any scheme, or none", func(d *defects) { d.acceptAnyScheme = true }),
		m("accept-query-token", "bearer", "a token in the access_token query parameter is accepted", func(d *defects) { d.acceptQueryToken = true }),
		m("empty-bearer-500", "bearer", "a malformed Bearer header gets a 500", func(d *defects) { d.malformed500 = true }),
		m("single-space-only", "bearer", "more than one space after Bearer is refused", func(d *defects) { d.singleSpaceOnly = true }),
		m("401-without-challenge", "bearer", "401 answers on resources carry no WWW-Authenticate", func(d *defects) {
			d.resource = append(d.resource, statusOnly(http.StatusUnauthorized, dropHeader("Www-Authenticate")))
		}),
		m("bare-challenge", "bearer", "the challenge is a bare Bearer with no parameters", func(d *defects) {
			d.resource = append(d.resource, statusOnly(http.StatusUnauthorized, setHeader("Www-Authenticate", "Bearer")))
		}),
		m("error-code-without-credentials", "bearer", "the challenge to a request without credentials names invalid_token", func(d *defects) {
			d.resource = append(d.resource, noCredentialsOnly(setHeader("Www-Authenticate", `Bearer realm="tollgate", error="invalid_token"`)))
		}),
		m("invalid-token-403", "bearer", "unknown and expired tokens get 403 instead of 401", func(d *defects) {
			d.resource = append(d.resource, withCredentialsOnly(statusOnly(http.StatusUnauthorized, setStatus(http.StatusForbidden))))
		}),
		m("reflect-token", "bearer", "rejections repeat the token that was sent", func(d *defects) { d.resource = append(d.resource, statusOnly(http.StatusUnauthorized, reflectToken)) }),
		m("jwt-accept-alg-none", "jwt", "an unsigned JWT (alg none, in any case) with valid claims is accepted", func(d *defects) { d.jwtAcceptNone = true }),
		m("jwt-ignore-signature", "jwt", "a JWT with the expected alg and kid is accepted whatever its signature", func(d *defects) { d.jwtIgnoreSignature = true }),
		m("jwt-hmac-public-key", "jwt", "HS256 JWTs are verified with the public key's PEM as the HMAC secret (algorithm confusion)", func(d *defects) { d.jwtHMACPublicKey = true }),
		m("jwt-trust-embedded-jwk", "jwt", "a JWT is verified with the key in its own jwk header", func(d *defects) { d.jwtTrustEmbeddedJWK = true }),
		m("jwt-skip-unknown-kid", "jwt", "a JWT whose kid is unknown is accepted without a signature check", func(d *defects) { d.jwtSkipUnknownKid = true }),
		m("jwt-typ-jwt", "jwt", "JWTs are issued (and accepted) with typ JWT instead of at+jwt", func(d *defects) { d.jwtTypJWT = true }),
		m("jwt-missing-jti", "jwt", "JWTs are issued without a jti claim", func(d *defects) { d.token = append(d.token, successOnly(d.dropJTI)) }),
		m("jwks-wrong-key", "jwt", "the JWK Set publishes a key other than the one tokens are signed with", func(d *defects) { d.jwksWrongKey = true }),
		m("metadata-wrong-issuer", "metadata", "the metadata and the tokens name an internal host as issuer (a server behind a proxy)", func(d *defects) { d.metadataWrongIssuer = true }),
		m("metadata-wrong-token-endpoint", "metadata", "the metadata's token_endpoint is a path the server does not serve", func(d *defects) { d.metadataWrongTokenEndpoint = true }),
		m("revoke-noop", "revocation", "revocation answers 200 but the token keeps working", func(d *defects) { d.revokeNoop = true }),
		m("revoke-204", "revocation", "a successful revocation answers 204 No Content instead of 200", func(d *defects) { d.revoke204 = true }),
		m("revoke-unknown-token-400", "revocation", "revoking a token the server does not know gets 400 invalid_request instead of 200", func(d *defects) { d.revokeUnknown400 = true }),
		m("revoke-without-auth", "revocation", "revocation takes the client id on trust: any secret, or none, will do", func(d *defects) { d.revokeWithoutAuth = true }),
		m("revoke-other-clients-token", "revocation", "any authenticated client can revoke any client's token", func(d *defects) { d.revokeOtherClientsToken = true }),
		m("jwt-revocation-ignored-by-cache", "revocation", "a revoked JWT whose verification is cached keeps working: revocation neither evicts the cache nor is consulted after it", func(d *defects) { d.jwtRevocationIgnoredByCache = true }),
		m("introspect-without-auth", "introspection", "introspection answers anyone, without client authentication", func(d *defects) { d.introspectWithoutAuth = true }),
		m("introspect-dead-active", "introspection", "unknown, expired and revoked tokens are reported active", func(d *defects) { d.introspectDeadActive = true }),
		m("introspect-inactive-leaks-claims", "introspection", "the answer for an inactive token also names a client_id and token_type", func(d *defects) { d.introspectInactiveLeaksClaims = true }),
		// Conformant variations: different from the mock's usual answers
		// but allowed by the RFCs, so a good suite passes them.
		m("lowercase-token-type", "variation", "token_type is bearer in lower case (RFC 6749 5.1: case-insensitive)", func(d *defects) { d.token = append(d.token, successOnly(d.setMember(tokenTypeField, "bearer"))) }),
		m("charset-parameters", "variation", "JSON answers say application/json; charset=utf-8", func(d *defects) {
			d.token = append(d.token, setHeader("Content-Type", "application/json; charset=utf-8"))
			d.resource = append(d.resource, setHeader("Content-Type", "application/json; charset=utf-8"))
		}),
		m("split-cache-control", "variation", "Cache-Control comes as two field lines, no-cache then no-store", func(d *defects) { d.token = append(d.token, splitCacheControl) }),
		m("reordered-challenge", "variation", "challenge parameters in reverse order with mixed-case names", func(d *defects) { d.resource = append(d.resource, reorderChallenge) }),
		m("extra-members", "variation", "token responses and errors carry members the RFCs do not define", func(d *defects) { d.token = append(d.token, addMember("x_vendor", map[string]any{"region": "eu"})) }),
		m("invalid-client-400", "variation", "invalid_client after body credentials is a 400 without a challenge (RFC 6749 5.2)", func(d *defects) { d.token = append(d.token, errorsOnly(invalidClient400)) }),
		m("revocation-delay", "variation", "a revocation takes effect one second after its 200 (RFC 7009 2.1: a propagation delay)", func(d *defects) { d.revocationDelay = time.Second }),
		m("revoke-empty-body", "variation", "a successful revocation answers 200 with no body (RFC 7009 2.2: the client ignores it)", func(d *defects) { d.revokeEmptyBody = true }),
		m("rate-limit", "variation", "every 10th token request gets 429 with Retry-After: 1", func(d *defects) { d.token = append(d.token, d.rateLimit) }),
		m("expired-without-error-code", "expiry", "invalid and expired tokens get a challenge without an error code", func(d *defects) {
			d.resource = append(d.resource, withCredentialsOnly(statusOnly(http.StatusUnauthorized, setHeader("Www-Authenticate", `Bearer realm="tollgate"`))))
		}),
	}
}

// Mutations returns the defects Options.Mutations can switch on.
func Mutations() []Mutation {
	var out []Mutation
	for _, r := range mutationTable() {
		out = append(out, r.Mutation)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// defects is the set of switched-on mutations, read at the few places the
// mock can go wrong. A correct server has nil defects and pays one nil check.
type defects struct {
	ignoreSecret, acceptUnknownClient, acceptNoClientAuth, basicWithoutChallenge bool
	rejectBasic, rejectJSON, allowTwoAuthMethods, ignoreMissingGrantType         bool
	acceptAnyGrantType, rejectUnknownParams, emptyScopeInvalid                   bool
	allowRepeatedParams, tokenOnGet, tokenWithSpace, repeatToken                 bool
	acceptAnyBearer, acceptExpired, ignoreScope, caseSensitiveScheme             bool
	acceptAnyScheme, acceptQueryToken, malformed500, singleSpaceOnly             bool
	basicNoFormDecode, credentialsInQuery, grantMoreScope, expirySlides          bool
	reissueCached, acceptOtherFlowTokens                                         bool

	// JWT validation defects (acceptForgedJWT) and the defects rewire
	// applies to the server itself.
	jwtAcceptNone, jwtIgnoreSignature, jwtHMACPublicKey, jwtTrustEmbeddedJWK bool
	jwtSkipUnknownKid, jwtTypJWT, jwksWrongKey                               bool
	metadataWrongIssuer, metadataWrongTokenEndpoint                          bool
	revokeNoop, revokeWithoutAuth, revokeOtherClientsToken                   bool
	revoke204, revokeUnknown400, revokeEmptyBody                             bool
	revocationDelay                                                          time.Duration
	jwtRevocationIgnoredByCache, introspectWithoutAuth                       bool
	introspectDeadActive, introspectInactiveLeaksClaims                      bool
	signers                                                                  map[string]*tokens.Signer // by flow, set by rewire: jwt-missing-jti re-signs with them
	clock                                                                    Clock                     // set by rewire

	token    []responseMutation // applied to token-endpoint responses
	resource []responseMutation // applied to protected-operation responses

	mu       sync.Mutex
	issued   map[string]string // repeat-token: the first token per flow and client
	cached   map[string]cachedToken
	lastUse  map[string]time.Time // expiry-slides: when each token was last accepted
	requests int                  // rate-limit: token requests so far
}

func newDefects(names []string) (*defects, error) {
	if len(names) == 0 {
		return nil, nil
	}
	table := map[string]func(*defects){}
	for _, r := range mutationTable() {
		table[r.Name] = r.apply
	}
	d := &defects{issued: map[string]string{}, cached: map[string]cachedToken{}, lastUse: map[string]time.Time{}}
	for _, n := range names {
		apply, ok := table[n]
		if !ok {
			var known []string
			for _, m := range Mutations() {
				known = append(known, m.Name)
			}
			return nil, fmt.Errorf("mockserver: mutations: unknown mutation %q (known: %s)", n, strings.Join(known, ", "))
		}
		apply(d)
	}
	return d, nil
}

// capturedResponse is a response held back so that mutations can change it.
type capturedResponse struct {
	status int
	header http.Header
	body   bytes.Buffer
}

func (c *capturedResponse) Header() http.Header { return c.header }
func (c *capturedResponse) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}
func (c *capturedResponse) Write(p []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	return c.body.Write(p)
}

// responseMutation changes a captured response; req carries the request
// and its body.
type responseMutation func(req *mutationRequest, res *capturedResponse)

type mutationRequest struct {
	*http.Request
	body []byte
	flow *spec.Flow
}

// mutateResponses wraps a handler so that mutations can rewrite its answers.
func mutateResponses(flow *spec.Flow, muts []responseMutation, next http.Handler) http.Handler {
	if len(muts) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		res := &capturedResponse{header: http.Header{}}
		next.ServeHTTP(res, r)
		if res.status == 0 {
			res.status = http.StatusOK
		}
		req := &mutationRequest{Request: r, body: body, flow: flow}
		for _, m := range muts {
			m(req, res)
		}
		for k, v := range res.header {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(res.status)
		_, _ = w.Write(res.body.Bytes())
	})
}

func successOnly(m responseMutation) responseMutation {
	return func(req *mutationRequest, res *capturedResponse) {
		if res.status < 300 {
			m(req, res)
		}
	}
}

func errorsOnly(m responseMutation) responseMutation {
	return func(req *mutationRequest, res *capturedResponse) {
		if res.status >= 400 {
			m(req, res)
		}
	}
}

func statusOnly(status int, m responseMutation) responseMutation {
	return func(req *mutationRequest, res *capturedResponse) {
		if res.status == status {
			m(req, res)
		}
	}
}

func noCredentialsOnly(m responseMutation) responseMutation {
	return func(req *mutationRequest, res *capturedResponse) {
		if req.Header.Get("Authorization") == "" && res.status == http.StatusUnauthorized {
			m(req, res)
		}
	}
}

func withCredentialsOnly(m responseMutation) responseMutation {
	return func(req *mutationRequest, res *capturedResponse) {
		if req.Header.Get("Authorization") != "" {
			m(req, res)
		}
	}
}

func dropHeader(name string) responseMutation {
	return func(_ *mutationRequest, res *capturedResponse) { res.header.Del(name) }
}

func setHeader(name, value string) responseMutation {
	return func(_ *mutationRequest, res *capturedResponse) { res.header.Set(name, value) }
}

func setStatus(status int) responseMutation {
	return func(_ *mutationRequest, res *capturedResponse) { res.status = status }
}

func replaceBody(body string) responseMutation {
	return func(_ *mutationRequest, res *capturedResponse) {
		res.body.Reset()
		res.body.WriteString(body)
	}
}

// Token response members, by the flow's pointers.
const (
	accessTokenField = iota
	tokenTypeField
	expiresInField
	scopeField
)

func fieldPointer(f *spec.Flow, field int) spec.Pointer {
	switch field {
	case accessTokenField:
		return f.Token.Response.AccessToken
	case tokenTypeField:
		return f.Token.Response.TokenType
	case scopeField:
		return f.Token.Response.Scope
	default:
		return f.Token.Response.ExpiresIn
	}
}

// editJSON decodes the body, lets edit change it, and encodes it back.
func editJSON(res *capturedResponse, edit func(doc map[string]any)) {
	dec := json.NewDecoder(bytes.NewReader(res.body.Bytes()))
	dec.UseNumber()
	var doc map[string]any
	if dec.Decode(&doc) != nil {
		return
	}
	edit(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		return
	}
	res.body.Reset()
	res.body.Write(out)
}

func (d *defects) setMember(field int, v any) responseMutation {
	return func(req *mutationRequest, res *capturedResponse) {
		editJSON(res, func(doc map[string]any) { _ = fieldPointer(req.flow, field).Set(doc, v) })
	}
}

func (d *defects) mapMember(field int, f func(any) any) responseMutation {
	return func(req *mutationRequest, res *capturedResponse) {
		p := fieldPointer(req.flow, field)
		editJSON(res, func(doc map[string]any) {
			if v, ok := p.Get(doc); ok {
				_ = p.Set(doc, f(v))
			}
		})
	}
}

func (d *defects) dropMember(field int) responseMutation {
	return func(req *mutationRequest, res *capturedResponse) {
		p := fieldPointer(req.flow, field)
		editJSON(res, func(doc map[string]any) {
			parent := doc
			tokens := p.Tokens()
			for _, t := range tokens[:len(tokens)-1] {
				next, ok := parent[t].(map[string]any)
				if !ok {
					return
				}
				parent = next
			}
			delete(parent, p.Name())
		})
	}
}

// duplicateMember appends a second copy of a top-level member to the object.
func (d *defects) duplicateMember(field int) responseMutation {
	return func(req *mutationRequest, res *capturedResponse) {
		name := fieldPointer(req.flow, field).Name()
		b := bytes.TrimSpace(res.body.Bytes())
		if len(b) < 2 || b[len(b)-1] != '}' {
			return
		}
		key, _ := json.Marshal(name)
		out := append(append([]byte{}, b[:len(b)-1]...), []byte(`,`+string(key)+`:"duplicate"}`)...)
		res.body.Reset()
		res.body.Write(out)
	}
}

func addMember(name string, v any) responseMutation {
	return func(_ *mutationRequest, res *capturedResponse) {
		editJSON(res, func(doc map[string]any) { doc[name] = v })
	}
}

func toString(v any) any { return fmt.Sprint(v) }

func addSeconds(n int64) func(any) any {
	return func(v any) any {
		if num, ok := v.(json.Number); ok {
			if i, err := num.Int64(); err == nil {
				return i + n
			}
		}
		return v
	}
}

func timesThousand(v any) any {
	if num, ok := v.(json.Number); ok {
		if i, err := num.Int64(); err == nil {
			return i * 1000
		}
	}
	return v
}

// echoSecret puts the secret the request carried into the error description.
func (d *defects) echoSecret(req *mutationRequest, res *capturedResponse) {
	secret := ""
	if _, s, ok, _ := authheader.ParseBasic(req.Header.Get("Authorization")); ok {
		secret = s
	} else if doc, err := parseTokenBody(mediaTypeOf(req.Request), req.body); err == nil {
		secret, _ = stringField(doc, req.flow.Token.Request.ClientSecret)
	}
	if secret == "" {
		return
	}
	editJSON(res, func(doc map[string]any) { doc["error_description"] = "wrong secret " + secret })
}

func mediaTypeOf(r *http.Request) string {
	mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	return strings.TrimSpace(mt)
}

// reflectToken repeats the presented token in a rejection's body.
func reflectToken(req *mutationRequest, res *capturedResponse) {
	if tok, result := authheader.ParseBearer(req.Header.Get("Authorization")); result == authheader.BearerOK {
		editJSON(res, func(doc map[string]any) { doc["token"] = tok })
	}
}

// rewriteBearer applies the bearer-parsing defects to one request.
func (d *defects) rewriteBearer(r *http.Request, header, token string, result authheader.BearerResult) (string, authheader.BearerResult) {
	if d.caseSensitiveScheme && result == authheader.BearerOK && !strings.HasPrefix(strings.TrimSpace(header), "Bearer ") {
		return "", authheader.BearerMissing
	}
	if d.singleSpaceOnly && result == authheader.BearerOK && strings.Contains(header, "Bearer  ") {
		return "", authheader.BearerMalformed
	}
	if d.acceptAnyScheme && result == authheader.BearerMissing && header != "" {
		_, rest, found := strings.Cut(strings.TrimSpace(header), " ")
		if !found {
			rest = strings.TrimPrefix(strings.TrimSpace(header), "Bearer")
		}
		if rest = strings.TrimSpace(rest); rest != "" {
			return rest, authheader.BearerOK
		}
	}
	if d.acceptQueryToken && result == authheader.BearerMissing && header == "" {
		if q := r.URL.Query().Get("access_token"); q != "" {
			return q, authheader.BearerOK
		}
	}
	return token, result
}

// defectiveValidator is a TokenValidator with the validation defects.
type defectiveValidator struct {
	inner  TokenValidator
	d      *defects
	any    *tokens.Grant
	fr     *flowRuntime     // the flow validated, for the JWT defects
	others []TokenValidator // accept-other-flow-tokens: the other flows' validators
}

func (v defectiveValidator) Validate(raw string, now time.Time) (*tokens.Grant, bool) {
	if g, ok := v.inner.Validate(raw, now); ok {
		v.d.touch(raw, now)
		return g, true
	}
	if v.d.expirySlides && v.fr != nil {
		// Dead by its exp, but used within the flow's lifetime: alive.
		if g, ok := v.inner.Validate(raw, time.Unix(0, 0)); ok && v.d.usedWithin(raw, now, v.fr.lifetime) {
			v.d.touch(raw, now)
			return g, true
		}
	}
	for _, o := range v.others {
		if g, ok := o.Validate(raw, now); ok {
			return g, true
		}
	}
	if v.d.acceptExpired {
		if g, ok := v.inner.Validate(raw, time.Unix(0, 0)); ok {
			return g, true
		}
	}
	if v.d.forgesJWT() && v.fr != nil && v.fr.signer != nil {
		if g, ok := v.d.acceptForgedJWT(v.fr, raw, now); ok {
			return g, true
		}
	}
	if v.d.acceptAnyBearer {
		return v.any, true
	}
	return nil, false
}

// checkParameters applies the parameter defects to a parsed token request.
func (d *defects) checkParameters(tok spec.TokenOperation, doc map[string]any) *oautherr.Error {
	if d.rejectUnknownParams {
		known := map[string]bool{}
		for _, p := range []spec.Pointer{tok.Request.ClientID, tok.Request.ClientSecret, tok.Request.GrantType, tok.Request.Scope} {
			if !p.IsZero() {
				known[p.Tokens()[0]] = true
			}
		}
		for k := range doc {
			if !known[k] {
				return oautherr.New(oautherr.InvalidRequest, "unknown parameter '"+truncate(k, 40)+"'")
			}
		}
	}
	if d.emptyScopeInvalid && !tok.Request.Scope.IsZero() {
		if v, ok := tok.Request.Scope.Get(doc); ok && v == "" {
			return oautherr.New(oautherr.InvalidScope, "scope is empty")
		}
	}
	return nil
}

// firstFormValues parses a form keeping the first of repeated parameters.
func firstFormValues(body []byte) (map[string]any, error) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("the form body is malformed: %w", err)
	}
	doc := map[string]any{}
	for k, v := range values {
		doc[k] = v[0]
	}
	return doc, nil
}

// cachedToken is a token reissue-cached-token hands out again.
type cachedToken struct {
	token string
	until time.Time
}

// reissue returns the token cached for key while its cache entry lasts
// (the token's lifetime plus a minute: the defect), else caches token.
func (d *defects) reissue(key, token string, now time.Time, lifetime time.Duration) string {
	if !d.reissueCached {
		return token
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.cached[key]; ok && now.Before(c.until) {
		return c.token
	}
	d.cached[key] = cachedToken{token: token, until: now.Add(lifetime + time.Minute)}
	return token
}

// touch records that a token was accepted at now (expiry-slides).
func (d *defects) touch(raw string, now time.Time) {
	if !d.expirySlides {
		return
	}
	d.mu.Lock()
	d.lastUse[raw] = now
	d.mu.Unlock()
}

// usedWithin reports whether raw was accepted less than idle before now.
func (d *defects) usedWithin(raw string, now time.Time, idle time.Duration) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	last, ok := d.lastUse[raw]
	return ok && now.Sub(last) < idle
}

// rawBasic decodes HTTP Basic credentials without the form-decoding RFC
// 6749 Appendix B asks for (basic-no-form-decode).
func rawBasic(header string) (id, secret string, ok bool) {
	scheme, rest, found := strings.Cut(header, " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil {
		return "", "", false
	}
	id, secret, ok = strings.Cut(string(raw), ":")
	return id, secret, ok
}

// queryCredentials returns the client credentials of the request URI
// (credentials-in-query), under the body's member names.
func queryCredentials(r *http.Request, idName, secretName string) (id, secret string) {
	q := r.URL.Query()
	return q.Get(idName), q.Get(secretName)
}

// appendSpace adds a trailing space to a string member.
func appendSpace(v any) any {
	if s, ok := v.(string); ok {
		return s + " "
	}
	return v
}

// mangleToken applies the issuance defects to a new token: a space inside
// it, or the first token of the client again. store records a changed token.
func (d *defects) mangleToken(key, token string, store func(string)) string {
	if d.tokenWithSpace && len(token) > 8 {
		token = token[:8] + " " + token[8:]
		store(token)
	}
	if d.repeatToken {
		d.mu.Lock()
		defer d.mu.Unlock()
		if first, ok := d.issued[key]; ok {
			return first
		}
		d.issued[key] = token
	}
	return token
}

func splitCacheControl(_ *mutationRequest, res *capturedResponse) {
	if res.header.Get("Cache-Control") != "" {
		res.header["Cache-Control"] = []string{"no-cache", "no-store"}
	}
}

// reorderChallenge reverses the parameters of each challenge and changes
// the case of their names (RFC 9110 section 11.2: case-insensitive).
func reorderChallenge(_ *mutationRequest, res *capturedResponse) {
	values := res.header.Values("Www-Authenticate")
	cs, err := authheader.ParseChallenges(values...)
	if err != nil || len(cs) == 0 {
		return
	}
	var out []string
	for _, c := range cs {
		var params []authheader.Param
		for i := len(c.Params) - 1; i >= 0; i-- {
			p := c.Params[i]
			params = append(params, authheader.Param{Name: strings.ToUpper(p.Name[:1]) + p.Name[1:], Value: p.Value})
		}
		c.Params = params
		out = append(out, c.String())
	}
	res.header["Www-Authenticate"] = out
}

// invalidClient400 answers invalid_client with 400 and no challenge when the
// client did not use HTTP Basic.
func invalidClient400(req *mutationRequest, res *capturedResponse) {
	if _, _, ok, _ := authheader.ParseBasic(req.Header.Get("Authorization")); ok {
		return
	}
	if bytes.Contains(res.body.Bytes(), []byte(`"invalid_client"`)) {
		res.status = http.StatusBadRequest
		res.header.Del("Www-Authenticate")
	}
}

// rateLimit turns every 10th token request into a 429.
func (d *defects) rateLimit(_ *mutationRequest, res *capturedResponse) {
	d.mu.Lock()
	d.requests++
	limited := d.requests%10 == 0
	d.mu.Unlock()
	if limited {
		res.status = http.StatusTooManyRequests
		res.header = http.Header{"Retry-After": {"1"}, "Cache-Control": {"no-store"}, "Content-Type": {"application/json"}}
		res.body.Reset()
		res.body.WriteString(`{"error":"invalid_request","error_description":"rate limited"}`)
	}
}

// forgesJWT reports whether a JWT validation defect is on.
func (d *defects) forgesJWT() bool {
	return d.jwtAcceptNone || d.jwtIgnoreSignature || d.jwtHMACPublicKey || d.jwtTrustEmbeddedJWK || d.jwtSkipUnknownKid
}

// acceptForgedJWT applies the JWT validation defects to a token the correct
// validator refused: each lets one kind of forgery through when its claims
// are otherwise valid (exp in the future, the flow in aud).
func (d *defects) acceptForgedJWT(fr *flowRuntime, raw string, now time.Time) (*tokens.Grant, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, false
	}
	var h struct {
		Alg string          `json:"alg"`
		Kid string          `json:"kid"`
		JWK json.RawMessage `json:"jwk"`
	}
	if b, err := base64.RawURLEncoding.DecodeString(parts[0]); err != nil || json.Unmarshal(b, &h) != nil {
		return nil, false
	}
	signer := fr.signer
	var forged bool
	switch {
	case d.jwtAcceptNone && strings.EqualFold(h.Alg, "none"):
		forged = true
	case d.jwtIgnoreSignature && h.Alg == signer.Algorithm() && (h.Kid == "" || h.Kid == signer.KeyID()):
		forged = true
	case d.jwtSkipUnknownKid && h.Kid != "" && h.Kid != signer.KeyID():
		forged = true
	case d.jwtHMACPublicKey && h.Alg == "HS256":
		forged = hmacWithPublicKey(signer.PublicKey(), parts)
	case d.jwtTrustEmbeddedJWK && len(h.JWK) > 0:
		forged = verifiesWithEmbeddedKey(raw, signer.Algorithm())
	}
	if !forged {
		return nil, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, false
	}
	var c struct {
		Audience  jwt.Audience     `json:"aud"`
		ExpiresAt *jwt.NumericDate `json:"exp"`
		ClientID  string           `json:"client_id"`
		Scope     string           `json:"scope"`
	}
	if json.Unmarshal(payload, &c) != nil || c.ExpiresAt == nil || !c.ExpiresAt.Time().After(now) || !slices.Contains(c.Audience, fr.flow.Name) {
		return nil, false
	}
	return fr.grants.get(fr.flow.Name, c.ClientID, c.Scope), true
}

// hmacWithPublicKey checks an HS256 signature with the PEM of the public
// key as the secret, as verifiers that take the algorithm from the token do.
func hmacWithPublicKey(pub crypto.PublicKey, parts []string) bool {
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

// verifiesWithEmbeddedKey checks a JWS with the key of its own jwk header.
func verifiesWithEmbeddedKey(raw, alg string) bool {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil || len(jws.Signatures) != 1 || jws.Signatures[0].Header.JSONWebKey == nil {
		return false
	}
	_, err = jws.Verify(jws.Signatures[0].Header.JSONWebKey)
	return err == nil
}

// rewire applies the defects that change the server rather than one
// answer: a signer with typ JWT, a JWK Set with another key, the metadata's
// issuer and token endpoint. They have no hook of their own: routes(), run
// once by New, calls rewire before any route reads what it changes. Key
// generation cannot fail for an algorithm a flow already signs with; if it
// did, the server stays as it is.
func (d *defects) rewire(s *Server) {
	d.clock = s.opts.Clock
	d.signers = map[string]*tokens.Signer{}
	if d.metadataWrongIssuer {
		s.opts.Issuer = "https://auth.internal.invalid"
	}
	var keys []json.RawMessage
	for _, fr := range s.flows {
		if fr.signer == nil {
			continue
		}
		if d.jwtTypJWT {
			if alt, err := tokens.NewSigner(tokens.SignerOptions{Algorithm: fr.signer.Algorithm(), Type: "JWT"}); err == nil {
				fr.signer = alt
			}
		}
		d.signers[fr.flow.Name] = fr.signer
		published := fr.signer
		if d.jwksWrongKey {
			if other, err := tokens.NewSigner(tokens.SignerOptions{Algorithm: fr.signer.Algorithm()}); err == nil {
				published = other
			}
		}
		var set struct {
			Keys []json.RawMessage `json:"keys"`
		}
		if json.Unmarshal(published.JWKS(), &set) == nil {
			keys = append(keys, set.Keys...)
		}
	}
	if d.jwtTypJWT || d.jwksWrongKey {
		if b, err := json.Marshal(map[string]any{"keys": dedupeKeys(keys)}); err == nil {
			s.jwks = b
		}
	}
	if d.metadataWrongTokenEndpoint && s.metadata != nil {
		flow := *s.metadata.flow
		flow.Token.Path += "/v2"
		s.metadata = &flowRuntime{flow: &flow, signer: s.metadata.signer}
	}
}

// dropJTI re-signs an issued JWT without its jti claim.
func (d *defects) dropJTI(req *mutationRequest, res *capturedResponse) {
	signer := d.signers[req.flow.Name]
	if signer == nil {
		return
	}
	p := fieldPointer(req.flow, accessTokenField)
	editJSON(res, func(doc map[string]any) {
		v, _ := p.Get(doc)
		raw, ok := v.(string)
		if !ok {
			return
		}
		c, err := signer.Verify(raw, d.clock.Now())
		if err != nil {
			return
		}
		c.ID = ""
		if out, err := signer.Sign(c); err == nil {
			_ = p.Set(doc, out)
		}
	})
}
