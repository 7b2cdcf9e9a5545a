package mockserver

import (
	"net/http"
	"sync"
	"time"
)

// mutant collects what the switched-on mutations change, and turns it
// into the assembly New applies. It also holds the little state some
// mutations keep (the first token of a client, when a token was last
// used): test-only bookkeeping, never bounded.
type mutant struct {
	s *Server

	configures     []func(s *Server)
	authenticators []func(ep endpoint, a clientAuthenticator) clientAuthenticator
	minters        []func(fr *flowRuntime, m tokenMinter) tokenMinter
	validators     []func(fr *flowRuntime, v TokenValidator) TokenValidator
	invalidators   []func(fr *flowRuntime, inv invalidator) invalidator
	graphqlGates   []func(fr *flowRuntime, g graphqlGate) graphqlGate
	fieldGuards    []func(fr *flowRuntime, g fieldGuard) fieldGuard
	rewrites       map[endpointKind][]requestRewrite
	wrappers       map[endpointKind][]func(ep endpoint, h http.Handler) http.Handler
	answers        map[endpointKind][]responseMutation
	extra          *http.ServeMux // routes the correct server does not have; nil: none

	mu        sync.Mutex
	issued    map[string]string    // repeat-token: the first token per flow and client
	cached    map[string]cachedTok // reissue-cached-token
	lastUse   map[string]time.Time // expiry-slides: when each token was last accepted
	accepted  map[string]time.Time // jwt-revocation-ignored-by-cache: accepted tokens and their expiry
	requests  int                  // rate-limit: token requests so far
	forgotten map[string]bool      // forget-token-after-forgery: deny-listed jtis
	sequence  int                  // sequential-tokens: the last number issued
}

func newMutant(s *Server) *mutant {
	return &mutant{s: s,
		rewrites: map[endpointKind][]requestRewrite{},
		wrappers: map[endpointKind][]func(endpoint, http.Handler) http.Handler{},
		answers:  map[endpointKind][]responseMutation{},
		issued:   map[string]string{}, cached: map[string]cachedTok{},
		lastUse: map[string]time.Time{}, accepted: map[string]time.Time{},
		forgotten: map[string]bool{},
	}
}

func (m *mutant) configure(f func(s *Server)) { m.configures = append(m.configures, f) }
func (m *mutant) authenticate(f func(endpoint, clientAuthenticator) clientAuthenticator) {
	m.authenticators = append(m.authenticators, f)
}
func (m *mutant) mint(f func(*flowRuntime, tokenMinter) tokenMinter) {
	m.minters = append(m.minters, f)
}
func (m *mutant) validate(f func(*flowRuntime, TokenValidator) TokenValidator) {
	m.validators = append(m.validators, f)
}
func (m *mutant) invalidate(f func(*flowRuntime, invalidator) invalidator) {
	m.invalidators = append(m.invalidators, f)
}

// gateGraphQL replaces or wraps the Bearer check of each GraphQL endpoint
// (it runs before the request is read; the next gate is the correct one).
func (m *mutant) gateGraphQL(f func(*flowRuntime, graphqlGate) graphqlGate) {
	m.graphqlGates = append(m.graphqlGates, f)
}

// guardFields replaces or wraps the per-field scope check of each GraphQL
// endpoint (asked only about fields that carry the scope directive).
func (m *mutant) guardFields(f func(*flowRuntime, fieldGuard) fieldGuard) {
	m.fieldGuards = append(m.fieldGuards, f)
}

// rewrite changes requests to kind before the correct handler sees them.
func (m *mutant) rewrite(kind endpointKind, f requestRewrite) {
	m.rewrites[kind] = append(m.rewrites[kind], f)
}

// wrap puts a handler of its own around kind's.
func (m *mutant) wrap(kind endpointKind, f func(endpoint, http.Handler) http.Handler) {
	m.wrappers[kind] = append(m.wrappers[kind], f)
}

// answer changes kind's answers after the handler wrote them.
func (m *mutant) answer(kind endpointKind, f responseMutation) {
	m.answers[kind] = append(m.answers[kind], f)
}

// serve answers pattern (a ServeMux pattern) with h, ahead of the server's
// own routes: for documents the correct server does not publish.
func (m *mutant) serve(pattern string, h http.Handler) {
	if m.extra == nil {
		m.extra = http.NewServeMux()
	}
	m.extra.Handle(pattern, h)
}

// assembly chains each kind of change in the order the mutations were named.
func (m *mutant) assembly() assembly {
	var a assembly
	if len(m.configures) > 0 {
		a.configure = func(s *Server) {
			for _, f := range m.configures {
				f(s)
			}
		}
	}
	a.authenticator = chain(m.authenticators)
	a.minter = chain(m.minters)
	a.validator = chain(m.validators)
	a.invalidator = chain(m.invalidators)
	a.graphqlGate = chain(m.graphqlGates)
	a.fieldGuard = chain(m.fieldGuards)
	if len(m.rewrites)+len(m.wrappers)+len(m.answers) > 0 {
		a.handler = m.handler
	}
	if extra := m.extra; extra != nil {
		a.outer = func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if h, pattern := extra.Handler(r); pattern != "" {
					h.ServeHTTP(w, r)
					return
				}
				next.ServeHTTP(w, r)
			})
		}
	}
	return a
}

// handler wraps an endpoint's handler: requests are rewritten first (inside,
// as the correct handler's own reading would be), then the endpoint's
// wrappers, then the answers rewritten on the way out.
func (m *mutant) handler(ep endpoint, h http.Handler) http.Handler {
	if rewrites := m.rewrites[ep.kind]; len(rewrites) > 0 {
		h = rewriteRequests(ep, rewrites, h)
	}
	for _, f := range m.wrappers[ep.kind] {
		h = f(ep, h)
	}
	if answers := m.answers[ep.kind]; len(answers) > 0 && ep.fr != nil {
		h = mutateResponses(ep.fr.flow, answers, h)
	}
	return h
}

// chain applies wrappers in order, each to what the one before returned;
// nil when there are none (the assembly then leaves the component alone).
func chain[K, T any](wrappers []func(K, T) T) func(K, T) T {
	if len(wrappers) == 0 {
		return nil
	}
	return func(k K, x T) T {
		for _, w := range wrappers {
			x = w(k, x)
		}
		return x
	}
}
