package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/spec"
)

// TestInitThenCheck: tollgate init against the mock writes, for each
// built-in flow, a document with which tollgate check passes: by RFC 8414
// discovery for oauth2, by --token-path for simple (whose source document
// has no metadata), with the protected operations of an API document or
// none. The document holds neither the secret nor the client id, and is
// named after its file, not after the mock's flow.
func TestInitThenCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		initArgs   []string
		wantStderr []string
		wantPass   []string // checks that must PASS with the document
	}{
		{name: "oauth2 by discovery", initArgs: []string{"--api-spec", "../../openapi/oauth2.yaml"},
			wantStderr: []string{"tollgate init: metadata: MOCK/.well-known/oauth-authorization-server\n",
				"tollgate init: POST MOCK/oauth/token with a form with HTTP Basic (client_secret_basic): a token\n",
				"tollgate init: POST MOCK/oauth/token with a form with client_id and client_secret (client_secret_post): a token\n",
				`flow "mine": token type Bearer, lifetime 2h0m0s, format jwt, 3 protected operation(s)`},
			wantPass: []string{"TOK-001", "TOK-008", "BEAR-001", "BEAR-019", "BEAR-022", "EXP-012", "META-003", "REV-001", "INTRO-001", "JWT-001"}},
		{name: "simple by token path", initArgs: []string{"--token-path", "/token", "--api-spec", "../../openapi/simple.yaml", "--path-param", "id=1"},
			wantStderr: []string{"tollgate init: POST MOCK/token with a JSON body with clientId and secret, as in the simple flow: a token\n",
				`flow "mine": token type Bearer, lifetime 30m0s, format uuid, 2 protected operation(s)`,
				"names the token endpoint \"MOCK/oauth/token\", not /token"},
			wantPass: []string{"TOK-001", "TOK-008", "BEAR-001", "BEAR-019", "BEAR-022", "EXP-012"}},
		{name: "simple without an API document", initArgs: []string{"--token-path", "/token"},
			wantStderr: []string{"0 protected operation(s)", "TODO(decide): list your API's protected operations"},
			wantPass:   []string{"TOK-001", "TOK-008"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			target := checkMock(t)
			out := filepath.Join(t.TempDir(), "mine.yaml")
			r := runTollgate(t, seedEnv, append([]string{"init", "--target", target, "--out", out}, tt.initArgs...)...)
			if r.code != 0 || r.stdout != "" {
				t.Fatalf("init: exit %d, stdout %q; want 0 and the document in %s\nstderr:\n%s", r.code, r.stdout, out, r.stderr)
			}
			for _, w := range append(tt.wantStderr, "tollgate init: wrote "+out+"; settle its TODO(decide) comments, then run: tollgate check --target MOCK --flow "+out+"\n") {
				if w = strings.ReplaceAll(w, "MOCK", target); !strings.Contains(r.stderr, w) {
					t.Errorf("init stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			doc, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(doc), mockserver.SeedClientSecret) || strings.Contains(string(doc), mockserver.SeedClientID) {
				t.Errorf("the document holds the client's id or secret:\n%s", doc)
			}
			r = runTollgate(t, seedEnv, "check", "--target", target, "--flow", out)
			if r.code != 0 {
				t.Fatalf("check with the document: exit %d, want 0; stderr %q\nstdout:\n%s\ndocument:\n%s", r.code, r.stderr, r.stdout, doc)
			}
			verdicts, _ := checkLines(t, r.stdout)
			for id, got := range verdicts {
				if got == "FAIL" || got == "INCONCLUSIVE" {
					t.Errorf("%s: %s with the document init wrote for the conformant mock", id, got)
				}
			}
			for _, id := range tt.wantPass {
				if verdicts[id] != "PASS" {
					t.Errorf("%s: %q, want PASS", id, verdicts[id])
				}
			}
		})
	}
}

// opaqueServer is a small conformant OAuth 2.0 server whose tokens are none
// of uuid, opaque-256 or JWT ("tok.<counter>.<hex>"): client credentials
// in a form with HTTP Basic at /oauth/token, no metadata, and GET
// /api/things for any live token.
func opaqueServer(t *testing.T) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	live := map[string]bool{}
	counter := 0
	jsonError := func(w http.ResponseWriter, status int, code string) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="things"`)
		}
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, `{"error":%q}`, code)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/oauth/token", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if err := r.ParseForm(); err != nil || r.Header.Get("Content-Type") != spec.FormMediaType {
			jsonError(w, http.StatusBadRequest, "invalid_request")
			return
		}
		id, secret, ok := r.BasicAuth()
		switch {
		case !ok || id != "things-client" || secret != "things-secret-1":
			jsonError(w, http.StatusUnauthorized, "invalid_client")
		case r.PostForm.Get("grant_type") != "client_credentials":
			jsonError(w, http.StatusBadRequest, "unsupported_grant_type")
		default:
			random := make([]byte, 24)
			_, _ = rand.Read(random)
			mu.Lock()
			counter++
			tok := fmt.Sprintf("tok.%d.%s", counter, hex.EncodeToString(random))
			live[tok] = true
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Pragma", "no-cache")
			_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 300})
		}
	})
	mux.HandleFunc("/api/things", func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		mu.Lock()
		valid := ok && live[tok]
		mu.Unlock()
		if !valid {
			w.Header().Set("WWW-Authenticate", `Bearer realm="things", error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"things":[]}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// thingsAPI is the opaque server's API document.
