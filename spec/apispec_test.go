package spec_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/spec"
)

// probed renders an API document's operations as "METHOD path?query id
// scopes header=value… content-type body", one string each, for comparison.
func probed(api *spec.APISpec) []string {
	var out []string
	for _, op := range api.Operations {
		path := op.ProbePath()
		if op.Probe.Query != "" {
			path += "?" + op.Probe.Query
		}
		s := fmt.Sprintf("%s %s %s %v", op.Method, path, op.ID, op.Scopes)
		for _, name := range slices.Sorted(maps.Keys(op.Probe.Header)) {
			s += fmt.Sprintf(" %s=%s", name, op.Probe.Header.Get(name))
		}
		if op.Probe.ContentType != "" {
			s += " " + op.Probe.ContentType + " " + string(op.Probe.Body)
		}
		out = append(out, s)
	}
	return out
}

func TestReadAPISpec(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		file        string
		opts        spec.APIOptions
		wantProbed  []string
		wantSkipped []string // substrings, one per skipped operation, in order
	}{
		{
			name: "3.0, global bearer security, a public operation, a parameter example, a missing parameter",
			file: "collections.yaml",
			wantProbed: []string{
				"GET /api/collections listCollections []",
				"GET /api/collections/c-1001 getCollection []",
			},
			wantSkipped: []string{`GET /api/collections/{id}/items/{itemId} (getCollectionItem): path parameter "itemId" has no example, enum or default: give --path-param itemId=VALUE`},
		},
		{
			name:       "$refs to local files relative to the document are followed",
			file:       "split/api.yaml",
			wantProbed: []string{"GET /things/t-1 getThing []"},
		},
		{
			name: "a --path-param fills what the document leaves open",
			file: "collections.yaml",
			opts: spec.APIOptions{PathParams: map[string]string{"itemId": "i 7"}},
			wantProbed: []string{
				"GET /api/collections listCollections []",
				"GET /api/collections/c-1001 getCollection []",
				"GET /api/collections/c-1001/items/i%207 getCollectionItem []",
			},
		},
		{
			name: "an explicit base path",
			file: "collections.yaml",
			opts: spec.APIOptions{Base: "/api-v1/"},
			wantProbed: []string{
				"GET /api-v1/api/collections listCollections []",
				"GET /api-v1/api/collections/c-1001 getCollection []",
			},
			wantSkipped: []string{"itemId"},
		},
		{
			name: "3.1, per-operation oauth2 scopes, enum, default, const, schema examples, body example, server variable; safe methods first",
			file: "items-3.1.yaml",
			wantProbed: []string{
				"GET /v2/items listItems [[items:read]]",
				"GET /v2/items/tools listKind [[items:read]]",
				"GET /v2/items/tools/page/3 pageOfKind [[items:read]]",
				"GET /v2/search?q=widget+box search [[items:read]] X-Tenant=acme",
				`POST /v2/items createItem [[items:write]] application/json {"name":"widget"}`,
				"DELETE /v2/items/toys deleteKind []",
			},
			wantSkipped: []string{
				"POST /imports (importItems): its required text/csv request body has no example",
				`GET /items/{kind}/history/{at} (history): path parameter "kind" has no example, enum or default: give --path-param kind=VALUE`,
				"GET /keyed (keyed): secured by apiKey (apiKey), not by a Bearer scheme",
				`GET /session (session): it requires the cookie parameter "sid", and Tollgate sends no cookies`,
			},
		},
		{
			name: "flag values beat the document's; / is no base",
			file: "items-3.1.yaml",
			opts: spec.APIOptions{Base: "/", PathParams: map[string]string{"kind": "gadgets", "at": "2026-01-01T00:00:00Z"}},
			wantProbed: []string{
				"GET /items listItems [[items:read]]",
				"GET /items/gadgets listKind [[items:read]]",
				"GET /items/gadgets/history/2026-01-01T00:00:00Z history [[items:read]]",
				"GET /items/gadgets/page/3 pageOfKind [[items:read]]",
				"GET /search?q=widget+box search [[items:read]] X-Tenant=acme",
				`POST /items createItem [[items:write]] application/json {"name":"widget"}`,
				"DELETE /items/gadgets deleteKind []",
			},
			wantSkipped: []string{"importItems", "keyed", "session"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api, err := spec.ReadAPISpec(context.Background(), "../testdata/apispec/"+tt.file, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := probed(api); strings.Join(got, "\n") != strings.Join(tt.wantProbed, "\n") {
				t.Errorf("probed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.wantProbed, "\n"))
			}
			if len(api.Skipped) != len(tt.wantSkipped) {
				t.Fatalf("skipped %q, want %d", api.Skipped, len(tt.wantSkipped))
			}
			for i, want := range tt.wantSkipped {
				if got := api.Skipped[i].String(); !strings.Contains(got, want) {
					t.Errorf("skipped[%d] = %q, want it to hold %q", i, got, want)
				}
			}
		})
	}
}

// TestReadAPISpecErrors: a document that cannot be used is a ReadError
// naming the file and the place at fault.
func TestReadAPISpecErrors(t *testing.T) {
	t.Parallel()
	const bearer = "components:\n  securitySchemes:\n    b:\n      type: http\n      scheme: bearer\n"
	tests := []struct {
		name     string
		doc      string
		opts     spec.APIOptions
		wantLine int
		want     []string
	}{
		{"not YAML", "openapi: [", spec.APIOptions{}, 0, []string{"api.yaml: not YAML or JSON"}},
		{"Swagger 2", "swagger: '2.0'\ninfo: {title: x, version: '1'}\npaths: {}\n", spec.APIOptions{}, 1, []string{"api.yaml:1: swagger: Swagger 2.0 is not OpenAPI 3"}},
		{"no version", "info: {title: x, version: '1'}\npaths: {}\n", spec.APIOptions{}, 0, []string{"no openapi field"}},
		{"an empty file", "", spec.APIOptions{}, 0, []string{"api.yaml: no openapi field"}},
		{"a list", "- openapi: 3.0.3\n", spec.APIOptions{}, 1, []string{"api.yaml:1: no openapi field"}},
		{"JSON, nothing secured", "{\n  \"openapi\": \"3.1.0\",\n  \"info\": {\"title\": \"x\", \"version\": \"1\"},\n  \"paths\": {\"/a\": {\"get\": {\"responses\": {\"200\": {\"description\": \"ok\"}}}}}\n}\n", spec.APIOptions{}, 4,
			[]string{"api.yaml:4: paths: no operation is secured"}},
		{"OpenAPI 3.2", "openapi: 3.2.0\ninfo: {title: x, version: '1'}\npaths: {}\n", spec.APIOptions{}, 1, []string{`api.yaml:1: openapi: OpenAPI "3.2.0" is not supported: Tollgate reads OpenAPI 3.0 and 3.1`}},
		{"nothing secured", "openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths:\n  /a:\n    get:\n      responses: {'200': {description: ok}}\n" + bearer, spec.APIOptions{}, 3,
			[]string{"api.yaml:3: paths: no operation is secured by an http bearer, oauth2 or openIdConnect scheme"}},
		{"no paths", "openapi: 3.1.0\ninfo: {title: x, version: '1'}\n", spec.APIOptions{}, 0, []string{"the document has no paths"}},
		{"undefined scheme", "openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths:\n  /items/{id}:\n    get:\n      security:\n        - nope: []\n      parameters:\n        - {name: id, in: path, required: true, schema: {type: string}}\n      responses: {'200': {description: ok}}\n" + bearer, spec.APIOptions{}, 5,
			[]string{"api.yaml:5: paths./items/{id}.get: invalid OpenAPI document", `undefined security scheme "nope"`}},
		{"only unprobeable operations", "openapi: 3.0.3\ninfo: {title: x, version: '1'}\nsecurity: [{b: []}]\npaths:\n  /items/{id}:\n    get:\n      parameters:\n        - {name: id, in: path, required: true, schema: {type: string}}\n      responses: {'200': {description: ok}}\n" + bearer, spec.APIOptions{}, 0,
			[]string{"api.yaml: paths./items/{id}.get: no protected operation can be probed", "--path-param id=VALUE"}},
		{"a --path-param no operation has", "openapi: 3.0.3\ninfo: {title: x, version: '1'}\nsecurity: [{b: []}]\npaths:\n  /items:\n    get:\n      responses: {'200': {description: ok}}\n" + bearer, spec.APIOptions{PathParams: map[string]string{"idd": "1"}}, 0,
			[]string{`path parameter "idd" (--path-param, path_params): no path of the document has {idd}: check its spelling`}},
		{"a $ref to the network", "openapi: 3.0.3\ninfo: {title: x, version: '1'}\nsecurity: [{b: []}]\npaths:\n  /items:\n    $ref: 'https://example.invalid/paths.yaml#/items'\n" + bearer, spec.APIOptions{}, 0,
			[]string{"api.yaml: not a loadable OpenAPI document", "only $refs to local files are followed"}},
		{"a $ref to a missing file", "openapi: 3.0.3\ninfo: {title: x, version: '1'}\nsecurity: [{b: []}]\npaths:\n  /items:\n    $ref: 'does-not-exist.yaml#/items'\n" + bearer, spec.APIOptions{}, 0,
			[]string{"api.yaml: not a loadable OpenAPI document", "does-not-exist.yaml"}},
		{"OpenAPI 3.1 components.pathItems, which kin-openapi does not support", "openapi: 3.1.0\ninfo: {title: x, version: '1'}\npaths:\n  /items:\n    $ref: '#/components/pathItems/items'\ncomponents:\n  pathItems:\n    items: {}\n", spec.APIOptions{}, 7,
			[]string{"api.yaml:7: components.pathItems: components.pathItems (OpenAPI 3.1) is not supported by kin-openapi", "move these path items under paths"}},
		{"a $ref into $defs, which kin-openapi does not support", "openapi: 3.1.0\ninfo: {title: x, version: '1'}\nsecurity: [{b: []}]\npaths:\n  /items:\n    get:\n      requestBody:\n        content:\n          application/json:\n            schema:\n              $defs: {a: {type: string}}\n              $ref: '#/$defs/a'\n      responses: {'200': {description: ok}}\n" + bearer, spec.APIOptions{}, 12,
			[]string{"api.yaml:12: a $ref into $defs (JSON Schema 2020-12, OpenAPI 3.1) is not supported by kin-openapi", "components.schemas"}},
		{"only an operation with a required query parameter without example", "openapi: 3.0.3\ninfo: {title: x, version: '1'}\nsecurity: [{b: []}]\npaths:\n  /items:\n    get:\n      parameters:\n        - {name: page, in: query, required: true, schema: {type: integer}}\n      responses: {'200': {description: ok}}\n" + bearer, spec.APIOptions{}, 0,
			[]string{"paths./items.get: no protected operation can be probed: required query parameter \"page\" has no example, enum or default: add one to the document"}},
		{"a server URL without a usable path", "openapi: 3.0.3\ninfo: {title: x, version: '1'}\nservers: [{url: 'v1'}]\nsecurity: [{b: []}]\npaths:\n  /items:\n    get:\n      responses: {'200': {description: ok}}\n" + bearer, spec.APIOptions{}, 0,
			[]string{`no protected operation can be probed: the server URL "v1" has no usable path: give --api-base PATH`}},
		{"a parameter kin-openapi finds invalid", "openapi: 3.0.3\ninfo: {title: x, version: '1'}\nsecurity: [{b: []}]\npaths:\n  /items/{id}:\n    get:\n      parameters:\n        - {name: id, in: path, required: true, schema: {type: string}}\n        - name: q\n          in: query\n      responses: {'200': {description: ok}}\n" + bearer, spec.APIOptions{}, 9,
			[]string{`api.yaml:9: paths./items/{id}.get.parameters[1]: invalid OpenAPI document`, `parameter "q"`}},
		{"a path item parameter kin-openapi finds invalid", "openapi: 3.0.3\ninfo: {title: x, version: '1'}\nsecurity: [{b: []}]\npaths:\n  /items:\n    parameters:\n      - name: q\n        in: query\n    get:\n      responses: {'200': {description: ok}}\n" + bearer, spec.APIOptions{}, 7,
			[]string{`api.yaml:7: paths./items.parameters[0]: invalid OpenAPI document`, `parameter "q"`}},
		{"a base that is not a path", "openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths: {}\n", spec.APIOptions{Base: "v1"}, 0, []string{`API base "v1": give a path such as /v1`}},
		{"invalid OpenAPI", "openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths:\n  /items/{id}:\n    get:\n      responses: {'200': {description: ok}}\n", spec.APIOptions{}, 5, []string{"api.yaml:5: paths./items/{id}.get: invalid OpenAPI document", "missing: [id]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := spec.CompileAPISpec(context.Background(), "api.yaml", []byte(tt.doc), tt.opts)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			var re *spec.ReadError
			if tt.wantLine > 0 && (!errors.As(err, &re) || re.Line != tt.wantLine) {
				t.Errorf("error %q: want a ReadError on line %d", err, tt.wantLine)
			}
		})
	}
}

// TestWithAPISpec: the API document's operations replace the flow's
// protected operations, --operation names select among them, and the flow
// itself is left as it was.
func TestWithAPISpec(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	flow, err := spec.ReadFile(ctx, "../openapi/simple.yaml")
	if err != nil {
		t.Fatal(err)
	}
	api, err := spec.ReadAPISpec(ctx, "../testdata/apispec/items-3.1.yaml", spec.APIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := flow.WithAPISpec(api)
	if len(g.Protected()) != len(api.Operations) || g.Token.Path != flow.Token.Path {
		t.Errorf("%d protected operations and token path %q, want %d and the flow's %q", len(g.Protected()), g.Token.Path, len(api.Operations), flow.Token.Path)
	}
	if len(flow.Protected()) != 2 || flow.Protected()[0].Path != "/api/collections" {
		t.Errorf("the flow changed: %v", flow.Protected())
	}
	ops, err := g.ProtectedNamed([]string{"createItem", "GET /items/{kind}"})
	if err != nil || len(ops) != 2 || ops[0].ID != "listKind" || ops[1].ID != "createItem" {
		t.Errorf("ProtectedNamed = %v, %v; want listKind and createItem, in the document's order", ops, err)
	}
	if _, err := g.ProtectedNamed([]string{"listCollections"}); err == nil || !strings.Contains(err.Error(), "the API document ../testdata/apispec/items-3.1.yaml") {
		t.Errorf("ProtectedNamed(a flow operation) = %v, want an error naming the API document", err)
	}
}
