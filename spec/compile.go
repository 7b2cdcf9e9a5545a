package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"

	"github.com/tollgate/tollgate/spec/oautherr"
)

// Defaults for x-tollgate members a document leaves out.
const (
	DefaultRealm        = "tollgate"
	DefaultProfile      = "rfc6749"
	DefaultErrorDialect = oautherr.DialectRFC6749
	DefaultClaims       = ClaimsRFC9068
	DefaultTokenType    = "Bearer"
	DefaultAlgorithm    = "RS256"
	DefaultLifetime     = time.Hour
	// DefaultTokenFormat is what the mock issues when a document names no
	// token.format: only the mock uses the format, and opaque promises
	// nothing about a token's shape.
	DefaultTokenFormat = FormatOpaque
	maxLifetime        = 366 * 24 * time.Hour
)

// Claim sets a jwt flow's tokens carry (x-tollgate.token.claims).
const (
	// ClaimsRFC9068 is iss, sub, aud, client_id, scope, iat, nbf, exp and
	// jti (RFC 9068 §2.2).
	ClaimsRFC9068 = "rfc9068"
	// ClaimsCL is ClaimsRFC9068 plus the claims of a Commerce Layer token
	// that its clients read (organization, application, test, rand).
	ClaimsCL = "cl"
)

// ClaimSets returns the claim sets a jwt flow may name, the default first.
func ClaimSets() []string { return []string{ClaimsRFC9068, ClaimsCL} }

// Algorithms returns the JWS algorithms a jwt flow may name.
func Algorithms() []string {
	return []string{"RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"}
}

type compiler struct {
	name string
	doc  *openapi3.T
	src  extensionSource
	// readFile reads a file the document names (the GraphQL SDL),
	// relative to the document.
	readFile func(name string) ([]byte, error)
}

// extErr reports a problem at a path inside x-tollgate, with its line.
func (c *compiler) extErr(path, format string, args ...any) error {
	return &ReadError{Document: c.name, Line: c.src.lineOf(path), Path: ExtensionKey + "." + path, Err: fmt.Errorf(format, args...)}
}

// opErr reports a problem with an operation of the document.
func (c *compiler) opErr(method, path, format string, args ...any) error {
	return &ReadError{Document: c.name, Path: "paths." + path + "." + strings.ToLower(method), Err: fmt.Errorf(format, args...)}
}

