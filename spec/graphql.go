package spec

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// How a GraphQL endpoint signals an authentication failure
// (x-tollgate.graphql.signalling).
const (
	// GraphQLStatus401 is the GraphQL-over-HTTP way: 401 with a Bearer
	// challenge and a GraphQL error body, no data.
	GraphQLStatus401 = "status401"
	// GraphQLErrors200 is the legacy Apollo/Hasura shape: 200 with
	// "data": null and errors whose extensions.code is one of ErrorCodes.
	GraphQLErrors200 = "errors200"
)

// Defaults of the x-tollgate.graphql members a document leaves out.
const (
	DefaultGraphQLPath           = "/graphql"
	DefaultGraphQLScopeDirective = "requiresScope"
	// GraphQLScopeArgument is the argument of the scope directive that
	// names the scope: @requiresScope(scope: "metrics-api").
	GraphQLScopeArgument = "scope"
	// GraphQLUnauthenticated and GraphQLForbidden are the default
	// extensions.code values of an authentication failure and of a field
	// whose scope the token lacks (Apollo's codes, which most servers reuse).
	GraphQLUnauthenticated = "UNAUTHENTICATED"
	GraphQLForbidden       = "FORBIDDEN"

	DefaultGraphQLMaxQueryBytes = 16 << 10
	DefaultGraphQLMaxDepth      = 10
	DefaultGraphQLMaxAliases    = 30
	DefaultGraphQLMaxBatch      = 10
	// maxGraphQLTokens bounds the lexer's work on one document, so that
	// parsing costs at most this many tokens whatever the byte limit says.
	maxGraphQLTokens = 15000
	// maxGraphQLFields bounds the field selections of one document, as
	// written (fragments counted once): validation compares fields pairwise,
	// so its cost grows with the square of their number.
	maxGraphQLFields = 500
)

// GraphQL is the compiled x-tollgate.graphql block of a flow: the flow's
// protected GraphQL endpoint, its schema and its conventions. It is
// read-only after Read and safe for concurrent use; the mock serves it and
// the suite probes a target with it.
type GraphQL struct {
	// Path is the endpoint's path on the server, e.g. "/graphql".
	Path string
	// SchemaFile is the SDL file as the document names it (relative to the
	// document), e.g. "simple.graphql".
	SchemaFile string
	// Schema is the SDL loaded once with gqlparser.LoadSchema (the
	// built-in prelude included). Do not modify it.
	Schema *ast.Schema
	// Signalling is GraphQLStatus401 (the default) or GraphQLErrors200.
	Signalling string
	// ErrorCodes are the extensions.code values an authentication failure
	// may carry; the first is what the mock sends. Default: UNAUTHENTICATED.
	ErrorCodes []string
	// ForbiddenCodes are the extensions.code values of a field refused for
	// a missing scope; the first is what the mock sends. Default: FORBIDDEN.
	ForbiddenCodes []string
	// Introspection reports whether the endpoint answers introspection
	// (__schema, __type) to a valid token. Without a token nothing is
	// answered either way. Default: true.
	Introspection bool
	// ScopeDirective is the name of the directive (without "@") that
	// names the scope a field requires, through its argument
	// GraphQLScopeArgument. Default: requiresScope.
	ScopeDirective string
	// Limits protect the server from expensive documents.
	Limits GraphQLLimits

	rules  *rules.Rules                    // the standard validation rules, built once
	scopes map[*ast.FieldDefinition]string // field definition -> the scope its directive names
	scoped []ScopedField                   // the same, sorted by type then field
}

// GraphQLLimits bound what one request may ask of the endpoint. A request
// over a limit gets a GraphQL error with a 4xx status.
type GraphQLLimits struct {
	MaxQueryBytes int // bytes of query text; default 16384
	MaxDepth      int // nesting of fields, introspection fields not counted; default 10
	MaxAliases    int // aliased fields in a document; default 30
	MaxBatch      int // operations in one batched (JSON array) request; default 10
}

// ScopedField is a field whose definition carries the scope directive.
type ScopedField struct {
	Type       string               // the object type, e.g. "Query"
	Field      string               // the field, e.g. "auditLog"
	Scope      string               // the scope a token needs for it, e.g. "provisioning-api"
	Definition *ast.FieldDefinition // the schema's definition (do not modify)
}

