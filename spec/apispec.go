package spec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"go.yaml.in/yaml/v3"

	"github.com/tollgate/tollgate/spec/yamlnode"
)

// APIOptions says how to fill in what an API document (ReadAPISpec) leaves
// open.
type APIOptions struct {
	// PathParams gives path parameters by name; a value here beats the
	// document's examples, enums and defaults.
	PathParams map[string]string
	// Base is the path prefix before every operation's path, e.g. "/v1";
	// "/" is none. Empty: the path of the first server URL that applies to
	// the operation (its own servers, its path's, else the document's).
	Base string
}

// APISpec is a user's own OpenAPI document read for the operations it
// protects with a Bearer token: the operations `tollgate check --api-spec`
// probes instead of the flow document's.
type APISpec struct {
	Document string // where it was read from
	Version  string // the document's openapi field, e.g. "3.1.0"
	// Operations are the protected operations to probe, each with its Probe
	// request: the safe ones (GET, HEAD, OPTIONS) first, then the others,
	// each group in path then method order. Checks that need a request
	// accepted pick the first operation that fits, so a write operation
	// gets a valid token only when no read operation does.
	Operations []Operation
	Skipped    []SkippedOperation // protected operations that cannot be probed, and why
}

// SkippedOperation is a protected operation of an API document that cannot
// be probed, with the reason and what would fix it.
type SkippedOperation struct {
	ID     string // operationId, or "METHOD /path"
	Method string
	Path   string
	Reason string
}

// String formats "METHOD /path (id): reason".
func (s SkippedOperation) String() string {
	name := s.Method + " " + s.Path
	if s.ID != name {
		name += " (" + s.ID + ")"
	}
	return name + ": " + s.Reason
}

// WithAPISpec returns a copy of f whose operations are api's protected
// operations instead of the flow document's: the token side stays the
// flow's, the protected resources are the user's API.
func (f *Flow) WithAPISpec(api *APISpec) *Flow {
	g := *f
	g.Operations = append([]Operation(nil), api.Operations...)
	g.OperationsDocument = api.Document
	return &g
}

// ReadAPISpec reads an OpenAPI 3.0 or 3.1 document from disk and collects
// the operations it protects (see CompileAPISpec).
func ReadAPISpec(ctx context.Context, file string, opts APIOptions) (*APISpec, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &ReadError{Document: file, Err: fmt.Errorf("cannot read the API document: %w", err)}
	}
	return CompileAPISpec(ctx, file, data, opts)
}

