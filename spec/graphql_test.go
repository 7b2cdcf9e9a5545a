package spec_test

import (
	"context"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
)

func TestGraphQLBuiltins(t *testing.T) {
	t.Parallel()
	flows, err := spec.ReadAll(context.Background(), openapi.FS())
	if err != nil {
		t.Fatal(err)
	}
	oauth, simple := flows[0].GraphQL, flows[1].GraphQL
	if oauth == nil || simple == nil {
		t.Fatal("a built-in flow has no GraphQL endpoint")
	}
	scoped := func(g *spec.GraphQL) string {
		var out []string
		for _, f := range g.ScopedFields() {
			out = append(out, f.Type+"."+f.Field+"="+f.Scope)
			if g.FieldScope(f.Definition) != f.Scope {
				t.Errorf("FieldScope(%s.%s) = %q, want %q", f.Type, f.Field, g.FieldScope(f.Definition), f.Scope)
			}
		}
		return strings.Join(out, " ")
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"simple path", simple.Path, "/graphql"},
		{"oauth2 path", oauth.Path, "/api/graphql"},
		{"simple schema file", simple.SchemaFile, "simple.graphql"},
		{"signalling default", simple.Signalling, spec.GraphQLStatus401},
		{"error codes default", strings.Join(simple.ErrorCodes, ","), "UNAUTHENTICATED"},
		{"forbidden codes default", strings.Join(simple.ForbiddenCodes, ","), "FORBIDDEN"},
		{"introspection default", simple.Introspection, true},
		{"scope directive default", simple.ScopeDirective, "requiresScope"},
		{"limits default", simple.Limits, spec.GraphQLLimits{MaxQueryBytes: 16384, MaxDepth: 10, MaxAliases: 30, MaxBatch: 10}},
		{"simple has no scoped field", scoped(simple), ""},
		{"oauth2 scoped fields", scoped(oauth), "Mutation.renameCollection=provisioning-api Query.auditLog=provisioning-api Query.metrics=metrics-api"},
		{"schema has a mutation", oauth.Schema.Mutation != nil, true},
		{"unscoped field", simple.FieldScope(simple.Schema.Query.Fields.ForName("collections")), ""},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	errorsOnly, err := simple.WithSignalling(spec.GraphQLErrors200)
	if err != nil || errorsOnly.Signalling != spec.GraphQLErrors200 || simple.Signalling != spec.GraphQLStatus401 {
		t.Errorf("WithSignalling(errors200) = %v, %v; original now %q", errorsOnly, err, simple.Signalling)
	}
	if _, err := simple.WithSignalling("teapot"); err == nil {
		t.Error("WithSignalling(teapot) succeeded")
	}
}