// ScopedFields lists the fields that require a scope, sorted by type then
// field. Each is nullable (Read checks it), so a refused field is null.
// The caller must not modify the slice.
func (g *GraphQL) ScopedFields() []ScopedField { return g.scoped }

// FieldScope returns the scope a field requires, "" for none. def is a
// field definition of Schema, as validation puts it in ast.Field.Definition.
// It does not allocate.
func (g *GraphQL) FieldScope(def *ast.FieldDefinition) string { return g.scopes[def] }

// LoadQuery parses query, checks Limits (bytes, depth, aliases; and at
// most 500 field selections as written, which bounds validation's work)
// and validates it against Schema with gqlparser's standard rules. The
// errors are GraphQL errors with locations, ready to send. The document is
// annotated by validation (ast.Field.Definition and so on); treat it as
// read-only afterwards, and it is safe to share.
func (g *GraphQL) LoadQuery(query string) (*ast.QueryDocument, gqlerror.List) {
	if len(query) > g.Limits.MaxQueryBytes {
		return nil, gqlerror.List{gqlerror.Errorf("the query is %d bytes long; this endpoint accepts at most %d", len(query), g.Limits.MaxQueryBytes)}
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, maxGraphQLTokens)
	if err != nil {
		var gqlErr *gqlerror.Error
		if errors.As(err, &gqlErr) {
			return nil, gqlerror.List{gqlErr}
		}
		return nil, gqlerror.List{gqlerror.Wrap(err)}
	}
	if errs := g.checkLimits(doc); len(errs) > 0 { // before validation, whose cost grows faster than the document
		return nil, errs
	}
	if errs := validator.ValidateWithRules(g.Schema, doc, g.rules); len(errs) > 0 {
		return nil, errs
	}
	return doc, nil
}

// checkLimits checks a parsed document's size in fields, its aliases and
// its depth. It needs no validation: unknown fragments count as empty and
// a fragment cycle is cut.
func (g *GraphQL) checkLimits(doc *ast.QueryDocument) gqlerror.List {
	var errs gqlerror.List
	aliases, fields := 0, 0
	var count func(set ast.SelectionSet)
	count = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				fields++
				if s.Alias != "" && s.Alias != s.Name {
					aliases++
				}
				count(s.SelectionSet)
			case *ast.InlineFragment:
				count(s.SelectionSet)
			}
		}
	}
	for _, op := range doc.Operations {
		count(op.SelectionSet)
	}
	for _, frag := range doc.Fragments {
		count(frag.SelectionSet)
	}
	if fields > maxGraphQLFields {
		errs = append(errs, gqlerror.Errorf("the document selects %d fields; this endpoint accepts at most %d", fields, maxGraphQLFields))
	}
	if aliases > g.Limits.MaxAliases {
		errs = append(errs, gqlerror.Errorf("the document has %d aliased fields; this endpoint accepts at most %d", aliases, g.Limits.MaxAliases))
	}
	depths := map[string]int{} // fragment name -> depth of its selection set, computed once
	for _, op := range doc.Operations {
		if d := selectionDepth(op.SelectionSet, doc, depths); d > g.Limits.MaxDepth {
			errs = append(errs, gqlerror.ErrorPosf(op.Position, "the operation nests fields %d deep; this endpoint accepts at most %d", d, g.Limits.MaxDepth))
		}
	}
	return errs
}

// selectionDepth is the depth of the deepest field under set, fragments
// expanded (each fragment's depth is computed once: validation has ruled
// out cycles) and introspection fields not counted.
func selectionDepth(set ast.SelectionSet, doc *ast.QueryDocument, fragments map[string]int) int {
	deepest := 0
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(s.Name, "__") {
				continue // bounded by gqlparser's MaxIntrospectionDepth rule
			}
			d = 1 + selectionDepth(s.SelectionSet, doc, fragments)
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, doc, fragments)
		case *ast.FragmentSpread:
			known, ok := fragments[s.Name]
			if !ok {
				fragments[s.Name] = 0 // guards against a cycle validation missed
				if def := doc.Fragments.ForName(s.Name); def != nil {
					known = selectionDepth(def.SelectionSet, doc, fragments)
				}
				fragments[s.Name] = known
			}
			d = known
		}
		deepest = max(deepest, d)
	}
	return deepest
}

