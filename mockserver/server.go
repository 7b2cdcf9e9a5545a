package mockserver

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tollgate/tollgate/mockserver/tokens"
	"github.com/tollgate/tollgate/spec"
)

// jwtCacheEntries bounds the verified-JWT cache of each jwt flow: keys are
// whole tokens (about 1 KB), so 10,000 entries stay near 10 MB.
const jwtCacheEntries = 10000

// Paths the server adds to those of the flow documents.
const (
	HealthPath   = "/_tollgate/health"
	JWKSPath     = "/.well-known/jwks.json"
	MetadataPath = "/.well-known/oauth-authorization-server"
)

// Server is a mock auth server for a set of flows. It is an http.Handler and
// safe for concurrent use.
type Server struct {
	opts    Options
	flows   []*flowRuntime
	clients map[string]*registeredClient
	store   *tokens.Store
	jwks    []byte
	// unknownDigest is compared against for unknown client ids: a digest
	// no secret hashes to in practice.
	unknownDigest [sha256.Size]byte
	metadata      *flowRuntime // the flow described at MetadataPath; nil when none fits
	handler       http.Handler
	defects       *defects // deliberate bugs for the suite's self-test; nil normally
}

// flowRuntime is one flow as the server runs it, with everything precomputed.
type flowRuntime struct {
	flow     *spec.Flow
	format   string
	lifetime time.Duration
	signer   *tokens.Signer        // jwt flows only
	cache    *tokens.VerifiedCache // jwt flows only
	grants   grantTable

	tokenEndpoint, revocation, introspection *clientEndpoint // the last two nil when the flow has none
	// revoked is the deny-list of revoked JWTs, keyed by jti (by the whole
	// token when it has none), each entry kept until the token expires.
	// jwt flows only: store-backed tokens are revoked by deletion.
	revoked *tokens.Store
}

type registeredClient struct {
	Client
	secretDigest [sha256.Size]byte // compared in constant time, whatever the secret's length
	flows        map[string]bool   // nil: every flow
}

// New builds a server for flows with opts. It fails, naming the fix, when
// the options do not fit the flows or two flows claim the same route.
func New(flows []*spec.Flow, opts Options) (*Server, error) {
	opts, err := opts.validate(flows)
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:    opts,
		clients: map[string]*registeredClient{},
		store:   tokens.NewStore(tokens.StoreOptions{}),
	}
	if s.defects, err = newDefects(opts.Mutations); err != nil {
		return nil, err
	}
	if _, err := rand.Read(s.unknownDigest[:]); err != nil {
		return nil, fmt.Errorf("mockserver: random: %w", err)
	}
	for _, c := range opts.Clients {
		rc := &registeredClient{Client: c, secretDigest: sha256.Sum256([]byte(c.Secret))}
		if len(c.Flows) > 0 {
			rc.flows = map[string]bool{}
			for _, f := range c.Flows {
				rc.flows[f] = true
			}
		}
		s.clients[c.ID] = rc
	}
	key, err := loadSigningKey(opts.SigningKeyFile)
	if err != nil {
		return nil, err
	}
	var jwksKeys []json.RawMessage
	for _, f := range flows {
		fr, err := newFlowRuntime(f, opts.Flows[f.Name], key)
		if err != nil {
			return nil, err
		}
		if fr.signer != nil {
			var set struct {
				Keys []json.RawMessage `json:"keys"`
			}
			if err := json.Unmarshal(fr.signer.JWKS(), &set); err != nil {
				return nil, fmt.Errorf("mockserver: flow %s: JWKS: %w", f.Name, err)
			}
			jwksKeys = append(jwksKeys, set.Keys...)
		}
		if s.metadata == nil && fr.flow.Token.GrantType != "" {
			s.metadata = fr
		}
		s.flows = append(s.flows, fr)
	}
	if len(jwksKeys) > 0 {
		s.jwks, err = json.Marshal(map[string]any{"keys": dedupeKeys(jwksKeys)})
		if err != nil {
			return nil, fmt.Errorf("mockserver: JWKS: %w", err)
		}
	}
	if s.handler, err = s.routes(); err != nil {
		return nil, err
	}
	s.handler = cors(opts.CORSOrigins, s.handler)
	if opts.Logger != nil {
		s.handler = logRequests(opts.Logger, s.handler)
	}
	return s, nil
}

// ServeHTTP serves the flows.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Flows returns the flows the server serves.
func (s *Server) Flows() []*spec.Flow {
	out := make([]*spec.Flow, len(s.flows))
	for i, fr := range s.flows {
		out[i] = fr.flow
	}
	return out
}

// Clients returns the registered clients (secrets included: this is a mock).
func (s *Server) Clients() []Client { return append([]Client(nil), s.opts.Clients...) }

// Clock returns the clock the server issues and validates tokens with.
func (s *Server) Clock() Clock { return s.opts.Clock }

