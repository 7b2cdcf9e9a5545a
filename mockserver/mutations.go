package mockserver

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Mutation is a deliberate defect the mock can be told to have
// (Options.Mutations), so that the conformance suite can be shown to catch
// real defects: suites/selftest runs `tollgate check` against the mock with
// each one and expects named checks to fail. Mutations of Area "variation"
// are not defects but conformant oddities of real servers, which a good
// suite passes. A mutated mock is never the default and says so in its
// banner.
//
// A mutation never reaches the correct request path: New assembles a
// mutated server from other components (an authenticator, a minter, a
// validator, an invalidator), from wrappers around handlers that rewrite
// a request or an answer, and from a construction step that replaces
// signers, keys or metadata. The files that serve requests hold none of it.
type Mutation struct {
	Name        string // kebab-case, describes the bug
	Area        string // issuance, client-auth, bearer, expiry, jwt, metadata, revocation, introspection, graphql or variation
	Description string
}

// mutationRow is a Mutation and how it changes the server's assembly.
type mutationRow struct {
	Mutation
	apply func(*mutant)
}

// mutationTable lists every mutation with the change it makes.
func mutationTable() []mutationRow {
	m := func(name, area, desc string, apply func(*mutant)) mutationRow {
		return mutationRow{Mutation{name, area, desc}, apply}
	}
	return []mutationRow{
		m("no-cache-control", "issuance", "token responses and errors carry no Cache-Control", func(m *mutant) { m.answer(endpointToken, dropHeader("Cache-Control")) }),
		m("text-plain-token", "issuance", "token responses are labelled text/plain", func(m *mutant) { m.answer(endpointToken, successOnly(setHeader("Content-Type", "text/plain"))) }),
		m("token-type-mac", "issuance", "token_type is mac, not Bearer", func(m *mutant) { m.answer(endpointToken, successOnly(setMember(tokenTypeField, "mac"))) }),
		m("expires-in-string", "issuance", "expires_in is a JSON string", func(m *mutant) { m.answer(endpointToken, successOnly(mapMember(expiresInField, toString))) }),
		m("expires-in-wrong", "issuance", "expires_in is 100 s longer than the real lifetime", func(m *mutant) { m.answer(endpointToken, successOnly(mapMember(expiresInField, addSeconds(100)))) }),
		m("expires-in-milliseconds", "expiry", "expires_in is in milliseconds", func(m *mutant) { m.answer(endpointToken, successOnly(mapMember(expiresInField, timesThousand))) }),
		m("no-expires-in", "expiry", "the token response has no lifetime", func(m *mutant) { m.answer(endpointToken, successOnly(dropMember(expiresInField))) }),
		m("duplicate-member", "issuance", "the token response repeats its token member", func(m *mutant) { m.answer(endpointToken, successOnly(repeatMember(accessTokenField))) }),
		m("refresh-token", "issuance", "client-credentials responses carry a refresh_token", func(m *mutant) { m.answer(endpointToken, successOnly(addMember("refresh_token", "r-1"))) }),
		m("token-with-space", "issuance", "issued tokens contain a space, so no Authorization header can carry them", func(m *mutant) { m.mint(m.tokenWithSpace) }),
		m("repeat-token", "issuance", "every request of a client gets the same token", func(m *mutant) { m.mint(m.repeatToken) }),
		m("token-on-get", "issuance", "a GET to the token endpoint issues a token", func(m *mutant) { m.rewrite(endpointToken, getAsPost) }),
		m("errors-without-code", "issuance", "error bodies have a message but no error member", func(m *mutant) { m.answer(endpointToken, errorsOnly(replaceBody(`{"message":"request failed"}`))) }),
		m("errors-as-500", "issuance", "every token-endpoint error is a 500", func(m *mutant) { m.answer(endpointToken, errorsOnly(setStatus(http.StatusInternalServerError))) }),
		m("echo-secret", "client-auth", "error descriptions repeat the client secret that was sent", func(m *mutant) { m.answer(endpointToken, errorsOnly(echoSecret)) }),
		m("basic-no-form-decode", "client-auth", "HTTP Basic credentials are not form-decoded (RFC 6749 Appendix B), so ids and secrets with reserved characters fail", func(m *mutant) { m.rewrite(endpointToken, basicWithoutFormDecoding) }),
		m("credentials-in-query", "client-auth", "client_id and client_secret in the request URI authenticate the client", func(m *mutant) { m.rewrite(endpointToken, credentialsFromQuery) }),
		m("grant-more-scope", "issuance", "a request for some scopes is granted every scope the client may have", func(m *mutant) { m.mint(grantEveryAllowedScope) }),
		m("scope-trailing-space", "issuance", "the granted scope ends with a space", func(m *mutant) { m.answer(endpointToken, successOnly(mapMember(scopeField, appendSpace))) }),
		m("sequential-tokens", "issuance", "tokens are a counter: tok-001, tok-002, …", func(m *mutant) { m.mint(m.sequentialTokens) }),
		m("empty-scope-echoed", "issuance", `scope= (no value) is answered with "scope":"" instead of as if omitted`, func(m *mutant) { m.answer(endpointToken, successOnly(echoEmptyScope)) }),
		m("token-500-unknown-basic-client", "client-auth", "HTTP Basic naming an unknown client gets a 500 (as go-oauth2's example server)", func(m *mutant) { m.rewrite(endpointToken, m.unknownBasicClientAs500) }),
		m("token-on-get-query-credentials", "issuance", "a GET whose query holds the token request and the credentials issues a token", func(m *mutant) { m.rewrite(endpointToken, getQueryAsForm) }),
		m("token-error-access-denied", "issuance", "grant_type=password is refused with access_denied, an authorization-endpoint code", func(m *mutant) { m.answer(endpointToken, errorsOnly(accessDeniedForPassword)) }),
		m("token-response-other-names", "issuance", "token responses name their members in another convention than the document (access_token for accessToken)", func(m *mutant) { m.answer(endpointToken, successOnly(otherMemberNames)) }),
		m("expiry-slides", "expiry", "each use of a token extends its life by its lifetime (an idle timeout instead of exp)", func(m *mutant) { m.configure(keepExpiredTokens); m.validate(m.slidingExpiry) }),
		m("reissue-cached-token", "expiry", "a client's token is cached for its lifetime plus a minute and handed out again, dead or alive", func(m *mutant) { m.mint(m.reissueCached) }),
		m("accept-other-flow-tokens", "bearer", "a flow's protected operations accept tokens issued for another flow (another audience)", func(m *mutant) { m.validate(m.otherFlowsToo) }),
		m("ignore-secret", "client-auth", "a known client gets a token with any secret", func(m *mutant) { m.authenticate(m.ignoreSecret) }),
		m("accept-unknown-client", "client-auth", "an unknown client id gets a token", func(m *mutant) { m.authenticate(acceptUnknownClient) }),
		m("accept-no-client-auth", "client-auth", "a request without credentials gets a token", func(m *mutant) { m.authenticate(m.firstClientWithoutAuth) }),
		m("basic-401-without-challenge", "client-auth", "failed client authentication gets 401 with no WWW-Authenticate", func(m *mutant) {
			m.answer(endpointToken, statusOnly(http.StatusUnauthorized, dropHeader("Www-Authenticate")))
		}),
		m("reject-basic", "client-auth", "HTTP Basic client authentication is refused", func(m *mutant) { m.rewrite(endpointToken, refuseBasic) }),
		m("reject-json", "issuance", "JSON token requests are refused", func(m *mutant) { m.rewrite(endpointToken, refuseJSON) }),
		m("allow-two-auth-methods", "client-auth", "Basic and body credentials together are accepted", func(m *mutant) { m.rewrite(endpointToken, dropBodySecretBesideBasic) }),
		m("ignore-missing-grant-type", "issuance", "a request without grant_type gets a token", func(m *mutant) { m.rewrite(endpointToken, supplyMissingGrantType) }),
		m("accept-any-grant-type", "issuance", "any grant_type gets a token", func(m *mutant) { m.rewrite(endpointToken, replaceGrantType) }),
		m("reject-unknown-params", "issuance", "unknown request parameters are refused", func(m *mutant) { m.rewrite(endpointToken, refuseUnknownParameters) }),
		m("empty-scope-invalid", "issuance", "scope= (no value) is refused instead of treated as omitted", func(m *mutant) { m.rewrite(endpointToken, refuseEmptyScope) }),
		m("allow-repeated-params", "issuance", "a repeated form parameter is accepted", func(m *mutant) { m.rewrite(endpointToken, keepFirstOfRepeatedParameters) }),
		m("accept-any-bearer", "bearer", "any Bearer token is accepted", func(m *mutant) { m.validate(acceptAnyToken) }),
		m("accept-expired", "expiry", "expired opaque and UUID tokens are still accepted", func(m *mutant) { m.configure(keepExpiredTokens); m.validate(acceptExpired) }),
		m("accept-expired-behind-403", "expiry", "expired opaque and UUID tokens are still accepted, on routes that answer every valid token 403 by design (an expired token keeps getting the valid token's 403, not the invalid one's 401)", func(m *mutant) {
			m.configure(keepExpiredTokens)
			m.validate(acceptExpired)
			m.answer(endpointProtected, successOnly(inOrder(setStatus(http.StatusForbidden), setHeader("Www-Authenticate", `Bearer realm="tollgate", error="insufficient_scope"`), replaceBody(`{}`))))
		}),
		m("ignore-scope", "bearer", "operations that need a scope accept any valid token", func(m *mutant) { m.validate(grantEveryScope) }),
		m("case-sensitive-scheme", "bearer", "only the exact spelling Bearer is recognised", func(m *mutant) { m.rewrite(endpointProtected, exactBearerSpelling) }),
		m("accept-any-scheme", "bearer", "a valid token is accepted after any scheme, or none", func(m *mutant) { m.rewrite(endpointProtected, anySchemeAsBearer) }),
		m("accept-query-token", "bearer", "a token in the access_token query parameter is accepted", func(m *mutant) { m.rewrite(endpointProtected, queryTokenAsBearer) }),
		m("empty-bearer-500", "bearer", "a malformed Bearer header gets a 500", func(m *mutant) { m.rewrite(endpointProtected, malformedBearerAs500) }),
		m("single-space-only", "bearer", "more than one space after Bearer is refused", func(m *mutant) { m.rewrite(endpointProtected, refuseSeveralSpaces) }),
		m("401-without-challenge", "bearer", "401 answers on resources carry no WWW-Authenticate", func(m *mutant) {
			m.answer(endpointProtected, statusOnly(http.StatusUnauthorized, dropHeader("Www-Authenticate")))
		}),
		m("bare-challenge", "bearer", "the challenge is a bare Bearer with no parameters", func(m *mutant) {
			m.answer(endpointProtected, statusOnly(http.StatusUnauthorized, setHeader("Www-Authenticate", "Bearer")))
		}),
		m("error-code-without-credentials", "bearer", "the challenge to a request without credentials names invalid_token", func(m *mutant) {
			m.answer(endpointProtected, noCredentialsOnly(setHeader("Www-Authenticate", `Bearer realm="tollgate", error="invalid_token"`)))
		}),
		m("insufficient-scope-401", "bearer", "a valid token without the scope an operation needs gets 401 instead of 403 (the challenge still says insufficient_scope)", func(m *mutant) {
			m.answer(endpointProtected, statusOnly(http.StatusForbidden, setStatus(http.StatusUnauthorized)))
		}),
		m("invalid-token-403", "bearer", "unknown and expired tokens get 403 instead of 401", func(m *mutant) {
			m.answer(endpointProtected, withCredentialsOnly(statusOnly(http.StatusUnauthorized, setStatus(http.StatusForbidden))))
		}),
		m("no-auth-on-route", "bearer", "the protected operations serve a request that carries no Authorization header at all (an auth middleware that lets anonymous requests through); bad tokens are still refused", func(m *mutant) {
			m.wrap(endpointProtected, serveAnonymous)
		}),
		m("valid-token-403-no-challenge", "bearer", "valid tokens are refused with 403 and no WWW-Authenticate; invalid ones get 401 (RFC 6750 section 3 wants a challenge on both)", func(m *mutant) {
			m.answer(endpointProtected, successOnly(inOrder(setStatus(http.StatusForbidden), dropHeader("Www-Authenticate"), replaceBody(`{}`))))
		}),
		m("forget-token-after-forgery", "jwt", "a JWT refused for its signature (or any other reason) gets its jti deny-listed, so the genuine token with that jti stops working after a forgery of it", func(m *mutant) { m.validate(m.forgetForgedJTIs) }),
		m("reflect-token", "bearer", "rejections repeat the token that was sent", func(m *mutant) { m.answer(endpointProtected, statusOnly(http.StatusUnauthorized, reflectToken)) }),
		m("jwt-accept-alg-none", "jwt", "an unsigned JWT (alg none, in any case) with valid claims is accepted", func(m *mutant) { m.validate(acceptForged(unsignedJWT)) }),
		m("jwt-ignore-signature", "jwt", "a JWT with the expected alg and kid is accepted whatever its signature", func(m *mutant) { m.validate(acceptForged(anySignature)) }),
		m("jwt-hmac-public-key", "jwt", "HS256 JWTs are verified with the public key's PEM as the HMAC secret (algorithm confusion)", func(m *mutant) { m.validate(acceptForged(hmacWithPublicKey)) }),
		m("jwt-trust-embedded-jwk", "jwt", "a JWT is verified with the key in its own jwk header", func(m *mutant) { m.validate(acceptForged(embeddedKey)) }),
		m("jwt-skip-unknown-kid", "jwt", "a JWT whose kid is unknown is accepted without a signature check", func(m *mutant) { m.validate(acceptForged(unknownKeyID)) }),
		m("jwt-accept-null-signature", "jwt", "a JWT with the expected alg and an empty signature segment (header.payload.) is accepted", func(m *mutant) { m.validate(acceptForged(nullSignature)) }),
		m("jwt-accept-hs256-empty-key", "jwt", "HS256 JWTs are verified with an empty secret (an HMAC key never configured)", func(m *mutant) { m.validate(acceptForged(hmacEmptyKey)) }),
		m("jwt-alg-none-blocklist", "jwt", "alg none is refused only as none, None and NONE: any other case (nOnE) is accepted unsigned", func(m *mutant) { m.validate(acceptForged(noneBlocklist)) }),
		m("jwt-kid-file-path", "jwt", "HS256 JWTs are verified with the content of the file their kid names (../../dev/null: an empty key)", func(m *mutant) { m.validate(acceptForged(kidAsKeyFile)) }),
		m("jwt-kid-sql-injection", "jwt", "the HS256 key is looked up with the kid pasted into SQL, so a UNION SELECT kid chooses it", func(m *mutant) { m.validate(acceptForged(kidInSQL)) }),
		m("jwt-trust-jku", "jwt", "a JWT is verified with the keys of the JWK Set its jku header names, fetched from there", func(m *mutant) { m.validate(acceptForged(trustJKU)) }),
		m("jwt-fetch-jku", "jwt", "the JWK Set a JWT's jku names is fetched (a blind server-side request), though the token is then refused", func(m *mutant) { m.validate(fetchJKU) }),
		m("jwt-typ-jwt", "jwt", "JWTs are issued (and accepted) with typ JWT instead of at+jwt", func(m *mutant) { m.configure(signWithTypJWT) }),
		m("jwt-missing-jti", "jwt", "JWTs are issued without a jti claim", func(m *mutant) { m.answer(endpointToken, successOnly(m.dropJTI)) }),
		m("jwt-no-kid-two-keys", "jwt", "JWTs name no kid while the JWK Set holds two signing keys", func(m *mutant) { m.configure(signWithoutKeyID(1)) }),
		m("jwks-wrong-key", "jwt", "the JWK Set publishes a key other than the one tokens are signed with", func(m *mutant) { m.wrap(endpointJWKS, m.publishAnotherKey) }),
		m("metadata-wrong-issuer", "metadata", "the metadata and the tokens name an internal host as issuer (a server behind a proxy)", func(m *mutant) { m.configure(internalIssuer) }),
		m("openid-discovery-wrong-issuer", "metadata", "an OpenID discovery document, beside the correct RFC 8414 metadata, names an internal host as issuer", func(m *mutant) { m.openIDWrongIssuer() }),
		m("metadata-wrong-token-endpoint", "metadata", "the metadata's token_endpoint is a path the server does not serve", func(m *mutant) { m.configure(wrongTokenEndpoint) }),
		m("revoke-noop", "revocation", "revocation answers 200 but the token keeps working", func(m *mutant) { m.invalidate(neverInvalidate) }),
		m("revoke-204", "revocation", "a successful revocation answers 204 No Content instead of 200", func(m *mutant) { m.answer(endpointRevocation, statusOnly(http.StatusOK, noContent)) }),
		m("revoke-unknown-token-400", "revocation", "revoking a token the server does not know gets 400 invalid_request instead of 200", func(m *mutant) { m.wrap(endpointRevocation, m.refuseUnknownToken) }),
		m("revoke-without-auth", "revocation", "revocation takes the client id on trust: any secret, or none, will do", func(m *mutant) { m.authenticate(trustClientID(endpointRevocation)) }),
		m("revoke-refuses-client", "revocation", "the revocation endpoint the flow document declares refuses the client with 401 invalid_client", func(m *mutant) { m.authenticate(refuseEveryClient(endpointRevocation)) }),
		m("revoke-other-clients-token", "revocation", "any authenticated client can revoke any client's token", func(m *mutant) { m.wrap(endpointRevocation, m.revokeForAnyClient) }),
		m("jwt-revocation-ignored-by-cache", "revocation", "a revoked JWT whose verification is cached keeps working: revocation neither evicts the cache nor is consulted after it", func(m *mutant) { m.validate(m.rememberAccepted) }),
		m("introspect-without-auth", "introspection", "introspection answers anyone, without client authentication", func(m *mutant) { m.authenticate(trustClientID(endpointIntrospection)) }),
		m("introspect-dead-active", "introspection", "unknown, expired and revoked tokens are reported active", func(m *mutant) { m.answer(endpointIntrospection, m.inactiveAsActive) }),
		m("introspect-inactive-leaks-claims", "introspection", "the answer for an inactive token also names a client_id and token_type", func(m *mutant) { m.answer(endpointIntrospection, inactiveWithClaims) }),
		m("introspection-advertised-not-served", "introspection", "the metadata advertises an introspection endpoint that answers 404", func(m *mutant) { m.wrap(endpointIntrospection, notServed) }),
		// Conformant variations: different from the mock's usual answers
		// but allowed by the RFCs, so a good suite passes them.
		m("lowercase-token-type", "variation", "token_type is bearer in lower case (RFC 6749 5.1: case-insensitive)", func(m *mutant) { m.answer(endpointToken, successOnly(setMember(tokenTypeField, "bearer"))) }),
		m("charset-parameters", "variation", "JSON answers say application/json; charset=utf-8", func(m *mutant) {
			m.answer(endpointToken, setHeader("Content-Type", "application/json; charset=utf-8"))
			m.answer(endpointProtected, setHeader("Content-Type", "application/json; charset=utf-8"))
		}),
		m("split-cache-control", "variation", "Cache-Control comes as two field lines, no-cache then no-store", func(m *mutant) { m.answer(endpointToken, splitCacheControl) }),
		m("reordered-challenge", "variation", "challenge parameters in reverse order with mixed-case names", func(m *mutant) { m.answer(endpointProtected, reorderChallenge) }),
		m("extra-members", "variation", "token responses and errors carry members the RFCs do not define", func(m *mutant) { m.answer(endpointToken, addMember("x_vendor", map[string]any{"region": "eu"})) }),
		m("invalid-client-400", "variation", "invalid_client after body credentials is a 400 without a challenge (RFC 6749 5.2)", func(m *mutant) { m.answer(endpointToken, errorsOnly(invalidClient400)) }),
		m("revocation-delay", "variation", "a revocation takes effect one second after its 200 (RFC 7009 2.1: a propagation delay)", func(m *mutant) { m.invalidate(invalidateAfter(time.Second)) }),
		m("revoke-empty-body", "variation", "a successful revocation answers 200 with no body (RFC 7009 2.2: the client ignores it)", func(m *mutant) { m.answer(endpointRevocation, statusOnly(http.StatusOK, emptyBody)) }),
		m("openid-discovery-only", "variation", "metadata only as an OpenID discovery document, its jwks_uri at /oauth/jwks; the RFC 8414 metadata and /.well-known/jwks.json answer 404 (as zitadel's OP)", func(m *mutant) { m.openIDDiscoveryOnly() }),
		m("jwt-refuse-key-urls", "variation", "a JWT naming a jku or x5u is refused before any key lookup, and nothing is fetched (ASVS 5.0 9.1.3: an empty allowlist)", func(m *mutant) { m.validate(refuseKeyURLHeaders) }),
		m("valid-token-403", "variation", "valid tokens get 403 with a Bearer insufficient_scope challenge and an empty object, invalid ones 401 (as zitadel's userinfo answers a client-credentials token)", func(m *mutant) {
			m.answer(endpointProtected, successOnly(inOrder(setStatus(http.StatusForbidden), setHeader("Www-Authenticate", `Bearer realm="tollgate", error="insufficient_scope"`), replaceBody(`{}`))))
		}),
		m("invalid-token-400", "variation", "unknown, modified, expired and revoked tokens get 400 with the invalid_token challenge instead of 401 (RFC 6750 3.1: 401 is a SHOULD)", func(m *mutant) {
			m.answer(endpointProtected, withCredentialsOnly(statusOnly(http.StatusUnauthorized, setStatus(http.StatusBadRequest))))
		}),
		m("expires-in-rounded-down", "variation", "expires_in is one second short of the lifetime (exp minus now, truncated, as zitadel's OP answers 299 for 300)", func(m *mutant) {
			m.answer(endpointToken, successOnly(mapMember(expiresInField, addSeconds(-1))))
		}),
		m("problem-json-400-with-error", "variation", "token-endpoint errors are RFC 9457 problem documents that also carry the RFC 6749 error members", func(m *mutant) { m.answer(endpointToken, errorsOnly(problemDocument)) }),
		m("jwt-no-kid-one-key", "variation", "JWTs name no kid, and the JWK Set holds that one key (RFC 7515 4.1.4: kid is OPTIONAL)", func(m *mutant) { m.configure(signWithoutKeyID(0)) }),
		m("rate-limit", "variation", "every 10th token request gets 429 with Retry-After: 1", func(m *mutant) { m.answer(endpointToken, m.rateLimit) }),
		m("expired-without-error-code", "expiry", "invalid and expired tokens get a challenge without an error code", func(m *mutant) {
			m.answer(endpointProtected, withCredentialsOnly(statusOnly(http.StatusUnauthorized, setHeader("Www-Authenticate", `Bearer realm="tollgate"`))))
		}),
	}
}

