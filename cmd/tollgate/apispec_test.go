package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/mockserver"
)

// collectionsDoc is a user's own API document whose protected operations
// are the mock's /api/collections routes.
const collectionsDoc = "../../testdata/apispec/collections.yaml"

// TestCheckAPISpec: with --api-spec, the checks probe the operations the
// user's document secures, not the flow document's: against the mock,
// whose /api/collections routes are protected, the document passes and
// says what it probed and skipped.
func TestCheckAPISpec(t *testing.T) {
	t.Parallel()
	target := checkMock(t)
	r := runTollgate(t, seedEnv, "check", "--target", target, "--flow", "simple", "--api-spec", collectionsDoc)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q; want 0 and nothing\nstdout:\n%s", r.code, r.stderr, r.stdout)
	}
	for _, want := range []string{
		"\nAPI document " + collectionsDoc + " (OpenAPI 3.0.3): 2 protected operation(s) probed, 1 skipped\n",
		"\n  probed  GET /api/collections (listCollections)\n",
		"\n  probed  GET /api/collections/c-1001 (getCollection)\n",
		"\n  skipped GET /api/collections/{id}/items/{itemId} (getCollectionItem): path parameter \"itemId\" has no example, enum or default: give --path-param itemId=VALUE\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	verdicts, _ := checkLines(t, r.stdout)
	for id, got := range verdicts {
		if got == "FAIL" || got == "INCONCLUSIVE" {
			t.Errorf("%s: %s against the conformant mock", id, got)
		}
	}
	for _, id := range []string{"BEAR-001", "BEAR-002", "BEAR-019"} {
		if verdicts[id] != "PASS" {
			t.Errorf("%s: %q, want PASS", id, verdicts[id])
		}
	}
}

// TestCheckAPISpecProbesTheDocument: an operation of the user's document
// that the target serves without a token (the mock's JWK Set, which the
// document claims is secured) fails BEAR-019 for that operation alone, so
// the probed operations are the document's; --operation selects among them.
func TestCheckAPISpecProbesTheDocument(t *testing.T) {
	t.Parallel()
	doc := writeFile(t, "api.yaml", `openapi: 3.1.0
info: {title: Mine, version: "1"}
paths:
  /api/collections:
    get:
      operationId: listCollections
      security: [{token: []}]
      responses: {"200": {description: ok}}
  /.well-known/jwks.json:
    get:
      operationId: keys
      security: [{token: []}]
      responses: {"200": {description: ok}}
components:
  securitySchemes:
    token: {type: http, scheme: bearer}
`)
	target := checkMock(t)
	r := runTollgate(t, seedEnv, "check", "--target", target, "--flow", "simple", "--api-spec", doc, "--label-filter", "area:bearer")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q\nstdout:\n%s", r.code, r.stderr, r.stdout)
	}
	verdicts, _ := checkLines(t, r.stdout)
	for id, got := range verdicts {
		if want := map[bool]string{true: "FAIL", false: "not FAIL"}[id == "BEAR-019"]; (got == "FAIL") != (want == "FAIL") {
			t.Errorf("%s: %s, want %s: the one fault is the unprotected JWK Set", id, got, want)
		}
	}
	if !strings.Contains(r.stdout, "  probed  GET /.well-known/jwks.json (keys)\n") || !strings.Contains(r.stdout, "> GET "+target+"/.well-known/jwks.json\n") {
		t.Errorf("stdout does not name GET /.well-known/jwks.json as probed and failing:\n%s", r.stdout)
	}

	r = runTollgate(t, seedEnv, "check", "--target", target, "--flow", "simple", "--api-spec", doc, "--label-filter", "area:bearer", "--operation", "listCollections")
	if r.code != 0 {
		t.Fatalf("--operation listCollections: exit %d, want 0; stderr %q\nstdout:\n%s", r.code, r.stderr, r.stdout)
	}
	if !strings.Contains(r.stdout, "1 protected operation(s) probed, 0 skipped\n  probed  GET /api/collections (listCollections)\n") {
		t.Errorf("--operation listCollections: stdout does not list exactly that operation as probed:\n%s", r.stdout)
	}
}

