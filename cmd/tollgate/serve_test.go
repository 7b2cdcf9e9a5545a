package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/mockserver"
)

// Time bounds of the end-to-end tests: how long a server may take to print
// its first line, and how long a graceful shutdown may take.
const (
	startTimeout    = 10 * time.Second
	shutdownTimeout = 5 * time.Second
)

var listeningLine = regexp.MustCompile(`^listening on https?://127\.0\.0\.1:\d+$`)

// lockedBuffer is an io.Writer safe for the concurrent writes of the server
// (request log lines) and the reads of the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls b until cond holds for its contents or the deadline passes,
// and returns the contents last seen.
func waitFor(t *testing.T, b *lockedBuffer, timeout time.Duration, what string, cond func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := b.String()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v; got:\n%s", what, timeout, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// serveProc is a `tollgate serve` running in the test process.
type serveProc struct {
	base   string // http://127.0.0.1:PORT, https:// with --tls
	addr   string // 127.0.0.1:PORT
	stdout *lockedBuffer
	stderr *lockedBuffer
	cancel context.CancelFunc
	done   chan error // the result of ExecuteContext
}

// startServe runs `tollgate serve args...` with a cancellable context and
// returns once it printed its first line. The server is stopped when the
// test ends, if the test did not stop it.
func startServe(t *testing.T, args ...string) *serveProc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &serveProc{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, cancel: cancel, done: make(chan error, 1)}
	root := newRootCmd(p.stdout, p.stderr)
	root.SetArgs(append([]string{"serve"}, args...))
	go func() { p.done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-p.done:
			// Its result was judged by stop or by the startup check below,
			// or the test did not care how the server ended.
			_ = err
		case <-time.After(shutdownTimeout):
			t.Errorf("serve %q did not stop within %v of its context's end", args, shutdownTimeout)
		}
	})

	deadline := time.Now().Add(startTimeout)
	for !strings.Contains(p.stdout.String(), "\n") {
		select {
		case err := <-p.done:
			p.done <- err // for the cleanup
			t.Fatalf("serve %q returned before listening: %v\nstderr: %s", args, err, p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve %q printed no line within %v; stderr: %s", args, startTimeout, p.stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
	first, _, _ := strings.Cut(p.stdout.String(), "\n")
	if !listeningLine.MatchString(first) {
		t.Fatalf("first line %q does not match %s", first, listeningLine)
	}
	p.base = strings.TrimPrefix(first, "listening on ")
	p.addr = strings.TrimPrefix(strings.TrimPrefix(p.base, "http://"), "https://")
	return p
}

// stop cancels the context and returns what Execute returned, failing the
// test when it takes longer than a graceful shutdown may.
func (p *serveProc) stop(t *testing.T) error {
	t.Helper()
	p.cancel()
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		return err
	case <-time.After(shutdownTimeout):
		t.Fatalf("Execute did not return within %v of the context's end", shutdownTimeout)
		return nil
	}
}

var testClient = &http.Client{Timeout: 5 * time.Second}

// call sends one request and returns its status, header and body.
func call(t *testing.T, method, url, contentType, bearer, body string) (int, http.Header, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer func() {
		if err := resp.Body.Close(); err != nil {
			t.Errorf("%s %s: close body: %v", method, url, err)
		}
	}()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return resp.StatusCode, resp.Header, b
}

// decodeObject decodes a JSON object body, failing the test on anything else.
func decodeObject(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	return m
}

const seedSimpleBody = `{"clientId":"testClient","secret":"superSecret"}`

func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	p := startServe(t, "--addr", "127.0.0.1:0", "--quiet")

	// simple: token, then a protected operation with and without it.
	status, _, body := call(t, http.MethodPost, p.base+"/token", "application/json", "", seedSimpleBody)
	if status != http.StatusOK {
		t.Fatalf("POST /token: status %d, body %s", status, body)
	}
	tok := decodeObject(t, body)
	access, _ := tok["accessToken"].(string)
	if access == "" || tok["tokenType"] != "Bearer" || tok["expiresIn"] != float64(1800) {
		t.Fatalf("POST /token: body %s, want accessToken, tokenType Bearer, expiresIn 1800", body)
	}
	if status, _, body := call(t, http.MethodGet, p.base+"/api/collections", "", access, ""); status != http.StatusOK {
		t.Errorf("GET /api/collections with the token: status %d, body %s", status, body)
	}
	status, header, body := call(t, http.MethodGet, p.base+"/api/collections", "", "", "")
	if status != http.StatusUnauthorized {
		t.Errorf("GET /api/collections without a token: status %d, body %s, want 401", status, body)
	}
	if got := header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer realm=") {
		t.Errorf("GET /api/collections without a token: WWW-Authenticate %q, want a Bearer realm= challenge", got)
	}

	// oauth2: the Commerce Layer request as documented.
	status, _, body = call(t, http.MethodPost, p.base+"/oauth/token", "application/vnd.api+json", "",
		`{"grant_type":"client_credentials","client_id":"testClient","client_secret":"superSecret"}`)
	if status != http.StatusOK {
		t.Fatalf("POST /oauth/token: status %d, body %s", status, body)
	}
	tok = decodeObject(t, body)
	if tok["expires_in"] != float64(7200) || tok["token_type"] != "Bearer" || tok["access_token"] == nil {
		t.Errorf("POST /oauth/token: body %s, want access_token, token_type Bearer, expires_in 7200", body)
	}

	// The banner after the first line: curl commands that work as printed.
	out := waitFor(t, p.stdout, startTimeout, "banner", func(s string) bool { return strings.Contains(s, "\nclients: ") })
	for _, want := range []string{
		"TOKEN=$(curl -s -X POST " + p.base + "/token -H 'Content-Type: application/json' -d '" + seedSimpleBody + "' | jq -r '.\"accessToken\"')",
		"curl -s -X POST " + p.base + "/oauth/token ",
		"curl -s -X POST " + p.base + "/oauth/token -u 'testClient:superSecret' -d grant_type=client_credentials",
		"curl -s " + p.base + "/api/collections -H \"Authorization: Bearer $TOKEN\"",
		"\nendpoints:\n  health:   " + p.base + "/_tollgate/health\n  JWKS:     " + p.base + "/.well-known/jwks.json\n  metadata: " + p.base + "/.well-known/oauth-authorization-server (RFC 8414)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	out = waitFor(t, p.stdout, startTimeout, "metrics line", func(s string) bool { return strings.Contains(s, "\nmetrics: ") })
	if want := "\nmetrics: " + p.base + "/metrics (Prometheus; docs/metrics.md)\n"; !strings.Contains(out, want) {
		t.Errorf("banner lacks %q:\n%s", want, out)
	}
	status, _, body = call(t, http.MethodGet, p.base+"/metrics", "", "", "")
	if want := `tollgate_requests_total{route="GET /api/collections",status="200",verdict="ok"} 1`; status != http.StatusOK || !strings.Contains(string(body), want) {
		t.Errorf("GET /metrics: status %d, want 200 and %s in:\n%s", status, want, body)
	}
	if strings.Count(out, "listening on ") != 1 {
		t.Errorf("stdout has %d listening lines, want 1:\n%s", strings.Count(out, "listening on "), out)
	}

	// Graceful shutdown: Execute returns nil and the port is closed.
	if err := p.stop(t); err != nil {
		t.Errorf("Execute after cancel: %v, want nil", err)
	}
	if c, err := net.DialTimeout("tcp", p.addr, time.Second); err == nil {
		_ = c.Close() // only released: the failure is reported below
		t.Errorf("%s still accepts connections after shutdown", p.addr)
	}
	if got := p.stderr.String(); got != "tollgate: shutting down\n" {
		t.Errorf("stderr with --quiet = %q, want only the shutdown notice", got)
	}
}