func newFlowRuntime(f *spec.Flow, fo FlowOptions, key crypto.Signer) (*flowRuntime, error) {
	fr := &flowRuntime{
		flow:     f,
		format:   f.TokenFormat,
		lifetime: f.Lifetime,
		tokenEndpoint: newClientEndpoint(f.Token.Operation, f.Token.MediaTypes, f.Token.ClientAuth,
			f.Token.Request.ClientID, f.Token.Request.ClientSecret),
	}
	for _, co := range []struct {
		op  *spec.ClientOperation
		dst **clientEndpoint
	}{{f.Revocation, &fr.revocation}, {f.Introspection, &fr.introspection}} {
		if co.op != nil {
			*co.dst = newClientEndpoint(co.op.Operation, co.op.MediaTypes, co.op.ClientAuth, co.op.Request.ClientID, co.op.Request.ClientSecret)
		}
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
	fr.signer = signer
	fr.cache = tokens.NewVerifiedCache(jwtCacheEntries)
	fr.revoked = tokens.NewStore(tokens.StoreOptions{})
	return fr, nil
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

// dedupeKeys drops repeated JWKs (two flows signing with one key file).
func dedupeKeys(keys []json.RawMessage) []json.RawMessage {
	seen := map[string]bool{}
	out := keys[:0]
	for _, k := range keys {
		if !seen[string(k)] {
			seen[string(k)] = true
			out = append(out, k)
		}
	}
	return out
}

// routes builds the route table once: one handler per documented operation,
// registered on a ServeMux with the operation's own path template.
func (s *Server) routes() (http.Handler, error) {
	if s.defects != nil {
		s.defects.rewire(s) // before any handler captures the signer, the issuer or the keys
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
	allowed := map[string][]string{} // mux path -> documented methods, for 405 answers
	for _, fr := range s.flows {
		tok := fr.flow.Token
		path, err := muxPath(tok.Path)
		if err != nil {
			return nil, fmt.Errorf("mockserver: flow %s, operation %s: %w", fr.flow.Name, tok.ID, err)
		}
		tokenHandler := s.tokenHandler(fr)
		if s.defects != nil {
			tokenHandler = mutateResponses(fr.flow, s.defects.token, tokenHandler)
		}
		if err := register(path, fr.flow.Name+"."+tok.ID, tokenHandler); err != nil {
			return nil, err
		}
		for _, co := range []struct {
			op *spec.ClientOperation
			h  func(*flowRuntime) http.Handler
		}{{fr.flow.Revocation, s.revocationHandler}, {fr.flow.Introspection, s.introspectionHandler}} {
			if co.op == nil {
				continue
			}
			path, err := muxPath(co.op.Path)
			if err != nil {
				return nil, fmt.Errorf("mockserver: flow %s, operation %s: %w", fr.flow.Name, co.op.ID, err)
			}
			// Like the token operation, it answers every method of its path itself (405 with Allow).
			if err := register(path, fr.flow.Name+"."+co.op.ID, co.h(fr)); err != nil {
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
				h = s.bearer(fr, op)(h)
				if s.defects != nil {
					h = mutateResponses(fr.flow, s.defects.resource, h)
				}
			}
			if err := register(op.Method+" "+path, fr.flow.Name+"."+op.ID, h); err != nil {
				return nil, err
			}
			allowed[path] = append(allowed[path], op.Method)
		}
	}
	for path, methods := range allowed {
		if _, taken := owner[path]; taken {
			continue // a token operation answers every method of its path itself
		}
		if err := register(path, "tollgate", methodNotAllowed(methods)); err != nil {
			return nil, err
		}
	}
	fixed := []struct {
		pattern string
		h       http.Handler
	}{
		{"GET " + HealthPath, staticJSON(http.StatusOK, []byte(`{"status":"ok"}`))},
		{"/", staticJSON(http.StatusNotFound, []byte(`{"error":"not_found","error_description":"no operation of the served flow documents has this path"}`))},
	}
	if s.jwks != nil {
		fixed = append(fixed, struct {
			pattern string
			h       http.Handler
		}{"GET " + JWKSPath, staticJSON(http.StatusOK, s.jwks)})
	}
	if s.metadata != nil {
		fixed = append(fixed, struct {
			pattern string
			h       http.Handler
		}{"GET " + MetadataPath, http.HandlerFunc(s.serveMetadata)})
	}
	for _, f := range fixed {
		if err := register(f.pattern, "tollgate", f.h); err != nil {
			return nil, err
		}
	}
	return mux, nil
}

// methodNotAllowed answers a documented path called with an undocumented method.
func methodNotAllowed(methods []string) http.Handler {
	sort.Strings(methods)
	if slices.Contains(methods, http.MethodGet) && !slices.Contains(methods, http.MethodHead) {
		methods = append(methods, http.MethodHead)
	}
	allow := []string{strings.Join(methods, ", ")}
	body := []byte(`{"error":"method_not_allowed","error_description":"this path does not document that method"}`)
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Allow"] = allow
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusMethodNotAllowed)
		_, _ = w.Write(body)
	})
}