// TestGraphQLReadErrors: each broken graphql block fails with its key, its
// line and the fix.
func TestGraphQLReadErrors(t *testing.T) {
	t.Parallel()
	doc, err := fs.ReadFile(openapi.FS(), "oauth2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sdl, err := fs.ReadFile(openapi.FS(), "oauth2.graphql")
	if err != nil {
		t.Fatal(err)
	}
	const block = "    schema: oauth2.graphql     # metrics needs metrics-api; auditLog and renameCollection provisioning-api\n"
	if !strings.Contains(string(doc), block) {
		t.Fatalf("test is stale: oauth2.yaml has no %q", block)
	}
	tests := []struct {
		name       string
		old, new   string // replaced in the document
		sdlOld     string // replaced in the SDL, when set
		sdlNew     string
		want       []string
		wantNoLine bool
	}{
		{"unknown key", block, block + "    subscriptions: true\n", "", "", []string{"x-tollgate.graphql.subscriptions", "unknown key"}, false},
		{"no schema", block, "", "", "", []string{"x-tollgate.graphql.schema", "missing"}, false},
		{"schema file missing", block, "    schema: nope.graphql\n", "", "", []string{"graphql.schema", "nope.graphql"}, false},
		{"unknown signalling", "    signalling: status401\n", "    signalling: status418\n", "", "", []string{"graphql.signalling", "status418", "errors200"}, false},
		{"path not a path", "    path: /api/graphql ", "    path: graphql ", "", "", []string{"graphql.path", "starting with /"}, false},
		{"path of an operation", "    path: /api/graphql ", "    path: /api/markets ", "", "", []string{"graphql.path", "its own path"}, false},
		{"empty error codes", block, block + "    errorCodes: []\n", "", "", []string{"graphql.errorCodes", "at least one"}, false},
		{"negative limit", "maxDepth: 10,", "maxDepth: -1,", "", "", []string{"graphql.limits.maxDepth", "out of range"}, false},
		{"bad SDL", "", "", "type Query {", "type Query { broken(: Int) ", []string{"graphql.schema", "not a valid GraphQL schema"}, false},
		{"scope the flow lacks", "", "", `@requiresScope(scope: "metrics-api")`, `@requiresScope(scope: "admin")`, []string{"Query.metrics", `"admin"`, "metrics-api provisioning-api"}, false},
		{"scoped non-null field", "", "", `metrics(period: Period = DAY): Metrics @requiresScope`, `metrics(period: Period = DAY): Metrics! @requiresScope`, []string{"Query.metrics", "nullable"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, s := string(doc), string(sdl)
			if tt.old != "" {
				if !strings.Contains(d, tt.old) {
					t.Fatalf("test is stale: oauth2.yaml has no %q", tt.old)
				}
				d = strings.Replace(d, tt.old, tt.new, 1)
			}
			if tt.sdlOld != "" {
				if !strings.Contains(s, tt.sdlOld) {
					t.Fatalf("test is stale: oauth2.graphql has no %q", tt.sdlOld)
				}
				s = strings.Replace(s, tt.sdlOld, tt.sdlNew, 1)
			}
			fsys := fstest.MapFS{"oauth2.yaml": {Data: []byte(d)}, "oauth2.graphql": {Data: []byte(s)}}
			_, err := spec.Read(context.Background(), fsys, "oauth2.yaml")
			if err == nil {
				t.Fatal("Read succeeded, want an error")
			}
			for _, w := range append(tt.want, "oauth2.yaml:") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestGraphQLScopeOfAFlowWithoutScopes: a scope directive in the SDL of a
// flow that defines no scopes is refused saying so, not with an empty list.
func TestGraphQLScopeOfAFlowWithoutScopes(t *testing.T) {
	t.Parallel()
	doc, err := fs.ReadFile(openapi.FS(), "simple.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sdl, err := fs.ReadFile(openapi.FS(), "simple.graphql")
	if err != nil {
		t.Fatal(err)
	}
	const field = "  item(id: ID!): Item\n"
	if !strings.Contains(string(sdl), field) {
		t.Fatalf("test is stale: simple.graphql has no %q", field)
	}
	s := strings.Replace(string(sdl), field, `  item(id: ID!): Item @requiresScope(scope: "admin")`+"\n", 1)
	fsys := fstest.MapFS{"simple.yaml": {Data: doc}, "simple.graphql": {Data: []byte(s)}}
	_, err = spec.Read(context.Background(), fsys, "simple.yaml")
	if err == nil || !strings.Contains(err.Error(), `Query.item requires scope "admin", which the flow does not define (it defines none)`) {
		t.Errorf("Read = %v, want the scope refused, saying the flow defines none", err)
	}
}

// TestGraphQLLoadQuery: documents are validated against the SDL and held to
// the limits, with GraphQL errors that say why.
func TestGraphQLLoadQuery(t *testing.T) {
	t.Parallel()
	f, err := spec.Read(context.Background(), openapi.FS(), "simple.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g := f.GraphQL
	deep := "{ collections { items { collection { items { collection { items { collection { items { collection { items { id } } } } } } } } } } }"
	tests := []struct {
		name  string
		query string
		want  string // in the first error; "" for a valid document
	}{
		{"valid", "query Q { collections(first: 2) { id name items { sku } } }", ""},
		{"fragments and aliases", "{ a: collection(id: \"c-1001\") { ...C } b: collection(id: \"c-1002\") { ...C } } fragment C on Collection { name }", ""},
		{"introspection is not counted in depth", "{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }", ""},
		{"nine levels", "{ collections { items { collection { items { collection { items { collection { items { id } } } } } } } } }", ""},
		{"syntax", "{ collections { ", "Expected Name"},
		{"unknown field", "{ collectionz { id } }", "Cannot query field"},
		{"too deep", deep, "nests fields 11 deep"},
		{"too many aliases", "{ " + aliases(31) + " }", "31 aliased fields"},
		{"too many fields", "{" + strings.Repeat(" collections { id }", 251) + " }", "selects 502 fields"},
		{"fragment cycle is cut, then refused", "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }", "Cannot spread fragment"},
		{"too long", "{ collections { id } }" + strings.Repeat(" ", 16384), "at most 16384"},
	}
	for _, tt := range tests {
		doc, errs := g.LoadQuery(tt.query)
		switch {
		case tt.want == "" && len(errs) > 0:
			t.Errorf("%s: errors %v, want none", tt.name, errs)
		case tt.want == "" && doc == nil:
			t.Errorf("%s: no document", tt.name)
		case tt.want != "" && (len(errs) == 0 || !strings.Contains(errs[0].Message, tt.want)):
			t.Errorf("%s: errors %v, want one with %q", tt.name, errs, tt.want)
		}
	}
	_, errs := g.LoadQuery("{ collections { id nope } }")
	if len(errs) == 0 || len(errs[0].Locations) == 0 || errs[0].Locations[0].Line != 1 {
		t.Errorf("validation error %v has no location", errs)
	}
}

func aliases(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("a")
		b.WriteString(strings.Repeat("x", i+1))
		b.WriteString(": collections { id } ")
	}
	return b.String()
}