// graphqlExt is x-tollgate.graphql as written in the document.
type graphqlExt struct {
	Path           string          `yaml:"path"`
	Schema         string          `yaml:"schema"`
	Signalling     string          `yaml:"signalling"`
	ErrorCodes     []string        `yaml:"errorCodes"`
	ForbiddenCodes []string        `yaml:"forbiddenCodes"`
	Introspection  *bool           `yaml:"introspection"`
	ScopeDirective string          `yaml:"scopeDirective"`
	Limits         graphqlLimitExt `yaml:"limits"`
}

type graphqlLimitExt struct {
	MaxQueryBytes int `yaml:"maxQueryBytes"`
	MaxDepth      int `yaml:"maxDepth"`
	MaxAliases    int `yaml:"maxAliases"`
	MaxBatch      int `yaml:"maxBatch"`
}

// compileGraphQL compiles x-tollgate.graphql into f.GraphQL, reading the
// SDL through c.readFile.
func (c *compiler) compileGraphQL(f *Flow) error {
	ext := c.src.ext.GraphQL
	if ext == nil {
		return nil
	}
	g := &GraphQL{
		Path:           orDefault(ext.Path, DefaultGraphQLPath),
		SchemaFile:     ext.Schema,
		Signalling:     orDefault(ext.Signalling, GraphQLStatus401),
		ErrorCodes:     ext.ErrorCodes,
		ForbiddenCodes: ext.ForbiddenCodes,
		Introspection:  ext.Introspection == nil || *ext.Introspection,
		ScopeDirective: orDefault(ext.ScopeDirective, DefaultGraphQLScopeDirective),
		rules:          rules.NewDefaultRules(),
	}
	if !strings.HasPrefix(g.Path, "/") || strings.ContainsAny(g.Path, "?#{} ") {
		return c.extErr("graphql.path", "%q is not a path: give one starting with / without query, fragment or template", g.Path)
	}
	if c.doc.Paths.Value(g.Path) != nil {
		return c.extErr("graphql.path", "%s is also an operation of paths: give the GraphQL endpoint its own path", g.Path)
	}
	if g.Signalling != GraphQLStatus401 && g.Signalling != GraphQLErrors200 {
		return c.extErr("graphql.signalling", "unknown signalling %q (known: %s, %s)", g.Signalling, GraphQLStatus401, GraphQLErrors200)
	}
	for _, codes := range []struct {
		key  string
		list *[]string
		def  string
	}{{"errorCodes", &g.ErrorCodes, GraphQLUnauthenticated}, {"forbiddenCodes", &g.ForbiddenCodes, GraphQLForbidden}} {
		if *codes.list == nil {
			*codes.list = []string{codes.def}
		}
		if len(*codes.list) == 0 || slices.Contains(*codes.list, "") {
			return c.extErr("graphql."+codes.key, "list at least one non-empty code, or remove the key for [%s]", codes.def)
		}
	}
	if err := c.compileGraphQLLimits(g, ext.Limits); err != nil {
		return err
	}
	if g.SchemaFile == "" {
		return c.extErr("graphql.schema", "missing: name the SDL file of the endpoint's schema, relative to this document")
	}
	sdl, err := c.readFile(g.SchemaFile)
	if err != nil {
		return c.extErr("graphql.schema", "%w", err)
	}
	g.Schema, err = gqlparser.LoadSchema(&ast.Source{Name: g.SchemaFile, Input: string(sdl)})
	if err != nil {
		return c.extErr("graphql.schema", "%s is not a valid GraphQL schema: %w", g.SchemaFile, err)
	}
	if g.Schema.Query == nil {
		return c.extErr("graphql.schema", "%s defines no Query type", g.SchemaFile)
	}
	if err := c.compileScopes(f, g); err != nil {
		return err
	}
	f.GraphQL = g
	return nil
}