func TestServeExtraDocument(t *testing.T) {
	t.Parallel()
	p := startServe(t, "--addr", "127.0.0.1:0", "--quiet",
		"--document", filepath.Join("..", "..", "testdata", "flows", "userpass.yaml"), "--flows", "userpass")

	status, _, body := call(t, http.MethodPost, p.base+"/login", "application/json", "",
		`{"username":"testClient","password":"superSecret"}`)
	if status != http.StatusOK {
		t.Fatalf("POST /login: status %d, body %s", status, body)
	}
	tok := decodeObject(t, body)
	access, _ := tok["token"].(string)
	if access == "" || tok["type"] != "Bearer" || tok["ttl"] != float64(600) {
		t.Fatalf("POST /login: body %s, want token, type Bearer, ttl 600", body)
	}
	if status, _, body := call(t, http.MethodGet, p.base+"/me", "", access, ""); status != http.StatusOK {
		t.Errorf("GET /me with the token: status %d, body %s", status, body)
	}
	// --flows userpass: the built-in flows are not served.
	if status, _, _ := call(t, http.MethodPost, p.base+"/token", "application/json", "", seedSimpleBody); status != http.StatusNotFound {
		t.Errorf("POST /token with --flows userpass: status %d, want 404", status)
	}
	out := waitFor(t, p.stdout, startTimeout, "banner", func(s string) bool { return strings.Contains(s, "\nclients: ") })
	if !strings.Contains(out, "curl -s -X POST "+p.base+"/login ") || strings.Contains(out, "/oauth/token") {
		t.Errorf("banner should show /login and no built-in flow:\n%s", out)
	}
}

