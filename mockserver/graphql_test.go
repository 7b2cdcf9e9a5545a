package mockserver_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/mockserver/mockservertest"
	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
)

// gqlResponse is a GraphQL response as the tests read it.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Locations  []any          `json:"locations"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// gql sends a GraphQL request: a POST of body (JSON) when method is POST,
// else a GET with query as the query parameter.
func gql(t *testing.T, srv *mockservertest.Server, method, path, tok, body string, header ...string) exchange {
	t.Helper()
	var req *http.Request
	if method == http.MethodGet {
		req = newRequest(t, method, srv.URL+path+"?"+body, "", "")
	} else {
		req = newRequest(t, method, srv.URL+path, "application/json", body)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return send(t, srv, req)
}

func parseGQL(t *testing.T, body []byte) gqlResponse {
	t.Helper()
	var r gqlResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("not a GraphQL response: %v: %s", err, body)
	}
	return r
}

// short is a body cut to a length a test failure can show.
func short(body []byte) string {
	if len(body) > 400 {
		return string(body[:400]) + "…"
	}
	return string(body)
}

func queryBody(query string) string {
	b, _ := json.Marshal(map[string]string{"query": query})
	return string(b)
}

// TestGraphQLAuthentication: no data ever reaches a request without a live
// token, in either signalling, whatever the request's shape.
func TestGraphQLAuthentication(t *testing.T) {
	t.Parallel()
	status401 := mockservertest.NewServer(t)
	errors200 := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{
		Flows: map[string]mockserver.FlowOptions{"simple": {GraphQLSignalling: "errors200"}}}))
	q := queryBody("{ collections { id } }")
	tests := []struct {
		name        string
		srv         *mockservertest.Server
		method, tok string
		body        string
		accept      string
		wantStatus  int
		wantType    string
		wantError   string // in the challenge; "" for a bare one
		wantData    bool   // "data": null present (errors200)
	}{
		{"no token", status401, http.MethodPost, "", q, "", 401, "application/json", "", false},
		{"unknown token", status401, http.MethodPost, "nope", q, "", 401, "application/json", "invalid_token", false},
		{"no token, GET", status401, http.MethodGet, "", "query=" + url.QueryEscape("{ collections { id } }"), "", 401, "application/json", "", false},
		{"no token, batch", status401, http.MethodPost, "", "[" + q + "," + q + "]", "", 401, "application/json", "", false},
		{"no token, invalid document", status401, http.MethodPost, "", queryBody("{ collectionz }"), "", 401, "application/json", "", false},
		{"no token, graphql-response+json", status401, http.MethodPost, "", q, "application/graphql-response+json", 401, "application/graphql-response+json", "", false},
		{"errors200, no token", errors200, http.MethodPost, "", q, "", 200, "application/json", "", true},
		{"errors200, unknown token", errors200, http.MethodPost, "nope", q, "application/graphql-response+json", 200, "application/json", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ex := gql(t, tt.srv, tt.method, "/graphql", tt.tok, tt.body, "Accept", tt.accept)
			if ex.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", ex.status, tt.wantStatus, ex.body)
			}
			if got := ex.header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type %q, want %q", got, tt.wantType)
			}
			if ex.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", ex.header.Get("Cache-Control"))
			}
			r := parseGQL(t, ex.body)
			if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "UNAUTHENTICATED" || r.Errors[0].Message == "" {
				t.Errorf("errors %+v, want one UNAUTHENTICATED error with a message", r.Errors)
			}
			if tt.wantData != strings.Contains(string(ex.body), `"data":null`) || (!tt.wantData && r.Data != nil) {
				t.Errorf("body %s: want data:null %v", ex.body, tt.wantData)
			}
			if tt.wantStatus == http.StatusUnauthorized {
				c := bearerChallenge(t, ex.header)
				errCode, _ := c.Param("error")
				if realm, _ := c.Param("realm"); errCode != tt.wantError || realm != "tollgate" {
					t.Errorf("challenge %v, want realm tollgate and error %q", c, tt.wantError)
				}
			} else if ex.header.Get("WWW-Authenticate") != "" {
				t.Errorf("a 200 carries WWW-Authenticate %q", ex.header.Get("WWW-Authenticate"))
			}
		})
	}
}