// CompileAPISpec reads an OpenAPI 3.0 or 3.1 document given as bytes and
// collects every operation it secures with an http bearer, oauth2 or
// openIdConnect scheme (its own security, else the document's; an empty
// security list makes it public). Each becomes a protected Operation with
// the scopes of its oauth2/openIdConnect requirements and a Probe request:
// path parameters filled from opts.PathParams, else the parameter's
// example(s), else its schema's enum, default, example(s) or const; a
// required body from its media type's example (or the schema's). An
// operation that cannot be filled is Skipped with the reason. A document
// that is unreadable, not OpenAPI 3.0/3.1, or protects nothing is a
// *ReadError naming the place (line and dotted path) at fault.
func CompileAPISpec(ctx context.Context, name string, data []byte, opts APIOptions) (api *APISpec, err error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &ReadError{Document: name, Err: fmt.Errorf("not YAML or JSON: %w", cleanYAMLError(err))}
	}
	a := &apiReader{name: name, root: &root, opts: opts}
	if err := a.checkVersion(); err != nil {
		return nil, err
	}
	if opts.Base != "" && !strings.HasPrefix(opts.Base, "/") {
		return nil, fmt.Errorf("spec: API base %q: give a path such as /v1 (or / for none)", opts.Base)
	}
	defer func() {
		// kin-openapi's support of OpenAPI 3.1 is not complete: a
		// construct it cannot handle must end in an error, never a crash.
		if r := recover(); r != nil {
			api, err = nil, &ReadError{Document: name, Err: fmt.Errorf("kin-openapi cannot handle this document (%v): simplify the construct it names, or report it", r)}
		}
	}()
	loader := openapi3.NewLoader()
	loader.Context = ctx
	// A document split into files is common: follow $refs to local files
	// (relative to the document), never to the network.
	loader.ReadFromURIFunc = func(l *openapi3.Loader, location *url.URL) ([]byte, error) {
		if location.Scheme != "" && location.Scheme != "file" {
			return nil, fmt.Errorf("$ref %s: only $refs to local files are followed", location)
		}
		return openapi3.ReadFromFile(l, location)
	}
	doc, err := loader.LoadFromDataWithPath(data, &url.URL{Path: filepath.ToSlash(name)})
	if err != nil {
		if line := refLine(&root, "$defs"); line > 0 && strings.Contains(err.Error(), "$defs") {
			return nil, &ReadError{Document: name, Line: line, Err: fmt.Errorf("a $ref into $defs (JSON Schema 2020-12, OpenAPI 3.1) is not supported by kin-openapi, the library Tollgate reads OpenAPI with: move the schema to components.schemas and $ref it there (%w)", err)}
		}
		return nil, &ReadError{Document: name, Err: fmt.Errorf("not a loadable OpenAPI document: %w", err)}
	}
	// Patterns are ECMA-262 regular expressions that Go's regexp may not
	// compile; examples are used as they are, right or wrong.
	if err := doc.Validate(ctx, openapi3.DisableSchemaPatternValidation(), openapi3.DisableExamplesValidation()); err != nil {
		line, path := a.validationPlace(err)
		return nil, &ReadError{Document: name, Line: line, Path: path, Err: fmt.Errorf("invalid OpenAPI document: %w", err)}
	}
	a.doc = doc
	return a.collect()
}

// apiReader turns one loaded API document into an APISpec.
type apiReader struct {
	name string
	root *yaml.Node // the document as YAML nodes, for line numbers
	doc  *openapi3.T
	opts APIOptions
}

// errAt reports a problem at a dotted path such as
// "paths./items/{id}.get.parameters[0]", with its line when the document
// has one there.
func (a *apiReader) errAt(path []string, format string, args ...any) error {
	return &ReadError{Document: a.name, Line: a.lineOf(path), Path: dotted(path), Err: fmt.Errorf(format, args...)}
}