// allMutations is every mutation: the table above and the GraphQL
// endpoint's (mutations_graphql.go).
func allMutations() []mutationRow { return append(mutationTable(), graphqlMutations()...) }

// Mutations returns the defects Options.Mutations can switch on.
func Mutations() []Mutation {
	var out []Mutation
	for _, r := range allMutations() {
		out = append(out, r.Mutation)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// mutationAssembly is the assembly of a server with the named mutations:
// the zero assembly (the correct server) when there are none.
func mutationAssembly(s *Server, names []string) (assembly, error) {
	if len(names) == 0 {
		return assembly{}, nil
	}
	table := map[string]func(*mutant){}
	for _, r := range allMutations() {
		table[r.Name] = r.apply
	}
	m := newMutant(s)
	for _, n := range names {
		apply, ok := table[n]
		if !ok {
			var known []string
			for _, mu := range Mutations() {
				known = append(known, mu.Name)
			}
			return assembly{}, fmt.Errorf("mockserver: mutations: unknown mutation %q (known: %s)", n, strings.Join(known, ", "))
		}
		apply(m)
	}
	return m.assembly(), nil
}

// notServed answers every request with the 404 of a route the server does
// not have: an endpoint that is advertised but missing.
func notServed(endpoint, http.Handler) http.Handler {
	return staticJSON(http.StatusNotFound, []byte(`{"error":"not_found","error_description":"no operation of the served flow documents has this path"}`))
}