func (c *compiler) compileGraphQLLimits(g *GraphQL, ext graphqlLimitExt) error {
	for _, l := range []struct {
		key      string
		raw, def int
		dst      *int
	}{
		{"maxQueryBytes", ext.MaxQueryBytes, DefaultGraphQLMaxQueryBytes, &g.Limits.MaxQueryBytes},
		{"maxDepth", ext.MaxDepth, DefaultGraphQLMaxDepth, &g.Limits.MaxDepth},
		{"maxAliases", ext.MaxAliases, DefaultGraphQLMaxAliases, &g.Limits.MaxAliases},
		{"maxBatch", ext.MaxBatch, DefaultGraphQLMaxBatch, &g.Limits.MaxBatch},
	} {
		switch {
		case l.raw == 0:
			*l.dst = l.def
		case l.raw < 0 || l.raw > 1<<20:
			return c.extErr("graphql.limits."+l.key, "%d is out of range: give a number between 1 and %d", l.raw, 1<<20)
		default:
			*l.dst = l.raw
		}
	}
	return nil
}

// compileScopes finds the fields carrying the scope directive. Each must
// name a scope of the flow and have a nullable type, so that refusing it
// nulls the field alone.
func (c *compiler) compileScopes(f *Flow, g *GraphQL) error {
	g.scopes = map[*ast.FieldDefinition]string{}
	names := make([]string, 0, len(g.Schema.Types))
	for name := range g.Schema.Types {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, typeName := range names {
		def := g.Schema.Types[typeName]
		if def.BuiltIn || (def.Kind != ast.Object && def.Kind != ast.Interface) {
			continue
		}
		for _, field := range def.Fields {
			dir := field.Directives.ForName(g.ScopeDirective)
			if dir == nil {
				continue
			}
			where := fmt.Sprintf("%s: %s.%s", g.SchemaFile, typeName, field.Name)
			arg := dir.Arguments.ForName(GraphQLScopeArgument)
			if arg == nil || arg.Value == nil || arg.Value.Kind != ast.StringValue || arg.Value.Raw == "" {
				return c.extErr("graphql.scopeDirective", "%s: @%s needs a string argument %s", where, g.ScopeDirective, GraphQLScopeArgument)
			}
			scope := arg.Value.Raw
			if !slices.Contains(f.Scopes, scope) {
				has := "it defines none"
				if len(f.Scopes) > 0 {
					has = "it has: " + strings.Join(f.Scopes, " ")
				}
				return c.extErr("graphql.schema", "%s requires scope %q, which the flow does not define (%s)", where, scope, has)
			}
			if field.Type.NonNull {
				return c.extErr("graphql.schema", "%s requires a scope, so its type must be nullable (%s, not %s): a refused field is null", where, strings.TrimSuffix(field.Type.String(), "!"), field.Type.String())
			}
			g.scopes[field] = scope
			g.scoped = append(g.scoped, ScopedField{Type: typeName, Field: field.Name, Scope: scope, Definition: field})
		}
	}
	sort.SliceStable(g.scoped, func(i, j int) bool {
		a, b := g.scoped[i], g.scoped[j]
		return a.Type < b.Type || (a.Type == b.Type && a.Field < b.Field)
	})
	return nil
}

// WithSignalling returns a copy of g that signals authentication failures
// as mode (GraphQLStatus401 or GraphQLErrors200), for a server or a target
// configured apart from its flow document.
func (g *GraphQL) WithSignalling(mode string) (*GraphQL, error) {
	if mode != GraphQLStatus401 && mode != GraphQLErrors200 {
		return nil, fmt.Errorf("unknown GraphQL signalling %q (known: %s, %s)", mode, GraphQLStatus401, GraphQLErrors200)
	}
	c := *g
	c.Signalling = mode
	return &c, nil
}

// RootType returns the schema's root type for an operation type
// (ast.Query, ast.Mutation, ast.Subscription); nil when the schema has none.
func (g *GraphQL) RootType(op ast.Operation) *ast.Definition {
	switch op {
	case ast.Query:
		return g.Schema.Query
	case ast.Mutation:
		return g.Schema.Mutation
	case ast.Subscription:
		return g.Schema.Subscription
	}
	return nil
}
