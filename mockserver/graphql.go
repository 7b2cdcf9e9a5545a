package mockserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/tollgate/tollgate/mockserver/tokens"
	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/authheader"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator"
)

// This file serves a flow's protected GraphQL endpoint (x-tollgate.graphql,
// docs/graphql.md) over HTTP, as GraphQL over HTTP describes: GET with
// query parameters, POST with a JSON body or a batch (a JSON array) of
// them. The Bearer token is checked before the request is read; then each
// document is parsed and validated once (cached), and executed against the
// sample data with field scopes enforced.

// Media types of GraphQL responses.
var (
	graphqlResponseType = []string{"application/graphql-response+json"}
	allowGetPost        = []string{"GET, POST"}
	allowPost           = []string{"POST"}
)

const (
	// documentCacheSize bounds the documents an endpoint keeps parsed and
	// validated, by query text.
	documentCacheSize = 512
	// fieldBudget bounds the fields one operation may resolve, so that a
	// small document (fragments spread over lists) cannot ask for a huge
	// result.
	fieldBudget = 10_000
	// variablesAllowance is the room a request body has beyond its query
	// texts, for variables and operation names.
	variablesAllowance = 64 << 10
)

// graphqlGate admits a request to a GraphQL endpoint: it returns the grant
// of the request's token, or writes the refusal and returns false. It runs
// before the request body is read.
type graphqlGate interface {
	admit(w http.ResponseWriter, r *http.Request) (*tokens.Grant, bool)
}

// fieldGuard decides whether a grant may see a field that requires scope.
// It is asked only about fields that carry the scope directive.
type fieldGuard interface {
	allows(grant *tokens.Grant, f *ast.Field, scope string) bool
}

// scopeGuard is the correct fieldGuard: the token must hold the scope.
type scopeGuard struct{}

func (scopeGuard) allows(grant *tokens.Grant, _ *ast.Field, scope string) bool {
	return slices.Contains(grant.Scopes, scope)
}

// bearerGate is the correct graphqlGate: the flow's Bearer check, with
// refusals in the endpoint's signalling (spec.GraphQLStatus401: the RFC
// 6750 status and challenge with a GraphQL error body; spec.GraphQLErrors200:
// 200, "data": null and the error).
type bearerGate struct {
	check  *bearerCheck
	g      *spec.GraphQL
	bodies map[*bearerReply][]byte // the GraphQL bodies of the check's fixed replies
}

func newBearerGate(check *bearerCheck, g *spec.GraphQL) *bearerGate {
	b := &bearerGate{check: check, g: g, bodies: map[*bearerReply][]byte{}}
	for _, reply := range []*bearerReply{check.missing, check.malformed, check.repeated, check.twice, check.invalid} {
		b.bodies[reply] = b.body(reply.description)
	}
	return b
}

// body is the GraphQL error body of an authentication failure.
func (b *bearerGate) body(message string) []byte {
	out := []byte(`{"errors":[{"message":`)
	out = appendJSONString(out, message)
	out = append(out, `,"extensions":{"code":`...)
	out = appendJSONString(out, b.g.ErrorCodes[0])
	out = append(out, "}}]"...)
	if b.g.Signalling == spec.GraphQLErrors200 {
		out = append(out, `,"data":null`...)
	}
	return append(out, '}')
}

func (b *bearerGate) admit(w http.ResponseWriter, r *http.Request) (*tokens.Grant, bool) {
	grant, refusal := b.check.check(w, r)
	if refusal == nil {
		return grant, true
	}
	body := b.bodies[refusal]
	if body == nil {
		body = b.body(refusal.description)
	}
	h := w.Header()
	h["Cache-Control"] = noStore
	if b.g.Signalling == spec.GraphQLErrors200 {
		// The legacy shape is a 200 application/json answer, whatever
		// the client accepts: as the servers that use it do.
		h["Content-Type"] = jsonContentType
		w.WriteHeader(http.StatusOK)
	} else {
		h["Content-Type"] = responseMediaType(r)
		h["Www-Authenticate"] = refusal.challenge
		w.WriteHeader(refusal.status)
	}
	_, _ = w.Write(body)
	return nil, false
}

