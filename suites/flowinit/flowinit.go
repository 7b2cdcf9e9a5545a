package flowinit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/oautherr"
	"github.com/tollgate/tollgate/suites/probe"
)

// Options say which target to describe, with which client.
type Options struct {
	// Config names the target and the primary client and bounds the
	// requests (Timeout, RequestRate); validated (probe.Config.Validate).
	Config probe.Config
	// Name is the flow's name (x-tollgate.flow); spec.ValidFlowName.
	Name string
	// TokenPath is the token endpoint, a path on the target such as
	// /token; "" for the token_endpoint of the target's metadata.
	TokenPath string
	// API is the user's API document (spec.ReadAPISpec): its protected
	// operations become the document's. nil: the document says where to
	// add them.
	API *spec.APISpec
}

// Result is the document Run wrote and what it saw on the way.
type Result struct {
	Document []byte     // the flow document, YAML
	Flow     *spec.Flow // the document compiled
	// Metadata is where the metadata the document uses was found; ""
	// when it uses none. Looked says what each discovery location
	// answered when none was usable.
	Metadata string
	Looked   []string
	TokenURL string
	// TokenFormat is the format recognised in the token issued
	// (spec.FormatUUID or spec.FormatJWT); "" when it is neither, and the
	// document names none.
	TokenFormat string
	// Attempts are the token requests sent, in order; the last one got
	// the token.
	Attempts []Attempt
	// Decide lists the TODO(decide) comments of the document.
	Decide []string
	// Notes says what Run saw that the document records in comments.
	Notes []string
}

// Attempt is one token request and its outcome.
type Attempt struct {
	Request string // how it was sent, e.g. "a form with HTTP Basic (client_secret_basic)"
	Outcome string // e.g. "a token", "401 invalid_client"
}

// ErrUnusableDocument marks a document Run wrote and spec cannot read: a
// fault of Run's, never of the target's.
var ErrUnusableDocument = errors.New("tollgate init wrote a flow document that it cannot read back (a bug: please report it with the target's metadata)")

// Run describes the target: see the package documentation. Its errors,
// but those wrapping ErrUnusableDocument, are one line that names the fix:
// the target is unreachable, has no metadata and no TokenPath was given,
// refuses every token request, or answers in a way a flow document cannot
// describe.
func Run(ctx context.Context, opts Options) (*Result, error) {
	cfg := opts.Config
	if !spec.ValidFlowName(opts.Name) {
		return nil, fmt.Errorf("flow name %q: use lower-case letters, digits, '-' and '_'", opts.Name)
	}
	client := &http.Client{Timeout: cfg.Timeout}
	md, looked, err := discover(ctx, client, cfg.Target)
	if err != nil {
		return nil, probe.UnreachableError(cfg.Target, err)
	}
	d := &draft{target: cfg.Target, name: opts.Name, api: opts.API}
	res := &Result{Looked: looked}
	if err := d.locateTokenEndpoint(opts.TokenPath, md, looked); err != nil {
		return nil, err
	}
	res.TokenURL = cfg.Target + d.tokenPath
	shapes, err := d.requestShapes()
	if err != nil {
		return nil, err
	}
	// Every method the metadata advertises is tried, so that the document
	// lists those that work (META-003 tries each advertised one); without
	// metadata the shapes are guesses, and the first that works is it.
	var first *requestShape
	var firstResponse *tokenResponse
	var accepted []string
	for _, shape := range shapes {
		d.request, d.response = shape, nil
		resp, outcome, err := d.requestToken(ctx, cfg)
		if err != nil {
			return nil, err
		}
		res.Attempts = append(res.Attempts, Attempt{Request: shape.describe, Outcome: outcome})
		if resp == nil {
			continue
		}
		accepted = append(accepted, shape.auth)
		if first == nil {
			first, firstResponse = &shape, resp
		}
		if d.metadata == nil {
			break
		}
	}
	if first == nil {
		return nil, refused(cfg, res, d.metadata != nil)
	}
	d.request, d.response, d.accepted = *first, firstResponse, accepted
	d.observeToken()
	d.useMetadata()
	d.addOperations()
	doc, err := d.encode()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnusableDocument, err)
	}
	flow, err := spec.Compile(ctx, d.name+".yaml", doc)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnusableDocument, err)
	}
	res.Document, res.Flow, res.Decide, res.Notes, res.TokenFormat = doc, flow, d.decide, d.notes, d.format
	if d.metadata != nil {
		res.Metadata = d.metadata.url
	}
	return res, nil
}