// TestGraphQLQueries: a valid token gets the sample data, whatever the
// request's shape.
func TestGraphQLQueries(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	tok := token(t, srv, "simple", mockserver.SeedClientID, mockserver.SeedClientSecret)
	tests := []struct {
		name   string
		method string
		body   string
		accept string
		want   string // the whole body
	}{
		{"POST", http.MethodPost, queryBody("{ collections(first: 2) { id name itemCount tags } }"), "",
			`{"data":{"collections":[{"id":"c-1001","name":"Summer sale","itemCount":12,"tags":["seasonal","sale"]},{"id":"c-1002","name":"Back to school","itemCount":7,"tags":["seasonal"]}]}}`},
		{"GET with variables and operation name", http.MethodGet,
			"query=" + url.QueryEscape("query A { item(id: \"i-101\") { id } } query B($id: ID!) { collection(id: $id) { name items(first: 1) { sku price inStock } } }") +
				"&operationName=B&variables=" + url.QueryEscape(`{"id":"c-1003"}`), "",
			`{"data":{"collection":{"name":"Clearance","items":[{"sku":"SKU-11137","price":11.99,"inStock":true}]}}}`},
		{"aliases, fragments, __typename", http.MethodPost,
			queryBody(`{ a: collection(id: "c-1001") { ...C } b: collection(id: "c-1002") { ...C } none: collection(id: "x") { id } } fragment C on Collection { __typename name ... on Collection { itemCount } }`), "",
			`{"data":{"a":{"__typename":"Collection","name":"Summer sale","itemCount":12},"b":{"__typename":"Collection","name":"Back to school","itemCount":7},"none":null}}`},
		{"nested list and enum argument", http.MethodPost, queryBody("{ metrics(period: WEEK) { period orders revenue topItems(first: 2) { id collection { id } } } }"), "application/graphql-response+json",
			`{"data":{"metrics":{"period":"WEEK","orders":311,"revenue":9120.75,"topItems":[{"id":"i-203","collection":{"id":"c-1002"}},{"id":"i-101","collection":{"id":"c-1001"}}]}}}`},
		{"skip and include", http.MethodPost, queryBody(`query($yes: Boolean = true) { item(id: "i-102") { id @skip(if: $yes) name @include(if: $yes) } }`), "",
			`{"data":{"item":{"name":"Canvas tote"}}}`},
		{"batch", http.MethodPost, "[" + queryBody(`{ item(id: "i-101") { id } }`) + "," + queryBody("{ nope }") + "]", "",
			`[{"data":{"item":{"id":"i-101"}}},{"errors":[{"message":"Cannot query field \"nope\" on type \"Query\".","locations":[{"line":1,"column":3}]}]}]`},
		{"introspection", http.MethodPost, queryBody(`{ __type(name: "Period") { kind name enumValues { name } } __schema { queryType { name } } }`), "",
			`{"data":{"__type":{"kind":"ENUM","name":"Period","enumValues":[{"name":"DAY"},{"name":"WEEK"},{"name":"MONTH"}]},"__schema":{"queryType":{"name":"Query"}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ex := gql(t, srv, tt.method, "/graphql", tok, tt.body, "Accept", tt.accept)
			if ex.status != http.StatusOK || string(ex.body) != tt.want {
				t.Errorf("status %d body\n%s\nwant 200\n%s", ex.status, ex.body, tt.want)
			}
			wantType := "application/json"
			if tt.accept != "" {
				wantType = tt.accept
			}
			if got := ex.header.Get("Content-Type"); got != wantType {
				t.Errorf("Content-Type %q, want %q", got, wantType)
			}
		})
	}
}

// TestGraphQLFieldScopes: a field whose scope the token lacks is null with
// a FORBIDDEN error, never data; the rest of the answer stands.
func TestGraphQLFieldScopes(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	limited := token(t, srv, "oauth2", mockserver.ScopedClientID, mockserver.ScopedClientSecret) // metrics-api only
	full := token(t, srv, "oauth2", mockserver.SeedClientID, mockserver.SeedClientSecret)
	q := queryBody(`{ collections(first: 1) { id } metrics { orders } auditLog { sequence } log2: auditLog { sequence } }`)

	ex := gql(t, srv, http.MethodPost, "/api/graphql", limited, q)
	want := `{"data":{"collections":[{"id":"c-1001"}],"metrics":{"orders":42},"auditLog":null,"log2":null},"errors":[` +
		`{"message":"the access token lacks the scope provisioning-api, which Query.auditLog requires","locations":[{"line":1,"column":51}],"path":["auditLog"],"extensions":{"code":"FORBIDDEN"}},` +
		`{"message":"the access token lacks the scope provisioning-api, which Query.auditLog requires","locations":[{"line":1,"column":73}],"path":["log2"],"extensions":{"code":"FORBIDDEN"}}]}`
	if ex.status != http.StatusOK || string(ex.body) != want {
		t.Errorf("limited token: status %d\n%s\nwant 200\n%s", ex.status, ex.body, want)
	}
	ex = gql(t, srv, http.MethodPost, "/api/graphql", full, q)
	if want := `{"data":{"collections":[{"id":"c-1001"}],"metrics":{"orders":42},"auditLog":[],"log2":[]}}`; ex.status != http.StatusOK || string(ex.body) != want {
		t.Errorf("full token: status %d %s, want 200 %s", ex.status, ex.body, want)
	}
	// A token of the simple flow is not one of oauth2's.
	simple := token(t, srv, "simple", mockserver.SeedClientID, mockserver.SeedClientSecret)
	if ex := gql(t, srv, http.MethodPost, "/api/graphql", simple, q); ex.status != http.StatusUnauthorized {
		t.Errorf("simple token at /api/graphql: status %d, want 401", ex.status)
	}
}

// TestGraphQLRename: renameCollection changes the server's sample state,
// safely under concurrency; GET cannot carry it; a control reset undoes it.
func TestGraphQLRename(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	tok := token(t, srv, "simple", mockserver.SeedClientID, mockserver.SeedClientSecret)
	rename := `mutation R($name: String!) { renameCollection(id: "c-1002", name: $name) { id name } }`

	ex := gql(t, srv, http.MethodGet, "/graphql", tok, "query="+url.QueryEscape(rename)+"&variables="+url.QueryEscape(`{"name":"x"}`))
	if ex.status != http.StatusMethodNotAllowed || ex.header.Get("Allow") != "POST" || len(parseGQL(t, ex.body).Errors) != 1 {
		t.Errorf("rename over GET: status %d Allow %q %s, want 405 with Allow: POST and an error", ex.status, ex.header.Get("Allow"), ex.body)
	}

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(map[string]any{"query": rename, "variables": map[string]string{"name": "Name " + string(rune('A'+i))}})
			if ex := gql(t, srv, http.MethodPost, "/graphql", tok, string(body)); ex.status != http.StatusOK {
				t.Errorf("rename: status %d %s", ex.status, ex.body)
			}
		}()
	}
	wg.Wait()
	ex = gql(t, srv, http.MethodPost, "/graphql", tok, queryBody(`{ collection(id: "c-1002") { name } auditLog(first: 100) { sequence collectionId oldName newName } }`))
	var got struct {
		Data struct {
			Collection struct{ Name string }
			AuditLog   []struct {
				Sequence         int
				CollectionID     string `json:"collectionId"`
				OldName, NewName string
			}
		}
	}
	if err := json.Unmarshal(ex.body, &got); err != nil {
		t.Fatal(err)
	}
	log := got.Data.AuditLog
	if len(log) != 8 || log[0].Sequence != 8 || log[7].OldName != "Back to school" || log[0].NewName != got.Data.Collection.Name {
		t.Fatalf("after 8 renames: %s", ex.body)
	}
	for i := 1; i < len(log); i++ { // each rename saw the one before it
		if log[i-1].OldName != log[i].NewName || log[i-1].Sequence != log[i].Sequence+1 {
			t.Errorf("audit log out of order: %+v then %+v", log[i], log[i-1])
		}
	}

	resp, err := srv.Client().Post(srv.URL+"/_tollgate/reset", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	tok = token(t, srv, "simple", mockserver.SeedClientID, mockserver.SeedClientSecret) // the reset killed the old one
	ex = gql(t, srv, http.MethodPost, "/graphql", tok, queryBody(`{ collection(id: "c-1002") { name } auditLog { sequence } }`))
	if want := `{"data":{"collection":{"name":"Back to school"},"auditLog":[]}}`; string(ex.body) != want {
		t.Errorf("after a reset: %s, want %s", ex.body, want)
	}
}

// TestGraphQLRequestErrors: bad requests and requests over a limit get a
// GraphQL error with a 4xx status, never data, a 5xx or a hang.
func TestGraphQLRequestErrors(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	tok := token(t, srv, "simple", mockserver.SeedClientID, mockserver.SeedClientSecret)
	deep := "{ collections { items { collection { items { collection { items { collection { items { collection { items { id } } } } } } } } } } }"
	// Ten levels, within maxDepth, but 12^4 items at the bottom.
	fanout := "{ collections { items(first: 20) { collection { items(first: 20) { collection { items(first: 20) { collection { items(first: 20) { collection { id } } } } } } } } } }"
	tests := []struct {
		name        string
		method      string
		contentType string
		body        string
		wantStatus  int
		wantMessage string
	}{
		{"PUT", http.MethodPut, "application/json", queryBody("{ collections { id } }"), 405, "GET or a POST"},
		{"form body", http.MethodPost, "application/x-www-form-urlencoded", "query=x", 415, "application/json"},
		{"not JSON", http.MethodPost, "application/json", "{", 400, "not a JSON GraphQL request"},
		{"query not a string", http.MethodPost, "application/json", `{"query": 1}`, 400, `not a JSON GraphQL request: the member "query" is a number; it must be a string`},
		{"variables not an object", http.MethodPost, "application/json", `{"query":"{ collections { id } }","variables":[1]}`, 400, `the member "variables" is an array; it must be an object`},
		{"body a string", http.MethodPost, "application/json", `"{ collections { id } }"`, 400, "a string where an object belongs"},
		{"batch of numbers", http.MethodPost, "application/json", `[1]`, 400, "not a JSON array of GraphQL requests: a number where an object belongs"},
		{"no query", http.MethodPost, "application/json", `{}`, 400, "no query"},
		{"syntax error", http.MethodPost, "application/json", queryBody("{ collections { id "), 400, "Expected Name"},
		{"unknown operation", http.MethodPost, "application/json", `{"query":"query A { collections { id } }","operationName":"B"}`, 400, "no operation named B"},
		{"two operations, none named", http.MethodPost, "application/json", queryBody("query A { collections { id } } query B { collections { id } }"), 400, "name one with operationName"},
		{"wrong variable type", http.MethodPost, "application/json", `{"query":"query($id: ID!) { collection(id: $id) { id } }","variables":{"id":{"a":1}}}`, 400, "cannot use map as ID"},
		{"missing variable", http.MethodPost, "application/json", `{"query":"query($id: ID!) { collection(id: $id) { id } }"}`, 400, "must be defined"},
		{"too deep", http.MethodPost, "application/json", queryBody(deep), 400, "nests fields 11 deep"},
		{"too many aliases", http.MethodPost, "application/json", queryBody("{" + strings.Repeat(" a: collections { id }", 31) + "}"), 400, "31 aliased fields"},
		{"query too long", http.MethodPost, "application/json", queryBody("{ collections { id } }" + strings.Repeat(" ", 16<<10)), 400, "at most 16384"},
		{"batch too long", http.MethodPost, "application/json", "[" + strings.TrimSuffix(strings.Repeat(queryBody("{ collections { id } }")+",", 11), ",") + "]", 400, "at most 10"},
		{"empty batch", http.MethodPost, "application/json", "[]", 400, "empty"},
		{"body too large", http.MethodPost, "application/json", `{"query":"` + strings.Repeat("x", 300<<10) + `"}`, 413, "larger than"},
		{"result too large", http.MethodPost, "application/json", queryBody(fanout), 400, "more than 10000 fields"},
		{"variables not JSON, GET", http.MethodGet, "", "query=" + url.QueryEscape("{ collections { id } }") + "&variables=%7B", 400, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var req *http.Request
			if tt.method == http.MethodGet {
				req = newRequest(t, tt.method, srv.URL+"/graphql?"+tt.body, "", "")
			} else {
				req = newRequest(t, tt.method, srv.URL+"/graphql", tt.contentType, tt.body)
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			ex := send(t, srv, req)
			r := parseGQL(t, ex.body)
			if ex.status != tt.wantStatus || len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, tt.wantMessage) || r.Data != nil {
				t.Errorf("status %d %s, want %d and an error with %q, no data", ex.status, short(ex.body), tt.wantStatus, tt.wantMessage)
			}
			if strings.Contains(string(ex.body), "Go ") || strings.Contains(string(ex.body), "mockserver.") {
				t.Errorf("the error names the mock's Go types: %s", short(ex.body))
			}
			if tt.wantStatus == http.StatusMethodNotAllowed && ex.header.Get("Allow") != "GET, POST" {
				t.Errorf("Allow %q, want GET, POST", ex.header.Get("Allow"))
			}
		})
	}
}

// TestGraphQLTokenNeverEchoed: an error never quotes the request's token,
// even when the document does.
func TestGraphQLTokenNeverEchoed(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	tok := token(t, srv, "simple", mockserver.SeedClientID, mockserver.SeedClientSecret)
	for _, q := range []string{"{ " + strings.ReplaceAll(tok, "-", "_") + " }", `{ collection(id: "` + tok + `") { nope } }`, "{ \"" + tok + "\" }"} {
		ex := gql(t, srv, http.MethodPost, "/graphql", tok, queryBody(q))
		if strings.Contains(string(ex.body), tok) || ex.status >= 500 {
			t.Errorf("query %q: status %d, the answer quotes the token: %s", q, ex.status, ex.body)
		}
	}
}

// TestGraphQLIntrospectionOff: a flow that turns introspection off refuses
// __schema and __type with a 400, and still answers __typename.
func TestGraphQLIntrospectionOff(t *testing.T) {
	t.Parallel()
	doc, err := fs.ReadFile(openapi.FS(), "simple.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const at = "    introspection: true"
	if !strings.Contains(string(doc), at) {
		t.Fatalf("test is stale: simple.yaml has no %q", at)
	}
	sdl, err := fs.ReadFile(openapi.FS(), "simple.graphql")
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"simple.yaml":    {Data: []byte(strings.Replace(string(doc), at, "    introspection: false", 1))},
		"simple.graphql": {Data: sdl},
	}
	f, err := spec.Read(context.Background(), fsys, "simple.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv := mockservertest.NewServer(t, mockservertest.WithFlows(f))
	tok := token(t, srv, "simple", mockserver.SeedClientID, mockserver.SeedClientSecret)
	for _, tt := range []struct {
		query      string
		wantStatus int
	}{
		{"{ __schema { queryType { name } } }", http.StatusBadRequest},
		{"{ ...F } fragment F on Query { __type(name: \"Item\") { name } }", http.StatusBadRequest},
		{"{ __typename collections(first: 1) { __typename } }", http.StatusOK},
	} {
		ex := gql(t, srv, http.MethodPost, "/graphql", tok, queryBody(tt.query))
		if ex.status != tt.wantStatus || (tt.wantStatus == http.StatusBadRequest && !strings.Contains(string(ex.body), "introspection is disabled")) {
			t.Errorf("%s: status %d %s, want %d", tt.query, ex.status, ex.body, tt.wantStatus)
		}
	}
}