// dotted joins path segments as "paths./items.get.parameters[0]".
func dotted(path []string) string {
	var b strings.Builder
	for i, seg := range path {
		if strings.HasPrefix(seg, "[") {
			b.WriteString(seg)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	return b.String()
}

// lineOf returns the line of the node at path ("[i]" segments index
// sequences), or of its deepest existing ancestor; 0 when unknown.
func (a *apiReader) lineOf(path []string) int {
	node := a.root
	if node.Kind == yaml.DocumentNode && len(node.Content) == 1 {
		node = node.Content[0]
	}
	line := node.Line
	for _, seg := range path {
		if strings.HasPrefix(seg, "[") {
			i, err := strconv.Atoi(strings.Trim(seg, "[]"))
			if err != nil || node.Kind != yaml.SequenceNode || i < 0 || i >= len(node.Content) {
				return line
			}
			node = node.Content[i]
			line = node.Line
			continue
		}
		k, v := yamlnode.Lookup(node, seg)
		if k == nil {
			return line
		}
		node, line = v, k.Line
	}
	return line
}

// kinPlaces match the place a kin-openapi validation error names, in its
// wordings: "invalid path P: invalid operation M", "operation M P" and
// "invalid path P:" (the path item itself).
var kinPlaces = []struct {
	re           *regexp.Regexp
	path, method int // submatch indexes; method 0: none
}{
	{regexp.MustCompile(`invalid path (/\S*): invalid operation ([A-Z]+)`), 1, 2},
	{regexp.MustCompile(`operation ([A-Z]+) (/\S*) `), 2, 1},
	{regexp.MustCompile(`invalid path (/\S*):`), 1, 0},
}

// validationPlace finds the line and dotted path of the operation, path
// item or parameter a kin-openapi validation error names, which it
// reports without a line.
func (a *apiReader) validationPlace(err error) (int, string) {
	msg := err.Error()
	for _, kp := range kinPlaces {
		m := kp.re.FindStringSubmatch(msg)
		if m == nil {
			continue
		}
		loc := []string{"paths", m[kp.path]}
		if kp.method > 0 {
			loc = append(loc, strings.ToLower(m[kp.method]))
		}
		if p := kinParameter.FindStringSubmatch(msg); p != nil {
			loc = a.parameterPlace(loc, p[1])
		}
		return a.lineOf(loc), dotted(loc)
	}
	return 0, ""
}

// kinParameter matches the parameter a kin-openapi validation error names.
var kinParameter = regexp.MustCompile(`parameter "([^"]+)"`)

// parameterPlace returns the place of the parameter called name in the
// operation at op ("paths", path[, method]), or in its path item, as
// "…parameters[i]"; op itself when neither lists it inline.
func (a *apiReader) parameterPlace(op []string, name string) []string {
	for _, owner := range [][]string{op, op[:2]} {
		node := a.root
		for _, seg := range append(slices.Clone(owner), "parameters") {
			node = yamlnode.Value(node, seg)
		}
		if node == nil || node.Kind != yaml.SequenceNode {
			continue
		}
		for i, p := range node.Content {
			if n := yamlnode.Value(p, "name"); n != nil && n.Value == name {
				return append(slices.Clone(owner), "parameters", fmt.Sprintf("[%d]", i))
			}
		}
	}
	return op
}

// supportedVersion matches the openapi field of the documents Tollgate reads.
var supportedVersion = regexp.MustCompile(`^3\.[01](\.\d+)?$`)

// checkVersion refuses what is not OpenAPI 3.0 or 3.1 before kin-openapi
// reads it, with the version found.
func (a *apiReader) checkVersion() error {
	if n := yamlnode.Value(a.root, "swagger"); n != nil {
		return a.errAt([]string{"swagger"}, "Swagger %s is not OpenAPI 3: convert the document to OpenAPI 3.0 or 3.1 first", n.Value)
	}
	n := yamlnode.Value(a.root, "openapi")
	if n == nil {
		return a.errAt(nil, "no openapi field: an API document must be OpenAPI 3.0 or 3.1")
	}
	if !supportedVersion.MatchString(n.Value) {
		return a.errAt([]string{"openapi"}, "OpenAPI %q is not supported: Tollgate reads OpenAPI 3.0 and 3.1 documents", n.Value)
	}
	if yamlnode.Value(yamlnode.Value(a.root, "components"), "pathItems") != nil {
		return a.errAt([]string{"components", "pathItems"}, "components.pathItems (OpenAPI 3.1) is not supported by kin-openapi, the library Tollgate reads OpenAPI with: move these path items under paths")
	}
	return nil
}

// refLine returns the line of the first $ref whose value holds substr, or 0.
func refLine(n *yaml.Node, substr string) int {
	if n == nil {
		return 0
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "$ref" && strings.Contains(n.Content[i+1].Value, substr) {
				return n.Content[i].Line
			}
		}
	}
	for _, c := range n.Content {
		if line := refLine(c, substr); line > 0 {
			return line
		}
	}
	return 0
}

// collect walks the document's operations in path then method order.
func (a *apiReader) collect() (*APISpec, error) {
	api := &APISpec{Document: a.name, Version: a.doc.OpenAPI}
	if a.doc.Paths == nil || a.doc.Paths.Len() == 0 {
		return nil, a.errAt([]string{"paths"}, "the document has no paths: nothing to probe")
	}
	paths := a.doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, path := range paths {
		item := a.doc.Paths.Value(path)
		for _, method := range sortedMethods(item) {
			op := item.GetOperation(method)
			loc := []string{"paths", path, strings.ToLower(method)}
			scopes, protected, why, err := a.bearerScopes(op, loc)
			if err != nil {
				return nil, err
			}
			if !protected {
				continue
			}
			o := Operation{
				ID:        op.OperationID,
				Method:    method,
				Path:      path,
				Protected: true,
				Scopes:    scopes,
				Route:     &routers.Route{Spec: a.doc, Path: path, PathItem: item, Method: method, Operation: op},
			}
			if o.ID == "" {
				o.ID = method + " " + path
			}
			if why != "" {
				api.Skipped = append(api.Skipped, SkippedOperation{o.ID, method, path, why})
				continue
			}
			probe, reason := a.probeRequest(path, item, op)
			if reason != "" {
				api.Skipped = append(api.Skipped, SkippedOperation{o.ID, method, path, reason})
				continue
			}
			o.Probe = probe
			api.Operations = append(api.Operations, o)
		}
	}
	for _, name := range sortedKeys(a.opts.PathParams) {
		if !slices.ContainsFunc(paths, func(p string) bool { return strings.Contains(p, "{"+name+"}") }) {
			return nil, fmt.Errorf("spec: %s: path parameter %q (--path-param, path_params): no path of the document has {%s}: check its spelling", a.name, name, name)
		}
	}
	sort.SliceStable(api.Operations, func(i, j int) bool {
		return safeMethod(api.Operations[i].Method) && !safeMethod(api.Operations[j].Method)
	})
	if len(api.Operations) == 0 {
		if len(api.Skipped) > 0 {
			return nil, &ReadError{Document: a.name, Path: "paths." + api.Skipped[0].Path + "." + strings.ToLower(api.Skipped[0].Method), Err: fmt.Errorf("no protected operation can be probed: %s", api.Skipped[0].Reason)}
		}
		return nil, a.errAt([]string{"paths"}, "no operation is secured by an http bearer, oauth2 or openIdConnect scheme: nothing to probe (add security to the operations, or to the document)")
	}
	return api, nil
}

// safeMethod reports whether an HTTP method is safe (RFC 9110 §9.2.1): a
// request with a valid token there changes nothing on the server.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == http.MethodTrace
}