// graphqlEndpoint serves one flow's GraphQL endpoint.
type graphqlEndpoint struct {
	g         *spec.GraphQL
	gate      graphqlGate
	guard     fieldGuard
	docs      *documentCache
	data      *sampleData
	resolvers map[*ast.FieldDefinition]resolverFunc
	forbidden map[string]any // extensions of a field refused for its scope; read-only
	maxBody   int64
}

func newGraphQLEndpoint(g *spec.GraphQL, gate graphqlGate, guard fieldGuard) *graphqlEndpoint {
	return &graphqlEndpoint{
		g: g, gate: gate, guard: guard,
		docs:      newDocumentCache(documentCacheSize),
		data:      newSampleData(),
		resolvers: buildResolvers(g.Schema, append(sampleResolvers(), introspectionResolvers(g.Schema)...)),
		forbidden: map[string]any{"code": g.ForbiddenCodes[0]},
		maxBody:   int64(g.Limits.MaxBatch)*int64(g.Limits.MaxQueryBytes) + variablesAllowance,
	}
}

// graphqlParams are the parameters of one GraphQL-over-HTTP request.
type graphqlParams struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
}

// requestError is a GraphQL request error: the request gets this status
// and the errors, and no data.
type requestError struct {
	status int
	errs   gqlerror.List
	allow  []string // the Allow header of a 405
}

func newRequestError(status int, message string) *requestError {
	return &requestError{status: status, errs: gqlerror.List{{Message: message}}}
}

func (e *graphqlEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header()["Allow"] = allowGetPost
		e.writeError(w, r, newRequestError(http.StatusMethodNotAllowed, "a GraphQL request is a GET or a POST"))
		return
	}
	grant, ok := e.gate.admit(w, r)
	if !ok {
		return
	}
	batch, params, rerr := e.readParams(r)
	if rerr != nil {
		e.writeError(w, r, rerr)
		return
	}
	if !batch {
		out, rerr := e.execute(r, grant, params[0], nil)
		if rerr != nil {
			e.writeError(w, r, rerr)
			return
		}
		e.write(w, r, http.StatusOK, out)
		return
	}
	out := []byte{'['}
	for i, p := range params {
		if i > 0 {
			out = append(out, ',')
		}
		start := len(out)
		var rerr *requestError
		if out, rerr = e.execute(r, grant, p, out); rerr != nil {
			out = appendErrors(out[:start], r, rerr.errs, false)
		}
	}
	e.write(w, r, http.StatusOK, append(out, ']'))
}

// readParams reads the request's parameters: one set, or a batch.
func (e *graphqlEndpoint) readParams(r *http.Request) (bool, []graphqlParams, *requestError) {
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		p := graphqlParams{Query: q.Get("query"), OperationName: q.Get("operationName")}
		if v := q.Get("variables"); v != "" {
			if err := decodeJSON([]byte(v), &p.Variables); err != nil {
				return false, nil, newRequestError(http.StatusBadRequest, "the variables parameter is not a JSON object: "+err.Error())
			}
		}
		return false, []graphqlParams{p}, nil
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return false, nil, newRequestError(http.StatusUnsupportedMediaType, "send the GraphQL request as Content-Type: application/json")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, e.maxBody+1))
	if err != nil {
		return false, nil, newRequestError(http.StatusBadRequest, "the request body could not be read")
	}
	if int64(len(body)) > e.maxBody {
		return false, nil, newRequestError(http.StatusRequestEntityTooLarge, "the request body is larger than this endpoint accepts")
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var batch []graphqlParams
		if err := decodeJSON(trimmed, &batch); err != nil {
			return true, nil, newRequestError(http.StatusBadRequest, "the body is not a JSON array of GraphQL requests: "+err.Error())
		}
		switch {
		case len(batch) == 0:
			return true, nil, newRequestError(http.StatusBadRequest, "the batch is empty")
		case len(batch) > e.g.Limits.MaxBatch:
			return true, nil, newRequestError(http.StatusBadRequest, "the batch holds "+strconv.Itoa(len(batch))+" requests; this endpoint accepts at most "+strconv.Itoa(e.g.Limits.MaxBatch))
		}
		return true, batch, nil
	}
	var p graphqlParams
	if err := decodeJSON(trimmed, &p); err != nil {
		return false, nil, newRequestError(http.StatusBadRequest, "the body is not a JSON GraphQL request: "+err.Error())
	}
	return false, []graphqlParams{p}, nil
}

