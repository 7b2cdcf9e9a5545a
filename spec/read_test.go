package spec_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
)

func TestReadBuiltins(t *testing.T) {
	t.Parallel()
	flows, err := spec.ReadAll(context.Background(), openapi.FS())
	if err != nil {
		t.Fatal(err)
	}
	if len(flows) != 2 || flows[0].Name != "oauth2" || flows[1].Name != "simple" {
		t.Fatalf("flows = %v, want oauth2 and simple", flows)
	}
	oauth, simple := flows[0], flows[1]
	tests := []struct {
		name      string
		got, want any
	}{
		{"simple token path", simple.Token.Path, "/token"},
		{"simple format", simple.TokenFormat, spec.FormatUUID},
		{"simple lifetime", simple.Lifetime, 1800 * time.Second},
		{"simple client id pointer", simple.Token.Request.ClientID.String(), "/clientId"},
		{"simple secret pointer", simple.Token.Request.ClientSecret.String(), "/secret"},
		{"simple access token pointer", simple.Token.Response.AccessToken.String(), "/accessToken"},
		{"simple media types", strings.Join(simple.Token.MediaTypes, ","), "application/json"},
		{"simple protected operations", len(simple.Protected()), 2},
		{"oauth2 token path", oauth.Token.Path, "/oauth/token"},
		{"oauth2 format", oauth.TokenFormat, spec.FormatJWT},
		{"oauth2 algorithm", oauth.Algorithm, "RS512"},
		{"oauth2 claims", oauth.Claims, spec.ClaimsCL},
		{"oauth2 error dialect", oauth.ErrorDialect, "cl"},
		{"simple error dialect", simple.ErrorDialect, "rfc6749"},
		{"simple has no claim set", simple.Claims, ""},
		{"oauth2 lifetime", oauth.Lifetime, 7200 * time.Second},
		{"oauth2 grant type", oauth.Token.GrantType, "client_credentials"},
		{"oauth2 client auth", strings.Join(oauth.Token.ClientAuth, ","), "basic,body"},
		{"oauth2 media types", strings.Join(oauth.Token.MediaTypes, ","), "application/json,application/vnd.api+json,application/x-www-form-urlencoded"},
		{"oauth2 scopes", strings.Join(oauth.Scopes, ","), "metrics-api,provisioning-api"},
		{"oauth2 profile", oauth.Profile, "cl"},
		{"simple revocation path", simple.Revocation.Path, "/token/revoke"},
		{"simple revocation client auth", strings.Join(simple.Revocation.ClientAuth, ","), "body"},
		{"simple revocation inherits the client id pointer", simple.Revocation.Request.ClientID.String(), "/clientId"},
		{"simple revocation inherits the secret pointer", simple.Revocation.Request.ClientSecret.String(), "/secret"},
		{"simple revocation token pointer", simple.Revocation.Request.Token.String(), "/token"},
		{"simple has no introspection", simple.Introspection == nil, true},
		{"oauth2 revocation path", oauth.Revocation.Path, "/oauth/revoke"},
		{"oauth2 revocation client auth", strings.Join(oauth.Revocation.ClientAuth, ","), "basic,body"},
		{"oauth2 revocation media types", strings.Join(oauth.Revocation.MediaTypes, ","), "application/json,application/vnd.api+json,application/x-www-form-urlencoded"},
		{"oauth2 revocation hint pointer", oauth.Revocation.Request.TokenTypeHint.String(), "/token_type_hint"},
		{"oauth2 revocation answer", string(oauth.Revocation.Success.Body), "{}"},
		{"oauth2 introspection path", oauth.Introspection.Path, "/oauth/introspect"},
		{"oauth2 introspection media types", strings.Join(oauth.Introspection.MediaTypes, ","), "application/json,application/x-www-form-urlencoded"},
		{"revocation is not an ordinary operation", len(simple.Operations), 2},
		// The source documents describe no revocation (simple) and no
		// introspection (Commerce Layer documents /oauth/revoke only), and
		// neither describes the GraphQL API.
		{"simple optional", strings.Join(simple.Optional, ","), "graphql,revocation"},
		{"oauth2 optional", strings.Join(oauth.Optional, ","), "graphql,introspection"},
		{"simple without optional has no GraphQL", simple.WithoutOptional().GraphQL == nil, true},
		{"oauth2 without optional has no GraphQL", oauth.WithoutOptional().GraphQL == nil, true},
		{"simple revocation is optional", simple.IsOptional(spec.CapabilityRevocation), true},
		{"oauth2 revocation is not optional", oauth.IsOptional(spec.CapabilityRevocation), false},
		{"simple without optional has no revocation", simple.WithoutOptional().Revocation == nil, true},
		{"oauth2 without optional keeps revocation", oauth.WithoutOptional().Revocation != nil, true},
		{"oauth2 without optional has no introspection", oauth.WithoutOptional().Introspection == nil, true},
		{"WithoutOptional leaves the flow alone", simple.Revocation != nil && oauth.Introspection != nil, true},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	scopes := map[string]string{}
	for _, op := range oauth.Protected() {
		var s []string
		for _, alt := range op.Scopes {
			s = append(s, strings.Join(alt, "+"))
		}
		scopes[op.Path] = strings.Join(s, "|")
	}
	want := map[string]string{"/api/markets": "", "/metrics/orders": "metrics-api", "/provisioning/organizations": "provisioning-api"}
	for path, w := range want {
		if got, ok := scopes[path]; !ok || got != w {
			t.Errorf("scopes of %s = %q (present %v), want %q", path, got, ok, w)
		}
	}
	for _, op := range append(oauth.Operations, simple.Operations...) {
		if op.Success.Status != 200 || len(op.Success.Body) == 0 || op.Route == nil {
			t.Errorf("%s: success response %d %q, route %v", op.ID, op.Success.Status, op.Success.Body, op.Route)
		}
	}
}

// TestTokenFormatIsOptional: check does not use the format, so a document
// may leave it out; the mock then issues opaque tokens.
func TestTokenFormatIsOptional(t *testing.T) {
	t.Parallel()
	base, err := os.ReadFile("../openapi/simple.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Replace(string(base), "    format: uuid\n", "", 1)
	if doc == string(base) {
		t.Fatal("test is stale: simple.yaml has no format: uuid line")
	}
	f, err := spec.Compile(context.Background(), "../openapi/noformat.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if f.TokenFormat != spec.DefaultTokenFormat || spec.DefaultTokenFormat != spec.FormatOpaque {
		t.Errorf("format %q, want the default %q (opaque)", f.TokenFormat, spec.DefaultTokenFormat)
	}
}

// TestResponseExamplesAreOptional: check never reads them, so a 2xx
// response may go without; the mock then serves a body built from the
// schema (its required members), which the schema accepts.
func TestResponseExamplesAreOptional(t *testing.T) {
	t.Parallel()
	base, err := os.ReadFile("../openapi/simple.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const old = "              example:\n                collections:"
	doc := strings.Replace(string(base), old, "              x-example:\n                collections:", 1)
	if doc == string(base) {
		t.Fatalf("test is stale: simple.yaml has no %q", old)
	}
	f, err := spec.Compile(context.Background(), "../openapi/noexample.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range f.Operations {
		if op.ID == "listCollections" && string(op.Success.Body) != `{"collections":[]}` {
			t.Errorf("listCollections serves %s, want the schema's required members: {\"collections\":[]}", op.Success.Body)
		}
	}
}

// TestInheritedClientAuthIsNamed: an error about a revocation member that
// the inherited client authentication does not allow says it was inherited.
func TestInheritedClientAuthIsNamed(t *testing.T) {
	t.Parallel()
	base, err := os.ReadFile("../openapi/simple.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(base)
	for _, r := range [][2]string{
		{"    clientAuth: [body]\n    request:\n      clientId: /clientId\n      clientSecret: /secret\n", "    clientAuth: [basic]\n    request:\n      clientId: /clientId\n"},
		{"    operationId: revokeToken\n    request:\n      token: /token\n", "    operationId: revokeToken\n    request:\n      token: /token\n      clientSecret: /secret\n"},
	} {
		if !strings.Contains(doc, r[0]) {
			t.Fatalf("test is stale: simple.yaml has no %q", r[0])
		}
		doc = strings.Replace(doc, r[0], r[1], 1)
	}
	_, err = spec.Compile(context.Background(), "../openapi/bad.yaml", []byte(doc))
	want := "x-tollgate.revocationEndpoint.request.clientSecret: revocationEndpoint.clientAuth (inherited from x-tollgate.tokenEndpoint.clientAuth) does not include body"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Compile() = %v, want an error containing %q", err, want)
	}
}

func TestReadThirdFlow(t *testing.T) {
	t.Parallel()
	f, err := spec.ReadFile(context.Background(), "../testdata/flows/userpass.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "userpass" || f.Token.Path != "/login" || f.Token.Response.ExpiresIn.String() != "/ttl" || len(f.Protected()) != 1 || len(f.Operations) != 2 {
		t.Errorf("compiled %+v", f)
	}
}

// TestReadPeerFlows reads the flow documents of `make peer-check`
// (scripts/peer-check.sh, docs/peer-check.md), which describe three servers
// Tollgate did not write; nothing else loads them, so this keeps them valid
// as the loader changes, and pins the facts the script and the page rely on.
func TestReadPeerFlows(t *testing.T) {
	t.Parallel()
	type facts struct {
		name, tokenPath, format   string
		lifetime                  time.Duration
		clientAuth                string
		protected                 string // "METHOD /path" of each protected operation
		revocation, introspection bool
		profile                   string
	}
	tests := []struct {
		file string
		want facts
	}{
		{"oauth2-mock-server.yaml", facts{"oauth2-mock-server", "/token", spec.FormatJWT, time.Hour, "basic", "GET /userinfo", true, true, "rfc6749"}},
		{"go-oauth2.yaml", facts{"go-oauth2", "/oauth/token", spec.FormatOpaque, 2 * time.Hour, "basic", "GET /test", false, false, "rfc6749"}},
		{"zitadel-oidc.yaml", facts{"zitadel-oidc", "/oauth/token", spec.FormatOpaque, 5 * time.Minute, "basic,body", "GET /userinfo", false, false, "rfc6749"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			f, err := spec.ReadFile(context.Background(), "../testdata/flows/"+tt.file)
			if err != nil {
				t.Fatal(err)
			}
			var protected []string
			for _, op := range f.Protected() {
				protected = append(protected, op.Method+" "+op.Path)
			}
			got := facts{f.Name, f.Token.Path, f.TokenFormat, f.Lifetime, strings.Join(f.Token.ClientAuth, ","),
				strings.Join(protected, ";"), f.Revocation != nil, f.Introspection != nil, f.Profile}
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestReadErrors feeds broken documents and expects the document name, the
// line where it is known, and a message that says what to fix.
func TestReadErrors(t *testing.T) {
	t.Parallel()
	base, err := os.ReadFile("../openapi/simple.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(base)
	tests := []struct {
		name     string
		old, new string // a replacement applied to simple.yaml
		want     []string
	}{
		{"no extension", "x-tollgate:", "x-other:", []string{"bad.yaml", "x-tollgate", "missing"}},
		{"unknown key", "  realm: tollgate", "  realm: tollgate\n  relam: typo", []string{"bad.yaml:13", "x-tollgate.relam", "unknown key"}},
		{"unknown nested key", "    lifetime: 1800", "    lifetime: 1800\n    lifespan: 3", []string{"bad.yaml:18", "x-tollgate.token.lifespan"}},
		{"wrong type", "    lifetime: 1800", "    lifetime: soon", []string{"bad.yaml", "line 17", "soon"}},
		{"unknown format", "    format: uuid", "    format: jwe", []string{"bad.yaml:15", "x-tollgate.token.format", "jwe"}},
		{"negative lifetime", "    lifetime: 1800", "    lifetime: -5", []string{"bad.yaml:17", "token.lifetime", "out of range"}},
		{"algorithm on an opaque flow", "    lifetime: 1800", "    lifetime: 1800\n    algorithm: RS256", []string{"token.algorithm", "only jwt"}},
		{"unknown profile", "  profile: simple", "  profile: strict", []string{"bad.yaml:11", "x-tollgate.profile", "strict"}},
		{"unknown dialect", "  errorDialect: rfc6749", "  errorDialect: jsonapi", []string{"x-tollgate.errorDialect", "jsonapi", "known: rfc6749, cl"}},
		{"claims on an opaque flow", "    lifetime: 1800", "    lifetime: 1800\n    claims: cl", []string{"token.claims", "only jwt"}},
		{"unknown claim set", "    format: uuid\n", "    format: jwt\n    claims: oidc\n", []string{"bad.yaml:16", "token.claims", `unknown claim set "oidc"`, "rfc9068, cl"}},
		{"bad flow name", "  flow: simple", "  flow: Simple Flow", []string{"x-tollgate.flow", "not a usable flow name"}},
		{"unknown operation", "    operationId: issueToken\n    clientAuth", "    operationId: issueTokens\n    clientAuth", []string{"tokenEndpoint.operationId", "issueTokens"}},
		{"not a pointer", "      clientId: /clientId", "      clientId: clientId", []string{"tokenEndpoint.request.clientId", "not a JSON Pointer"}},
		{"pointer off the request schema", "      clientId: /clientId", "      clientId: /client_id", []string{"bad.yaml:22", "tokenEndpoint.request.clientId", `no property "client_id"`}},
		{"pointer off the response schema", "      expiresIn: /expiresIn", "      expiresIn: /expires_in", []string{"tokenEndpoint.response.expiresIn", "expires_in"}},
		{"pointer to a string lifetime", "      expiresIn: /expiresIn", "      expiresIn: /tokenType", []string{"tokenEndpoint.response.expiresIn", "want integer or number"}},
		{"overlapping response pointers", "      tokenType: /tokenType", "      tokenType: /accessToken", []string{"x-tollgate.tokenEndpoint.response", "overlap"}},
		{"missing response pointer", "      tokenType: /tokenType\n", "", []string{"tokenEndpoint.response.tokenType", "missing"}},
		{"unknown client auth", "    clientAuth: [body]", "    clientAuth: [mtls]", []string{"tokenEndpoint.clientAuth", "mtls"}},
		{"grant type pointer without a value", "      clientSecret: /secret", "      clientSecret: /secret\n      grantType: /clientId", []string{"tokenEndpoint.grantType", "missing"}},
		{"token operation not a POST", "  /token:\n    post:", "  /token:\n    put:", []string{"paths./token.put", "POST"}},
		{"unsupported security scheme", "      type: http\n      scheme: bearer", "      type: apiKey\n      in: header\n      name: X-Key", []string{"bearerAuth", "apiKey", "http bearer or oauth2"}},
		{"unknown revocation key", "    operationId: revokeToken\n", "    operationId: revokeToken\n    path: /x\n", []string{"bad.yaml:30", "x-tollgate.revocationEndpoint.path", "unknown key"}},
		{"unknown revocation request key", "      token: /token\n", "      token: /token\n      hint: /h\n", []string{"bad.yaml:32", "revocationEndpoint.request.hint", "unknown key"}},
		{"revocation without operationId", "    operationId: revokeToken\n", "", []string{"revocationEndpoint.operationId", "missing"}},
		{"revocation names no operation", "    operationId: revokeToken\n", "    operationId: revoke\n", []string{"bad.yaml:29", "revocationEndpoint.operationId", `"revoke"`}},
		{"revocation is the token operation", "    operationId: revokeToken\n", "    operationId: issueToken\n", []string{"revocationEndpoint.operationId", "another role"}},
		{"revocation without token pointer", "      token: /token\n", "      tokenTypeHint: /token\n", []string{"revocationEndpoint.request.token", "missing"}},
		{"revocation token pointer off the schema", "      token: /token\n", "      token: /tok\n", []string{"bad.yaml:31", "revocationEndpoint.request.token", `no property "tok"`}},
		{"revocation client auth unknown", "    operationId: revokeToken\n", "    operationId: revokeToken\n    clientAuth: [mtls]\n", []string{"revocationEndpoint.clientAuth", "mtls"}},
		{"revocation not a POST", "  /token/revoke:\n    post:", "  /token/revoke:\n    put:", []string{"paths./token/revoke.put", "POST"}},
		{"revocation token overlaps the client id", "      token: /token\n", "      token: /clientId\n", []string{"revocationEndpoint.request", "overlap"}},
		{"optional names an unknown capability", "  optional: [revocation, graphql]", "  optional: [logout]", []string{"x-tollgate.optional", `unknown capability "logout"`, "revocation, introspection, graphql"}},
		{"optional names an undeclared endpoint", "  optional: [revocation, graphql]", "  optional: [revocation, introspection]", []string{"x-tollgate.optional", "declares no introspectionEndpoint"}},
		{"optional lists a capability twice", "  optional: [revocation, graphql]", "  optional: [revocation, revocation]", []string{"x-tollgate.optional", "twice"}},
		{"optional is not a list", "  optional: [revocation, graphql]", "  optional: revocation", []string{"bad.yaml", "line 35", "into []string"}},
		{"inherited pointer off the revocation schema", "              $ref: '#/components/schemas/RevocationRequest'", "              type: object\n              properties:\n                token:\n                  type: string", []string{"bad.yaml:22", "x-tollgate.revocationEndpoint.request.clientId (inherited from x-tollgate.tokenEndpoint.request.clientId)", `no property "clientId"`, "its own pointer"}},
		{"not OpenAPI", "openapi: 3.0.3", "openapi: [", []string{"bad.yaml", "not YAML"}},
		{"invalid OpenAPI", "      operationId: listCollections", "      operationId: issueToken", []string{"bad.yaml", "invalid OpenAPI document"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(doc, tt.old) {
				t.Fatalf("test is stale: simple.yaml has no %q", tt.old)
			}
			_, err := spec.Compile(context.Background(), "../openapi/bad.yaml", []byte(strings.Replace(doc, tt.old, tt.new, 1)))
			if err == nil {
				t.Fatal("Compile succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			var le *spec.ReadError
			if !errors.As(err, &le) || le.Document != "../openapi/bad.yaml" {
				t.Errorf("error %T is not a *spec.ReadError for bad.yaml", err)
			}
		})
	}
}

func TestLoadAllRejectsDuplicateFlows(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data, err := os.ReadFile("../openapi/simple.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.yaml", "b.yaml"} {
		if err := os.WriteFile(dir+"/"+name, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sdl, err := os.ReadFile("../openapi/simple.graphql") // the schema the documents name
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/simple.graphql", sdl, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = spec.ReadAll(context.Background(), os.DirFS(dir))
	if err == nil || !strings.Contains(err.Error(), `both declare flow "simple"`) {
		t.Errorf("err = %v, want a duplicate-flow error", err)
	}
}
