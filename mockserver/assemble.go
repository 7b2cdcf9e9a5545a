package mockserver

import (
	"crypto"
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/tollgate/tollgate/mockserver/tokens"
	"github.com/tollgate/tollgate/spec"
)

// endpointKind names what a route of the server is for.
type endpointKind int

const (
	endpointToken endpointKind = iota + 1
	endpointRevocation
	endpointIntrospection
	endpointProtected // a protected operation of a flow document
	endpointJWKS
	endpointMetadata
	endpointGraphQL // a flow's GraphQL endpoint (x-tollgate.graphql)
)

// endpoint is one route of the server as New assembles it.
type endpoint struct {
	kind endpointKind
	fr   *flowRuntime   // the flow; nil for the server-wide JWKS and metadata
	op   spec.Operation // the operation served; zero for the JWKS and metadata
}

// assembly says how New puts the request path together. Each field may
// replace or wrap one component of the correct server, once, at start-up;
// nil fields leave the component as it is, so the zero value assembles the
// correct server and the request path never asks which one it is.
type assembly struct {
	// configure runs before any component is built: it may replace the
	// flows' signers, the published keys, the issuer and the metadata.
	configure     func(s *Server)
	authenticator func(ep endpoint, a clientAuthenticator) clientAuthenticator
	minter        func(fr *flowRuntime, m tokenMinter) tokenMinter
	validator     func(fr *flowRuntime, v TokenValidator) TokenValidator
	invalidator   func(fr *flowRuntime, inv invalidator) invalidator
	handler       func(ep endpoint, h http.Handler) http.Handler
	// graphqlGate and fieldGuard replace or wrap the GraphQL endpoint's
	// Bearer check and its per-field scope check.
	graphqlGate func(fr *flowRuntime, g graphqlGate) graphqlGate
	fieldGuard  func(fr *flowRuntime, g fieldGuard) fieldGuard
	// outer wraps the whole route table: it may answer paths the correct
	// server does not serve (a discovery document, keys at another path).
	outer func(h http.Handler) http.Handler
}

// New builds a server for flows with opts. It fails, naming the fix, when
// the options do not fit the flows or two flows claim the same route. The
// server sweeps expired tokens in the background until Close is called.
func New(flows []*spec.Flow, opts Options) (*Server, error) {
	opts, err := opts.validate(flows)
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:    opts,
		clients: newClientRegistry(opts.Clients),
		clock:   newControlClock(opts.Clock),
		capture: newRequestCapture(opts.CapturedRequests),
		issuers: newIssuerSet(opts.Issuer),
		store:   tokens.NewStore(tokens.StoreOptions{MaxTokens: opts.MaxTokens}),
		// bounded like the store; when full, a revoked token is refused as unknown
		revokedStored: tokens.NewStore(tokens.StoreOptions{MaxTokens: opts.MaxTokens}),
	}
	s.opts.Clock = s.clock // one clock for issuance, validation, introspection and revocation
	if opts.StartClock != nil {
		if err := s.clock.Set(*opts.StartClock); err != nil {
			return nil, fmt.Errorf("mockserver: clock.now: %w", err)
		}
	}
	key, err := loadSigningKey(opts.SigningKeyFile)
	if err != nil {
		return nil, err
	}
	for _, f := range flows {
		if opts.OmitOptional {
			// Serve only what the source document describes: no route,
			// and no metadata entry, for an endpoint marked optional.
			f = f.WithoutOptional()
		}
		fr, err := newFlowRuntime(f, opts.Flows[f.Name], key, opts.MaxTokens)
		if err != nil {
			return nil, err
		}
		if s.metadata == nil && fr.flow.Token.GrantType != "" {
			s.metadata = fr
		}
		s.flows = append(s.flows, fr)
	}
	asm, err := mutationAssembly(s, opts.Mutations)
	if err != nil {
		return nil, err
	}
	if asm.configure != nil {
		asm.configure(s)
	}
	auth, err := s.baseAuthenticator()
	if err != nil {
		return nil, err
	}
	for _, fr := range s.flows {
		s.assembleFlow(fr, asm, auth)
	}
	if opts.Metrics != MetricsOff {
		s.metrics = newServerMetrics(s)
	}
	s.faults = newFaultTable(s)
	if _, err := s.faults.add(opts.Faults...); err != nil {
		return nil, fmt.Errorf("mockserver: faults: %w", err)
	}
	wrap := func(ep endpoint, h http.Handler) http.Handler {
		if asm.handler != nil {
			h = asm.handler(ep, h)
		}
		var rm *routeMetrics // counts and times what the capture records
		if s.metrics != nil {
			rm = s.metrics.route(ep)
		}
		return s.capture.wrap(ep, rm, s.faults.wrap(ep, h))
	}
	if s.handler, err = s.routes(wrap); err != nil {
		return nil, err
	}
	if asm.outer != nil {
		s.handler = asm.outer(s.handler)
	}
	s.handler = cors(opts.CORSOrigins, opts.CORSAllowCredentials, s.handler)
	if opts.Logger != nil {
		s.handler = logRequests(opts.Logger, s.handler)
	}
	s.startSweeper()
	return s, nil
}