// TestServeOmitOptional: --omit-optional serves only what the source
// documents describe; the banner shows no revocation for simple.
func TestServeOmitOptional(t *testing.T) {
	t.Parallel()
	p := startServe(t, "--addr", "127.0.0.1:0", "--quiet", "--flows", "simple", "--omit-optional")
	if status, _, body := call(t, http.MethodPost, p.base+"/token/revoke", "application/json", "", `{"clientId":"testClient","secret":"superSecret","token":"x"}`); status != http.StatusNotFound {
		t.Errorf("POST /token/revoke with --omit-optional: status %d, body %s, want 404", status, body)
	}
	if status, _, body := call(t, http.MethodPost, p.base+"/token", "application/json", "", seedSimpleBody); status != http.StatusOK {
		t.Errorf("POST /token with --omit-optional: status %d, body %s", status, body)
	}
	out := waitFor(t, p.stdout, startTimeout, "banner", func(s string) bool { return strings.Contains(s, "\nclients: ") })
	if strings.Contains(out, "/token/revoke") {
		t.Errorf("the banner shows the omitted revocation endpoint:\n%s", out)
	}
}

// TestServeConfigFile checks the precedence flags > config file > defaults
// end to end.
func TestServeConfigFile(t *testing.T) {
	t.Parallel()
	cfg := writeFile(t, "tollgate.yaml", `
addr: 127.0.0.1:1      # overridden by --addr
enabled_flows: [simple]
log_format: json
flows:
  simple:
    token_format: opaque
    token_lifetime: 90s
clients:
  - id: cfgClient
    secret: cfgSecret
`)
	p := startServe(t, "--config", cfg, "--addr", "127.0.0.1:0")

	status, _, body := call(t, http.MethodPost, p.base+"/token", "application/json", "", `{"clientId":"cfgClient","secret":"cfgSecret"}`)
	if status != http.StatusOK {
		t.Fatalf("POST /token as the config's client: status %d, body %s", status, body)
	}
	tok := decodeObject(t, body)
	if a, _ := tok["accessToken"].(string); len(a) != 43 || tok["expiresIn"] != float64(90) {
		t.Errorf("POST /token: body %s, want a 43-char opaque token that expires in 90", body)
	}
	// The config's clients replace the defaults.
	if status, _, _ := call(t, http.MethodPost, p.base+"/token", "application/json", "", seedSimpleBody); status != http.StatusBadRequest {
		t.Errorf("POST /token as the default seed client: status %d, want 400 invalid_client", status)
	}
	if status, _, _ := call(t, http.MethodPost, p.base+"/oauth/token", "application/json", "", `{}`); status != http.StatusNotFound {
		t.Errorf("POST /oauth/token with enabled_flows [simple]: status %d, want 404", status)
	}
	// log_format: json from the file.
	logs := waitFor(t, p.stderr, startTimeout, "request log line", func(s string) bool { return strings.Contains(s, `"path":"/token"`) })
	first, _, _ := strings.Cut(logs, "\n")
	if m := decodeObject(t, []byte(first)); m["msg"] != "request" {
		t.Errorf("first log line %s is not a JSON request line", first)
	}
}

