package mockserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tollgate/tollgate/mockserver/tokens"
	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
)

// The GraphQL benchmarks compare, in one run, the GraphQL endpoint with a
// valid token against the same endpoint with authentication left out (a
// gate that admits every request with the seed client's grant), and the
// GraphQL route against the REST protected route of the same flow through
// the whole server. The ratios that matter: graphql-open ns/op ÷
// graphql-auth ns/op (target at least 0.95: checking the token is cheap
// next to GraphQL) and rest ns/op ÷ graphql ns/op (what a GraphQL request
// costs over a REST one). The document is cached after the first request,
// as in steady use. Every iteration checks for a 200.

// benchGraphQLQuery asks for about what GET /api/collections answers.
const benchGraphQLQuery = `{"query":"{ collections(first: 2) { id name itemCount } }"}`

// admitAll is a graphqlGate that lets every request through with one grant:
// the endpoint as it would be without authentication.
type admitAll struct{ grant *tokens.Grant }

func (a admitAll) admit(http.ResponseWriter, *http.Request) (*tokens.Grant, bool) {
	return a.grant, true
}

func benchGraphQLServer(b *testing.B) (*Server, string) {
	b.Helper()
	flows, err := spec.ReadAll(context.Background(), openapi.FS())
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(flows, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	req := httptest.NewRequest(http.MethodPost, "/token", bytes.NewReader([]byte(`{"clientId":"testClient","secret":"superSecret"}`)))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	var tr struct {
		AccessToken string `json:"accessToken"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tr); err != nil || tr.AccessToken == "" {
		b.Fatalf("token: status %d %s", rec.Code, rec.Body)
	}
	return srv, tr.AccessToken
}

// benchServe runs h on a reused request (its body rewound each time) into
// a discarding writer, checking for a 200.
func benchServe(b *testing.B, h http.Handler, method, path, token string, body []byte) {
	b.Helper()
	req := httptest.NewRequest(method, path, nil)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	reader := bytes.NewReader(body)
	w := &discardWriter{h: make(http.Header, 8)}
	serve := func() {
		clear(w.h)
		w.status = 0
		if body != nil {
			reader.Reset(body)
			req.Body = io.NopCloser(reader)
		}
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("%s %s: status %d", method, path, w.status)
		}
	}
	serve() // caches the document
	b.ReportAllocs()
	for b.Loop() {
		serve()
	}
}

type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(p), nil
}

func BenchmarkGraphQL(b *testing.B) {
	srv, token := benchGraphQLServer(b)
	fr := srv.flows[0]
	for _, f := range srv.flows {
		if f.flow.Name == "simple" {
			fr = f
		}
	}
	grant, ok := fr.validator.Validate(token, srv.opts.Clock.Now())
	if !ok {
		b.Fatal("the seed token does not validate")
	}
	open := newGraphQLEndpoint(fr.graphqlSpec, admitAll{grant}, scopeGuard{})
	query := []byte(benchGraphQLQuery)
	b.Run("graphql-auth", func(b *testing.B) { benchServe(b, fr.graphql, http.MethodPost, "/graphql", token, query) })
	b.Run("graphql-open", func(b *testing.B) { benchServe(b, open, http.MethodPost, "/graphql", token, query) })
	b.Run("graphql", func(b *testing.B) { benchServe(b, srv, http.MethodPost, "/graphql", token, query) })
	b.Run("rest", func(b *testing.B) { benchServe(b, srv, http.MethodGet, "/api/collections", token, nil) })
}