// locateTokenEndpoint sets the token path: tokenPath when given, else the
// metadata's token_endpoint. The metadata is used for the other locations
// only when it describes that token endpoint.
func (d *draft) locateTokenEndpoint(tokenPath string, md *metadata, looked []string) error {
	advertised := md.str("token_endpoint")
	if tokenPath != "" {
		path, ok := pathOnTarget(d.target, tokenPath)
		if !ok || !strings.HasPrefix(tokenPath, "/") {
			return fmt.Errorf("--token-path %q: give the token endpoint's path on the target, such as /oauth/token", tokenPath)
		}
		d.tokenPath = path
		if md != nil {
			if p, ok := pathOnTarget(d.target, advertised); ok && p == path {
				d.metadata = md
			} else {
				d.notes = append(d.notes, fmt.Sprintf("The metadata at %s names the token endpoint %q, not %s: it describes another flow, so nothing of it is used here.", md.url, advertised, path))
			}
		}
		return nil
	}
	if md == nil {
		return fmt.Errorf("no RFC 8414 or OpenID discovery metadata at %s: give --token-path, the token endpoint's path (such as /token)", strings.Join(looked, " nor "))
	}
	if advertised == "" {
		return fmt.Errorf("the metadata at %s names no token_endpoint (RFC 8414 §2): give --token-path", md.url)
	}
	path, ok := pathOnTarget(d.target, advertised)
	if !ok {
		return fmt.Errorf("the metadata at %s names the token endpoint %s, which is not on --target %s: give the target that serves it, or --token-path", md.url, advertised, d.target)
	}
	d.tokenPath, d.metadata = path, md
	return nil
}

// advertisedMethods returns the client authentication methods the
// metadata advertises in member, in its order; RFC 8414 §2: "If omitted,
// the default is client_secret_basic".
func advertisedMethods(md *metadata, member string) []string {
	if md == nil {
		return nil
	}
	if !md.has(member) {
		return []string{"client_secret_basic"}
	}
	return md.list(member)
}

// shapeOfMethod returns the token request shape of an RFC 8414 client
// authentication method; the zero shape for one Tollgate cannot send.
func shapeOfMethod(method string) requestShape {
	switch method {
	case "client_secret_basic":
		return formBasic
	case "client_secret_post":
		return formBody
	}
	return requestShape{}
}

// requestShapes returns the token requests to try, in order: those the
// metadata advertises, else the simple flow's JSON body, then the two
// forms of RFC 6749 §2.3.1.
func (d *draft) requestShapes() ([]requestShape, error) {
	if d.metadata == nil {
		return []requestShape{jsonBody, formBasic, formBody}, nil
	}
	methods := advertisedMethods(d.metadata, "token_endpoint_auth_methods_supported")
	var shapes []requestShape
	for _, m := range methods {
		if s := shapeOfMethod(m); s.describe != "" && !slices.ContainsFunc(shapes, func(o requestShape) bool { return o.auth == s.auth }) {
			shapes = append(shapes, s)
		}
	}
	if len(shapes) == 0 {
		return nil, fmt.Errorf("the metadata at %s advertises only %s for the token endpoint: Tollgate authenticates clients with client_secret_basic or client_secret_post", d.metadata.url, strings.Join(methods, ", "))
	}
	return shapes, nil
}

