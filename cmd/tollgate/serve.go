package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
)

type serveFlags struct {
	addr            string
	config          string
	flows           []string
	documents       []string
	acceptAnyClient bool
	omitOptional    bool
	logFormat       string
	quiet           bool
	maxTokens       int
	shutdownTimeout time.Duration
	control         string
	controlToken    string
	tls             tlsFlags
	metrics         string
	debug           bool
}

// defaultShutdownTimeout is how long a stopping server waits for requests in flight.
const defaultShutdownTimeout = 5 * time.Second

func newServeCmd(stdout, stderr io.Writer) *cobra.Command {
	var fl serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Start the mock auth server",
		Long: `Start the mock auth server for the built-in flows (simple and oauth2) and any
extra flow documents. Flags override the config file; the config file overrides
the defaults. Once the server accepts connections it prints one line
"listening on http://HOST:PORT" (https:// with --tls), then the flows and
example curl commands.

With --tls it serves HTTPS and HTTP/2 with a certificate for localhost,
127.0.0.1, ::1 and each --tls-name, signed by a CA made for the run, whose
certificate it writes to a file and names (for NODE_EXTRA_CA_CERTS,
SSL_CERT_FILE, curl --cacert); --tls-cert and --tls-key serve your own.
Token issuers then begin with https://, e.g. https://auth.example.test:4455
when the server is reached under that name (docs/tls.md).

On SIGINT or SIGTERM it stops accepting connections, lets the requests in
flight finish for up to --shutdown-timeout, closes the connections of any
still running, and exits 0.

The control API under /_tollgate/ (docs/control.md; tollgate ctl) moves the
clock, injects faults, mints tokens and counts requests. It answers loopback
connections, or any connection that carries the control token
(--control-token, TOLLGATE_CONTROL_TOKEN or control_token in the config);
--control off removes it.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serve(ctx, cmd, fl, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.addr, "addr", defaultAddr, "HOST:PORT to listen on (port 0 picks a free one)")
	f.StringVar(&fl.config, "config", "", "YAML config file (see docs/config.md)")
	f.StringSliceVar(&fl.flows, "flows", nil, "serve only these flows, by name (default: all)")
	f.StringArrayVar(&fl.documents, "document", nil, "an extra flow document to serve (repeatable)")
	f.BoolVar(&fl.acceptAnyClient, "accept-any-client", false, "issue tokens to any client id and secret (demos only)")
	f.BoolVar(&fl.omitOptional, "omit-optional", false, "serve only what the source documents describe: leave out the endpoints a flow document marks optional (x-tollgate.optional)")
	f.StringVar(&fl.logFormat, "log-format", "text", "request log format: text or json")
	f.BoolVar(&fl.quiet, "quiet", false, "do not log requests")
	f.IntVar(&fl.maxTokens, "max-tokens", mockserver.DefaultMaxTokens, "most live tokens held; beyond it token requests get 503 temporarily_unavailable")
	f.DurationVar(&fl.shutdownTimeout, "shutdown-timeout", defaultShutdownTimeout, "on SIGINT/SIGTERM, how long requests in flight may take before their connections are closed")
	f.StringVar(&fl.control, "control", mockserver.ControlAuto, "control API under /_tollgate/: auto (loopback, or anywhere with the control token) or off")
	f.StringVar(&fl.controlToken, "control-token", "", "Bearer token every control request must carry (or TOLLGATE_CONTROL_TOKEN): visible in ps; prefer the variable")
	addTLSFlags(f, &fl.tls)
	f.BoolVar(&fl.debug, "debug", false, "serve Go profiles under /debug/pprof/ and expvar at /debug/vars (loopback, or with the control token)")
	f.StringVar(&fl.metrics, "metrics", mockserver.MetricsAuto, "Prometheus metrics at "+mockserver.MetricsPath+": auto (loopback, or anywhere with the control token), public (any connection) or off")
	return cmd
}

// resolveServeConfig merges flags over the config file over defaults.
func resolveServeConfig(cmd *cobra.Command, fl serveFlags) (serveConfig, error) {
	var cfg serveConfig
	if fl.config != "" {
		var err error
		if cfg, err = readServeConfig(fl.config); err != nil {
			return cfg, err
		}
	}
	flags := cmd.Flags()
	if flags.Changed("addr") || cfg.Addr == "" {
		cfg.Addr = fl.addr
	}
	if flags.Changed("flows") {
		cfg.EnabledFlows = fl.flows
	}
	cfg.Documents = append(cfg.Documents, fl.documents...)
	if flags.Changed("accept-any-client") {
		cfg.AcceptAnyClient = fl.acceptAnyClient
	}
	if flags.Changed("omit-optional") {
		cfg.OmitOptional = fl.omitOptional
	}
	if flags.Changed("log-format") || cfg.LogFormat == "" {
		cfg.LogFormat = fl.logFormat
	}
	if flags.Changed("max-tokens") {
		if fl.maxTokens <= 0 {
			return cfg, usagef("--max-tokens %d: give a positive number of tokens (default %d)", fl.maxTokens, mockserver.DefaultMaxTokens)
		}
		cfg.MaxTokens = fl.maxTokens
	}
	if flags.Changed("shutdown-timeout") || cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = fl.shutdownTimeout
	}
	if cfg.ShutdownTimeout <= 0 {
		return cfg, usagef("shutdown timeout %v: give a positive duration, e.g. 5s", cfg.ShutdownTimeout)
	}
	if err := resolveControl(flags, fl, &cfg); err != nil {
		return cfg, err
	}
	if err := resolveTLS(flags, fl.tls, &cfg); err != nil {
		return cfg, err
	}
	if err := resolveMetrics(flags, fl, &cfg); err != nil {
		return cfg, err
	}
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		return cfg, usagef("log format %q: use text or json", cfg.LogFormat)
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return cfg, usagef("address %q: %w (write HOST:PORT, e.g. 127.0.0.1:4455)", cfg.Addr, err)
	}
	return cfg, nil
}

// resolveControl applies --control and the control token: --control-token
// over TOLLGATE_CONTROL_TOKEN over control_token in the file.
func resolveControl(flags *pflag.FlagSet, fl serveFlags, cfg *serveConfig) error {
	// A bad control value from the file is reported by mockserver.New, at its line.
	if flags.Changed("control") {
		if fl.control != mockserver.ControlAuto && fl.control != mockserver.ControlOff {
			return usagef("--control %q: use auto or off", fl.control)
		}
		cfg.Control = fl.control
	}
	switch token, fromEnv := os.LookupEnv(controlTokenEnv); {
	case flags.Changed("control-token"):
		cfg.ControlToken = fl.controlToken
		if cfg.ControlToken == "" {
			return usagef("--control-token is empty: give a token, or leave the flag out for loopback-only control")
		}
	case fromEnv && token != "":
		cfg.ControlToken = token
	}
	return nil
}

// loadFlows compiles the built-in documents and the extra ones, then keeps
// the enabled flows.
func loadFlows(ctx context.Context, documents, enabled []string) ([]*spec.Flow, error) {
	builtin, err := spec.ReadAll(ctx, openapi.FS())
	if err != nil {
		return nil, fmt.Errorf("built-in flow documents: %w", err)
	}
	byName := map[string]*spec.Flow{}
	for _, f := range builtin {
		byName[f.Name] = f
	}
	for _, d := range documents {
		f, err := spec.ReadFile(ctx, d)
		if err != nil {
			return nil, usageError{err}
		}
		byName[f.Name] = f
	}
	names := make([]string, 0, len(byName))
	for name := range byName {
		names = append(names, name)
	}
	sort.Strings(names)
	if len(enabled) == 0 {
		enabled = names
	}
	flows := make([]*spec.Flow, 0, len(enabled))
	for _, name := range enabled {
		f := byName[name]
		if f == nil {
			return nil, usagef("unknown flow %q (available: %s; add others with --document)", name, strings.Join(names, ", "))
		}
		flows = append(flows, f)
	}
	return flows, nil
}

func serve(ctx context.Context, cmd *cobra.Command, fl serveFlags, stdout, stderr io.Writer) error {
	cfg, err := resolveServeConfig(cmd, fl)
	if err != nil {
		return err
	}
	flows, err := loadFlows(ctx, cfg.Documents, cfg.EnabledFlows)
	if err != nil {
		return err
	}
	// Log lines go out in batches (mockserver.LogBuffer), not one write
	// per request; everything buffered is written before serve returns.
	logOut := mockserver.NewLogBuffer(stderr, 0, 0)
	defer func() { _ = logOut.Close() }()
	var handler slog.Handler = slog.NewTextHandler(logOut, nil)
	if cfg.LogFormat == "json" {
		handler = slog.NewJSONHandler(logOut, nil)
	}
	logger := slog.New(handler)
	opts := cfg.Options
	if !fl.quiet {
		opts.Logger = logger
	}
	srv, err := mockserver.New(flows, opts)
	if err != nil {
		return usageError{cfg.locate(err)}
	}
	defer func() { _ = srv.Close() }()
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.Addr)
	if err != nil {
		return usagef("listen on %s: %w (pick another --addr; port 0 picks a free one)", cfg.Addr, err)
	}
	httpSrv := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(handler, slog.LevelWarn),
	}
	var st *servingTLS
	scheme := "http"
	if cfg.TLS.Enabled {
		if st, err = setUpTLS(cfg.TLS, ln.Addr()); err != nil {
			_ = ln.Close()
			return err
		}
		httpSrv.TLSConfig, scheme = st.config, "https"
	}
	served := make(chan error, 1)
	go func() {
		if st != nil {
			served <- httpSrv.ServeTLS(ln, "", "") // h2 and http/1.1, by ALPN
			return
		}
		served <- httpSrv.Serve(ln)
	}()

	base := scheme + "://" + ln.Addr().String()
	fmt.Fprintf(stdout, "listening on %s\n", base)
	if len(opts.Mutations) > 0 {
		fmt.Fprintf(stdout, "\nWARNING: this mock is deliberately broken (mutations: %s)\n", strings.Join(opts.Mutations, ", "))
	}
	examples := scheme + strings.TrimPrefix(exampleBase(ln.Addr()), "http")
	if st != nil {
		printTLS(stdout, st, examples)
	}
	printBanner(stdout, examples, st.curlCommand(), srv)
	printEndpoints(stdout, examples, srv)
	printClients(stdout, srv.Clients(), listensOnLoopback(ln.Addr()))
	printControl(stdout, examples, ln.Addr(), opts)
	printMetrics(stdout, examples, ln.Addr(), opts)

	select {
	case err := <-served:
		return fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
	}
	_ = logOut.Flush() // the lines so far come before the notice
	fmt.Fprintln(stderr, "tollgate: shutting down")
	if err := shutdown(httpSrv, cfg.ShutdownTimeout, stderr); err != nil {
		return err
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server stopped: %w", err)
	}
	return nil
}

// shutdown stops httpSrv gracefully: no new connections, and the requests
// in flight get up to timeout to finish. The connections of those still
// running then are closed; their clients see the connection end without
// an answer. Either way the stop was asked for, so it is not an error.
func shutdown(httpSrv *http.Server, timeout time.Duration, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := httpSrv.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		if err != nil {
			return fmt.Errorf("shutdown: %w", err)
		}
		return nil
	}
	fmt.Fprintf(stderr, "tollgate: requests still running after the %v shutdown timeout: closing their connections (raise --shutdown-timeout to let them finish)\n", timeout)
	if err := httpSrv.Close(); err != nil {
		return fmt.Errorf("shutdown: close connections: %w", err)
	}
	return nil
}

// exampleBase is the URL to put in the example commands: a wildcard listen
// address is reached through loopback.
func exampleBase(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return "http://" + addr.String()
	}
	return fmt.Sprintf("http://127.0.0.1:%d", tcp.Port)
}

// printBanner lists each flow with curl commands that work as printed.
func printBanner(w io.Writer, base, curl string, srv *mockserver.Server) {
	clients := srv.Clients()
	for _, f := range srv.Flows() {
		fmt.Fprintf(w, "\nflow %s (%s, %s tokens, %v):\n", f.Name, f.Document, f.TokenFormat, f.Lifetime)
		if c, ok := clientFor(clients, f.Name); ok {
			for i, line := range tokenCurls(curl, base, f, c) {
				if i == 0 { // kept in TOKEN for the protected routes below
					line = "TOKEN=$(" + line + " | jq -r '" + jqPath(f.Token.Response.AccessToken) + "')"
				}
				fmt.Fprintf(w, "  %s\n", line)
			}
		}
		for _, op := range f.Protected() {
			path := spec.SamplePath(op.Path)
			note := ""
			if len(op.Scopes) > 0 {
				note = "   # needs scope " + strings.Join(op.Scopes[0], " ")
			}
			fmt.Fprintf(w, "  %s %s%s%s -H \"Authorization: Bearer $TOKEN\"%s\n", curl, methodFlag(op.Method), base, path, note)
		}
		if f.GraphQL != nil {
			fmt.Fprintf(w, "  curl -s %s%s -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -d '{\"query\":\"{ __typename }\"}'   # GraphQL, docs/graphql.md\n", base, f.GraphQL.Path)
		}
		for _, co := range []struct {
			what string
			op   *spec.ClientOperation
		}{{"revocation (RFC 7009)", f.Revocation}, {"introspection (RFC 7662)", f.Introspection}} {
			if co.op != nil {
				fmt.Fprintf(w, "  %s: POST %s%s, %s member %s, client authentication as for tokens\n", co.what, base, co.op.Path, strings.Join(co.op.MediaTypes, " | "), co.op.Request.Token)
			}
		}
	}
}

// printClients lists the clients the mock knows. On loopback each comes
// with its secret (the defaults are public test values, docs/config.md) and
// what it is limited to; a mock reachable from elsewhere names them only,
// so a configured secret is not shown to whoever reads its output.
func printClients(w io.Writer, clients []mockserver.Client, showSecrets bool) {
	if !showSecrets {
		ids := make([]string, 0, len(clients))
		for _, c := range clients {
			ids = append(ids, c.ID)
		}
		fmt.Fprintf(w, "\nclients: %s (secrets not shown: the mock listens beyond loopback; docs/config.md lists the defaults)\n", strings.Join(ids, ", "))
		return
	}
	fmt.Fprintf(w, "\nclients: (test values; docs/config.md)\n")
	for _, c := range clients {
		var limits []string
		if len(c.Flows) > 0 {
			limits = append(limits, "flows "+strings.Join(c.Flows, " "))
		}
		if c.Scopes != nil {
			limits = append(limits, "scopes "+strings.Join(c.Scopes, " "))
		}
		if c.TokenLifetime > 0 {
			limits = append(limits, "tokens live "+c.TokenLifetime.String())
		}
		line := "  id " + readableValue(c.ID) + ", secret " + readableValue(c.Secret)
		if len(limits) > 0 {
			line += "   # " + strings.Join(limits, ", ")
		}
		fmt.Fprintln(w, line)
	}
}

// readableValue quotes a client id or secret that holds a space, a quote,
// a comma or a backslash, so that where it ends is plain.
func readableValue(v string) string {
	if v == "" || strings.ContainsAny(v, " \t\"',\\") {
		return strconv.Quote(v)
	}
	return v
}

func methodFlag(method string) string {
	if method == http.MethodGet {
		return ""
	}
	return "-X " + method + " "
}

func clientFor(clients []mockserver.Client, flow string) (mockserver.Client, bool) {
	for _, c := range clients {
		if len(c.Flows) == 0 || slices.Contains(c.Flows, flow) {
			if c.Scopes == nil && c.TokenLifetime == 0 {
				return c, true
			}
		}
	}
	return mockserver.Client{}, false
}

// tokenCurls builds token requests for a flow: a body request in the
// document's example media type, and an HTTP Basic form request when the
// flow takes both.
// jqPath is the jq filter that reads the member p points at, e.g.
// ."accessToken" or ."data"."access_token".
func jqPath(p spec.Pointer) string {
	var b strings.Builder
	for _, t := range p.Tokens() {
		q, _ := json.Marshal(t)
		b.WriteString("." + string(q))
	}
	return b.String()
}

func tokenCurls(curl, base string, f *spec.Flow, c mockserver.Client) []string {
	tok := f.Token
	var lines []string
	if tok.AcceptsClientAuth(spec.ClientAuthBody) {
		mediaType := bodyMediaType(f)
		doc := map[string]any{}
		_ = tok.Request.ClientID.Set(doc, c.ID)
		_ = tok.Request.ClientSecret.Set(doc, c.Secret)
		if tok.GrantType != "" {
			_ = tok.Request.GrantType.Set(doc, tok.GrantType)
		}
		var body string
		if mediaType == spec.FormMediaType {
			var parts []string
			for k, v := range doc {
				parts = append(parts, k+"="+fmt.Sprint(v))
			}
			sort.Strings(parts)
			body = strings.Join(parts, "&")
		} else {
			b, _ := json.Marshal(doc)
			body = string(b)
		}
		lines = append(lines, fmt.Sprintf("%s -X POST %s%s -H 'Content-Type: %s' -d '%s'", curl, base, tok.Path, mediaType, body))
	}
	if tok.AcceptsClientAuth(spec.ClientAuthBasic) && slices.Contains(tok.MediaTypes, spec.FormMediaType) && tok.GrantType != "" {
		lines = append(lines, fmt.Sprintf("%s -X POST %s%s -u '%s:%s' -d %s=%s", curl, base, tok.Path, c.ID, c.Secret, tok.Request.GrantType.Name(), tok.GrantType))
	}
	return lines
}

// bodyMediaType picks the media type of the document's request example,
// else the first JSON one, else the first.
func bodyMediaType(f *spec.Flow) string {
	if rb := f.Token.Route.Operation.RequestBody; rb != nil && rb.Value != nil {
		for _, mt := range f.Token.MediaTypes {
			if m := rb.Value.Content[mt]; m != nil && (m.Example != nil || len(m.Examples) > 0) {
				return mt
			}
		}
	}
	for _, mt := range f.Token.MediaTypes {
		if spec.IsJSONMediaType(mt) {
			return mt
		}
	}
	return f.Token.MediaTypes[0]
}
