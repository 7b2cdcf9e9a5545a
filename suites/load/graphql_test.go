package load_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/load"
	"github.com/tollgate/tollgate/suites/probe"
)

// graphqlServer answers POST /graphql as a GraphQL endpoint whose one
// valid token is "good-token": data for it; for anything else, as mode
// says: "status401" (401, a Bearer challenge), "errors200" (200, data
// null, UNAUTHENTICATED) or "open" (data for every request). chunked
// streams every answer with chunked framing.
func graphqlServer(t *testing.T, mode string, chunked bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		write := func(status int, body string) {
			w.WriteHeader(status)
			if !chunked {
				fmt.Fprint(w, body)
				return
			}
			half := len(body) / 2
			fmt.Fprint(w, body[:half])
			w.(http.Flusher).Flush()
			fmt.Fprint(w, body[half:])
		}
		const data = `{"data":{"collections":[{"id":"c-1","name":"Summer","itemCount":2,"tags":["a"]}]}}`
		auth := r.Header.Get("Authorization")
		switch {
		case auth == "Bearer good-token" || mode == "open":
			write(http.StatusOK, data)
		case mode == "errors200":
			write(http.StatusOK, `{"data":null,"errors":[{"message":"authentication required","extensions":{"code":"UNAUTHENTICATED"}}]}`)
		case auth == "":
			w.Header().Set("WWW-Authenticate", `Bearer realm="tollgate"`)
			write(http.StatusUnauthorized, `{"errors":[{"message":"authentication required","extensions":{"code":"UNAUTHENTICATED"}}]}`)
		default:
			w.Header().Set("WWW-Authenticate", `Bearer realm="tollgate", error="invalid_token"`)
			write(http.StatusUnauthorized, `{"errors":[{"message":"invalid token","extensions":{"code":"UNAUTHENTICATED"}}]}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// graphqlInput builds the scenario input for srv with the simple flow's
// SDL, given tokens, and the signalling the configuration would allow.
func graphqlInput(t *testing.T, srv *httptest.Server, errors200 bool) load.GraphQLInput {
	t.Helper()
	flow, err := spec.Read(context.Background(), openapi.FS(), "simple.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g := flow.GraphQL
	schema := &probe.GraphQLSchema{Schema: g.Schema, Source: g.SchemaFile, ScopeOf: g.FieldScope}
	fx, err := probe.BuildGraphQLFixtures(schema)
	if err != nil {
		t.Fatal(err)
	}
	cfg := probe.Config{Target: srv.URL, Flow: "simple", Client: probe.Credentials{ID: "c", Secret: "s"}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	mix, err := load.ParseMix("valid=6,invalid=2,missing=1,expired=1")
	if err != nil {
		t.Fatal(err)
	}
	return load.GraphQLInput{
		Endpoint: &probe.GraphQLTarget{URL: srv.URL + "/graphql", Schema: schema, Fixtures: fx,
			Signalling: probe.GraphQLSignalling{Errors200: errors200, Codes: []string{"UNAUTHENTICATED"}}},
		Validate: load.ValidateInput{F: probe.New(cfg, flow), Mix: mix, Tokens: []string{"good-token"}, ExpiredTokens: []string{"dead-token"}},
	}
}

// TestGraphQLScenarioJudgesBySignalling: each answer is judged by the
// signalling the configuration allows, with either sender, whatever the
// body's framing.
func TestGraphQLScenarioJudgesBySignalling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		mode         string
		allow200     bool
		wantAccepted uint64 // of the 100 requests
		wantWrong    uint64
	}{
		{"401 signalling: every verdict right", "status401", false, 0, 0},
		{"legacy 200 signalling, allowed: every verdict right", "errors200", true, 0, 0},
		{"legacy 200 signalling, not allowed: the refusals are wrong", "errors200", false, 0, 40},
		{"data for every request: bad tokens accepted", "open", false, 40, 0},
	}
	for _, tc := range tests {
		for _, chunked := range []bool{false, true} {
			for _, netHTTP := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/chunked=%v/net-http=%v", tc.name, chunked, netHTTP), func(t *testing.T) {
					t.Parallel()
					srv := graphqlServer(t, tc.mode, chunked)
					sc, err := load.BuildGraphQL(context.Background(), graphqlInput(t, srv, tc.allow200))
					if err != nil {
						t.Fatal(err)
					}
					m := load.NewAttacker(load.Options{MaxRequests: 100, Duration: 5 * time.Second, Concurrency: 2, NetHTTP: netHTTP}).Attack(context.Background(), sc.Targeter, nil)
					if m.Requests != 100 || m.Errors() != 0 {
						t.Fatalf("requests %d, errors %d (outcomes %v)", m.Requests, m.Errors(), m.Outcomes)
					}
					if got := m.Accepted(); got != tc.wantAccepted {
						t.Errorf("accepted = %d, want %d (outcomes %v)", got, tc.wantAccepted, m.Outcomes)
					}
					wrong := m.Count(func(_ load.Kind, o load.Outcome) bool { return o == load.OutcomeWrong || o == load.OutcomeRejected })
					if wrong != tc.wantWrong {
						t.Errorf("wrong or rejected = %d, want %d (outcomes %v)", wrong, tc.wantWrong, m.Outcomes)
					}
				})
			}
		}
	}
}

// TestGraphQLQueryMustMatchTheSDL: a --query the SDL rejects is a
// configuration error, not a run.
func TestGraphQLQueryMustMatchTheSDL(t *testing.T) {
	t.Parallel()
	srv := graphqlServer(t, "status401", false)
	in := graphqlInput(t, srv, false)
	in.Query = "{ nosuchfield }"
	_, err := load.BuildGraphQL(context.Background(), in)
	if !errors.Is(err, probe.ErrGraphQLFixture) || !strings.Contains(err.Error(), "nosuchfield") {
		t.Fatalf("BuildGraphQL = %v, want ErrGraphQLFixture naming the field", err)
	}
	in.Query = "query Mine { collections { id } }"
	if _, err := load.BuildGraphQL(context.Background(), in); err != nil {
		t.Errorf("a valid --query: %v", err)
	}
	// Two operations and no name: the server could run neither (400 for
	// every request), so the run is refused up front.
	in.Query = "query A { collections { id } } query B { __typename }"
	if _, err := load.BuildGraphQL(context.Background(), in); err == nil || !strings.Contains(err.Error(), "2 operations (A, B)") {
		t.Errorf("two operations: BuildGraphQL = %v, want an error naming A and B", err)
	}
	in.OperationName = "B"
	if _, err := load.BuildGraphQL(context.Background(), in); err != nil {
		t.Errorf("two operations, OperationName B: %v", err)
	}
	in.OperationName = "C"
	if _, err := load.BuildGraphQL(context.Background(), in); err == nil || !strings.Contains(err.Error(), `no operation "C"`) {
		t.Errorf("OperationName C: BuildGraphQL = %v, want an error naming C", err)
	}
	in.OperationName = ""
	in.Endpoint = nil
	if _, err := load.BuildGraphQL(context.Background(), in); err == nil || !strings.Contains(err.Error(), "no GraphQL endpoint") {
		t.Errorf("without an endpoint: %v", err)
	}
}

// TestGraphQLEndpointMustBeThere: an endpoint that answers the valid
// token's query with 404 is a configuration error before the run, not a
// run of wrong verdicts.
func TestGraphQLEndpointMustBeThere(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	in := graphqlInput(t, srv, false)
	_, err := load.BuildGraphQL(context.Background(), in)
	if err == nil || !strings.Contains(err.Error(), "answered 404") || !strings.Contains(err.Error(), "--graphql-endpoint") {
		t.Fatalf("BuildGraphQL = %v, want an error naming the 404 and --graphql-endpoint", err)
	}
}
