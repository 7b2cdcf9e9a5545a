package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/framework"
)

// targetFlags name the server under test and its clients. `tollgate check`
// and `tollgate load` share them, and the same target file.
type targetFlags struct {
	config       string
	cfg          framework.Config
	clientSecret string
	secretFiles  map[string]*string
	pathParams   []string
}

// register adds the target flags to f.
func (tf *targetFlags) register(f *pflag.FlagSet) {
	tf.secretFiles = map[string]*string{}
	f.StringVar(&tf.config, "config", "", "target file (YAML, see docs/check.md)")
	f.StringVar(&tf.cfg.Target, "target", "", "base URL of the server under test")
	f.StringVar(&tf.cfg.Flow, "flow", "", "a built-in flow (simple, oauth2) or a path to a flow document")
	f.StringVar(&tf.cfg.Client.ID, "client-id", "", "primary client id (or TOLLGATE_CLIENT_ID)")
	f.StringVar(&tf.clientSecret, "client-secret", "", "primary client secret: visible in ps; prefer TOLLGATE_CLIENT_SECRET or --client-secret-file")
	for _, c := range []struct{ name, what string }{{"client", "primary"}, {"client2", "second"}, {"expiry-client", "short-lived expiry"}, {"scoped-client", "scope-limited"}} {
		tf.secretFiles[c.name] = f.String(c.name+"-secret-file", "", "file holding the "+c.what+" client's secret")
	}
	f.StringVar(&tf.cfg.Client2.ID, "client2-id", "", "a second client id, for cross-client checks")
	f.StringVar(&tf.cfg.ExpiryClient.ID, "expiry-client-id", "", "a client with short-lived tokens (EXP-005; the expired share of tollgate load)")
	f.StringVar(&tf.cfg.ScopedClient.ID, "scoped-client-id", "", "a client limited to some scopes, for BEAR-017")
	f.DurationVar(&tf.cfg.MaxExpiryWait, "max-expiry-wait", 0, "longest a wait for a token to expire may take (default 30s)")
	f.DurationVar(&tf.cfg.Leeway, "leeway", 0, "grace accepted after a token's exp (default 5s)")
	f.DurationVar(&tf.cfg.Timeout, "timeout", 0, "per-request timeout (default 10s)")
	f.BoolVar(&tf.cfg.Insecure, "insecure", false, "allow plain http to a non-loopback target")
	f.StringVar(&tf.cfg.APISpec, "api-spec", "", "your own OpenAPI 3.0/3.1 document: probe the operations it secures with a Bearer scheme instead of the flow document's (docs/check.md)")
	f.StringVar(&tf.cfg.APIBase, "api-base", "", "path before each --api-spec path on the target, e.g. /v1; / for none (default: the path of the document's server URL)")
	f.StringArrayVar(&tf.pathParams, "path-param", nil, "a value for an --api-spec path parameter, name=value (repeatable)")
	f.StringVar(&tf.cfg.GraphQL.Endpoint, "graphql-endpoint", "", "the target's GraphQL endpoint, a path or URL (default: the flow document's x-tollgate.graphql)")
	f.StringVar(&tf.cfg.GraphQL.SDL, "graphql-sdl", "", "the GraphQL endpoint's SDL file, or introspection to read it with the primary client's token")
	f.StringVar(&tf.cfg.GraphQL.Signalling, "graphql-signalling", "", "how the GraphQL endpoint refuses bad tokens: status401 (401/403) or errors200 (200 + errors with a code, no data)")
}

// withAPISpec reads the API document cfg names, if any, and returns flow
// with its operations as the protected ones (spec.Flow.WithAPISpec), and
// the document; without one, flow and nil.
func withAPISpec(ctx context.Context, cfg framework.Config, flow *spec.Flow) (*spec.Flow, *spec.APISpec, error) {
	if cfg.APISpec == "" {
		return flow, nil, nil
	}
	api, err := spec.ReadAPISpec(ctx, cfg.APISpec, spec.APIOptions{PathParams: cfg.PathParams, Base: cfg.APIBase})
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("--api-spec: %w", err)}
	}
	return flow.WithAPISpec(api), api, nil
}

// resolve merges flags over TOLLGATE_* over the target file, lets more
// apply the caller's own flags, and validates the result.
func (tf *targetFlags) resolve(cmd *cobra.Command, stderr io.Writer, more func(set func(name string, apply func()), cfg *framework.Config)) (framework.Config, error) {
	var cfg framework.Config
	file := tf.config
	if file == "" {
		file = os.Getenv("TOLLGATE_CONFIG")
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return cfg, usagef("target file: %v (give an existing file to --config)", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, usageError{describeYAMLError("target file", "docs/check.md", file, err)}
		}
	}
	if err := cfg.ApplyEnv(os.LookupEnv); err != nil {
		return cfg, usageError{err}
	}
	flags := cmd.Flags()
	set := func(name string, apply func()) {
		if flags.Changed(name) {
			apply()
		}
	}
	set("target", func() { cfg.Target = tf.cfg.Target })
	set("flow", func() { cfg.Flow = tf.cfg.Flow })
	set("client-id", func() { cfg.Client.ID = tf.cfg.Client.ID })
	set("client2-id", func() { cfg.Client2.ID = tf.cfg.Client2.ID })
	set("expiry-client-id", func() { cfg.ExpiryClient.ID = tf.cfg.ExpiryClient.ID })
	set("scoped-client-id", func() { cfg.ScopedClient.ID = tf.cfg.ScopedClient.ID })
	set("max-expiry-wait", func() { cfg.MaxExpiryWait = tf.cfg.MaxExpiryWait })
	set("leeway", func() { cfg.Leeway = tf.cfg.Leeway })
	set("timeout", func() { cfg.Timeout = tf.cfg.Timeout })
	set("insecure", func() { cfg.Insecure = tf.cfg.Insecure })
	set("api-spec", func() { cfg.APISpec = tf.cfg.APISpec })
	set("api-base", func() { cfg.APIBase = tf.cfg.APIBase })
	set("graphql-endpoint", func() { cfg.GraphQL.Endpoint = tf.cfg.GraphQL.Endpoint })
	set("graphql-sdl", func() { cfg.GraphQL.SDL = tf.cfg.GraphQL.SDL })
	set("graphql-signalling", func() { cfg.GraphQL.Signalling = tf.cfg.GraphQL.Signalling })
	if flags.Changed("path-param") {
		params, err := framework.ParsePathParams(tf.pathParams)
		if err != nil {
			return cfg, usagef("--path-param: %w", err)
		}
		cfg.PathParams = params
	}
	set("client-secret", func() {
		fmt.Fprintln(stderr, "tollgate: warning: --client-secret shows in ps and shell history; prefer TOLLGATE_CLIENT_SECRET or --client-secret-file")
		cfg.Client.Secret = tf.clientSecret
	})
	for name, dst := range map[string]*framework.Credentials{"client": &cfg.Client, "client2": &cfg.Client2, "expiry-client": &cfg.ExpiryClient, "scoped-client": &cfg.ScopedClient} {
		if flags.Changed(name + "-secret-file") {
			dst.Secret, dst.SecretFile = "", *tf.secretFiles[name]
		}
	}
	if more != nil {
		more(set, &cfg)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usageError{err}
	}
	return cfg, nil
}
