package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/tollgate/tollgate/spec"
)

// GraphQLConfig is the target file's graphql section: the target's GraphQL
// endpoint for the GQL checks and `tollgate load --scenario graphql`. Each
// field set here (or by flag or TOLLGATE_GRAPHQL_*) overrides the flow
// document's x-tollgate.graphql; with neither, the target has no GraphQL
// endpoint and the GQL checks are N/A.
type GraphQLConfig struct {
	// Endpoint is an absolute URL or a path on the target.
	Endpoint string `yaml:"endpoint"`
	// SDL is a file holding the endpoint's schema, or "introspection" to
	// read the schema from the endpoint with the primary client's token.
	SDL string `yaml:"sdl"`
	// Signalling is how the target signals an authentication failure:
	// status401 (401/403) or errors200 (the legacy 200 + errors + no data).
	Signalling string `yaml:"signalling"`
	// ErrorCodes and ForbiddenCodes are the errors[].extensions.code values
	// of an authentication failure and of a field refused for its scope.
	ErrorCodes     []string `yaml:"error_codes"`
	ForbiddenCodes []string `yaml:"forbidden_codes"`
	// Introspection says whether the endpoint answers introspection to a
	// valid token; nil: the flow document's setting (else true).
	Introspection *bool `yaml:"introspection"`
}

// IsZero reports whether the section sets nothing.
func (c GraphQLConfig) IsZero() bool {
	return c.Endpoint == "" && c.SDL == "" && c.Signalling == "" && c.ErrorCodes == nil && c.ForbiddenCodes == nil && c.Introspection == nil
}

// SDLIntrospection is GraphQLConfig.SDL's value that reads the schema from
// the endpoint.
const SDLIntrospection = "introspection"

// validate checks the section on its own; Validate calls it.
func (c *GraphQLConfig) validate() error {
	if c.Signalling != "" && c.Signalling != spec.GraphQLStatus401 && c.Signalling != spec.GraphQLErrors200 {
		return fmt.Errorf("graphql signalling %q: use %s (401/403 on a failed authentication) or %s (the legacy 200 with errors and no data)", c.Signalling, spec.GraphQLStatus401, spec.GraphQLErrors200)
	}
	if c.Endpoint != "" && !strings.HasPrefix(c.Endpoint, "/") {
		if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("graphql endpoint %q: give an absolute http(s) URL or a path on the target such as /graphql", c.Endpoint)
		}
	}
	for _, codes := range [][]string{c.ErrorCodes, c.ForbiddenCodes} {
		if slices.Contains(codes, "") {
			return errors.New("graphql error_codes and forbidden_codes: an empty code matches nothing; remove it")
		}
	}
	return nil
}

// GraphQLTarget is the target's GraphQL endpoint as the run probes it: the
// flow document's declaration with the configuration over it, its schema
// loaded, and the suite's fixture queries, each validated against it.
type GraphQLTarget struct {
	URL        string // the endpoint
	Source     string // where it was declared: SourceFlowDocument or SourceConfiguration
	Schema     *GraphQLSchema
	Signalling GraphQLSignalling
	// Introspection reports whether valid tokens may introspect the schema.
	Introspection bool
	Fixtures      GraphQLFixtures
}

// ResolveGraphQL returns the target's GraphQL endpoint, nil when neither
// the flow document nor the configuration declares one. It reads the SDL
// (a file, the document's schema, or introspection with token), builds the
// fixtures and validates each one: every error is a configuration error,
// one line naming the fix (GQL-010).
func (p *Prober) ResolveGraphQL(ctx context.Context, token string) (*GraphQLTarget, error) {
	cfg := p.Config.GraphQL
	doc := p.Flow.GraphQL
	if doc == nil && cfg.IsZero() {
		return nil, nil
	}
	t := &GraphQLTarget{Introspection: true, Source: SourceConfiguration}
	path := cfg.Endpoint
	if path == "" && doc != nil {
		path, t.Source = doc.Path, SourceFlowDocument
	}
	if path == "" {
		return nil, errors.New("graphql: no endpoint: give graphql.endpoint in the target file (or --graphql-endpoint), or declare x-tollgate.graphql in the flow document")
	}
	t.URL = p.Config.EndpointURL(path)
	if err := p.Config.MaySendSecretsTo(t.URL); err != nil {
		return nil, fmt.Errorf("graphql endpoint %w", err)
	}
	signalling, errorCodes, forbidden := spec.GraphQLStatus401, DefaultGraphQLCodes(), DefaultGraphQLForbiddenCodes()
	if doc != nil {
		signalling, errorCodes = doc.Signalling, doc.ErrorCodes
		forbidden = append(slices.Clone(doc.ForbiddenCodes), "insufficient_scope")
		t.Introspection = doc.Introspection
	}
	if cfg.Signalling != "" {
		signalling = cfg.Signalling
	}
	if cfg.ErrorCodes != nil {
		errorCodes = cfg.ErrorCodes
	}
	if cfg.ForbiddenCodes != nil {
		forbidden = cfg.ForbiddenCodes
	}
	if cfg.Introspection != nil {
		t.Introspection = *cfg.Introspection
	}
	t.Signalling = GraphQLSignalling{Errors200: signalling == spec.GraphQLErrors200, Codes: errorCodes, Forbidden: forbidden}
	schema, err := p.graphQLSchema(ctx, t.URL, token)
	if err != nil {
		return nil, err
	}
	t.Schema = schema
	if t.Fixtures, err = BuildGraphQLFixtures(schema); err != nil {
		return nil, err
	}
	return t, nil
}

