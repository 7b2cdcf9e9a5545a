package mockserver_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/mockserver/mockservertest"
)

// fuzzRequestBound is how long one fuzzed GraphQL request may take; far
// above what any document within the limits needs, so that only a hang or
// a blow-up trips it.
const fuzzRequestBound = 5 * time.Second

// FuzzGraphQLRequest feeds arbitrary query text, variables and operation
// names to the GraphQL endpoint with a valid token, over GET and POST: it
// never panics, never answers 5xx, always answers a JSON GraphQL response,
// and answers in bounded time. The seeds are in testdata/fuzz.
func FuzzGraphQLRequest(f *testing.F) {
	srv := mockservertest.NewServer(f)
	tok := fuzzToken(f, srv)
	f.Add("{ collections { id name items(first: 2) { sku price } } }", "", "", false)
	f.Add("query Q($id: ID!) { collection(id: $id) { name } }", `{"id":"c-1001"}`, "Q", true)
	f.Add(`mutation { renameCollection(id: "c-1001", name: "x") { name } }`, "", "", false)
	f.Add("{ __schema { types { name fields { name type { ofType { name } } } } } }", "", "", false)
	f.Add("{ ...A } fragment A on Query { a: metrics(period: WEEK) { topItems { collection { tags } } } }", "null", "", false)
	f.Fuzz(func(t *testing.T, query, variables, operationName string, get bool) {
		var req *http.Request
		if get {
			q := url.Values{"query": {query}, "variables": {variables}, "operationName": {operationName}}
			req = httptest.NewRequest(http.MethodGet, "/graphql?"+q.Encode(), nil)
		} else {
			vars := json.RawMessage(variables)
			if !json.Valid(vars) {
				vars = json.RawMessage("null")
			}
			body, err := json.Marshal(map[string]any{"query": query, "variables": vars, "operationName": operationName})
			if err != nil {
				t.Skip("not encodable")
			}
			req = httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(body)))
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		start := time.Now()
		srv.Mock.ServeHTTP(rec, req)
		if took := time.Since(start); took > fuzzRequestBound {
			t.Errorf("took %v (bound %v)", took, fuzzRequestBound)
		}
		if rec.Code >= 500 {
			t.Fatalf("status %d: %s", rec.Code, short(rec.Body.Bytes()))
		}
		var resp map[string]json.RawMessage
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("status %d, not a JSON object: %v: %s", rec.Code, err, short(rec.Body.Bytes()))
		}
		if _, ok := resp["data"]; !ok && resp["errors"] == nil {
			t.Fatalf("status %d, neither data nor errors: %s", rec.Code, short(rec.Body.Bytes()))
		}
		if rec.Code != http.StatusOK && resp["data"] != nil {
			t.Fatalf("status %d with data: %s", rec.Code, short(rec.Body.Bytes()))
		}
	})
}

// fuzzToken gets a simple-flow token for the seed client.
func fuzzToken(f *testing.F, srv *mockservertest.Server) string {
	f.Helper()
	body := `{"clientId":"` + mockserver.SeedClientID + `","secret":"` + mockserver.SeedClientSecret + `"}`
	req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	srv.Mock.ServeHTTP(rec, req)
	var tr struct {
		AccessToken string `json:"accessToken"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tr); err != nil || tr.AccessToken == "" {
		f.Fatalf("token: status %d %s", rec.Code, rec.Body.String())
	}
	return tr.AccessToken
}