// requestToken sends the token request of d.request as a flow document
// with that request describes it, through a probe.Prober as the suite
// would. resp is non-nil when a token came back; outcome says what
// happened. err is set only when the target did not answer.
func (d *draft) requestToken(ctx context.Context, cfg probe.Config) (resp *tokenResponse, outcome string, err error) {
	doc, err := d.encode()
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrUnusableDocument, err)
	}
	flow, err := spec.Compile(ctx, d.name+".yaml", doc)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrUnusableDocument, err)
	}
	p := probe.New(cfg, flow)
	ex, err := p.RequestToken(ctx, probe.TokenRequest{Client: cfg.Client, Auth: d.request.auth})
	if err != nil {
		if errors.Is(err, probe.ErrInconclusive) {
			return nil, "", fmt.Errorf("the token endpoint %s%s: %w: wait and run again", cfg.Target, d.tokenPath, err)
		}
		return nil, "", probe.UnreachableError(cfg.Target, err)
	}
	if ex.Status != http.StatusOK {
		outcome = fmt.Sprint(ex.Status)
		if e, perr := oautherr.Parse(ex.Body); perr == nil && e.Code != "" && oautherr.ValidCode(e.Code) {
			outcome += " " + e.Code
		}
		return nil, outcome, nil
	}
	resp, err = readTokenResponse(ex.Body)
	if err != nil {
		return nil, "200 but " + p.Redact(err.Error()), nil
	}
	return resp, "a token", nil
}

// refused is the error when no token request got a token.
func refused(cfg probe.Config, res *Result, discovered bool) error {
	var tried []string
	answered := false // a 200 came back, without a token init can find
	for _, a := range res.Attempts {
		tried = append(tried, a.Request+": "+a.Outcome)
		answered = answered || strings.HasPrefix(a.Outcome, "200 ")
	}
	fix := "check TOLLGATE_CLIENT_ID / TOLLGATE_CLIENT_SECRET"
	switch {
	case answered:
		fix = "the token response is not one init can read: write x-tollgate.tokenEndpoint.response by hand (docs/flow-documents.md)"
	case !discovered:
		fix += " and --token-path"
	}
	return fmt.Errorf("client %q got no token from %s (%s): %s", cfg.Client.ID, res.TokenURL, strings.Join(tried, "; "), fix)
}

// observeToken records the token's format, type and lifetime.
func (d *draft) observeToken() {
	r := d.response
	d.format, d.algorithm = tokenFormat(r.token)
	if d.format == spec.FormatJWT && !slices.Contains(spec.Algorithms(), d.algorithm) {
		d.notes = append(d.notes, fmt.Sprintf("The token is a JWT signed with %s, which the mock cannot sign with: token.algorithm is left to the mock's default (check does not use it).", d.algorithm))
		d.algorithm = ""
	}
	if d.format == "" {
		d.notes = append(d.notes, "The token is neither a v4 UUID nor a JWT: token.format is left out (only the mock uses it).")
	}
	if r.tokenTypeValue != "" && !spec.ValidTokenType(r.tokenTypeValue) {
		d.notes = append(d.notes, fmt.Sprintf("The token_type %q is not an RFC 9110 token: token.type is left to its default, Bearer.", r.tokenTypeValue))
	}
	d.lifetime = likelyLifetime(r.lifetime)
}

// likelyLifetime returns the lifetime a server that answered expires_in
// probably has set: servers compute exp minus now and round down, so a
// value up to 5 s short of a whole minute stands for that minute. TOK-008
// accepts 5 s short at least, so a later token answered a second earlier
// or later passes either way; a document that says 3600 reads better
// than one that says 3599.
func likelyLifetime(expiresIn int64) int64 {
	if expiresIn <= 0 || expiresIn > 366*24*3600 {
		return 0
	}
	if up := (expiresIn + 59) / 60 * 60; up-expiresIn <= 5 {
		return up
	}
	return expiresIn
}

