package probe_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/mockserver/mockservertest"
	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/probe"
)

// builtinGraphQL returns the built-in flows' GraphQL declarations by flow.
func builtinGraphQL(t *testing.T) map[string]*spec.Flow {
	t.Helper()
	flows, err := spec.ReadAll(context.Background(), openapi.FS())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*spec.Flow{}
	for _, f := range flows {
		out[f.Name] = f
	}
	return out
}

// TestFixturesValidateAgainstTheBuiltInSchemas: every fixture of both
// built-in SDLs validates, the misspelt one does not, and the scoped
// fields are the ones the SDL's directive names.
func TestFixturesValidateAgainstTheBuiltInSchemas(t *testing.T) {
	t.Parallel()
	tests := []struct {
		flow   string
		scoped []string
	}{
		{"simple", nil},
		{"oauth2", []string{"metrics:metrics-api", "auditLog:provisioning-api"}},
	}
	flows := builtinGraphQL(t)
	for _, tc := range tests {
		t.Run(tc.flow, func(t *testing.T) {
			g := flows[tc.flow].GraphQL
			s := &probe.GraphQLSchema{Schema: g.Schema, Source: g.SchemaFile, ScopeOf: g.FieldScope}
			fx, err := probe.BuildGraphQLFixtures(s)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range fx.Valid() {
				if err := s.Validate(q); err != nil {
					t.Errorf("%q: %v", q, err)
				}
			}
			if fx.ProbeField.Scope != "" || !fx.ProbeField.NonNull {
				t.Errorf("probe field %+v: want a non-null field that needs no scope", fx.ProbeField)
			}
			if fx.Misspelt == "" || s.Validate(fx.Misspelt) == nil || strings.Contains(fx.MisspeltName, fx.SuggestedName) {
				t.Errorf("misspelt query %q (for %q): want an invalid query not containing the real name", fx.Misspelt, fx.SuggestedName)
			}
			var scoped []string
			for _, sq := range fx.Scoped {
				scoped = append(scoped, sq.Name+":"+sq.Scope)
			}
			if strings.Join(scoped, ",") != strings.Join(tc.scoped, ",") {
				t.Errorf("scoped fields %v, want %v", scoped, tc.scoped)
			}
			if fx.Mutation == "" {
				t.Error("no mutation fixture, though the SDL has a Mutation type")
			}
		})
	}
}

// TestFixtureMismatchIsAConfigurationError: an SDL the suite cannot build
// a valid query from is ErrGraphQLFixture, and a query it rejects too.
func TestFixtureMismatchIsAConfigurationError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sdl := filepath.Join(dir, "schema.graphql")
	if err := os.WriteFile(sdl, []byte("type Query { ping(x: A!): String }\ninput A { b: B! }\ninput B { c: C! }\ninput C { d: D! }\ninput D { e: E! }\ninput E { x: Int! }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := builtinGraphQL(t)["simple"]
	p := probe.New(probe.Config{Target: "http://127.0.0.1:1", GraphQL: probe.GraphQLConfig{SDL: sdl}}, f)
	_, err := p.ResolveGraphQL(context.Background(), "")
	if !errors.Is(err, probe.ErrGraphQLFixture) {
		t.Errorf("ResolveGraphQL = %v, want ErrGraphQLFixture (the only field's argument nests too deep to fill)", err)
	}
	g := f.GraphQL
	s := &probe.GraphQLSchema{Schema: g.Schema, Source: g.SchemaFile}
	if err := s.Validate("{ nosuchfield }"); !errors.Is(err, probe.ErrGraphQLFixture) || !strings.Contains(err.Error(), "nosuchfield") {
		t.Errorf("Validate = %v, want ErrGraphQLFixture naming the field", err)
	}
}

// TestRefusal: how an answer to a request without valid credentials is
// judged under each signalling.
func TestRefusal(t *testing.T) {
	t.Parallel()
	legacy := probe.GraphQLSignalling{Errors200: true, Codes: []string{"UNAUTHENTICATED"}}
	strict := probe.GraphQLSignalling{Codes: []string{"UNAUTHENTICATED"}}
	unauth := `{"data":null,"errors":[{"message":"no","extensions":{"code":"UNAUTHENTICATED"}}]}`
	tests := []struct {
		name    string
		sig     probe.GraphQLSignalling
		status  int
		body    string
		refused bool
		served  bool
	}{
		{"401 under status401", strict, 401, `{"errors":[{"message":"no"}]}`, true, false},
		{"403 under status401", strict, 403, `{"message":"forbidden"}`, true, false},
		{"200 + code under status401", strict, 200, unauth, false, false},
		{"200 + code under errors200", legacy, 200, unauth, true, false},
		{"200 + other code under errors200", legacy, 200, `{"data":null,"errors":[{"message":"x","extensions":{"code":"INTERNAL"}}]}`, false, false},
		{"200 with data under errors200", legacy, 200, `{"data":{"collections":[]},"errors":[{"message":"no","extensions":{"code":"UNAUTHENTICATED"}}]}`, false, true},
		{"401 under errors200", legacy, 401, unauth, true, false},
		{"500", strict, 500, `{"errors":[{"message":"boom"}]}`, false, false},
		{"batch with one served", strict, 200, `[{"data":null},{"data":{"a":1}}]`, false, true},
		{"all fields null", strict, 200, `{"data":{"a":null}}`, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ex := &probe.Exchange{Status: tc.status, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(tc.body)}
			a := probe.ReadGraphQLAnswer(ex)
			if why := tc.sig.Refusal(a); (why == "") != tc.refused {
				t.Errorf("Refusal = %q, want refused %v", why, tc.refused)
			}
			if got := a.Served(); got != tc.served {
				t.Errorf("Served = %v, want %v", got, tc.served)
			}
		})
	}
}

// TestSDLByIntrospection: with graphql.sdl introspection the schema is read
// from the endpoint with a valid token, and the fixtures built from it
// validate; introspection names no directives, so no field is scoped.
func TestSDLByIntrospection(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	for _, flow := range []string{"simple", "oauth2"} {
		t.Run(flow, func(t *testing.T) {
			t.Parallel()
			cfg := srv.TargetConfig(t, flow)
			cfg.GraphQL = probe.GraphQLConfig{SDL: probe.SDLIntrospection}
			p := probe.New(cfg, srv.Flow(t, flow))
			tr, _, err := p.Token(context.Background(), cfg.Client)
			if err != nil {
				t.Fatal(err)
			}
			gt, err := p.ResolveGraphQL(context.Background(), tr.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(gt.Schema.Source, "introspection of ") || gt.Source != probe.SourceFlowDocument {
				t.Errorf("schema from %q, endpoint from %q", gt.Schema.Source, gt.Source)
			}
			if gt.Fixtures.ProbeField.Name != "collections" || len(gt.Fixtures.Scoped) != 0 || gt.Fixtures.Mutation == "" {
				t.Errorf("fixtures %+v: want collections probed, no scoped field, a mutation", gt.Fixtures)
			}
			if _, err := p.ResolveGraphQL(context.Background(), "not-a-token"); err == nil || !strings.Contains(err.Error(), "give the SDL as a file") {
				t.Errorf("introspection with a bad token: %v, want a configuration error naming the remedy", err)
			}
		})
	}
}