// decodeJSON decodes one JSON value, numbers kept exact.
func decodeJSON(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		if te := (*json.UnmarshalTypeError)(nil); errors.As(err, &te) {
			return wrongJSONType(te)
		}
		return errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	if d.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

// wrongJSONType says which member has the wrong JSON type in the client's
// terms (encoding/json's message names the Go types of this package).
func wrongJSONType(te *json.UnmarshalTypeError) error {
	want := "a string"
	switch te.Type.Kind() {
	case reflect.Map, reflect.Struct:
		want = "an object"
	case reflect.Slice, reflect.Array:
		want = "an array"
	}
	got := "a " + te.Value
	if strings.HasPrefix(te.Value, "a") || strings.HasPrefix(te.Value, "o") {
		got = "an " + te.Value // array, object
	}
	if te.Field == "" {
		return fmt.Errorf("%s where %s belongs", got, want)
	}
	return fmt.Errorf("the member %q is %s; it must be %s", te.Field, got, want)
}

// load returns the parsed and validated document of query, from the cache
// when it is there.
func (e *graphqlEndpoint) load(query string) *loadedDocument {
	if len(query) > e.g.Limits.MaxQueryBytes {
		// Refused by its length alone: never cached, so that the cache's
		// keys stay within MaxQueryBytes (a body may hold ten times that).
		_, errs := e.g.LoadQuery(query)
		return &loadedDocument{errs: errs}
	}
	if d := e.docs.get(query); d != nil {
		return d
	}
	doc, errs := e.g.LoadQuery(query)
	d := &loadedDocument{doc: doc, errs: errs}
	if doc != nil {
		d.introspect = selectsIntrospection(doc)
	}
	e.docs.put(query, d)
	return d
}

// execute runs one GraphQL request and appends its response to out.
func (e *graphqlEndpoint) execute(r *http.Request, grant *tokens.Grant, p graphqlParams, out []byte) ([]byte, *requestError) {
	if p.Query == "" {
		return out, newRequestError(http.StatusBadRequest, "the request has no query")
	}
	d := e.load(p.Query)
	if len(d.errs) > 0 {
		return out, &requestError{status: http.StatusBadRequest, errs: d.errs}
	}
	if d.introspect && !e.g.Introspection {
		return out, newRequestError(http.StatusBadRequest, "introspection is disabled on this endpoint")
	}
	var op *ast.OperationDefinition
	switch {
	case p.OperationName != "":
		op = d.doc.Operations.ForName(p.OperationName)
		if op == nil {
			return out, newRequestError(http.StatusBadRequest, "the document has no operation named "+p.OperationName)
		}
	case len(d.doc.Operations) == 1:
		op = d.doc.Operations[0]
	default:
		return out, newRequestError(http.StatusBadRequest, "the document has several operations: name one with operationName")
	}
	if r.Method == http.MethodGet && op.Operation != ast.Query {
		return out, &requestError{status: http.StatusMethodNotAllowed, allow: allowPost,
			errs: gqlerror.List{{Message: "only query operations can be sent with GET: send this one with POST"}}}
	}
	vars, err := validator.VariableValues(e.g.Schema, op, p.Variables)
	if err != nil {
		var gqlErr *gqlerror.Error
		if !errors.As(err, &gqlErr) {
			gqlErr = gqlerror.Wrap(err)
		}
		return out, &requestError{status: http.StatusBadRequest, errs: gqlerror.List{gqlErr}}
	}
	x := execution{e: e, grant: grant, doc: d.doc, vars: vars, state: e.data.state.Load(), left: fieldBudget,
		out: append(out, `{"data":`...)}
	start := len(out)
	if !x.run(op) {
		return out[:start], newRequestError(http.StatusBadRequest, "the result would hold more than "+strconv.Itoa(fieldBudget)+" fields: ask for less")
	}
	if len(x.errs) > 0 {
		x.out = appendErrors(append(x.out, ','), r, x.errs, true)
	}
	return append(x.out, '}'), nil
}

// appendErrors appends the errors member ("errors":[…], inside an object
// when member is true; else a whole response object with no data). A
// message never carries the request's token, should a document quote it.
func appendErrors(out []byte, r *http.Request, errs gqlerror.List, member bool) []byte {
	token, _ := authheader.ParseBearer(r.Header.Get("Authorization"))
	if !member {
		out = append(out, '{')
	}
	out = append(out, `"errors":[`...)
	for i, e := range errs {
		if i > 0 {
			out = append(out, ',')
		}
		msg := e.Message
		if token != "" && strings.Contains(msg, token) {
			msg = strings.ReplaceAll(msg, token, "[token]")
		}
		out = append(out, `{"message":`...)
		out = appendJSONString(out, msg)
		if len(e.Locations) > 0 {
			loc, _ := json.Marshal(e.Locations)
			out = append(append(out, `,"locations":`...), loc...)
		}
		if len(e.Path) > 0 {
			path, _ := json.Marshal(e.Path)
			out = append(append(out, `,"path":`...), path...)
		}
		if len(e.Extensions) > 0 {
			if ext, err := json.Marshal(e.Extensions); err == nil {
				out = append(append(out, `,"extensions":`...), ext...)
			}
		}
		out = append(out, '}')
	}
	out = append(out, ']')
	if !member {
		out = append(out, '}')
	}
	return out
}

// writeError answers a request error.
func (e *graphqlEndpoint) writeError(w http.ResponseWriter, r *http.Request, rerr *requestError) {
	if rerr.allow != nil {
		w.Header()["Allow"] = rerr.allow
	}
	if rerr.status == http.StatusMethodNotAllowed {
		noteRefusal(w, reasonMethodNotAllowed) // the log's reason= and the metrics' verdict, as at other paths
	}
	e.write(w, r, rerr.status, appendErrors(nil, r, rerr.errs, false))
}

func (e *graphqlEndpoint) write(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = responseMediaType(r)
	h["Cache-Control"] = noStore
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// responseMediaType is application/graphql-response+json when the
// request's Accept names it (without q=0), else application/json (GraphQL
// over HTTP, "Legacy watershed").
func responseMediaType(r *http.Request) []string {
	for _, accept := range r.Header["Accept"] {
		for accept != "" {
			var item string
			item, accept, _ = strings.Cut(accept, ",")
			mt, params, _ := strings.Cut(item, ";")
			if !strings.EqualFold(strings.TrimSpace(mt), "application/graphql-response+json") {
				continue
			}
			if q, ok := qValue(params); !ok || q != "0" {
				return graphqlResponseType
			}
		}
	}
	return jsonContentType
}

// qValue finds the q parameter of a media range's parameters, normalised
// so that "0", "0.0" and "0.000" all read "0".
func qValue(params string) (string, bool) {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(name), "q") {
			value = strings.TrimSpace(value)
			if strings.Trim(value, "0.") == "" {
				return "0", true
			}
			return value, true
		}
	}
	return "", false
}

// selectsIntrospection reports whether a document selects __schema or
// __type anywhere, fragments included.
func selectsIntrospection(doc *ast.QueryDocument) bool {
	var walk func(set ast.SelectionSet) bool
	walk = func(set ast.SelectionSet) bool {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if s.Name == "__schema" || s.Name == "__type" || walk(s.SelectionSet) {
					return true
				}
			case *ast.InlineFragment:
				if walk(s.SelectionSet) {
					return true
				}
			}
		}
		return false
	}
	for _, op := range doc.Operations {
		if walk(op.SelectionSet) {
			return true
		}
	}
	for _, f := range doc.Fragments {
		if walk(f.SelectionSet) {
			return true
		}
	}
	return false
}
