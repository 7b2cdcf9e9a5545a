package mockserver

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/mockserver/tokens"
	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestGraphQLSeams: what a mutant gives gateGraphQL and guardFields
// replaces the GraphQL endpoint's Bearer check and scope check, wrapping the
// correct ones, and nothing else.
func TestGraphQLSeams(t *testing.T) {
	t.Parallel()
	flows, err := spec.ReadAll(context.Background(), openapi.FS())
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(flows, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	req := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(`{"grant_type":"client_credentials","client_id":"metricsClient","client_secret":"metricsSecret"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("token: %d %s", rec.Code, rec.Body)
	}
	var fr *flowRuntime
	for _, f := range s.flows {
		if f.flow.Name == "oauth2" {
			fr = f
		}
	}

	m := newMutant(s)
	admitted := 0
	m.gateGraphQL(func(_ *flowRuntime, next graphqlGate) graphqlGate {
		if _, ok := next.(*bearerGate); !ok {
			t.Errorf("the gate seam wraps %T, want the correct *bearerGate", next)
		}
		return gateFunc(func(w http.ResponseWriter, r *http.Request) (*tokens.Grant, bool) {
			admitted++
			return next.admit(w, r)
		})
	})
	m.guardFields(func(_ *flowRuntime, next fieldGuard) fieldGuard {
		return guardFunc(func(g *tokens.Grant, f *ast.Field, scope string) bool {
			return f.Alias != f.Name || next.allows(g, f, scope) // lets an aliased field through
		})
	})
	auth, err := s.baseAuthenticator()
	if err != nil {
		t.Fatal(err)
	}
	s.assembleFlow(fr, m.assembly(), auth)

	query := func(q string) string {
		body, _ := json.Marshal(map[string]string{"query": q})
		req := httptest.NewRequest(http.MethodPost, "/api/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
		rec := httptest.NewRecorder()
		fr.graphql.ServeHTTP(rec, req)
		return rec.Body.String()
	}
	if got := query("{ auditLog { sequence } }"); !strings.Contains(got, "FORBIDDEN") {
		t.Errorf("the wrapped guard lost the scope check: %s", got)
	}
	if got, want := query("{ log: auditLog { sequence } }"), `{"data":{"log":[]}}`; got != want {
		t.Errorf("the guard seam did not take effect: %s, want %s", got, want)
	}
	if admitted != 2 {
		t.Errorf("the gate seam admitted %d requests, want 2", admitted)
	}
}