// useMetadata records the locations the metadata names: the JWK Set and
// itself, the revocation and introspection endpoints (marked optional:
// Run does not call them), and its scopes.
func (d *draft) useMetadata() {
	md := d.metadata
	if md == nil {
		return
	}
	d.metadataURL = d.onTarget(md.url)
	if jwks := md.str("jwks_uri"); jwks != "" && spec.CheckLocation(jwks) == nil {
		if d.format == "" || d.format == spec.FormatJWT {
			d.jwksURI = d.onTarget(jwks)
		} else {
			d.notes = append(d.notes, fmt.Sprintf("The metadata names the JWK Set %s, but the tokens are not JWTs: it is left out.", jwks))
		}
	}
	d.revocation = d.clientEndpoint("revocation")
	d.introspection = d.clientEndpoint("introspection")
	d.scopes = md.list("scopes_supported")
}

// onTarget writes a URL as a path when it is on the target.
func (d *draft) onTarget(rawURL string) string {
	if p, ok := pathOnTarget(d.target, rawURL); ok {
		return p
	}
	return rawURL
}

// clientEndpoint reads the metadata's revocation_endpoint or
// introspection_endpoint and its *_auth_methods_supported.
func (d *draft) clientEndpoint(name string) *clientEndpoint {
	member := name + "_endpoint"
	u := d.metadata.str(member)
	if u == "" {
		return nil
	}
	path, ok := pathOnTarget(d.target, u)
	if !ok {
		d.notes = append(d.notes, fmt.Sprintf("The metadata's %s %s is not on the target, so the document cannot declare it; tollgate check still finds it in the metadata.", member, u))
		return nil
	}
	if path == d.tokenPath {
		d.notes = append(d.notes, fmt.Sprintf("The metadata's %s is the token endpoint: left out.", member))
		return nil
	}
	ep := &clientEndpoint{path: path, metadata: member}
	if methods := d.metadata.list(member + "_auth_methods_supported"); len(methods) > 0 {
		for _, m := range methods {
			if a := shapeOfMethod(m).auth; a != "" && !slices.Contains(ep.clientAuth, a) {
				ep.clientAuth = append(ep.clientAuth, a)
			}
		}
		if len(ep.clientAuth) == 0 {
			d.notes = append(d.notes, fmt.Sprintf("The metadata's %s_auth_methods_supported names none of client_secret_basic and client_secret_post: the %s endpoint is left out.", member, name))
			return nil
		}
	}
	return ep
}

// addOperations takes the API document's protected operations, each at
// its probe path.
func (d *draft) addOperations() {
	if d.api == nil {
		return
	}
	reserved := []string{tokenOperationID, revocationOperationID, introspectionOperationID}
	taken := map[string]bool{"POST " + d.tokenPath: true}
	for _, ep := range []*clientEndpoint{d.revocation, d.introspection} {
		if ep != nil {
			taken["POST "+ep.path] = true
		}
	}
	for _, op := range d.api.Operations {
		key := op.Method + " " + op.ProbePath()
		if taken[key] {
			d.notes = append(d.notes, fmt.Sprintf("%s of %s is at %s, which the document already uses: left out.", op.ID, d.api.Document, key))
			continue
		}
		taken[key] = true
		ao := apiOperation{Operation: op}
		if slices.Contains(reserved, ao.ID) {
			ao.ID = op.Method + " " + op.Path // the document's own operations have that ID
		}
		var needs []string
		if op.Probe.Query != "" {
			needs = append(needs, "a query")
		}
		if len(op.Probe.Header) > 0 {
			needs = append(needs, "headers")
		}
		if op.Probe.ContentType != "" {
			needs = append(needs, "a body")
		}
		if len(needs) > 0 {
			ao.note = fmt.Sprintf("needs %s, which a flow document's probe does not send: check --api-spec %s sends it", strings.Join(needs, " and "), d.api.Document)
		}
		d.operations = append(d.operations, ao)
		for _, alt := range op.Scopes {
			d.scopes = append(d.scopes, alt...)
		}
	}
	sort.Strings(d.scopes)
	d.scopes = slices.Compact(d.scopes)
}