// TestCheckAPISpecExitTwo: an API document that cannot be used, or an
// --operation it does not protect, ends the run before any check with one
// line naming the file and the place; flags beat TOLLGATE_API_SPEC, which
// beats the target file's api_spec.
func TestCheckAPISpecExitTwo(t *testing.T) {
	t.Parallel()
	swagger := writeFile(t, "swagger.yaml", "swagger: '2.0'\ninfo: {title: x, version: '1'}\npaths: {}\n")
	public := writeFile(t, "public.yaml", "openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths:\n  /a:\n    get:\n      responses: {'200': {description: ok}}\n")
	fromFile := writeFile(t, "target.yaml", "api_spec: /from/the/target/file.yaml\n")
	pathParamsFile := writeFile(t, "params.yaml", "api_spec: "+collectionsDoc+"\npath_params:\n  id: c-1001\n  itemid: 7\n")
	base := []string{"--target", "http://127.0.0.1:1", "--flow", "simple"}
	tests := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"missing document", seedEnv, append(base, "--api-spec", "/does/not/exist.yaml"), []string{"--api-spec", "/does/not/exist.yaml", "cannot read the API document"}},
		{"Swagger 2", seedEnv, append(base, "--api-spec", swagger), []string{swagger + ":1: swagger: Swagger 2.0 is not OpenAPI 3"}},
		{"nothing secured", seedEnv, append(base, "--api-spec", public), []string{public + ":3: paths: no operation is secured"}},
		{"a --path-param no path has", seedEnv, append(base, "--api-spec", collectionsDoc, "--path-param", "itemid=7"), []string{`path parameter "itemid" (--path-param, path_params): no path of the document has {itemid}`}},
		{"the target file's path_params", seedEnv, append(base, "--config", pathParamsFile), []string{collectionsDoc, `path parameter "itemid" (--path-param, path_params)`}},
		{"a --path-param without a value", seedEnv, append(base, "--api-spec", collectionsDoc, "--path-param", "itemId"), []string{`--path-param: path parameter "itemId": write name=value`}},
		{"--api-base without --api-spec", seedEnv, append(base, "--api-base", "/v1"), []string{"give --api-spec FILE too"}},
		{"the target file's api_spec", seedEnv, append(base, "--config", fromFile), []string{"/from/the/target/file.yaml"}},
		{"TOLLGATE_API_SPEC beats the target file", append([]string{"TOLLGATE_API_SPEC=/from/the/env.yaml"}, seedEnv...), append(base, "--config", fromFile), []string{"/from/the/env.yaml"}},
		{"--api-spec beats TOLLGATE_API_SPEC", append([]string{"TOLLGATE_API_SPEC=/from/the/env.yaml"}, seedEnv...), append(base, "--config", fromFile, "--api-spec", "/from/the/flag.yaml"), []string{"/from/the/flag.yaml"}},
		{"an --operation the document does not protect", seedEnv, []string{"--target", mockTarget, "--flow", "simple", "--api-spec", collectionsDoc, "--operation", "status"}, []string{`operation "status" is not a protected operation of the API document ` + collectionsDoc, "listCollections, getCollection"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkExitTwo(t, tt.env, tt.args, tt.want...)
		})
	}
}

// TestCheckAPISpecOwnAPI serves an API of its own (shop-3.1.yaml: under
// /v1, one operation for any token, one with a path parameter and a scope,
// one with the document's scope) in front of the mock's oauth2 tokens, as
// a proxy that maps each documented operation onto a mock route enforcing
// the same scope: `check --flow oauth2 --api-spec` probes exactly those
// operations and passes, BEAR-017 included. With the auth removed from one
// operation (the server answers it without looking at the token), BEAR-019
// fails for that operation, naming it, and no other check fails: BEAR-017,
// whose scoped probe lands there, is INCONCLUSIVE pointing to BEAR-019.
func TestCheckAPISpecOwnAPI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		open     string // the path served without auth; "" for none
		wantExit int
	}{
		{name: "every operation protected", wantExit: 0},
		{name: "auth removed from one operation", open: "/v1/orgs/acme", wantExit: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mock, err := url.Parse(checkMock(t))
			if err != nil {
				t.Fatal(err)
			}
			routes := map[string]string{
				"/v1/markets":        "/api/markets",
				"/v1/orgs/acme":      "/provisioning/organizations",
				"/v1/orders/metrics": "/metrics/orders",
			}
			proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
				r.SetURL(mock)
				r.Out.Host = r.In.Host // the mock names itself after the host it is asked as
				if to, ok := routes[r.In.URL.Path]; ok {
					r.Out.URL.Path, r.Out.URL.RawPath = to, ""
				}
			}}
			shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == tt.open && tt.open != "" {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(`{"data":[]}`))
					return
				}
				proxy.ServeHTTP(w, r)
			}))
			t.Cleanup(shop.Close)

			env := append([]string{"TOLLGATE_SCOPED_CLIENT_ID=" + mockserver.ScopedClientID, "TOLLGATE_SCOPED_CLIENT_SECRET=" + mockserver.ScopedClientSecret}, seedEnv...)
			r := runTollgate(t, env, "check", "--target", shop.URL, "--flow", "oauth2", "--api-spec", "../../testdata/apispec/shop-3.1.yaml")
			if r.code != tt.wantExit {
				t.Fatalf("exit %d, want %d; stderr %q\nstdout:\n%s", r.code, tt.wantExit, r.stderr, r.stdout)
			}
			want := "(OpenAPI 3.1.0): 3 protected operation(s) probed, 0 skipped\n" +
				"  probed  GET /v1/markets (shopMarkets)\n" +
				"  probed  GET /v1/orders/metrics (shopOrderMetrics) scopes: metrics-api\n" +
				"  probed  GET /v1/orgs/acme (shopOrganization) scopes: provisioning-api\n"
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stdout does not list exactly the document's protected operations:\n%s", r.stdout)
			}
			verdicts, _ := checkLines(t, r.stdout)
			wantFail := map[string]bool{"BEAR-019": tt.open != ""}
			for id, got := range verdicts {
				if id == "BEAR-017" && tt.open != "" {
					if got != "INCONCLUSIVE" || !strings.Contains(r.stdout, "see BEAR-019") {
						t.Errorf("BEAR-017: %s, want INCONCLUSIVE pointing to BEAR-019 (its scoped probe lands on the open operation)", got)
					}
					continue
				}
				if (got == "FAIL") != wantFail[id] || got == "INCONCLUSIVE" {
					t.Errorf("%s: %s; want FAIL only for BEAR-019, and only with the auth removed from %q", id, got, tt.open)
				}
			}
			if tt.open == "" {
				for _, id := range []string{"BEAR-001", "BEAR-017", "BEAR-019", "BEAR-020"} {
					if verdicts[id] != "PASS" {
						t.Errorf("%s: %q, want PASS", id, verdicts[id])
					}
				}
				return
			}
			_, failure, _ := strings.Cut(r.stdout, "\nFAIL BEAR-019 [oauth2]: ")
			if failure == "" || !strings.Contains(failure, "GET "+shop.URL+tt.open) {
				t.Errorf("the BEAR-019 failure does not show the request to %s:\n%s", tt.open, r.stdout)
			}
		})
	}
}
