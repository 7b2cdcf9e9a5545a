package framework_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/probe"
)

// validConfig is the smallest config Validate accepts; each case changes it.
func validConfig() framework.Config {
	return framework.Config{Config: probe.Config{
		Target: "https://auth.example.com",
		Flow:   "simple",
		Client: framework.Credentials{ID: "client-one", Secret: "s3cret"},
	}}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lf := writeFile(t, dir, "lf", "from-file\n")
	crlf := writeFile(t, dir, "crlf", "from-file\r\n")
	plain := writeFile(t, dir, "plain", "from-file")
	inner := writeFile(t, dir, "inner", "from file \n")
	empty := writeFile(t, dir, "empty", "\n")
	missing := filepath.Join(dir, "does-not-exist")

	tests := []struct {
		name    string
		mutate  func(*framework.Config)
		wantErr string // substring of the error; "" for none
		check   func(*testing.T, framework.Config)
		bug     string // the bug this case once caught: a regression guard
	}{
		{name: "a minimal https config is valid", mutate: func(*framework.Config) {}},
		{name: "require names capabilities", mutate: func(c *framework.Config) { c.Require = []string{"revocation", " introspection"} },
			check: func(t *testing.T, c framework.Config) {
				if !c.Requires("revocation") || !c.Requires("introspection") {
					t.Errorf("Require %q: revocation and introspection are not both required", c.Require)
				}
			}},
		{name: "require of an unknown capability is an error", mutate: func(c *framework.Config) { c.Require = []string{"logout"} }, wantErr: `require: unknown capability "logout" (known: revocation, introspection, graphql)`},
		{name: "an API document with a base and path parameters is valid", mutate: func(c *framework.Config) {
			c.APISpec, c.APIBase, c.PathParams = "api.yaml", "/v1", map[string]string{"id": "42"}
		}},
		{name: "an API base that is not a path is an error", mutate: func(c *framework.Config) { c.APISpec, c.APIBase = "api.yaml", "v1" }, wantErr: `api_base "v1": give a path such as /v1`},
		{name: "a path parameter without a value is an error", mutate: func(c *framework.Config) {
			c.APISpec, c.PathParams = "api.yaml", map[string]string{"id": ""}
		}, wantErr: `path_params: "id"="": give a name and a value`},
		{name: "path parameters without an API document are an error", mutate: func(c *framework.Config) { c.PathParams = map[string]string{"id": "42"} },
			wantErr: "api_base and path_params apply to an API document: give --api-spec FILE too"},
		{name: "a GraphQL section is valid", mutate: func(c *framework.Config) {
			c.GraphQL = probe.GraphQLConfig{Endpoint: "/graphql", SDL: "schema.graphql", Signalling: "errors200", ErrorCodes: []string{"invalid-jwt"}}
		}},
		{name: "an unknown GraphQL signalling is an error", mutate: func(c *framework.Config) { c.GraphQL.Signalling = "teapot" }, wantErr: `graphql signalling "teapot": use status401`},
		{name: "a GraphQL endpoint that is neither a path nor a URL is an error", mutate: func(c *framework.Config) { c.GraphQL.Endpoint = "graphql" }, wantErr: `graphql endpoint "graphql": give an absolute http(s) URL or a path`},
		{name: "an empty GraphQL error code is an error", mutate: func(c *framework.Config) { c.GraphQL.ErrorCodes = []string{""} }, wantErr: "an empty code matches nothing"},
		{name: "no target is an error", mutate: func(c *framework.Config) { c.Target = "" }, wantErr: "no target"},
		{name: "a target without scheme is not a URL", mutate: func(c *framework.Config) { c.Target = "auth.example.com" }, wantErr: "not an http(s) URL"},
		{name: "a host:port target without scheme is not a URL", mutate: func(c *framework.Config) { c.Target = "127.0.0.1:4455" }, wantErr: "not an http(s) URL"},
		{name: "an ftp target is not an http(s) URL", mutate: func(c *framework.Config) { c.Target = "ftp://auth.example.com" }, wantErr: "not an http(s) URL"},
		{name: "a target without host is not a URL", mutate: func(c *framework.Config) { c.Target = "https:///token" }, wantErr: "not an http(s) URL"},
		{name: "an unparsable target is not a URL", mutate: func(c *framework.Config) { c.Target = "http://%zz" }, wantErr: "not an http(s) URL"},
		{name: "a target with a password is refused without printing it", mutate: func(c *framework.Config) { c.Target = "http://user:hunter2@127.0.0.1:4455" }, wantErr: "user:xxxxx@127.0.0.1:4455\" carries user information"},
		{
			name:    "plain http to a remote host needs --insecure",
			mutate:  func(c *framework.Config) { c.Target = "http://auth.example.com" },
			wantErr: "--insecure",
		},
		{
			name:    "plain http to a remote IP needs --insecure",
			mutate:  func(c *framework.Config) { c.Target = "http://192.0.2.10:8080" },
			wantErr: "--insecure",
		},
		{
			name:   "plain http to a remote host with Insecure is allowed",
			mutate: func(c *framework.Config) { c.Target, c.Insecure = "http://auth.example.com", true },
		},
		{
			name:    "a plain-http revocation endpoint on a remote host needs --insecure: it gets client credentials",
			mutate:  func(c *framework.Config) { c.RevocationEndpoint = "http://auth.example.com/revoke" },
			wantErr: "revocation_endpoint http://auth.example.com/revoke uses plain http",
		},
		{
			name:    "a plain-http introspection endpoint on a remote host needs --insecure",
			mutate:  func(c *framework.Config) { c.IntrospectionEndpoint = "http://auth.example.com/introspect" },
			wantErr: "introspection_endpoint http://auth.example.com/introspect uses plain http",
		},
		{name: "plain http to 127.0.0.1 is allowed", mutate: func(c *framework.Config) { c.Target = "http://127.0.0.1:4455" }},
		{name: "plain http to another 127/8 address is allowed", mutate: func(c *framework.Config) { c.Target = "http://127.0.0.2:4455" }},
		{name: "plain http to localhost is allowed", mutate: func(c *framework.Config) { c.Target = "http://localhost:4455" }},
		{name: "plain http to [::1] is allowed", mutate: func(c *framework.Config) { c.Target = "http://[::1]:4455" }},
		{
			name:   "plain http to LOCALHOST is allowed: host names are case-insensitive",
			mutate: func(c *framework.Config) { c.Target = "http://LOCALHOST:4455" },
			bug:    "config.go isLoopback compares host == \"localhost\" case-sensitively",
		},
		{
			name:   "trailing slashes are trimmed from the target",
			mutate: func(c *framework.Config) { c.Target = "http://127.0.0.1:4455//" },
			check: func(t *testing.T, c framework.Config) {
				if c.Target != "http://127.0.0.1:4455" {
					t.Errorf("Target = %q, want it without trailing slashes", c.Target)
				}
			},
		},
		{name: "no flow is an error", mutate: func(c *framework.Config) { c.Flow = "" }, wantErr: "no flow"},
		{name: "an unknown profile is an error", mutate: func(c *framework.Config) { c.Profile = "oauth3" }, wantErr: `unknown profile "oauth3"`},
		{name: "profile rfc6749 is known", mutate: func(c *framework.Config) { c.Profile = "rfc6749" }},
		{name: "profile oauth21 is known", mutate: func(c *framework.Config) { c.Profile = "oauth21" }},
		{name: "profile cl is known", mutate: func(c *framework.Config) { c.Profile = "cl" }},
		{name: "profile simple is known", mutate: func(c *framework.Config) { c.Profile = "simple" }},
		{name: "no client is an error", mutate: func(c *framework.Config) { c.Client = framework.Credentials{} }, wantErr: "TOLLGATE_CLIENT_ID"},
		{
			name:    "a client without secret names TOLLGATE_CLIENT_SECRET",
			mutate:  func(c *framework.Config) { c.Client.Secret = "" },
			wantErr: `client "client-one" has no secret: set TOLLGATE_CLIENT_SECRET`,
		},
		{
			name:    "client2 without secret names TOLLGATE_CLIENT2_SECRET",
			mutate:  func(c *framework.Config) { c.Client2 = framework.Credentials{ID: "two"} },
			wantErr: "TOLLGATE_CLIENT2_SECRET",
		},
		{
			name:    "the expiry client without secret names TOLLGATE_EXPIRY_CLIENT_SECRET",
			mutate:  func(c *framework.Config) { c.ExpiryClient = framework.Credentials{ID: "short"} },
			wantErr: "TOLLGATE_EXPIRY_CLIENT_SECRET",
		},
		{
			name:    "the scoped client without secret names TOLLGATE_SCOPED_CLIENT_SECRET",
			mutate:  func(c *framework.Config) { c.ScopedClient = framework.Credentials{ID: "scoped"} },
			wantErr: "TOLLGATE_SCOPED_CLIENT_SECRET",
		},
		{
			name: "optional clients may be left out",
			mutate: func(c *framework.Config) {
				c.Client2, c.ExpiryClient, c.ScopedClient = framework.Credentials{}, framework.Credentials{}, framework.Credentials{}
			},
		},
		{
			name:   "a secret file is read and its trailing newline trimmed",
			mutate: func(c *framework.Config) { c.Client.Secret, c.Client.SecretFile = "", lf },
			check:  wantClientSecret("from-file"),
		},
		{
			name:   "a secret file's trailing CRLF is trimmed",
			mutate: func(c *framework.Config) { c.Client.Secret, c.Client.SecretFile = "", crlf },
			check:  wantClientSecret("from-file"),
		},
		{
			name:   "a secret file without newline is read as is",
			mutate: func(c *framework.Config) { c.Client.Secret, c.Client.SecretFile = "", plain },
			check:  wantClientSecret("from-file"),
		},
		{
			name:   "only line breaks are trimmed from a secret file, not spaces",
			mutate: func(c *framework.Config) { c.Client.Secret, c.Client.SecretFile = "", inner },
			check:  wantClientSecret("from file "),
		},
		{
			name: "every client's secret file is read",
			mutate: func(c *framework.Config) {
				c.Client2 = framework.Credentials{ID: "two", SecretFile: lf}
				c.ExpiryClient = framework.Credentials{ID: "short", SecretFile: crlf}
				c.ScopedClient = framework.Credentials{ID: "scoped", SecretFile: plain}
			},
			check: func(t *testing.T, c framework.Config) {
				for what, got := range map[string]string{"client2": c.Client2.Secret, "expiry": c.ExpiryClient.Secret, "scoped": c.ScopedClient.Secret} {
					if got != "from-file" {
						t.Errorf("%s secret = %q, want %q", what, got, "from-file")
					}
				}
			},
		},
		{
			name:   "a secret given inline wins over a secret file, which is not read",
			mutate: func(c *framework.Config) { c.Client.SecretFile = missing },
			check:  wantClientSecret("s3cret"),
		},
		{
			name:    "a missing secret file is an error",
			mutate:  func(c *framework.Config) { c.Client.Secret, c.Client.SecretFile = "", missing },
			wantErr: "client secret file",
		},
		{
			name:    "a missing secret file of client2 names client2",
			mutate:  func(c *framework.Config) { c.Client2 = framework.Credentials{ID: "two", SecretFile: missing} },
			wantErr: "client2 secret file",
		},
		{
			name:    "a JWK Set location that is neither a URL nor a path",
			mutate:  func(c *framework.Config) { c.JWKSURI = "oauth/jwks" },
			wantErr: "jwks_uri",
		},
		{
			name:    "a metadata URL with a fragment",
			mutate:  func(c *framework.Config) { c.MetadataURL = "/.well-known/openid-configuration#x" },
			wantErr: "metadata_url",
		},
		{
			name: "public documents over plain http to a remote host need no --insecure: no secret goes there",
			mutate: func(c *framework.Config) {
				c.JWKSURI, c.MetadataURL = "http://keys.example/jwks", "http://auth.example.com/.well-known/openid-configuration"
			},
		},
		{
			name:    "a revocation endpoint that is neither a URL nor a path",
			mutate:  func(c *framework.Config) { c.RevocationEndpoint = "oauth/revoke" },
			wantErr: "revocation_endpoint",
		},
		{
			name:    "an introspection endpoint that is not http(s)",
			mutate:  func(c *framework.Config) { c.IntrospectionEndpoint = "ftp://auth.example.com/introspect" },
			wantErr: "introspection_endpoint",
		},
		{
			name:    "a negative revocation propagation",
			mutate:  func(c *framework.Config) { c.RevocationPropagation = -time.Second },
			wantErr: "must not be negative",
		},
		{
			name: "endpoints as paths resolve against the target",
			mutate: func(c *framework.Config) {
				c.RevocationEndpoint, c.IntrospectionEndpoint = "/oauth/revoke", "https://other.example.com/introspect"
			},
			check: func(t *testing.T, c framework.Config) {
				if got := c.EndpointURL(c.RevocationEndpoint); got != c.Target+"/oauth/revoke" {
					t.Errorf("revocation endpoint %q", got)
				}
				if got := c.EndpointURL(c.IntrospectionEndpoint); got != "https://other.example.com/introspect" {
					t.Errorf("introspection endpoint %q", got)
				}
			},
		},
		{
			name:    "an empty secret file leaves the client without secret",
			mutate:  func(c *framework.Config) { c.Client.Secret, c.Client.SecretFile = "", empty },
			wantErr: "has no secret",
		},
		{
			name:   "zero fields get the defaults",
			mutate: func(*framework.Config) {},
			check: func(t *testing.T, c framework.Config) {
				want := validConfig()
				want.MaxExpiryWait = framework.DefaultMaxExpiryWait
				want.Leeway = framework.DefaultLeeway
				want.ClockSkew = framework.DefaultClockSkew
				want.TokenBudget = framework.DefaultTokenBudget
				want.Timeout = framework.DefaultTimeout
				want.RevocationPropagation = framework.DefaultRevocationPropagation
				want.Load = framework.LoadConfig{Duration: framework.DefaultLoadDuration, Requests: framework.DefaultLoadRequests,
					Concurrency: framework.DefaultLoadConcurrency, Mix: framework.DefaultLoadMix}
				if !reflect.DeepEqual(c, want) {
					t.Errorf("after Validate:\n got %+v\nwant %+v", c, want)
				}
				if c.RequestRate != 0 {
					t.Errorf("RequestRate = %v, want 0 (unlimited)", c.RequestRate)
				}
			},
		},
		{
			name: "set fields keep their values",
			mutate: func(c *framework.Config) {
				c.MaxExpiryWait, c.Leeway, c.ClockSkew, c.TokenBudget, c.Timeout, c.RequestRate = time.Minute, time.Second, 2*time.Second, 7, 3*time.Second, 2.5
			},
			check: func(t *testing.T, c framework.Config) {
				if c.MaxExpiryWait != time.Minute || c.Leeway != time.Second || c.ClockSkew != 2*time.Second || c.TokenBudget != 7 || c.Timeout != 3*time.Second || c.RequestRate != 2.5 {
					t.Errorf("Validate changed set fields: %+v", c)
				}
			},
		},
		{name: "a negative max expiry wait is an error", mutate: func(c *framework.Config) { c.MaxExpiryWait = -time.Second }, wantErr: "must not be negative"},
		{name: "a negative leeway is an error", mutate: func(c *framework.Config) { c.Leeway = -time.Second }, wantErr: "must not be negative"},
		{name: "a negative clock skew is an error", mutate: func(c *framework.Config) { c.ClockSkew = -time.Second }, wantErr: "must not be negative"},
		{name: "a negative timeout is an error", mutate: func(c *framework.Config) { c.Timeout = -time.Second }, wantErr: "must not be negative"},
		{name: "a negative token budget is an error", mutate: func(c *framework.Config) { c.TokenBudget = -1 }, wantErr: "must not be negative"},
		{name: "a negative request rate is an error", mutate: func(c *framework.Config) { c.RequestRate = -1 }, wantErr: "must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := validConfig()
			tc.mutate(&cfg)
			err := cfg.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want no error", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("Validate() = nil, want an error containing %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("Validate() = %q, want it to contain %q", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("Validate() error spans lines, want one line: %q", err)
			}
			if tc.check != nil {
				tc.check(t, cfg)
			}
		})
	}
}

