package mockserver

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
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
	clients *clientRegistry
	clock   *controlClock // also opts.Clock
	faults  *faultTable
	metrics *serverMetrics // nil with Options.Metrics off
	capture *requestCapture
	issuers *issuerSet
	store   *tokens.Store
	// revokedStored remembers the revoked store-backed (uuid, opaque)
	// tokens until they would have expired, only so that a refusal can say
	// "revoked" rather than "unknown"; validation never reads it.
	revokedStored *tokens.Store
	metadata      *flowRuntime // the flow described at MetadataPath; nil when none fits
	handler       http.Handler
	sweeper       *sweeper // deletes expired tokens on a timer; stopped by Close
}

// flowRuntime is one flow as the server runs it, with everything precomputed.
type flowRuntime struct {
	flow     *spec.Flow
	format   string
	lifetime time.Duration
	keys     *tokens.KeyRing       // jwt flows only: the signing keys, rotated by the control API
	firstKey *tokens.Signer        // jwt flows only: the key the flow started with
	cache    *tokens.VerifiedCache // jwt flows only
	grants   grantTable

	// The components of the flow's request path, chosen by New.
	token, revocation, introspection *clientOperation // the last two nil when the flow has none
	minter                           tokenMinter
	validator                        TokenValidator
	invalidate                       invalidator
	// revoked is the deny-list of revoked JWTs, keyed by jti (by the whole
	// token when it has none), each entry kept until the token expires.
	// jwt flows only: store-backed tokens are revoked by deletion.
	revoked *tokens.Store
	// issued records the live JWTs of the flow by jti, so that the control
	// API can list and revoke them. jwt flows only.
	issued *tokens.Store
	// graphqlSpec is the flow's GraphQL endpoint as served (the document's,
	// with FlowOptions applied) and graphql serves it; both nil when the
	// flow has none.
	graphqlSpec *spec.GraphQL
	graphql     *graphqlEndpoint
}

type registeredClient struct {
	Client
	secretDigest [sha256.Size]byte // compared in constant time, whatever the secret's length
	flows        map[string]bool   // nil: every flow
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
func (s *Server) Clients() []Client { return s.clients.list() }

// ServesJWKS reports whether the server publishes its keys at JWKSPath
// (it has a jwt flow).
func (s *Server) ServesJWKS() bool {
	return slices.ContainsFunc(s.flows, func(fr *flowRuntime) bool { return fr.keys != nil })
}

// ServesMetadata reports whether the server answers RFC 8414 metadata at
// MetadataPath (a flow has a grant type).
func (s *Server) ServesMetadata() bool { return s.metadata != nil }

// Clock returns the clock the server issues and validates tokens with.
func (s *Server) Clock() Clock { return s.opts.Clock }

// methodNotAllowed answers a documented path called with an undocumented method.
func methodNotAllowed(methods []string) http.Handler {
	sort.Strings(methods)
	if slices.Contains(methods, http.MethodGet) && !slices.Contains(methods, http.MethodHead) {
		methods = append(methods, http.MethodHead)
	}
	allow := []string{strings.Join(methods, ", ")}
	body := []byte(`{"error":"method_not_allowed","error_description":"this path does not document that method"}`)
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		noteRefusal(w, reasonMethodNotAllowed)
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
	writeJSON(w, s.metadataDocument(r))
}

// metadataDocument is the RFC 8414 metadata for a request: the issuer is
// the request's (Options.Issuer, else its origin).
func (s *Server) metadataDocument(r *http.Request) map[string]any {
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
	if fr.keys != nil {
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
	return md
}

// writeJSON answers 200 with v as JSON.
func writeJSON(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
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

// flow returns the served flow named name; nil when there is none.
func (s *Server) flow(name string) *flowRuntime {
	for _, fr := range s.flows {
		if fr.flow.Name == name {
			return fr
		}
	}
	return nil
}

// flowNames lists the served flows' names.
func (s *Server) flowNames() []string {
	var out []string
	for _, fr := range s.flows {
		out = append(out, fr.flow.Name)
	}
	return out
}

// serveJWKS answers the JWK Set of every jwt flow's keys that are not
// retired: after a rotation, the old key stays until the tokens it signed
// have expired.
func (s *Server) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	now := s.opts.Clock.Now()
	var sets [][]byte
	for _, fr := range s.flows {
		if fr.keys != nil {
			sets = append(sets, fr.keys.JWKS(now))
		}
	}
	body := sets[0]
	if len(sets) > 1 {
		var err error
		if body, err = mergeJWKSets(sets); err != nil {
			http.Error(w, "JWKS: "+err.Error(), http.StatusInternalServerError)
			return
		}
	}
	w.Header()["Content-Type"] = jsonContentType
	_, _ = w.Write(body)
}

// mergeJWKSets merges JWK Sets, dropping repeated keys (two flows signing
// with one key file); nil for none.
func mergeJWKSets(sets [][]byte) ([]byte, error) {
	if len(sets) == 0 {
		return nil, nil
	}
	seen := map[string]bool{}
	keys := []json.RawMessage{}
	for _, set := range sets {
		var parsed struct {
			Keys []json.RawMessage `json:"keys"`
		}
		if err := json.Unmarshal(set, &parsed); err != nil {
			return nil, fmt.Errorf("mockserver: JWKS: %w", err)
		}
		for _, k := range parsed.Keys {
			if !seen[string(k)] {
				seen[string(k)] = true
				keys = append(keys, k)
			}
		}
	}
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		return nil, fmt.Errorf("mockserver: JWKS: %w", err)
	}
	return b, nil
}
