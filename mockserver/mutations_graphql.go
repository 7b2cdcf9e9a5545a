package mockserver

import (
	"bytes"
	"fmt"
	"net/http"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/tollgate/tollgate/mockserver/tokens"
	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/authheader"
)

// This file holds the defects of a GraphQL endpoint: gates (the Bearer
// check before anything is read) that let some requests through without a
// valid token, and field guards that serve a field without its scope.

// gateFunc adapts a function to graphqlGate.
type gateFunc func(w http.ResponseWriter, r *http.Request) (*tokens.Grant, bool)

func (f gateFunc) admit(w http.ResponseWriter, r *http.Request) (*tokens.Grant, bool) { return f(w, r) }

// guardFunc adapts a function to fieldGuard.
type guardFunc func(grant *tokens.Grant, f *ast.Field, scope string) bool

func (f guardFunc) allows(grant *tokens.Grant, field *ast.Field, scope string) bool {
	return f(grant, field, scope)
}

// anonymousGrant is the grant a defective gate serves a request that
// carries no valid token with: no client, no scope.
func anonymousGrant(fr *flowRuntime) *tokens.Grant { return tokens.NewGrant(fr.flow.Name, "", "") }

// admitAnonymousIf lets requests for which skip holds through the gate
// unchecked, as a server whose auth middleware forgets some requests.
func admitAnonymousIf(skip func(r *http.Request) bool) func(*flowRuntime, graphqlGate) graphqlGate {
	return func(fr *flowRuntime, next graphqlGate) graphqlGate {
		anonymous := anonymousGrant(fr)
		return gateFunc(func(w http.ResponseWriter, r *http.Request) (*tokens.Grant, bool) {
			if skip(r) {
				return anonymous, true
			}
			return next.admit(w, r)
		})
	}
}

// withoutAuthorization: the request carries no Authorization header.
func withoutAuthorization(r *http.Request) bool { return r.Header.Get("Authorization") == "" }

// isGET: auth is checked on POST only.
func isGET(r *http.Request) bool { return r.Method == http.MethodGet }

// isBatch: a POST whose body is a JSON array (a batch), checked by a
// middleware that reads only single operations' headers.
func isBatch(r *http.Request) bool {
	return r.Method == http.MethodPost && bytes.HasPrefix(bytes.TrimSpace(requestBody(r)), []byte("["))
}

// isAnonymousIntrospection: an introspection query without a token.
func isAnonymousIntrospection(r *http.Request) bool {
	if !withoutAuthorization(r) {
		return false
	}
	text := r.URL.Query().Get("query")
	if r.Method == http.MethodPost {
		text = string(requestBody(r))
	}
	return bytes.Contains([]byte(text), []byte("__schema")) || bytes.Contains([]byte(text), []byte("__type"))
}

// acceptExpiredOnGraphQL admits a token that is dead only by its expiry,
// on the GraphQL endpoint alone (its REST routes still refuse it): the
// endpoint validates tokens with its own, stale copy of the rules.
func (m *mutant) acceptExpiredOnGraphQL(fr *flowRuntime, next graphqlGate) graphqlGate {
	clock := m.s.opts.Clock
	return gateFunc(func(w http.ResponseWriter, r *http.Request) (*tokens.Grant, bool) {
		if tok, result := authheader.ParseBearer(r.Header.Get("Authorization")); result == authheader.BearerOK {
			if _, live := fr.validator.Validate(tok, clock.Now()); !live {
				if g, ok := fr.validator.Validate(tok, time.Unix(0, 0)); ok {
					return g, true
				}
			}
		}
		return next.admit(w, r)
	})
}

// firstQueryScopeIgnored serves the first field of the Query type that
// requires a scope to any token, as a resolver that forgot its check.
func firstQueryScopeIgnored(fr *flowRuntime, next fieldGuard) fieldGuard {
	var ignored *ast.FieldDefinition
	for _, sf := range fr.flow.GraphQL.ScopedFields() {
		if sf.Type == "Query" {
			ignored = sf.Definition
			break
		}
	}
	return guardFunc(func(grant *tokens.Grant, f *ast.Field, scope string) bool {
		return f.Definition == ignored || next.allows(grant, f, scope)
	})
}