// muxPath turns an OpenAPI path template into a ServeMux pattern path,
// renaming template variables that are not valid wildcard names.
func muxPath(template string) (string, error) {
	if !strings.HasPrefix(template, "/") {
		return "", fmt.Errorf("path %q must start with /", template)
	}
	var b strings.Builder
	n := 0
	for rest := template; rest != ""; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			b.WriteString(rest)
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("path %q has an unclosed {", template)
		}
		b.WriteString(rest[:i])
		fmt.Fprintf(&b, "{p%d}", n)
		n++
		rest = rest[i+j+1:]
	}
	return b.String(), nil
}

// exampleHandler answers with a documented response, precomputed.
func exampleHandler(resp spec.Response) http.Handler {
	if resp.ContentType == "" {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(resp.Status) })
	}
	contentType := []string{resp.ContentType}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Content-Type"] = contentType
		w.WriteHeader(resp.Status)
		_, _ = w.Write(resp.Body)
	})
}

func staticJSON(status int, body []byte) http.Handler {
	return exampleHandler(spec.Response{Status: status, ContentType: "application/json", Body: body})
}

// issuer returns the issuer for a request: Options.Issuer, else the
// request's own origin.
func (s *Server) issuer(r *http.Request) string {
	if s.opts.Issuer != "" {
		return s.opts.Issuer
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// serveMetadata answers RFC 8414 authorization server metadata for the
// first flow with a grant type.
func (s *Server) serveMetadata(w http.ResponseWriter, r *http.Request) {
	fr := s.metadata
	iss := s.issuer(r)
	md := map[string]any{
		"issuer":                                iss,
		"token_endpoint":                        iss + fr.flow.Token.Path,
		"grant_types_supported":                 []string{fr.flow.Token.GrantType},
		"token_endpoint_auth_methods_supported": authMethods(fr.flow.Token.ClientAuth),
		"response_types_supported":              []string{},
		"scopes_supported":                      append([]string{}, fr.flow.Scopes...),
	}
	if fr.signer != nil {
		md["jwks_uri"] = iss + JWKSPath
	}
	// RFC 8414 §2: revocation_endpoint, introspection_endpoint and their
	// *_auth_methods_supported (RFC 7009, RFC 7662).
	for _, ep := range []struct {
		name string
		op   *spec.ClientOperation
	}{{"revocation", fr.flow.Revocation}, {"introspection", fr.flow.Introspection}} {
		if ep.op != nil {
			md[ep.name+"_endpoint"] = iss + ep.op.Path
			md[ep.name+"_endpoint_auth_methods_supported"] = authMethods(ep.op.ClientAuth)
		}
	}
	body, err := json.Marshal(md)
	if err != nil {
		http.Error(w, "metadata: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// authMethods names client authentication methods as RFC 8414 metadata does.
func authMethods(clientAuth []string) []string {
	methods := []string{}
	if slices.Contains(clientAuth, spec.ClientAuthBasic) {
		methods = append(methods, "client_secret_basic")
	}
	if slices.Contains(clientAuth, spec.ClientAuthBody) {
		methods = append(methods, "client_secret_post")
	}
	return methods
}

// grantTable interns Grants so that the token store holds one pointer per
// token. It stops interning past a bound (AcceptAnyClient can mint endless
// client ids) and then hands out fresh Grants.
type grantTable struct {
	mu sync.Mutex
	m  map[[3]string]*tokens.Grant
}

const maxInternedGrants = 10000

func (t *grantTable) get(flow, client, scope string) *tokens.Grant {
	key := [3]string{flow, client, scope}
	t.mu.Lock()
	defer t.mu.Unlock()
	if g := t.m[key]; g != nil {
		return g
	}
	g := tokens.NewGrant(flow, client, scope)
	if t.m == nil {
		t.m = map[[3]string]*tokens.Grant{}
	}
	if len(t.m) < maxInternedGrants {
		t.m[key] = g
	}
	return g
}

// authenticate checks a client's credentials for a flow in constant time.
func (s *Server) authenticate(id, secret string) (*registeredClient, error) {
	if d := s.defects; d != nil {
		if c := s.clients[id]; c != nil && d.ignoreSecret {
			return c, nil
		}
		if s.clients[id] == nil && d.acceptUnknownClient {
			return &registeredClient{Client: Client{ID: id}}, nil
		}
	}
	if s.opts.AcceptAnyClient {
		if c := s.clients[id]; c != nil {
			return c, nil
		}
		return &registeredClient{Client: Client{ID: id}}, nil
	}
	// Hash first so that the comparison takes the same time for any secret
	// length, and compare against a dummy for unknown ids so that they take
	// as long as known ones.
	got := sha256.Sum256([]byte(secret))
	want := s.unknownDigest
	c := s.clients[id]
	if c != nil {
		want = c.secretDigest
	}
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || c == nil {
		return nil, errors.New("client authentication failed")
	}
	return c, nil
}

func (c *registeredClient) mayUse(flow string) bool { return c.flows == nil || c.flows[flow] }

// allowedScopes returns the scopes a client may have on a flow, sorted.
func (c *registeredClient) allowedScopes(f *spec.Flow) []string {
	if c.Scopes == nil {
		return f.Scopes
	}
	var out []string
	for _, s := range c.Scopes {
		if slices.Contains(f.Scopes, s) {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