// bearerScopes interprets an operation's security: protected when at least
// one alternative consists of Bearer schemes alone (http bearer, oauth2,
// openIdConnect) and none is empty (an empty alternative, or security: [],
// makes the operation public). scopes holds each Bearer alternative's
// oauth2/openIdConnect scopes (nil: any valid token passes). why is set
// when the operation is protected by other schemes only.
func (a *apiReader) bearerScopes(op *openapi3.Operation, loc []string) (scopes [][]string, protected bool, why string, err error) {
	reqs := a.doc.Security
	secLoc := []string{"security"}
	if op.Security != nil {
		reqs = *op.Security
		secLoc = append(slices.Clone(loc), "security")
	}
	if len(reqs) == 0 {
		return nil, false, "", nil
	}
	anyScope := false
	var others []string
	for i, req := range reqs {
		if len(req) == 0 {
			return nil, false, "", nil // an empty alternative: authentication is optional
		}
		bearer := true
		var need []string
		for _, schemeName := range sortedKeys(req) {
			var ref *openapi3.SecuritySchemeRef
			if a.doc.Components != nil {
				ref = a.doc.Components.SecuritySchemes[schemeName]
			}
			if ref == nil || ref.Value == nil {
				return nil, false, "", a.errAt(append(slices.Clone(secLoc), fmt.Sprintf("[%d]", i), schemeName), "names security scheme %q, which components.securitySchemes does not define", schemeName)
			}
			s := ref.Value
			switch {
			case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
				// Values listed for an http scheme are roles (OpenAPI 3.1), not scopes.
			case s.Type == "oauth2" || s.Type == "openIdConnect":
				need = append(need, req[schemeName]...)
			default:
				bearer = false
				kind := s.Type
				if s.Type == "http" {
					kind = "http " + s.Scheme
				}
				others = append(others, fmt.Sprintf("%s (%s)", schemeName, kind))
			}
		}
		if !bearer {
			continue
		}
		protected = true
		if len(need) == 0 {
			anyScope = true
			continue
		}
		scopes = append(scopes, dedupe(need))
	}
	if !protected {
		if len(others) == 0 {
			return nil, false, "", nil
		}
		return nil, true, "secured by " + strings.Join(dedupe(others), ", ") + ", not by a Bearer scheme: Tollgate probes http bearer, oauth2 and openIdConnect security only", nil
	}
	if anyScope {
		scopes = nil // one alternative needs no scope: any valid token passes
	}
	return scopes, true, "", nil
}