// baseAuthenticator is how the client operations authenticate clients:
// by their secrets, or not at all with Options.AcceptAnyClient.
func (s *Server) baseAuthenticator() (clientAuthenticator, error) {
	if s.opts.AcceptAnyClient {
		return anyClient{clients: s.clients}, nil
	}
	a := &secretCheck{clients: s.clients}
	if _, err := rand.Read(a.unknownDigest[:]); err != nil {
		return nil, fmt.Errorf("mockserver: random: %w", err)
	}
	return a, nil
}

// assembleFlow builds the components of fr's request path, each wrapped as
// asm says.
func (s *Server) assembleFlow(fr *flowRuntime, asm assembly, auth clientAuthenticator) {
	authFor := func(kind endpointKind, op spec.Operation) clientAuthenticator {
		if asm.authenticator == nil {
			return auth
		}
		return asm.authenticator(endpoint{kind: kind, fr: fr, op: op}, auth)
	}
	f, maxBody := fr.flow, s.opts.MaxBodyBytes
	fr.token = newClientOperation(f, f.Token.Operation, f.Token.MediaTypes, f.Token.ClientAuth,
		f.Token.Request.ClientID, f.Token.Request.ClientSecret, maxBody, authFor(endpointToken, f.Token.Operation))
	for _, co := range []struct {
		op   *spec.ClientOperation
		kind endpointKind
		dst  **clientOperation
	}{{f.Revocation, endpointRevocation, &fr.revocation}, {f.Introspection, endpointIntrospection, &fr.introspection}} {
		if co.op != nil {
			*co.dst = newClientOperation(f, co.op.Operation, co.op.MediaTypes, co.op.ClientAuth,
				co.op.Request.ClientID, co.op.Request.ClientSecret, maxBody, authFor(co.kind, co.op.Operation))
		}
	}
	switch fr.format {
	case spec.FormatJWT:
		fr.minter = jwtMinter{s: s, fr: fr}
	case spec.FormatOpaque:
		fr.minter = storeMinter{fr: fr, store: s.store, clock: s.opts.Clock, generate: tokens.NewOpaque}
	default:
		fr.minter = storeMinter{fr: fr, store: s.store, clock: s.opts.Clock, generate: tokens.NewUUID}
	}
	fr.validator = s.validator(fr)
	fr.invalidate = s.invalidator(fr)
	if asm.minter != nil {
		fr.minter = asm.minter(fr, fr.minter)
	}
	if asm.validator != nil {
		fr.validator = asm.validator(fr, fr.validator)
	}
	if asm.invalidator != nil {
		fr.invalidate = asm.invalidator(fr, fr.invalidate)
	}
	if fr.graphqlSpec != nil {
		var gate graphqlGate = newBearerGate(newBearerCheck(fr.validator, s.explainer(fr), s.opts.Clock, f.Realm, f.ErrorDialect), fr.graphqlSpec)
		var guard fieldGuard = scopeGuard{}
		if asm.graphqlGate != nil {
			gate = asm.graphqlGate(fr, gate)
		}
		if asm.fieldGuard != nil {
			guard = asm.fieldGuard(fr, guard)
		}
		fr.graphql = newGraphQLEndpoint(fr.graphqlSpec, gate, guard)
	}
}