func TestServeRequestLog(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want []string // in the line of the token request
	}{
		{name: "text", args: nil, want: []string{"msg=request", "method=POST", "path=/token status=200"}},
		{name: "json", args: []string{"--log-format", "json"}, want: []string{`"msg":"request"`, `"method":"POST"`, `"path":"/token","status":200`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := startServe(t, append([]string{"--addr", "127.0.0.1:0"}, tt.args...)...)
			status, _, body := call(t, http.MethodPost, p.base+"/token", "application/json", "", seedSimpleBody)
			if status != http.StatusOK {
				t.Fatalf("POST /token: status %d, body %s", status, body)
			}
			access, _ := decodeObject(t, body)["accessToken"].(string)
			call(t, http.MethodGet, p.base+"/api/collections", "", access, "")
			// Bad credentials are logged too, still without the secret.
			call(t, http.MethodPost, p.base+"/token", "application/json", "", `{"clientId":"testClient","secret":"superSecretX"}`)

			logs := waitFor(t, p.stderr, startTimeout, "3 request log lines", func(s string) bool { return strings.Count(s, "\n") >= 3 })
			var tokenLine string
			for _, line := range strings.Split(logs, "\n") {
				if strings.Contains(line, tt.want[len(tt.want)-1]) {
					tokenLine = line
					break
				}
			}
			if tokenLine == "" {
				t.Fatalf("no log line with %q:\n%s", tt.want[len(tt.want)-1], logs)
			}
			for _, w := range tt.want {
				if !strings.Contains(tokenLine, w) {
					t.Errorf("log line %q lacks %q", tokenLine, w)
				}
			}
			if strings.Contains(logs, "superSecret") {
				t.Errorf("the log has the client secret:\n%s", logs)
			}
			if strings.Contains(logs, access) {
				t.Errorf("the log has a whole token:\n%s", logs)
			}
			if strings.Contains(logs, access[:6]) || !strings.Contains(logs, "Bearer sha256:") {
				t.Errorf("the log should name the token by fingerprint only, never by a piece of it:\n%s", logs)
			}
		})
	}
}

// TestServeLogFlushedOnStop stops a logging server right after a burst of
// requests: every request's line is on stderr when serve returns, although
// lines are written in batches.
func TestServeLogFlushedOnStop(t *testing.T) {
	t.Parallel()
	p := startServe(t, "--addr", "127.0.0.1:0")
	const n = 100
	for range n {
		if status, _, _ := call(t, http.MethodGet, p.base+"/_tollgate/health", "", "", ""); status != http.StatusOK {
			t.Fatalf("GET /_tollgate/health: status %d", status)
		}
	}
	if err := p.stop(t); err != nil {
		t.Fatalf("Execute after cancel: %v, want nil", err)
	}
	logs := p.stderr.String()
	if got := strings.Count(logs, "path=/_tollgate/health"); got != n {
		t.Errorf("%d request lines after stop, want %d:\n%s", got, n, logs)
	}
	if !strings.HasSuffix(logs, "tollgate: shutting down\n") {
		t.Errorf("stderr should end with the shutdown notice, after every request line:\n%s", logs)
	}
}