// aliasSkipsScope checks a field's scope only when it is selected under
// its own name, as a per-field check keyed by the response key.
func aliasSkipsScope(_ *flowRuntime, next fieldGuard) fieldGuard {
	return guardFunc(func(grant *tokens.Grant, f *ast.Field, scope string) bool {
		return (f.Alias != "" && f.Alias != f.Name) || next.allows(grant, f, scope)
	})
}

// echoTokenInGraphQLError puts the refused token into the message of the
// GraphQL error.
func echoTokenInGraphQLError(req *mutationRequest, res *capturedResponse) {
	tok, result := authheader.ParseBearer(req.Header.Get("Authorization"))
	if result != authheader.BearerOK {
		return
	}
	editJSON(res, func(doc map[string]any) {
		errs, _ := doc["errors"].([]any)
		if len(errs) == 0 {
			return
		}
		if e, ok := errs[0].(map[string]any); ok {
			e["message"] = fmt.Sprintf("%v (token %s)", e["message"], tok)
		}
	})
}

// legacyGraphQLSignalling makes the GraphQL endpoints refuse with the
// legacy 200 + errors + "data": null shape.
func legacyGraphQLSignalling(s *Server) {
	for _, fr := range s.flows {
		if fr.graphqlSpec != nil {
			if g, err := fr.graphqlSpec.WithSignalling(spec.GraphQLErrors200); err == nil {
				fr.graphqlSpec = g
			}
		}
	}
}

// graphqlMutations are the defects (and one conformant variation) of the
// flows' GraphQL endpoints.
func graphqlMutations() []mutationRow {
	m := func(name, area, desc string, apply func(*mutant)) mutationRow {
		return mutationRow{Mutation{name, area, desc}, apply}
	}
	return []mutationRow{
		m("graphql-data-without-token", "graphql", "the GraphQL endpoint serves a request that carries no Authorization header (a resolver that returns data before any check); bad tokens are still refused", func(m *mutant) {
			m.gateGraphQL(admitAnonymousIf(withoutAuthorization))
		}),
		m("graphql-auth-only-on-post", "graphql", "the GraphQL endpoint checks the token on POST only: a GET ?query= is served without one", func(m *mutant) { m.gateGraphQL(admitAnonymousIf(isGET)) }),
		m("graphql-batch-skips-auth", "graphql", "a batched GraphQL request (a JSON array) is served without a token", func(m *mutant) { m.gateGraphQL(admitAnonymousIf(isBatch)) }),
		m("graphql-ignore-field-scope", "graphql", "the first Query field that requires a scope (auditLog) is served to any valid token, as a resolver that forgot its scope check", func(m *mutant) { m.guardFields(firstQueryScopeIgnored) }),
		m("graphql-alias-skips-scope", "graphql", "a field that requires a scope is served without it when selected under an alias (a per-field check keyed by the response name)", func(m *mutant) { m.guardFields(aliasSkipsScope) }),
		m("graphql-error-echoes-token", "graphql", "the GraphQL error refusing a token repeats the token in its message", func(m *mutant) {
			m.answer(endpointGraphQL, statusOnly(http.StatusUnauthorized, echoTokenInGraphQLError))
		}),
		m("graphql-accept-expired", "graphql", "the GraphQL endpoint accepts expired opaque and UUID tokens; the REST routes still refuse them", func(m *mutant) {
			m.configure(keepExpiredTokens)
			m.gateGraphQL(m.acceptExpiredOnGraphQL)
		}),
		m("graphql-introspection-without-token", "graphql", "an introspection query (__schema, __type) is answered without any token (an introspection shortcut before the auth middleware)", func(m *mutant) {
			m.gateGraphQL(admitAnonymousIf(isAnonymousIntrospection))
		}),
		m("graphql-legacy-signalling", "variation", "the GraphQL endpoints refuse bad tokens with the legacy 200, \"data\": null and an UNAUTHENTICATED error (Apollo, Hasura); conformant where the target configuration allows errors200", func(m *mutant) {
			m.configure(legacyGraphQLSignalling)
		}),
	}
}