func (c *compiler) compile() (*Flow, error) {
	ext := c.src.ext
	f := &Flow{
		Document:     c.name,
		Name:         orDefault(ext.Flow, defaultFlowName(c.name)),
		Profile:      orDefault(ext.Profile, DefaultProfile),
		Realm:        orDefault(ext.Realm, DefaultRealm),
		ErrorDialect: orDefault(ext.ErrorDialect, DefaultErrorDialect),
		TokenType:    orDefault(ext.Token.Type, DefaultTokenType),
		Doc:          c.doc,
	}
	if !validName(f.Name) {
		return nil, c.extErr("flow", "%q is not a usable flow name: use lower-case letters, digits, '-' and '_'", f.Name)
	}
	if !slices.Contains(Profiles(), f.Profile) {
		return nil, c.extErr("profile", "unknown profile %q (known: %s)", f.Profile, strings.Join(Profiles(), ", "))
	}
	if !printable(f.Realm) {
		return nil, c.extErr("realm", "must be printable ASCII")
	}
	if !slices.Contains(oautherr.Dialects(), f.ErrorDialect) {
		return nil, c.extErr("errorDialect", "unknown error dialect %q (known: %s)", f.ErrorDialect, strings.Join(oautherr.Dialects(), ", "))
	}
	if !validToken(f.TokenType) {
		return nil, c.extErr("token.type", "%q is not an RFC 9110 token", f.TokenType)
	}
	if err := c.compileToken(f); err != nil {
		return nil, err
	}
	if err := c.compileLocations(f); err != nil {
		return nil, err
	}
	f.Scopes = c.scopes()
	if err := c.compileGraphQL(f); err != nil {
		return nil, err
	}
	tokenOp, err := c.findTokenOperation()
	if err != nil {
		return nil, err
	}
	revocationOp, err := c.findClientOperation("revocationEndpoint", c.src.ext.RevocationEndpoint, tokenOp)
	if err != nil {
		return nil, err
	}
	introspectionOp, err := c.findClientOperation("introspectionEndpoint", c.src.ext.IntrospectionEndpoint, tokenOp, revocationOp)
	if err != nil {
		return nil, err
	}
	for _, path := range c.doc.Paths.InMatchingOrder() {
		item := c.doc.Paths.Value(path)
		for _, method := range sortedMethods(item) {
			op := item.GetOperation(method)
			switch op {
			case tokenOp:
				f.Token, err = c.compileTokenOperation(path, item, method, op)
			case revocationOp:
				f.Revocation, err = c.compileClientOperation("revocationEndpoint", c.src.ext.RevocationEndpoint, path, item, method, op)
			case introspectionOp:
				f.Introspection, err = c.compileClientOperation("introspectionEndpoint", c.src.ext.IntrospectionEndpoint, path, item, method, op)
			default:
				var o Operation
				o, err = c.compileOperation(path, item, method, op)
				f.Operations = append(f.Operations, o)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	if err := c.inheritClientAuth(f, "revocationEndpoint", f.Revocation); err != nil {
		return nil, err
	}
	if err := c.inheritClientAuth(f, "introspectionEndpoint", f.Introspection); err != nil {
		return nil, err
	}
	if err := c.compileOptional(f); err != nil {
		return nil, err
	}
	sort.SliceStable(f.Operations, func(i, j int) bool {
		if f.Operations[i].Path != f.Operations[j].Path {
			return f.Operations[i].Path < f.Operations[j].Path
		}
		return f.Operations[i].Method < f.Operations[j].Method
	})
	return f, nil
}

func (c *compiler) compileToken(f *Flow) error {
	t := c.src.ext.Token
	switch t.Format {
	case FormatUUID, FormatOpaque, FormatJWT:
		f.TokenFormat = t.Format
	case "":
		f.TokenFormat = DefaultTokenFormat
	default:
		return c.extErr("token.format", "unknown token format %q (known: uuid, opaque, jwt)", t.Format)
	}
	switch {
	case t.Lifetime == 0:
		f.Lifetime = DefaultLifetime
	case t.Lifetime < 0 || time.Duration(t.Lifetime)*time.Second > maxLifetime:
		return c.extErr("token.lifetime", "%d is out of range: give seconds between 1 and %d", t.Lifetime, int(maxLifetime.Seconds()))
	default:
		f.Lifetime = time.Duration(t.Lifetime) * time.Second
	}
	if f.TokenFormat != FormatJWT {
		if t.Algorithm != "" {
			return c.extErr("token.algorithm", "only jwt tokens are signed: remove it or set format: jwt")
		}
		if t.Claims != "" {
			return c.extErr("token.claims", "only jwt tokens carry claims: remove it or set format: jwt")
		}
		return nil
	}
	f.Claims = orDefault(t.Claims, DefaultClaims)
	if !slices.Contains(ClaimSets(), f.Claims) {
		return c.extErr("token.claims", "unknown claim set %q (known: %s)", f.Claims, strings.Join(ClaimSets(), ", "))
	}
	f.Algorithm = orDefault(t.Algorithm, DefaultAlgorithm)
	if !slices.Contains(Algorithms(), f.Algorithm) {
		return c.extErr("token.algorithm", "unsupported algorithm %q (supported: %s)", f.Algorithm, strings.Join(Algorithms(), ", "))
	}
	return nil
}

// scopes collects the scopes every oauth2 security scheme defines.
func (c *compiler) scopes() []string {
	set := map[string]bool{}
	if c.doc.Components != nil {
		for _, ref := range c.doc.Components.SecuritySchemes {
			if ref == nil || ref.Value == nil || ref.Value.Flows == nil {
				continue
			}
			fl := ref.Value.Flows
			for _, of := range []*openapi3.OAuthFlow{fl.ClientCredentials, fl.AuthorizationCode, fl.Implicit, fl.Password} {
				if of == nil {
					continue
				}
				for s := range of.Scopes {
					set[s] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// findTokenOperation picks the operation that issues tokens: the one named by
// x-tollgate.tokenEndpoint.operationId, else the one at an oauth2
// clientCredentials tokenUrl.
func (c *compiler) findTokenOperation() (*openapi3.Operation, error) {
	if id := c.src.ext.TokenEndpoint.OperationID; id != "" {
		for _, path := range c.doc.Paths.InMatchingOrder() {
			for _, op := range c.doc.Paths.Value(path).Operations() {
				if op.OperationID == id {
					return op, nil
				}
			}
		}
		return nil, c.extErr("tokenEndpoint.operationId", "no operation has operationId %q", id)
	}
	var urls []string
	if c.doc.Components != nil {
		for _, ref := range c.doc.Components.SecuritySchemes {
			if ref != nil && ref.Value != nil && ref.Value.Flows != nil && ref.Value.Flows.ClientCredentials != nil {
				urls = append(urls, ref.Value.Flows.ClientCredentials.TokenURL)
			}
		}
	}
	for _, u := range urls {
		p := u
		if i := strings.Index(p, "://"); i >= 0 {
			if j := strings.Index(p[i+3:], "/"); j >= 0 {
				p = p[i+3+j:]
			}
		}
		if item := c.doc.Paths.Value(p); item != nil && item.Post != nil {
			return item.Post, nil
		}
	}
	return nil, c.extErr("tokenEndpoint", "cannot tell which operation issues tokens: set operationId (or declare an oauth2 clientCredentials tokenUrl that matches a POST operation)")
}

func (c *compiler) baseOperation(path string, item *openapi3.PathItem, method string, op *openapi3.Operation) Operation {
	id := op.OperationID
	if id == "" {
		id = method + " " + path
	}
	return Operation{
		ID:     id,
		Method: method,
		Path:   path,
		Route:  &routers.Route{Spec: c.doc, Path: path, PathItem: item, Method: method, Operation: op},
	}
}

func (c *compiler) compileOperation(path string, item *openapi3.PathItem, method string, op *openapi3.Operation) (Operation, error) {
	o := c.baseOperation(path, item, method, op)
	security := c.doc.Security
	if op.Security != nil {
		security = *op.Security
	}
	protected, scopes, err := c.bearerRequirement(security)
	if err != nil {
		return o, c.opErr(method, path, "%w", err)
	}
	o.Protected, o.Scopes = protected, scopes
	o.Success, err = successResponse(op)
	if err != nil {
		return o, c.opErr(method, path, "%w", err)
	}
	return o, nil
}

// bearerRequirement interprets an operation's security requirements: it is
// protected when every alternative names a Bearer-capable scheme (http bearer,
// oauth2 or openIdConnect); each alternative's scopes are one way to pass.
func (c *compiler) bearerRequirement(reqs openapi3.SecurityRequirements) (bool, [][]string, error) {
	if len(reqs) == 0 {
		return false, nil, nil
	}
	var alternatives [][]string
	for _, req := range reqs {
		if len(req) == 0 {
			return false, nil, nil // an empty alternative makes authentication optional
		}
		var scopes []string
		for name, list := range req {
			ref := c.doc.Components.SecuritySchemes[name]
			if ref == nil || ref.Value == nil {
				return false, nil, fmt.Errorf("security names undefined scheme %q", name)
			}
			s := ref.Value
			bearer := (s.Type == "http" && strings.EqualFold(s.Scheme, "bearer")) || s.Type == "oauth2" || s.Type == "openIdConnect"
			if !bearer {
				return false, nil, fmt.Errorf("security scheme %q (type %s) cannot protect a resource here: use an http bearer or oauth2 scheme", name, s.Type)
			}
			scopes = append(scopes, list...)
		}
		sort.Strings(scopes)
		if len(scopes) == 0 {
			return true, nil, nil // one alternative needs no scope: any valid token passes
		}
		alternatives = append(alternatives, dedupe(scopes))
	}
	return true, alternatives, nil
}

// successResponse returns the lowest documented 2xx response with its example.
func successResponse(op *openapi3.Operation) (Response, error) {
	if op.Responses == nil {
		return Response{}, errors.New("no responses documented")
	}
	var codes []int
	for key := range op.Responses.Map() {
		if code, err := strconv.Atoi(key); err == nil && code >= 200 && code < 300 {
			codes = append(codes, code)
		}
	}
	if len(codes) == 0 {
		return Response{}, errors.New("no 2xx response documented: add one with an example")
	}
	sort.Ints(codes)
	resp := op.Responses.Status(codes[0]).Value
	if len(resp.Content) == 0 {
		return Response{Status: codes[0]}, nil
	}
	mediaType, media := pickMedia(resp.Content)
	example, ok := exampleOf(media)
	switch {
	case ok:
	case IsJSONMediaType(mediaType) && media != nil && media.Schema != nil:
		example = defaultValue(media.Schema.Value, 0) // only the mock serves it
	case IsJSONMediaType(mediaType):
		example = map[string]any{}
	default:
		return Response{Status: codes[0], ContentType: mediaType}, nil // served empty
	}
	body, err := json.Marshal(example)
	if err != nil {
		return Response{}, fmt.Errorf("response %d example is not JSON-encodable: %w", codes[0], err)
	}
	return Response{Status: codes[0], ContentType: mediaType, Body: body}, nil
}

// pickMedia prefers application/json, then any JSON media type, then the first by name.
func pickMedia(content openapi3.Content) (string, *openapi3.MediaType) {
	if m := content["application/json"]; m != nil {
		return "application/json", m
	}
	names := make([]string, 0, len(content))
	for name := range content {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if IsJSONMediaType(name) {
			return name, content[name]
		}
	}
	return names[0], content[names[0]]
}

func exampleOf(m *openapi3.MediaType) (any, bool) {
	if m == nil {
		return nil, false
	}
	if m.Example != nil {
		return m.Example, true
	}
	names := make([]string, 0, len(m.Examples))
	for name := range m.Examples {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if ref := m.Examples[name]; ref != nil && ref.Value != nil && ref.Value.Value != nil {
			return ref.Value.Value, true
		}
	}
	if m.Schema != nil && m.Schema.Value != nil && m.Schema.Value.Example != nil {
		return m.Schema.Value.Example, true
	}
	return nil, false
}

// IsJSONMediaType reports whether a media type (parameters allowed) is JSON:
// application/json or any application/*+json.
func IsJSONMediaType(mt string) bool {
	base, _, err := mime.ParseMediaType(mt)
	if err != nil {
		return false
	}
	return base == "application/json" || (strings.HasPrefix(base, "application/") && strings.HasSuffix(base, "+json"))
}

// FormMediaType is the media type of form-encoded token requests.
const FormMediaType = "application/x-www-form-urlencoded"

func sortedMethods(item *openapi3.PathItem) []string {
	ops := item.Operations()
	methods := make([]string, 0, len(ops))
	for m := range ops {
		methods = append(methods, strings.ToUpper(m))
	}
	sort.Strings(methods)
	return methods
}

func (c *compiler) compileTokenOperation(path string, item *openapi3.PathItem, method string, op *openapi3.Operation) (TokenOperation, error) {
	t := TokenOperation{Operation: c.baseOperation(path, item, method, op)}
	ext := c.src.ext.TokenEndpoint
	if method != http.MethodPost {
		return t, c.opErr(method, path, "the token operation must be a POST (RFC 6749 §3.2)")
	}
	if op.RequestBody == nil || op.RequestBody.Value == nil || len(op.RequestBody.Value.Content) == 0 {
		return t, c.opErr(method, path, "the token operation needs a requestBody with at least one media type")
	}
	content := op.RequestBody.Value.Content
	for mt := range content {
		if !IsJSONMediaType(mt) && mt != FormMediaType {
			return t, c.opErr(method, path, "request media type %q is not supported: use application/json, application/*+json or %s", mt, FormMediaType)
		}
		t.MediaTypes = append(t.MediaTypes, mt)
	}
	sort.Strings(t.MediaTypes)

	t.ClientAuth = ext.ClientAuth
	if len(t.ClientAuth) == 0 {
		t.ClientAuth = []string{ClientAuthBody}
	}
	for _, m := range t.ClientAuth {
		if m != ClientAuthBody && m != ClientAuthBasic {
			return t, c.extErr("tokenEndpoint.clientAuth", "unknown client authentication %q (known: body, basic)", m)
		}
	}
	if len(dedupe(append([]string(nil), t.ClientAuth...))) != len(t.ClientAuth) {
		return t, c.extErr("tokenEndpoint.clientAuth", "lists a method twice")
	}

	var err error
	req := ext.Request
	fields := []struct {
		key      string
		raw      string
		dst      *Pointer
		required bool
	}{
		{"clientId", req.ClientID, &t.Request.ClientID, t.AcceptsClientAuth(ClientAuthBody)},
		{"clientSecret", req.ClientSecret, &t.Request.ClientSecret, t.AcceptsClientAuth(ClientAuthBody)},
		{"grantType", req.GrantType, &t.Request.GrantType, ext.GrantType != ""},
		{"scope", req.Scope, &t.Request.Scope, false},
	}
	for _, fl := range fields {
		path := "tokenEndpoint.request." + fl.key
		if fl.raw == "" {
			if fl.required {
				return t, c.extErr(path, "missing: give the JSON Pointer of this member of the request body")
			}
			continue
		}
		if *fl.dst, err = ParsePointer(fl.raw); err != nil {
			return t, c.extErr(path, "%w", err)
		}
		for mt, media := range content {
			if err := checkRequestPointer(*fl.dst, mt, media); err != nil {
				return t, c.extErr(path, "%w", err)
			}
		}
	}
	if !t.AcceptsClientAuth(ClientAuthBody) && (!t.Request.ClientSecret.IsZero()) {
		return t, c.extErr("tokenEndpoint.request.clientSecret", "clientAuth does not include body: remove this pointer or add body")
	}
	t.GrantType = ext.GrantType
	if t.GrantType == "" && !t.Request.GrantType.IsZero() {
		return t, c.extErr("tokenEndpoint.grantType", "missing: request.grantType is set, so say which grant_type value the flow uses")
	}

	schema, err := tokenResponseSchema(op)
	if err != nil {
		return t, c.opErr(method, path, "%w", err)
	}
	resp := ext.Response
	out := []struct {
		key      string
		raw      string
		dst      *Pointer
		required bool
		types    []string
	}{
		{"accessToken", resp.AccessToken, &t.Response.AccessToken, true, []string{"string"}},
		{"tokenType", resp.TokenType, &t.Response.TokenType, true, []string{"string"}},
		{"expiresIn", resp.ExpiresIn, &t.Response.ExpiresIn, true, []string{"integer", "number"}},
		{"scope", resp.Scope, &t.Response.Scope, false, []string{"string"}},
		{"createdAt", resp.CreatedAt, &t.Response.CreatedAt, false, []string{"integer", "number"}},
	}
	for _, fl := range out {
		path := "tokenEndpoint.response." + fl.key
		if fl.raw == "" {
			if fl.required {
				return t, c.extErr(path, "missing: give the JSON Pointer of this member of the token response")
			}
			continue
		}
		if *fl.dst, err = ParsePointer(fl.raw); err != nil {
			return t, c.extErr(path, "%w", err)
		}
		if err := checkSchemaPointer(*fl.dst, schema, fl.types); err != nil {
			return t, c.extErr(path, "%w in the 200 response schema", err)
		}
	}
	if err := distinctPointers(t.Response.AccessToken, t.Response.TokenType, t.Response.ExpiresIn, t.Response.Scope, t.Response.CreatedAt); err != nil {
		return t, c.extErr("tokenEndpoint.response", "%w", err)
	}
	if err := distinctPointers(t.Request.ClientID, t.Request.ClientSecret, t.Request.GrantType, t.Request.Scope); err != nil {
		return t, c.extErr("tokenEndpoint.request", "%w", err)
	}
	if success, err := successResponse(op); err == nil {
		t.Success = success
	}
	return t, nil
}

// distinctPointers fails when two members point at the same place or one
// inside another: the mock would write one over the other.
func distinctPointers(ptrs ...Pointer) error {
	for i, a := range ptrs {
		for _, b := range ptrs[i+1:] {
			if a.IsZero() || b.IsZero() {
				continue
			}
			as, bs := a.String()+"/", b.String()+"/"
			if strings.HasPrefix(as, bs) || strings.HasPrefix(bs, as) {
				return fmt.Errorf("%s and %s overlap: each member needs its own place", a, b)
			}
		}
	}
	return nil
}

func tokenResponseSchema(op *openapi3.Operation) (*openapi3.Schema, error) {
	if op.Responses == nil || op.Responses.Status(http.StatusOK) == nil || op.Responses.Status(http.StatusOK).Value == nil {
		return nil, errors.New("the token operation must document its 200 response (RFC 6749 §5.1)")
	}
	mt, media := pickMedia(op.Responses.Status(http.StatusOK).Value.Content)
	if media == nil || !IsJSONMediaType(mt) || media.Schema == nil || media.Schema.Value == nil {
		return nil, errors.New("the token operation's 200 response must have a JSON schema (RFC 6749 §5.1)")
	}
	return media.Schema.Value, nil
}

func checkRequestPointer(p Pointer, mediaType string, media *openapi3.MediaType) error {
	if mediaType == FormMediaType && len(p.Tokens()) != 1 {
		return fmt.Errorf("%s: form bodies are flat, so the pointer must name a top-level member", mediaType)
	}
	if media == nil || media.Schema == nil || media.Schema.Value == nil {
		return nil // no schema to check against
	}
	if err := checkSchemaPointer(p, media.Schema.Value, []string{"string"}); err != nil {
		return fmt.Errorf("%w in the %s request schema", err, mediaType)
	}
	return nil
}

// checkSchemaPointer follows p through object properties and checks the type
// of the member it lands on.
func checkSchemaPointer(p Pointer, s *openapi3.Schema, types []string) error {
	for _, tok := range p.Tokens() {
		prop := s.Properties[tok]
		if prop == nil || prop.Value == nil {
			return fmt.Errorf("%s: no property %q", p, tok)
		}
		s = prop.Value
	}
	if s.Type == nil || len(s.Type.Slice()) == 0 {
		return nil
	}
	for _, want := range types {
		if s.Type.Is(want) || s.Type.Includes(want) {
			return nil
		}
	}
	return fmt.Errorf("%s: property has type %v, want %s", p, s.Type.Slice(), strings.Join(types, " or "))
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func dedupe(sorted []string) []string {
	sort.Strings(sorted)
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case (r == '-' || r == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// validToken reports whether s is an RFC 9110 token (tchar+).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", ch) >= 0:
		default:
			return false
		}
	}
	return true
}