const thingsAPI = `openapi: 3.0.3
info: {title: Things, version: "1"}
paths:
  /api/things:
    get:
      operationId: listThings
      security: [{bearerAuth: []}]
      responses: {'200': {description: The things.}}
components:
  securitySchemes:
    bearerAuth: {type: http, scheme: bearer}
`

// TestInitUnrecognisedTokens: against a server whose tokens are none of
// uuid, opaque or JWT and which publishes no metadata, init with
// --token-path writes a document without token.format that check loads and
// runs, passing the token and Bearer checks that server earns.
func TestInitUnrecognisedTokens(t *testing.T) {
	t.Parallel()
	tollgateBin(t)
	srv := opaqueServer(t)
	dir := t.TempDir()
	api := filepath.Join(dir, "things.yaml")
	if err := os.WriteFile(api, []byte(thingsAPI), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "things-flow.yaml")
	env := []string{"TOLLGATE_CLIENT_ID=things-client", "TOLLGATE_CLIENT_SECRET=things-secret-1"}
	r := runTollgate(t, env, "init", "--target", srv.URL, "--token-path", "/oauth/token", "--api-spec", api, "--out", out)
	if r.code != 0 {
		t.Fatalf("init: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	for _, w := range []string{"no usable metadata: " + srv.URL + "/.well-known/oauth-authorization-server (status 404)",
		"a JSON body with clientId and secret, as in the simple flow: 400 invalid_request",
		"a form with HTTP Basic (client_secret_basic): a token",
		`flow "things-flow": token type Bearer, lifetime 5m0s, format not recognised (left out), 1 protected operation(s)`} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("init stderr lacks %q:\n%s", w, r.stderr)
		}
	}
	doc, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(doc), "format:") {
		t.Errorf("the document names a token format:\n%s", doc)
	}
	flow, err := spec.ReadFile(context.Background(), out)
	if err != nil {
		t.Fatalf("the document does not load: %v", err)
	}
	if flow.Token.Path != "/oauth/token" || len(flow.Protected()) != 1 {
		t.Errorf("token at %s, %d protected operations; want /oauth/token and listThings", flow.Token.Path, len(flow.Protected()))
	}
	r = runTollgate(t, env, "check", "--target", srv.URL, "--flow", out, "--label-filter", "area:token || area:bearer")
	if r.code == 2 {
		t.Fatalf("check could not run with the document: %s", r.stderr)
	}
	verdicts, n := checkLines(t, r.stdout)
	if n == 0 {
		t.Fatalf("no check ran:\n%s", r.stdout)
	}
	for _, id := range []string{"TOK-001", "TOK-008", "TOK-016", "BEAR-001", "BEAR-002", "BEAR-019"} {
		if verdicts[id] != "PASS" {
			t.Errorf("%s: %q, want PASS against the things server\n%s", id, verdicts[id], r.stdout)
		}
	}
}