func newFlowRuntime(f *spec.Flow, fo FlowOptions, key crypto.Signer, maxTokens int) (*flowRuntime, error) {
	fr := &flowRuntime{flow: f, format: f.TokenFormat, lifetime: f.Lifetime, graphqlSpec: f.GraphQL}
	if fo.GraphQLSignalling != "" && f.GraphQL != nil {
		g, err := f.GraphQL.WithSignalling(fo.GraphQLSignalling)
		if err != nil {
			return nil, fmt.Errorf("mockserver: flows.%s.graphql_signalling: %w", f.Name, err)
		}
		fr.graphqlSpec = g
	}
	if fo.TokenFormat != "" {
		fr.format = fo.TokenFormat
	}
	if fo.TokenLifetime != 0 {
		fr.lifetime = fo.TokenLifetime
	}
	if fr.format != spec.FormatJWT {
		return fr, nil
	}
	alg := f.Algorithm
	if fo.Algorithm != "" {
		alg = fo.Algorithm
	}
	if alg == "" {
		alg = spec.DefaultAlgorithm
	}
	signer, err := tokens.NewSigner(tokens.SignerOptions{Algorithm: alg, Key: key})
	if err != nil {
		return nil, fmt.Errorf("mockserver: flow %s: %w", f.Name, err)
	}
	fr.keys, fr.firstKey = tokens.NewKeyRing(signer), signer
	fr.cache = tokens.NewVerifiedCache(jwtCacheEntries)
	fr.revoked = tokens.NewStore(tokens.StoreOptions{MaxTokens: maxTokens})
	fr.issued = tokens.NewStore(tokens.StoreOptions{MaxTokens: maxTokens})
	return fr, nil
}

// reservedPath reports whether a flow's route would shadow the mock's own
// health and control endpoints, which live under ControlPrefix.
func reservedPath(path string) bool {
	return path == strings.TrimSuffix(ControlPrefix, "/") || strings.HasPrefix(path, ControlPrefix)
}

func loadSigningKey(file string) (crypto.Signer, error) {
	if file == "" {
		return nil, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("mockserver: signing_key_file: %w", err)
	}
	key, err := tokens.LoadPrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("mockserver: signing_key_file %s: %w", file, err)
	}
	return key, nil
}