// probeRequest builds the request a probe sends: the base path, the path
// with its parameters filled, and a body when one is required. reason says
// why it cannot, naming what would fix it.
func (a *apiReader) probeRequest(path string, item *openapi3.PathItem, op *openapi3.Operation) (ProbeRequest, string) {
	params := map[string]*openapi3.Parameter{} // path parameters by name
	others := map[string]*openapi3.Parameter{} // required query, header and cookie parameters by "in name"
	// An operation's parameters override its path item's of the same name and location.
	for _, list := range []openapi3.Parameters{item.Parameters, op.Parameters} {
		for _, ref := range list {
			if ref == nil || ref.Value == nil {
				continue
			}
			p := ref.Value
			switch {
			case p.In == openapi3.ParameterInPath:
				params[p.Name] = p
			case p.Required:
				others[p.In+" "+p.Name] = p
			default:
				delete(others, p.In+" "+p.Name)
			}
		}
	}
	var b strings.Builder
	rest := path
	for {
		i := strings.IndexByte(rest, '{')
		j := strings.IndexByte(rest, '}')
		if i < 0 || j < i {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:i])
		name := rest[i+1 : j]
		value, ok := a.opts.PathParams[name]
		if !ok {
			value, ok = parameterValue(params[name])
		}
		if !ok {
			return ProbeRequest{}, fmt.Sprintf("path parameter %q has no example, enum or default: give --path-param %s=VALUE", name, name)
		}
		b.WriteString(url.PathEscape(value))
		rest = rest[j+1:]
	}
	base, err := a.basePath(item, op)
	if err != nil {
		return ProbeRequest{}, err.Error()
	}
	req := ProbeRequest{Path: base + b.String()}
	query := url.Values{}
	for _, key := range sortedKeys(others) {
		p := others[key]
		if p.In == openapi3.ParameterInHeader && slices.Contains([]string{"Accept", "Content-Type", "Authorization"}, http.CanonicalHeaderKey(p.Name)) {
			continue // OpenAPI: such header parameters are ignored
		}
		if p.In == openapi3.ParameterInCookie {
			return ProbeRequest{}, fmt.Sprintf("it requires the cookie parameter %q, and Tollgate sends no cookies", p.Name)
		}
		value, ok := parameterValue(p)
		if !ok {
			return ProbeRequest{}, fmt.Sprintf("required %s parameter %q has no example, enum or default: add one to the document", p.In, p.Name)
		}
		if p.In == openapi3.ParameterInQuery {
			query.Set(p.Name, value)
			continue
		}
		if req.Header == nil {
			req.Header = http.Header{}
		}
		req.Header.Set(p.Name, value)
	}
	req.Query = query.Encode()
	if rb := op.RequestBody; rb != nil && rb.Value != nil && rb.Value.Required && len(rb.Value.Content) > 0 {
		mediaType, media := pickMedia(rb.Value.Content)
		example, ok := exampleOf(media)
		if !ok && media != nil && media.Schema != nil && media.Schema.Value != nil && len(media.Schema.Value.Examples) > 0 {
			example, ok = media.Schema.Value.Examples[0], true
		}
		if !ok {
			return ProbeRequest{}, fmt.Sprintf("its required %s request body has no example: add an example to the media type or its schema", mediaType)
		}
		body, err := encodeBody(mediaType, example)
		if err != nil {
			return ProbeRequest{}, err.Error()
		}
		req.ContentType, req.Body = mediaType, body
	}
	return req, ""
}