// writeFile writes content to a new file in a temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runBounded calls run, failing the test if it does not return in time (a
// command that starts serving by mistake would otherwise block forever).
func runBounded(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() { done <- run(args, &out, &errOut) }()
	select {
	case code = <-done:
	case <-time.After(startTimeout):
		t.Fatalf("run %q did not return within %v; stdout: %s", args, startTimeout, out.String())
	}
	return code, out.String(), errOut.String()
}

func TestRunExitCodes(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := busy.Close(); err != nil {
			t.Error(err)
		}
	})

	brokenDoc := writeFile(t, "broken.yaml", "openapi: 3.0.3\nx-tollgate:\n  flow: [\n")
	userpass, err := os.ReadFile(filepath.Join("..", "..", "testdata", "flows", "userpass.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	badFormatDoc := writeFile(t, "badformat.yaml", strings.Replace(string(userpass), "format: opaque", "format: bogus", 1))
	unknownKey := writeFile(t, "unknown.yaml", "addr: 127.0.0.1:0\nclients:\n  - id: a\n    secret: b\n    scope: [x]\n")
	noUnit := writeFile(t, "nounit.yaml", "flows:\n  simple:\n    token_lifetime: 1800\n")
	badOptions := writeFile(t, "badoptions.yaml", "flows:\n  simple:\n    token_format: base64\n")
	badMaxTokens := writeFile(t, "badmax.yaml", "addr: 127.0.0.1:0\nmax_tokens: -3\n")
	badShutdown := writeFile(t, "badshutdown.yaml", "shutdown_timeout: -1s\n")
	badMetrics := writeFile(t, "badmetrics.yaml", "addr: 127.0.0.1:0\nmetrics: on\n")

	// Flags that keep a command that wrongly starts serving off fixed ports.
	anyPort := []string{"--addr", "127.0.0.1:0"}
	tests := []struct {
		name string
		args []string
		want []string // in the one stderr line
	}{
		{name: "unknown root flag", args: []string{"--nope"}, want: []string{"unknown flag: --nope", "--help"}},
		{name: "unknown serve flag", args: []string{"serve", "--nope"}, want: []string{"unknown flag: --nope", "--help"}},
		{name: "bad flag value", args: []string{"serve", "--quiet=maybe"}, want: []string{"maybe", "--help"}},
		{name: "unknown flow", args: append([]string{"serve", "--flows", "nope"}, anyPort...), want: []string{`unknown flow "nope"`, "available: oauth2, simple", "--document"}},
		{name: "bad address", args: []string{"serve", "--addr", "nope"}, want: []string{`address "nope"`, "HOST:PORT"}},
		{name: "bad log format", args: append([]string{"serve", "--log-format", "xml"}, anyPort...), want: []string{`"xml"`, "text or json"}},
		{name: "missing config", args: append([]string{"serve", "--config", "/does/not/exist"}, anyPort...), want: []string{"/does/not/exist", "give an existing file to --config"}},
		{name: "config unknown key", args: append([]string{"serve", "--config", unknownKey}, anyPort...), want: []string{unknownKey + ":5:", "unknown key scope", "docs/config.md"}},
		{name: "config duration without unit", args: append([]string{"serve", "--config", noUnit}, anyPort...), want: []string{noUnit + ":3:", "durations with a unit", "90s"}},
		{name: "config options the flows reject", args: append([]string{"serve", "--config", badOptions}, anyPort...), want: []string{"flows.simple.token_format", "use uuid, opaque or jwt"}},
		{name: "max tokens not positive", args: append([]string{"serve", "--max-tokens", "0"}, anyPort...), want: []string{"--max-tokens 0", "positive number"}},
		{name: "config max_tokens negative", args: append([]string{"serve", "--config", badMaxTokens}, anyPort...), want: []string{badMaxTokens + ":2:", "max_tokens -3", "positive bound"}},
		{name: "shutdown timeout not positive", args: append([]string{"serve", "--shutdown-timeout", "0s"}, anyPort...), want: []string{"shutdown timeout 0s", "positive duration"}},
		{name: "config shutdown_timeout negative", args: append([]string{"serve", "--config", badShutdown}, anyPort...), want: []string{"shutdown timeout -1s", "positive duration"}},
		{name: "flow document not YAML", args: append([]string{"serve", "--document", brokenDoc}, anyPort...), want: []string{brokenDoc, "not YAML or JSON", "line 3"}},
		{name: "flow document invalid", args: append([]string{"serve", "--document", badFormatDoc}, anyPort...), want: []string{badFormatDoc + ":13:", "x-tollgate.token.format", "known: uuid, opaque, jwt"}},
		{name: "missing flow document", args: append([]string{"serve", "--document", "/does/not/exist.yaml"}, anyPort...), want: []string{"/does/not/exist.yaml"}},
		{name: "address in use", args: []string{"serve", "--addr", busy.Addr().String()}, want: []string{"listen on " + busy.Addr().String(), "port 0 picks a free one"}},
		{name: "bad control mode", args: append([]string{"serve", "--control", "sometimes"}, anyPort...), want: []string{`--control "sometimes"`, "auto or off"}},
		{name: "bad metrics mode", args: append([]string{"serve", "--metrics", "on"}, anyPort...), want: []string{`--metrics "on"`, "auto, public or off"}},
		{name: "config metrics mode", args: append([]string{"serve", "--config", badMetrics}, anyPort...), want: []string{badMetrics + ":2:", `metrics: unknown mode "on"`, "auto, public or off"}},
		{name: "empty control token", args: append([]string{"serve", "--control-token", ""}, anyPort...), want: []string{"--control-token is empty"}},
		{name: "unknown subcommand", args: []string{"bogus-subcommand"}, want: []string{`unknown command "bogus-subcommand"`, "tollgate --help"}},
		{name: "serve argument", args: append([]string{"serve", "extra"}, anyPort...), want: []string{"extra", "takes no arguments"}},
		{name: "version argument", args: []string{"version", "extra"}, want: []string{"extra", "takes no arguments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runBounded(t, tt.args...)
			if code != 2 {
				t.Errorf("exit code %d, want 2; stderr: %s", code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if !strings.HasPrefix(stderr, "tollgate: ") || !strings.HasSuffix(stderr, "\n") || strings.Count(stderr, "\n") != 1 {
				t.Fatalf("stderr %q, want one line starting with \"tollgate: \"", stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
		})
	}
}

func TestRunSuccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		wantPrefix string
	}{
		{name: "version", args: []string{"version"}, wantPrefix: "tollgate "},
		{name: "version flag", args: []string{"--version"}, wantPrefix: "tollgate "},
		{name: "help", args: []string{"--help"}, wantPrefix: "Contract-test"},
		{name: "no arguments", args: nil, wantPrefix: "Contract-test"},
		{name: "serve help", args: []string{"serve", "--help"}, wantPrefix: "Start the mock auth server"},
		{name: "ctl help", args: []string{"ctl", "--help"}, wantPrefix: "Control a running tollgate mock"},
		{name: "ctl without subcommand", args: []string{"ctl"}, wantPrefix: "Control a running tollgate mock"},
		{name: "ctl fault help", args: []string{"ctl", "fault", "add", "--help"}, wantPrefix: "Put a fault in force"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runBounded(t, tt.args...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit code %d, stderr %q; want 0 and nothing", code, stderr)
			}
			if !strings.HasPrefix(stdout, tt.wantPrefix) || strings.Count(stdout, "\n") < 1 {
				t.Errorf("stdout %q, want a line starting with %q", stdout, tt.wantPrefix)
			}
		})
	}
}

// TestVersionLine checks the shape of the version line; its content (module
// version, VCS revision, Go version) depends on the build.
func TestVersionLine(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		_, stdout, _ := runBounded(t, args...)
		fields := strings.Fields(stdout)
		if len(fields) < 3 || fields[0] != "tollgate" || !strings.HasPrefix(fields[len(fields)-1], "go") {
			t.Errorf("%v: version line %q, want \"tollgate VERSION [REVISION] GOVERSION\"", args, stdout)
		}
		if want := fmt.Sprintf("tollgate %s\n", version()); stdout != want {
			t.Errorf("%v: version line %q, want %q", args, stdout, want)
		}
	}
}

// TestDescribeBuild checks how the build information becomes the version
// line: module version or "devel", short revision, "-dirty" for a modified
// tree, Go version.
func TestDescribeBuild(t *testing.T) {
	t.Parallel()
	const rev = "0123456789abcdef0123"
	tests := []struct {
		name     string
		version  string
		settings []debug.BuildSetting
		want     string
	}{
		{name: "release", version: "v1.2.3", want: "v1.2.3 go1.99"},
		{name: "checkout clean", version: "(devel)", settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "false"}}, want: "devel 0123456789ab go1.99"},
		{name: "checkout dirty", version: "(devel)", settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "true"}}, want: "devel 0123456789ab-dirty go1.99"},
		{name: "no vcs", version: "", want: "devel go1.99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			info := &debug.BuildInfo{GoVersion: "go1.99", Main: debug.Module{Version: tt.version}, Settings: tt.settings}
			if got := describeBuild(info); got != tt.want {
				t.Errorf("describeBuild = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPrintClients checks the client list of the start-up output: with
// their secrets on loopback (the defaults are public test values), names
// only when the mock is reachable from elsewhere.
func TestPrintClients(t *testing.T) {
	t.Parallel()
	clients := []mockserver.Client{
		{ID: mockserver.SeedClientID, Secret: mockserver.SeedClientSecret},
		{ID: "encoded client", Secret: "a:b, c", Flows: []string{"oauth2"}, Scopes: []string{"metrics-api"}, TokenLifetime: 5 * time.Second},
	}
	tests := []struct {
		name        string
		showSecrets bool
		want        string
	}{
		{name: "loopback", showSecrets: true, want: "\nclients: (test values; docs/config.md)\n" +
			"  id testClient, secret superSecret\n" +
			"  id \"encoded client\", secret \"a:b, c\"   # flows oauth2, scopes metrics-api, tokens live 5s\n"},
		{name: "beyond loopback", want: "\nclients: testClient, encoded client (secrets not shown: the mock listens beyond loopback; docs/config.md lists the defaults)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			printClients(&out, clients, tt.showSecrets)
			if out.String() != tt.want {
				t.Errorf("printClients:\n%s\nwant\n%s", out.String(), tt.want)
			}
		})
	}
}

// TestServePrintsDefaultSecrets: `tollgate serve` on loopback lists every
// default client with its secret at start-up.
func TestServePrintsDefaultSecrets(t *testing.T) {
	t.Parallel()
	p := startServe(t, "--addr", "127.0.0.1:0", "--quiet")
	out := waitFor(t, p.stdout, startTimeout, "control API line", func(s string) bool { return strings.Contains(s, "\ncontrol API: ") })
	for _, c := range [][2]string{
		{mockserver.SeedClientID, mockserver.SeedClientSecret},
		{mockserver.ShortLivedClientID, mockserver.ShortLivedClientSecret},
		{mockserver.EncodedClientID, mockserver.EncodedClientSecret},
		{mockserver.ScopedClientID, mockserver.ScopedClientSecret},
	} {
		if want := "  id " + readableValue(c[0]) + ", secret " + readableValue(c[1]); !strings.Contains(out, want) {
			t.Errorf("start-up output lacks %q:\n%s", want, out)
		}
	}
	if err := p.stop(t); err != nil {
		t.Errorf("stop: %v", err)
	}
}