// routes builds the route table once: one handler per documented operation,
// registered on a ServeMux with the operation's own path template, each
// passed through wrap (when set) with the endpoint it serves.
func (s *Server) routes(wrap func(endpoint, http.Handler) http.Handler) (http.Handler, error) {
	if wrap == nil {
		wrap = func(_ endpoint, h http.Handler) http.Handler { return h }
	}
	mux := http.NewServeMux()
	owner := map[string]string{} // "METHOD path" or "path" -> flow and operation, to name conflicts
	register := func(pattern, who string, h http.Handler) (err error) {
		if prev, dup := owner[pattern]; dup {
			return fmt.Errorf("mockserver: %s and %s both claim %q: serve the two flows from separate servers or change a path", prev, who, pattern)
		}
		defer func() {
			if v := recover(); v != nil {
				err = fmt.Errorf("mockserver: %s: cannot route %q: %v", who, pattern, v)
			}
		}()
		mux.Handle(pattern, h)
		owner[pattern] = who
		return nil
	}
	// registerFlow registers a flow's route, which may not shadow the
	// mock's own endpoints under ControlPrefix.
	registerFlow := func(pattern, who string, h http.Handler) error {
		if i := strings.IndexByte(pattern, '/'); i >= 0 && reservedPath(pattern[i:]) {
			return fmt.Errorf("mockserver: %s: path %q is under %s, which the mock reserves for its health and control endpoints: choose another path", who, pattern, ControlPrefix)
		}
		if i := strings.IndexByte(pattern, '/'); i >= 0 && s.opts.Debug && underDebug(pattern[i:]) {
			return fmt.Errorf("mockserver: %s: path %q is under %s, where the mock serves its profiles: choose another path, or leave debug off", who, pattern, DebugPrefix)
		}
		if i := strings.IndexByte(pattern, '/'); i >= 0 && s.metrics != nil && pattern[i:] == MetricsPath {
			return fmt.Errorf("mockserver: %s: path %q is where the mock serves its Prometheus metrics: choose another path, or turn the metrics off (metrics: off, --metrics off)", who, pattern)
		}
		return register(pattern, who, h)
	}
	allowed := map[string][]string{} // mux path -> documented methods, for 405 answers
	templates := map[string]string{} // mux path -> the documented path template
	for _, fr := range s.flows {
		// Each client operation answers every method of its path itself (405 with Allow).
		for _, co := range []struct {
			op   *spec.Operation
			kind endpointKind
			h    func(*flowRuntime) http.Handler
		}{
			{&fr.flow.Token.Operation, endpointToken, s.tokenHandler},
			{clientOp(fr.flow.Revocation), endpointRevocation, s.revocationHandler},
			{clientOp(fr.flow.Introspection), endpointIntrospection, s.introspectionHandler},
		} {
			if co.op == nil {
				continue
			}
			path, err := muxPath(co.op.Path)
			if err != nil {
				return nil, fmt.Errorf("mockserver: flow %s, operation %s: %w", fr.flow.Name, co.op.ID, err)
			}
			h := wrap(endpoint{kind: co.kind, fr: fr, op: *co.op}, co.h(fr))
			if err := registerFlow(path, fr.flow.Name+"."+co.op.ID, h); err != nil {
				return nil, err
			}
		}
		for _, op := range fr.flow.Operations {
			path, err := muxPath(op.Path)
			if err != nil {
				return nil, fmt.Errorf("mockserver: flow %s, operation %s: %w", fr.flow.Name, op.ID, err)
			}
			h := exampleHandler(op.Success)
			if op.Protected {
				h = wrap(endpoint{kind: endpointProtected, fr: fr, op: op}, s.bearer(fr, op)(h))
			}
			if err := registerFlow(op.Method+" "+path, fr.flow.Name+"."+op.ID, h); err != nil {
				return nil, err
			}
			allowed[path] = append(allowed[path], op.Method)
			templates[path] = op.Path
		}
		if fr.graphql != nil { // answers every method itself (405 with Allow)
			ep := endpoint{kind: endpointGraphQL, fr: fr, op: spec.Operation{ID: endpointGraphQL.String(), Path: fr.graphqlSpec.Path, Protected: true}}
			if err := registerFlow(fr.graphqlSpec.Path, fr.flow.Name+".graphql", wrap(ep, fr.graphql)); err != nil {
				return nil, err
			}
		}
	}
	for path, methods := range allowed {
		if _, taken := owner[path]; taken {
			continue // a client operation answers every method of its path itself
		}
		h := methodNotAllowed(methods)
		if s.metrics != nil {
			h = s.metrics.wrapMethodNotAllowed(templates[path], h)
		}
		if err := register(path, "tollgate", h); err != nil {
			return nil, err
		}
	}
	notFound := staticJSON(http.StatusNotFound, []byte(`{"error":"not_found","error_description":"no operation of the served flow documents has this path"}`))
	var unmatched http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noteRefusal(w, reasonNotFound)
		notFound.ServeHTTP(w, r)
	})
	if s.metrics != nil {
		unmatched = s.metrics.wrapUnmatched(unmatched)
	}
	fixed := []struct {
		pattern string
		h       http.Handler
	}{
		{"GET " + HealthPath, staticJSON(http.StatusOK, []byte(`{"status":"ok"}`))},
		{"/", unmatched},
	}
	if s.metrics != nil {
		fixed = append(fixed, struct {
			pattern string
			h       http.Handler
		}{"GET " + MetricsPath, s.metrics.handler(s)})
	}
	if slices.ContainsFunc(s.flows, func(fr *flowRuntime) bool { return fr.keys != nil }) {
		fixed = append(fixed, struct {
			pattern string
			h       http.Handler
		}{"GET " + JWKSPath, wrap(endpoint{kind: endpointJWKS}, http.HandlerFunc(s.serveJWKS))})
	}
	if s.metadata != nil {
		fixed = append(fixed, struct {
			pattern string
			h       http.Handler
		}{"GET " + MetadataPath, wrap(endpoint{kind: endpointMetadata}, http.HandlerFunc(s.serveMetadata))})
	}
	if s.opts.Debug {
		fixed = append(fixed, struct {
			pattern string
			h       http.Handler
		}{DebugPrefix, s.debugHandler()})
	}
	if s.opts.Control != ControlOff {
		fixed = append(fixed, struct {
			pattern string
			h       http.Handler
		}{ControlPrefix, s.controlHandler()})
	}
	for _, f := range fixed {
		if err := register(f.pattern, "tollgate", f.h); err != nil {
			return nil, err
		}
		if err := registerOtherMethods(f.pattern, s.metrics, owner, register); err != nil {
			return nil, err
		}
	}
	return mux, nil
}

// registerOtherMethods answers the other methods of a fixed GET route
// (health, metrics, JWKS, metadata) with 405 and Allow, as a documented
// path does, rather than with the 404 of a path nothing serves. A path a
// flow already answers every method of is left to it. The JWKS and
// metadata 405s are counted as a documented path's (docs/metrics.md).
func registerOtherMethods(pattern string, m *serverMetrics, owner map[string]string, register func(pattern, who string, h http.Handler) error) error {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		return nil // a prefix that answers every method itself
	}
	if _, taken := owner[path]; taken {
		return nil
	}
	h := methodNotAllowed([]string{method})
	if m != nil && (path == JWKSPath || path == MetadataPath) {
		h = m.wrapMethodNotAllowed(path, h)
	}
	return register(path, "tollgate", h)
}

// clientOp is the operation of a revocation or introspection declaration;
// nil when the flow has none.
func clientOp(co *spec.ClientOperation) *spec.Operation {
	if co == nil {
		return nil
	}
	return &co.Operation
}
