package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/flowinit"
	"github.com/tollgate/tollgate/suites/framework"
)

// initFlags are the flags of `tollgate init`.
type initFlags struct {
	cfg          framework.Config
	clientSecret string
	secretFile   string
	pathParams   []string
	tokenPath    string
	name         string
	out          string
	force        bool
}

// defaultInitName is the flow name when neither --name nor a usable --out
// file name gives one.
const defaultInitName = "target"

func newInitCmd(stdout, stderr io.Writer) *cobra.Command {
	var fl initFlags
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a starting flow document for an auth server",
		Long: `Write a starting flow document (docs/flow-documents.md) for a target, from
its RFC 8414 or OpenID discovery metadata and one token request made with the
given client: the token endpoint, the request's media type and member names,
the token response's member names, token type and lifetime, the token format
when it is a v4 UUID or a JWT, the client authentication that worked, and the
revocation, introspection, JWK Set and metadata locations the metadata names
(the endpoints marked optional). Where a person must decide (the protected
routes without --api-spec, the scopes, the profile), the document says so in
comments marked TODO(decide).

The token request tries the client authentication methods the metadata
advertises; without metadata (give --token-path then) a JSON body as in the
simple flow, then a form with HTTP Basic, then a form with client_id and
client_secret. The client comes from TOLLGATE_CLIENT_ID and
TOLLGATE_CLIENT_SECRET (or --client-secret-file), as for tollgate check.

The document goes to stdout, or to --out FILE (never over an existing file
without --force); what init saw goes to stderr.

Exit codes: 0 written, 1 a fault of init's own, 2 a configuration error or a
target init cannot describe (the message says what to fix).`,
		Example: `  TOLLGATE_CLIENT_ID=testClient TOLLGATE_CLIENT_SECRET=superSecret \
    tollgate init --target http://127.0.0.1:4455 --out mine.yaml
  TOLLGATE_CLIENT_ID=testClient TOLLGATE_CLIENT_SECRET=superSecret \
    tollgate init --target http://127.0.0.1:4455 --token-path /token --api-spec openapi/simple.yaml --out simple-mine.yaml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runInit(cmd, fl, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.cfg.Target, "target", "", "base URL of the server to describe (or TOLLGATE_TARGET)")
	f.StringVar(&fl.cfg.Client.ID, "client-id", "", "client id (or TOLLGATE_CLIENT_ID)")
	f.StringVar(&fl.clientSecret, "client-secret", "", "client secret: visible in ps; prefer TOLLGATE_CLIENT_SECRET or --client-secret-file")
	f.StringVar(&fl.secretFile, "client-secret-file", "", "file holding the client's secret")
	f.StringVar(&fl.tokenPath, "token-path", "", "the token endpoint's path on the target, e.g. /token (default: the metadata's token_endpoint)")
	f.StringVar(&fl.cfg.APISpec, "api-spec", "", "your own OpenAPI 3.0/3.1 document: the operations it secures with a Bearer scheme become the flow's protected operations")
	f.StringVar(&fl.cfg.APIBase, "api-base", "", "path before each --api-spec path on the target, e.g. /v1; / for none (default: the path of the document's server URL)")
	f.StringArrayVar(&fl.pathParams, "path-param", nil, "a value for an --api-spec path parameter, name=value (repeatable)")
	f.StringVar(&fl.name, "name", "", "the flow's name, x-tollgate.flow (default: the --out file's name, else "+defaultInitName+")")
	f.StringVarP(&fl.out, "out", "o", "", "write the document to FILE instead of stdout")
	f.BoolVar(&fl.force, "force", false, "let --out replace an existing file")
	f.DurationVar(&fl.cfg.Timeout, "timeout", 0, "per-request timeout (default 10s)")
	f.BoolVar(&fl.cfg.Insecure, "insecure", false, "allow plain http to a non-loopback target")
	return cmd
}

// resolveInitConfig merges flags over TOLLGATE_* and validates the result.
func resolveInitConfig(cmd *cobra.Command, fl initFlags, stderr io.Writer) (framework.Config, string, error) {
	var cfg framework.Config
	if err := cfg.ApplyEnv(os.LookupEnv); err != nil {
		return cfg, "", usageError{err}
	}
	flags := cmd.Flags()
	set := func(name string, apply func()) {
		if flags.Changed(name) {
			apply()
		}
	}
	set("target", func() { cfg.Target = fl.cfg.Target })
	set("client-id", func() { cfg.Client.ID = fl.cfg.Client.ID })
	set("client-secret", func() {
		fmt.Fprintln(stderr, "tollgate: warning: --client-secret shows in ps and shell history; prefer TOLLGATE_CLIENT_SECRET or --client-secret-file")
		cfg.Client.Secret = fl.clientSecret
	})
	set("client-secret-file", func() { cfg.Client.Secret, cfg.Client.SecretFile = "", fl.secretFile })
	set("api-spec", func() { cfg.APISpec = fl.cfg.APISpec })
	set("api-base", func() { cfg.APIBase = fl.cfg.APIBase })
	set("timeout", func() { cfg.Timeout = fl.cfg.Timeout })
	set("insecure", func() { cfg.Insecure = fl.cfg.Insecure })
	if flags.Changed("path-param") {
		params, err := framework.ParsePathParams(fl.pathParams)
		if err != nil {
			return cfg, "", usagef("--path-param: %w", err)
		}
		cfg.PathParams = params
	}
	name := fl.name
	switch {
	case name != "" && !spec.ValidFlowName(name):
		return cfg, "", usagef("--name %q: use lower-case letters, digits, '-' and '_'", name)
	case name == "" && fl.out != "":
		base := filepath.Base(fl.out)
		name = strings.TrimSuffix(base, filepath.Ext(base))
		if !spec.ValidFlowName(name) {
			name = defaultInitName
		}
	case name == "":
		name = defaultInitName
	}
	cfg.Flow = name // the flow init writes
	if err := cfg.Validate(); err != nil {
		return cfg, "", usageError{err}
	}
	return cfg, name, nil
}

func runInit(cmd *cobra.Command, fl initFlags, stdout, stderr io.Writer) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	cfg, name, err := resolveInitConfig(cmd, fl, stderr)
	if err != nil {
		return err
	}
	if fl.out != "" {
		if _, err := os.Stat(fl.out); err == nil && !fl.force {
			return usagef("--out %s exists: give another path, or --force to replace it", fl.out)
		}
		if err := canWrite(fl.out); err != nil {
			return usagef("--out: %w (give a writable path)", err)
		}
	}
	var api *spec.APISpec
	if cfg.APISpec != "" {
		if api, err = spec.ReadAPISpec(ctx, cfg.APISpec, spec.APIOptions{PathParams: cfg.PathParams, Base: cfg.APIBase}); err != nil {
			return usagef("--api-spec: %w", err)
		}
	}
	res, err := flowinit.Run(ctx, flowinit.Options{Config: cfg.Config, Name: name, TokenPath: fl.tokenPath, API: api})
	if errors.Is(err, flowinit.ErrUnusableDocument) {
		return err
	}
	if err != nil {
		return usageError{err}
	}
	reportInit(stderr, cfg.Target, res)
	if fl.out == "" {
		if _, err := stdout.Write(res.Document); err != nil {
			return fmt.Errorf("write the document: %w", err)
		}
		return nil
	}
	if err := writeNew(fl.out, res.Document, fl.force); err != nil {
		return usagef("--out: %w", err)
	}
	// The command is pasted into a shell: a path with a space stays one word.
	fmt.Fprintf(stderr, "tollgate init: wrote %s; settle its TODO(decide) comments, then run: tollgate check --target %s --flow %s\n", fl.out, shellQuote(cfg.Target), shellQuote(fl.out))
	return nil
}

// reportInit says on stderr what init saw: the metadata, each token
// request, the token, and what is left to decide.
func reportInit(w io.Writer, target string, res *flowinit.Result) {
	if res.Metadata != "" {
		fmt.Fprintf(w, "tollgate init: metadata: %s\n", res.Metadata)
	} else if len(res.Looked) > 0 {
		fmt.Fprintf(w, "tollgate init: no usable metadata: %s\n", strings.Join(res.Looked, "; "))
	}
	for _, a := range res.Attempts {
		fmt.Fprintf(w, "tollgate init: POST %s with %s: %s\n", res.TokenURL, a.Request, a.Outcome)
	}
	flow := res.Flow
	format := res.TokenFormat
	if format == "" {
		format = "not recognised (left out)"
	}
	fmt.Fprintf(w, "tollgate init: flow %q: token type %s, lifetime %s, format %s, %d protected operation(s)\n", flow.Name, flow.TokenType, flow.Lifetime, format, len(flow.Protected()))
	for _, n := range res.Notes {
		fmt.Fprintf(w, "tollgate init: note: %s\n", n)
	}
	for _, d := range res.Decide {
		fmt.Fprintf(w, "tollgate init: TODO(decide): %s\n", d)
	}
}

// writeNew writes data to path: a new file, or over an existing one only
// with force.
func writeNew(path string, data []byte, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s exists: give another path, or --force to replace it", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return errors.Join(err, f.Close())
	}
	return f.Close()
}