// basePath returns the path prefix of the operation's URL: APIOptions.Base,
// else the path of the first server that applies ("" for "/").
func (a *apiReader) basePath(item *openapi3.PathItem, op *openapi3.Operation) (string, error) {
	base := a.opts.Base
	if base == "" {
		servers := a.doc.Servers
		if len(item.Servers) > 0 {
			servers = item.Servers
		}
		if op.Servers != nil && len(*op.Servers) > 0 {
			servers = *op.Servers
		}
		var err error
		if base, err = servers.BasePath(); err != nil {
			return "", fmt.Errorf("the server URL %q has no usable path: give --api-base PATH (%w)", servers[0].URL, err)
		}
	}
	return strings.TrimRight(base, "/"), nil
}

// parameterValue returns a value for a path parameter from the document:
// its example, its first named example, its content's example, else its
// schema's enum, default, example, examples or const.
func parameterValue(p *openapi3.Parameter) (string, bool) {
	if p == nil {
		return "", false
	}
	candidates := []any{p.Example}
	for _, name := range sortedKeys(p.Examples) {
		if ref := p.Examples[name]; ref != nil && ref.Value != nil {
			candidates = append(candidates, ref.Value.Value)
		}
	}
	for _, name := range sortedKeys(p.Content) {
		if v, ok := exampleOf(p.Content[name]); ok {
			candidates = append(candidates, v)
		}
	}
	if p.Schema != nil && p.Schema.Value != nil {
		s := p.Schema.Value
		if len(s.Enum) > 0 {
			candidates = append(candidates, s.Enum[0])
		}
		candidates = append(candidates, s.Default, s.Example)
		if len(s.Examples) > 0 {
			candidates = append(candidates, s.Examples[0])
		}
		candidates = append(candidates, s.Const)
	}
	for _, c := range candidates {
		if v, ok := pathValue(c); ok {
			return v, true
		}
	}
	return "", false
}

// pathValue renders a scalar, or an array of scalars in the simple style
// (comma-separated), as a path segment; nil and objects give false.
func pathValue(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, x != ""
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case json.Number:
		return x.String(), true
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := pathValue(e)
			if !ok {
				return "", false
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ","), len(parts) > 0
	default:
		return "", false
	}
}

// encodeBody encodes an example as a request body of mediaType: JSON for
// JSON media types, a form for application/x-www-form-urlencoded, the
// string itself for any other type.
func encodeBody(mediaType string, example any) ([]byte, error) {
	switch {
	case IsJSONMediaType(mediaType):
		body, err := json.Marshal(example)
		if err != nil {
			return nil, fmt.Errorf("its %s request body example is not JSON-encodable: %w", mediaType, err)
		}
		return body, nil
	case mediaType == FormMediaType:
		obj, ok := example.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("its %s request body example is not an object", mediaType)
		}
		form := url.Values{}
		for _, k := range sortedKeys(obj) {
			v, ok := pathValue(obj[k])
			if !ok {
				return nil, fmt.Errorf("its %s request body example member %q is not a scalar", mediaType, k)
			}
			form.Set(k, v)
		}
		return []byte(form.Encode()), nil
	default:
		s, ok := example.(string)
		if !ok {
			return nil, errors.New("its " + mediaType + " request body example is not a string: give a JSON, form or text example")
		}
		return []byte(s), nil
	}
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