func wantClientSecret(want string) func(*testing.T, framework.Config) {
	return func(t *testing.T, c framework.Config) {
		t.Helper()
		if c.Client.Secret != want {
			t.Errorf("Client.Secret = %q, want %q", c.Client.Secret, want)
		}
	}
}

// TestConfigValidateProfiles keeps Validate in step with spec.Profiles.
func TestConfigValidateProfiles(t *testing.T) {
	t.Parallel()
	for _, p := range spec.Profiles() {
		cfg := validConfig()
		cfg.Profile = p
		if err := cfg.Validate(); err != nil {
			t.Errorf("profile %q: Validate() = %v, want no error", p, err)
		}
	}
}

// env is a lookup function over a fixed map, as os.LookupEnv.
func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func TestApplyEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		value string
		get   func(framework.Config) any
		want  any
	}{
		{"TOLLGATE_TARGET", "https://env.example.com", func(c framework.Config) any { return c.Target }, "https://env.example.com"},
		{"TOLLGATE_FLOW", "oauth2", func(c framework.Config) any { return c.Flow }, "oauth2"},
		{"TOLLGATE_PROFILE", "rfc6749", func(c framework.Config) any { return c.Profile }, "rfc6749"},
		{"TOLLGATE_CLIENT_ID", "env-id", func(c framework.Config) any { return c.Client.ID }, "env-id"},
		{"TOLLGATE_CLIENT_SECRET", "env-secret", func(c framework.Config) any { return c.Client.Secret }, "env-secret"},
		{"TOLLGATE_CLIENT_SECRET_FILE", "/run/env", func(c framework.Config) any { return c.Client.SecretFile }, "/run/env"},
		{"TOLLGATE_CLIENT2_ID", "env-id", func(c framework.Config) any { return c.Client2.ID }, "env-id"},
		{"TOLLGATE_CLIENT2_SECRET", "env-secret", func(c framework.Config) any { return c.Client2.Secret }, "env-secret"},
		{"TOLLGATE_CLIENT2_SECRET_FILE", "/run/env", func(c framework.Config) any { return c.Client2.SecretFile }, "/run/env"},
		{"TOLLGATE_EXPIRY_CLIENT_ID", "env-id", func(c framework.Config) any { return c.ExpiryClient.ID }, "env-id"},
		{"TOLLGATE_EXPIRY_CLIENT_SECRET", "env-secret", func(c framework.Config) any { return c.ExpiryClient.Secret }, "env-secret"},
		{"TOLLGATE_EXPIRY_CLIENT_SECRET_FILE", "/run/env", func(c framework.Config) any { return c.ExpiryClient.SecretFile }, "/run/env"},
		{"TOLLGATE_SCOPED_CLIENT_ID", "env-id", func(c framework.Config) any { return c.ScopedClient.ID }, "env-id"},
		{"TOLLGATE_SCOPED_CLIENT_SECRET", "env-secret", func(c framework.Config) any { return c.ScopedClient.Secret }, "env-secret"},
		{"TOLLGATE_SCOPED_CLIENT_SECRET_FILE", "/run/env", func(c framework.Config) any { return c.ScopedClient.SecretFile }, "/run/env"},
		{"TOLLGATE_MAX_EXPIRY_WAIT", "90s", func(c framework.Config) any { return c.MaxExpiryWait }, 90 * time.Second},
		{"TOLLGATE_LEEWAY", "1500ms", func(c framework.Config) any { return c.Leeway }, 1500 * time.Millisecond},
		{"TOLLGATE_TIMEOUT", "2m", func(c framework.Config) any { return c.Timeout }, 2 * time.Minute},
		{"TOLLGATE_INSECURE", "true", func(c framework.Config) any { return c.Insecure }, true},
		{"TOLLGATE_STALE_TOKEN_FILE", "/run/t.json", func(c framework.Config) any { return c.StaleTokenFile }, "/run/t.json"},
		{"TOLLGATE_OPERATIONS", "listCollections, GET /api/collections/{id}", func(c framework.Config) any { return strings.Join(c.Operations, "|") }, "listCollections|GET /api/collections/{id}"},
		{"TOLLGATE_REQUIRE", "revocation,introspection", func(c framework.Config) any { return strings.Join(c.Require, "|") }, "revocation|introspection"},
		{"TOLLGATE_OPT_IN", "TOK-029,TOK-037", func(c framework.Config) any { return strings.Join(c.OptIn, "|") }, "TOK-029|TOK-037"},
		{"TOLLGATE_API_SPEC", "api.yaml", func(c framework.Config) any { return c.APISpec }, "api.yaml"},
		{"TOLLGATE_API_BASE", "/v1", func(c framework.Config) any { return c.APIBase }, "/v1"},
		{"TOLLGATE_GRAPHQL_ENDPOINT", "/api/graphql", func(c framework.Config) any { return c.GraphQL.Endpoint }, "/api/graphql"},
		{"TOLLGATE_GRAPHQL_SDL", "introspection", func(c framework.Config) any { return c.GraphQL.SDL }, "introspection"},
		{"TOLLGATE_GRAPHQL_SIGNALLING", "errors200", func(c framework.Config) any { return c.GraphQL.Signalling }, "errors200"},
		{"TOLLGATE_PATH_PARAMS", "id=42, kind=a=b", func(c framework.Config) any { return c.PathParams["id"] + "|" + c.PathParams["kind"] }, "42|a=b"},
		{"TOLLGATE_LOAD_MAX_P99", "20ms", func(c framework.Config) any { return c.Load.MaxP99 }, 20 * time.Millisecond},
		{"TOLLGATE_LOAD_MIN_RPS", "5000", func(c framework.Config) any { return c.Load.MinRPS }, 5000.0},
		{"TOLLGATE_LOAD_MAX_ERROR_RATE", "0.1%", func(c framework.Config) any { return c.Load.MaxErrorRate }, "0.1%"},
	}
	for _, tc := range tests {
		t.Run(tc.name+" sets its field", func(t *testing.T) {
			t.Parallel()
			var cfg framework.Config
			if err := cfg.ApplyEnv(env(map[string]string{tc.name: tc.value})); err != nil {
				t.Fatalf("ApplyEnv() = %v", err)
			}
			if got := tc.get(cfg); got != tc.want {
				t.Errorf("%s=%q: field = %v, want %v", tc.name, tc.value, got, tc.want)
			}
		})
	}
}

func TestApplyEnvErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		vars    map[string]string
		wantErr string
	}{
		{"a bad TOLLGATE_MAX_EXPIRY_WAIT", map[string]string{"TOLLGATE_MAX_EXPIRY_WAIT": "30"}, `TOLLGATE_MAX_EXPIRY_WAIT="30"`},
		{"a bad TOLLGATE_LEEWAY", map[string]string{"TOLLGATE_LEEWAY": "five seconds"}, `TOLLGATE_LEEWAY="five seconds"`},
		{"a bad TOLLGATE_TIMEOUT", map[string]string{"TOLLGATE_TIMEOUT": "10 s"}, `TOLLGATE_TIMEOUT="10 s"`},
		{"a bad TOLLGATE_INSECURE", map[string]string{"TOLLGATE_INSECURE": "yes"}, `TOLLGATE_INSECURE="yes": write true or false`},
		{"a bad TOLLGATE_LOAD_MAX_P99", map[string]string{"TOLLGATE_LOAD_MAX_P99": "fast"}, `TOLLGATE_LOAD_MAX_P99="fast": write a duration`},
		{"a bad TOLLGATE_PATH_PARAMS", map[string]string{"TOLLGATE_PATH_PARAMS": "id=42,kind"}, `TOLLGATE_PATH_PARAMS: path parameter "kind": write name=value`},
		{"a bad TOLLGATE_LOAD_MIN_RPS", map[string]string{"TOLLGATE_LOAD_MIN_RPS": "many"}, `TOLLGATE_LOAD_MIN_RPS="many"`},
	}
	for _, tc := range tests {
		t.Run(tc.name+" is an error naming the variable", func(t *testing.T) {
			t.Parallel()
			var cfg framework.Config
			err := cfg.ApplyEnv(env(tc.vars))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("ApplyEnv() = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestApplyEnvPrecedence: environment variables override what the target
// file set; unset and empty variables leave it alone.
func TestApplyEnvPrecedence(t *testing.T) {
	t.Parallel()
	fromFile := framework.Config{
		Config: probe.Config{
			Target:        "https://file.example.com",
			Flow:          "simple",
			Client:        framework.Credentials{ID: "file-id", Secret: "file-secret"},
			Client2:       framework.Credentials{ID: "file-id2", Secret: "file-secret2"},
			MaxExpiryWait: time.Minute,
			Leeway:        time.Second,
			Timeout:       time.Second,
			Insecure:      true,
			TokenBudget:   5,
		},
		Profile: "simple",
	}
	tests := []struct {
		name string
		vars map[string]string
		want func(*framework.Config)
	}{
		{name: "no variables change nothing", vars: nil, want: func(*framework.Config) {}},
		{
			name: "empty variables change nothing",
			vars: map[string]string{"TOLLGATE_TARGET": "", "TOLLGATE_CLIENT_ID": "", "TOLLGATE_LEEWAY": "", "TOLLGATE_INSECURE": ""},
			want: func(*framework.Config) {},
		},
		{
			name: "variables override the file",
			vars: map[string]string{
				"TOLLGATE_TARGET": "https://env.example.com", "TOLLGATE_FLOW": "oauth2", "TOLLGATE_PROFILE": "cl",
				"TOLLGATE_CLIENT_ID": "env-id", "TOLLGATE_CLIENT_SECRET": "env-secret",
				"TOLLGATE_MAX_EXPIRY_WAIT": "2m", "TOLLGATE_LEEWAY": "3s", "TOLLGATE_TIMEOUT": "4s", "TOLLGATE_INSECURE": "false",
			},
			want: func(c *framework.Config) {
				c.Target, c.Flow, c.Profile = "https://env.example.com", "oauth2", "cl"
				c.Client = framework.Credentials{ID: "env-id", Secret: "env-secret"}
				c.MaxExpiryWait, c.Leeway, c.Timeout, c.Insecure = 2*time.Minute, 3*time.Second, 4*time.Second, false
			},
		},
		{
			name: "one variable overrides one field",
			vars: map[string]string{"TOLLGATE_CLIENT2_SECRET": "env-secret2"},
			want: func(c *framework.Config) { c.Client2.Secret = "env-secret2" },
		},
		{
			name: "variables ApplyEnv does not read leave their fields alone",
			vars: map[string]string{"TOLLGATE_TOKEN_BUDGET": "9", "TOLLGATE_CLOCK_SKEW": "9s", "TOLLGATE_REQUEST_RATE": "9"},
			want: func(*framework.Config) {},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := fromFile
			if err := got.ApplyEnv(env(tc.vars)); err != nil {
				t.Fatalf("ApplyEnv() = %v", err)
			}
			want := fromFile
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ApplyEnv:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestApplyEnvSecretFileOverridesFileSecret: a secret file named in the
// environment must win over a secret written in the target file, as
// --client-secret-file does in cmd/tollgate.
func TestApplyEnvSecretFileOverridesFileSecret(t *testing.T) {
	t.Parallel()

	secretFile := writeFile(t, t.TempDir(), "secret", "env-secret\n")
	cfg := validConfig()
	cfg.Client.Secret = "file-secret"
	if err := cfg.ApplyEnv(env(map[string]string{"TOLLGATE_CLIENT_SECRET_FILE": secretFile})); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Client.Secret != "env-secret" {
		t.Errorf("Client.Secret = %q, want the secret from TOLLGATE_CLIENT_SECRET_FILE", cfg.Client.Secret)
	}
}

// TestApplyEnvReads pins the set of variables ApplyEnv looks up, so that a
// new one is added here and to the docs on purpose.
func TestApplyEnvReads(t *testing.T) {
	t.Parallel()
	var read []string
	var cfg framework.Config
	err := cfg.ApplyEnv(func(name string) (string, bool) {
		read = append(read, name)
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"TOLLGATE_TARGET", "TOLLGATE_FLOW", "TOLLGATE_PROFILE",
		"TOLLGATE_MAX_EXPIRY_WAIT", "TOLLGATE_LEEWAY", "TOLLGATE_TIMEOUT", "TOLLGATE_INSECURE",
		"TOLLGATE_REVOCATION_ENDPOINT", "TOLLGATE_INTROSPECTION_ENDPOINT", "TOLLGATE_REVOCATION_PROPAGATION",
		"TOLLGATE_JWKS_URI", "TOLLGATE_METADATA_URL",
		"TOLLGATE_API_SPEC", "TOLLGATE_API_BASE", "TOLLGATE_PATH_PARAMS",
		"TOLLGATE_GRAPHQL_ENDPOINT", "TOLLGATE_GRAPHQL_SDL", "TOLLGATE_GRAPHQL_SIGNALLING",
		"TOLLGATE_FOREIGN_TOKEN", "TOLLGATE_STALE_TOKEN_FILE", "TOLLGATE_OPT_IN", "TOLLGATE_OPERATIONS", "TOLLGATE_REQUIRE",
		"TOLLGATE_NO_CONTROL", "TOLLGATE_CONTROL_TOKEN",
		"TOLLGATE_LOAD_MAX_P99", "TOLLGATE_LOAD_MIN_RPS", "TOLLGATE_LOAD_MAX_ERROR_RATE",
	}
	for _, p := range []string{"TOLLGATE_CLIENT", "TOLLGATE_CLIENT2", "TOLLGATE_EXPIRY_CLIENT", "TOLLGATE_SCOPED_CLIENT"} {
		want = append(want, p+"_ID", p+"_SECRET", p+"_SECRET_FILE")
	}
	read = slices.Compact(slices.Sorted(slices.Values(read)))
	sort.Strings(want)
	if !reflect.DeepEqual(read, want) {
		t.Errorf("ApplyEnv reads\n %q\nwant\n %q", read, want)
	}
}