// graphQLSchema loads the SDL the configuration names, else the flow
// document's.
func (p *Prober) graphQLSchema(ctx context.Context, endpoint, token string) (*GraphQLSchema, error) {
	doc := p.Flow.GraphQL
	directive := spec.DefaultGraphQLScopeDirective
	if doc != nil {
		directive = doc.ScopeDirective
	}
	switch sdl := p.Config.GraphQL.SDL; {
	case sdl == SDLIntrospection:
		text, err := p.introspectSDL(ctx, endpoint, token)
		if err != nil {
			return nil, err
		}
		return loadGraphQLSchema("introspection of "+endpoint, text, directive)
	case sdl != "":
		data, err := os.ReadFile(sdl)
		if err != nil {
			return nil, fmt.Errorf("graphql sdl: %w (give the endpoint's SDL file, or introspection)", err)
		}
		return loadGraphQLSchema(sdl, string(data), directive)
	case doc != nil:
		return &GraphQLSchema{Schema: doc.Schema, Source: doc.SchemaFile, ScopeOf: doc.FieldScope}, nil
	default:
		return nil, errors.New("graphql: no schema: give graphql.sdl in the target file (a file, or introspection), or --graphql-sdl")
	}
}

// loadGraphQLSchema loads an SDL given apart from the flow document; the
// scope of a field is read from its scope directive.
func loadGraphQLSchema(source, sdl, directive string) (*GraphQLSchema, error) {
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: source, Input: sdl})
	if err != nil {
		return nil, fmt.Errorf("graphql sdl %s is not a valid GraphQL schema: %w", source, err)
	}
	if schema.Query == nil {
		return nil, fmt.Errorf("graphql sdl %s defines no Query type", source)
	}
	scopeOf := func(fd *ast.FieldDefinition) string {
		d := fd.Directives.ForName(directive)
		if d == nil {
			return ""
		}
		if a := d.Arguments.ForName(spec.GraphQLScopeArgument); a != nil && a.Value != nil && a.Value.Kind == ast.StringValue {
			return a.Value.Raw
		}
		return ""
	}
	return &GraphQLSchema{Schema: schema, Source: source, ScopeOf: scopeOf}, nil
}

// GraphQLRequest is one GraphQL operation as the suite sends it.
type GraphQLRequest struct {
	Query         string         `json:"query,omitempty"`
	OperationName string         `json:"operationName,omitempty"`
	Variables     map[string]any `json:"variables,omitempty"`
	Extensions    map[string]any `json:"extensions,omitempty"`
}

// GraphQLShape is how a request reaches the endpoint.
type GraphQLShape int

// Shapes of a GraphQL request (GraphQL over HTTP).
const (
	ShapePOST    GraphQLShape = iota // POST application/json {"query": …}
	ShapeGET                         // GET ?query=…
	ShapeGraphQL                     // POST application/graphql, the query as the body
	ShapeBatch                       // POST application/json [{…}, {…}]
)

// GraphQLCall describes one request to the endpoint.
type GraphQLCall struct {
	Shape  GraphQLShape
	Ops    []GraphQLRequest // one, or several for ShapeBatch
	Accept string           // default application/json
	Auth   []string         // Authorization values; none: no header
}

// GraphQL sends c to t's endpoint.
func (p *Prober) GraphQL(ctx context.Context, t *GraphQLTarget, c GraphQLCall) (*Exchange, error) {
	if len(c.Ops) == 0 {
		return nil, errors.New("graphql: a call with no operation")
	}
	header := http.Header{"Accept": {"application/json"}}
	if c.Accept != "" {
		header.Set("Accept", c.Accept)
	}
	for _, a := range c.Auth {
		header.Add("Authorization", a)
	}
	method, u := http.MethodPost, t.URL
	var body []byte
	var err error
	switch c.Shape {
	case ShapeGET:
		method = http.MethodGet
		q := url.Values{"query": {c.Ops[0].Query}}
		if c.Ops[0].OperationName != "" {
			q.Set("operationName", c.Ops[0].OperationName)
		}
		if len(c.Ops[0].Variables) > 0 {
			v, _ := json.Marshal(c.Ops[0].Variables)
			q.Set("variables", string(v))
		}
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + q.Encode()
	case ShapeGraphQL:
		header.Set("Content-Type", "application/graphql")
		body = []byte(c.Ops[0].Query)
	case ShapeBatch:
		header.Set("Content-Type", "application/json")
		body, err = json.Marshal(c.Ops)
	default:
		header.Set("Content-Type", "application/json")
		body, err = json.Marshal(c.Ops[0])
	}
	if err != nil {
		return nil, fmt.Errorf("graphql: encode the request: %w", err)
	}
	return p.Do(ctx, method, u, header, body)
}