// TestInitExitTwo: a target init cannot describe, or a configuration it
// cannot use, ends with exit 2, one stderr line naming the fix, nothing on
// stdout and no file written.
func TestInitExitTwo(t *testing.T) {
	t.Parallel()
	tollgateBin(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	bare := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(bare.Close)
	existing := filepath.Join(t.TempDir(), "existing.yaml")
	if err := os.WriteFile(existing, []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wrongSecret := []string{"TOLLGATE_CLIENT_ID=" + mockserver.SeedClientID, "TOLLGATE_CLIENT_SECRET=wrong-secret"}
	tests := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{name: "unreachable target", env: seedEnv, args: []string{"--target", closed.URL}, want: []string{"target " + closed.URL + " is unreachable", "start it or fix --target"}},
		{name: "wrong secret", env: wrongSecret, args: []string{"--target", mockTarget}, want: []string{`client "testClient" got no token`, "401 invalid_client", "TOLLGATE_CLIENT_SECRET"}},
		{name: "no discovery, no token path", env: seedEnv, args: []string{"--target", bare.URL}, want: []string{"no RFC 8414 or OpenID discovery metadata", "give --token-path"}},
		{name: "unreadable API document", env: seedEnv, args: []string{"--target", mockTarget, "--api-spec", "no-such-api.yaml"}, want: []string{"--api-spec", "no-such-api.yaml", "cannot read the API document"}},
		{name: "existing --out", env: seedEnv, args: []string{"--target", mockTarget, "--out", existing}, want: []string{"--out " + existing + " exists", "--force"}},
		{name: "bad --name", env: seedEnv, args: []string{"--target", mockTarget, "--name", "My Flow"}, want: []string{`--name "My Flow"`, "lower-case"}},
		{name: "no client", args: []string{"--target", mockTarget}, want: []string{"no client", "TOLLGATE_CLIENT_ID"}},
		{name: "no target", env: seedEnv, want: []string{"no target", "--target"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "out.yaml")
			args := append([]string{"init"}, tt.args...)
			if !strings.Contains(strings.Join(args, " "), "--out") {
				args = append(args, "--out", out)
			}
			for i, a := range args {
				if a == mockTarget {
					args[i] = checkMock(t)
				}
			}
			r := runTollgate(t, tt.env, args...)
			if r.code != 2 || r.stdout != "" {
				t.Errorf("exit %d, stdout %q; want 2 and nothing", r.code, r.stdout)
			}
			oneStderrLine(t, r.stderr, tt.want...)
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written", out)
			}
			if data, _ := os.ReadFile(existing); string(data) != "keep me\n" {
				t.Errorf("%s was overwritten", existing)
			}
		})
	}
}

// TestInitStdout: without --out the document goes to stdout and the report
// to stderr; --force lets --out replace a file.
func TestInitStdout(t *testing.T) {
	t.Parallel()
	target := checkMock(t)
	r := runTollgate(t, seedEnv, "init", "--target", target, "--token-path", "/token", "--name", "simple-mine")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "# Flow document for "+target) || !strings.Contains(r.stdout, "\n  flow: simple-mine\n") {
		t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr, "wrote") || !strings.Contains(r.stderr, "tollgate init: POST "+target+"/token") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	out := filepath.Join(t.TempDir(), "mine.yaml")
	if err := os.WriteFile(out, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runTollgate(t, seedEnv, "init", "--target", target, "--token-path", "/token", "--out", out, "--force")
	data, err := os.ReadFile(out)
	if r.code != 0 || err != nil || string(data) == "old\n" || !strings.Contains(string(data), "\n  flow: mine\n") {
		t.Errorf("--force: exit %d, %v, file:\n%s\nstderr:\n%s", r.code, err, data, r.stderr)
	}
}

// TestDocsCheckInit runs docs/check.md's tollgate init examples as written,
// in a directory where openapi/ is the repository's, as at its root.
func TestDocsCheckInit(t *testing.T) {
	t.Parallel()
	file := filepath.Join("..", "..", "docs", "check.md")
	dir := t.TempDir()
	openapiDir, err := filepath.Abs(filepath.Join("..", "..", "openapi"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(openapiDir, filepath.Join(dir, "openapi")); err != nil {
		t.Fatal(err)
	}
	runDocBlocksIn(t, dir, file, readDocBlocks(t, file, "## Starting a flow document: `tollgate init`"))
}

// TestInitNextCommandPastes: the check command init prints after writing
// quotes an --out path that a shell would split, so it runs as pasted.
func TestInitNextCommandPastes(t *testing.T) {
	t.Parallel()
	target := checkMock(t)
	out := filepath.Join(t.TempDir(), "my flow.yaml")
	r := runTollgate(t, seedEnv, "init", "--target", target, "--token-path", "/token", "--out", out)
	if r.code != 0 {
		t.Fatalf("init: exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	if want := "then run: tollgate check --target " + target + " --flow '" + out + "'\n"; !strings.Contains(r.stderr, want) {
		t.Errorf("init stderr lacks %q:\n%s", want, r.stderr)
	}
}
