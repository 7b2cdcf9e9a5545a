//go:build e2e

package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/mockserver"
)

// clientsDir holds the node scripts and their pinned npm packages
// (scripts/install-e2e-clients.sh installs them).
const clientsDir = "clients"

// protectedPath is a route of the oauth2 flow that needs its token.
const protectedPath = "/api/markets"

// runNode runs a script of clientsDir with node and decodes the one JSON
// value it prints into out; env is added to the test's environment.
func runNode(t *testing.T, env []string, out any, script string, args ...string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(clientsDir, "node_modules", ".package-lock.json")); err != nil {
		t.Fatalf("the npm packages of e2e/%s are not installed (%v): run scripts/install-e2e-clients.sh, as make e2e does", clientsDir, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{script}, args...)...)
	cmd.Dir = clientsDir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s: %v (%v)\nstdout:\n%s\nstderr:\n%s", script, err, ctx.Err(), stdout.String(), stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("node %s printed no JSON outcome (%v):\n%s\nstderr:\n%s", script, err, stdout.String(), stderr.String())
	}
}

// openIDOutcome is one attempt of e2e/clients/openid-client.mjs.
type openIDOutcome struct {
	Method          string          `json:"method"`
	WrongSecret     bool            `json:"wrongSecret"`
	TokenEndpoint   string          `json:"tokenEndpoint"`
	TokenType       string          `json:"tokenType"`
	ExpiresIn       int             `json:"expiresIn"`
	Scope           string          `json:"scope"`
	ProtectedStatus int             `json:"protectedStatus"`
	ProtectedBody   json.RawMessage `json:"protectedBody"`
	Status          int             `json:"status"`
	Error           string          `json:"error"`
}

// TestOpenIDClient runs openid-client 6, unmodified, against the mock's
// oauth2 flow: RFC 8414 discovery finds the token endpoint, client
// credentials with client_secret_basic and with client_secret_post each
// get a token that opens a protected route, and a wrong secret is an
// invalid_client error. The mock's captured requests show that the two
// methods did authenticate differently.
func TestOpenIDClient(t *testing.T) {
	bin := tollgateBinary(t)
	target := startServe(t, bin, t.TempDir(), "")
	var got []openIDOutcome
	runNode(t, nil, &got, "openid-client.mjs", target, mockserver.SeedClientID, mockserver.SeedClientSecret, protectedPath)

	type attempt struct {
		method      string
		wrongSecret bool
	}
	want := []attempt{{"client_secret_basic", false}, {"client_secret_basic", true}, {"client_secret_post", false}, {"client_secret_post", true}}
	if len(got) != len(want) {
		t.Fatalf("%d outcomes, want %d: %+v", len(got), len(want), got)
	}
	for i, o := range got {
		if (attempt{o.Method, o.WrongSecret}) != want[i] {
			t.Fatalf("outcome %d is %s (wrong secret %v), want %+v", i, o.Method, o.WrongSecret, want[i])
		}
		name := o.Method
		if o.TokenEndpoint != target+"/oauth/token" {
			t.Errorf("%s: discovery found the token endpoint %q, want %s/oauth/token", name, o.TokenEndpoint, target)
		}
		if o.WrongSecret {
			if o.Status != http.StatusUnauthorized || o.Error != "invalid_client" || o.ProtectedStatus != 0 {
				t.Errorf("%s with a wrong secret: status %d, error %q, protected call %d; want 401 invalid_client and no token", name, o.Status, o.Error, o.ProtectedStatus)
			}
			continue
		}
		var markets struct {
			Data []struct{ ID string } `json:"data"`
		}
		err := json.Unmarshal(o.ProtectedBody, &markets)
		if !strings.EqualFold(o.TokenType, "bearer") || o.ExpiresIn < 7000 || o.ExpiresIn > 7200 || o.Scope == "" || o.Error != "" {
			t.Errorf("%s: token type %q, expires in %d s, scope %q, error %q; want a Bearer token for about 7200 s with its scope", name, o.TokenType, o.ExpiresIn, o.Scope, o.Error)
		}
		if o.ProtectedStatus != http.StatusOK || err != nil || len(markets.Data) == 0 {
			t.Errorf("%s: the protected call got %d with %s (%v), want 200 and the markets", name, o.ProtectedStatus, o.ProtectedBody, err)
		}
	}

	// What reached the mock: HTTP Basic for client_secret_basic, none for
	// client_secret_post (the secret was in the form).
	var captured struct {
		Requests []struct {
			ClientID      string `json:"client_id"`
			Status        int    `json:"status"`
			Authorization string `json:"authorization"`
		} `json:"requests"`
	}
	getJSON(t, target+"/_tollgate/requests?endpoint=token", &captured)
	var seen []string
	for _, r := range captured.Requests {
		seen = append(seen, r.ClientID+" "+http.StatusText(r.Status)+" "+r.Authorization)
	}
	basic := "Basic client=" + mockserver.SeedClientID
	wantSeen := []string{
		mockserver.SeedClientID + " OK " + basic, mockserver.SeedClientID + " Unauthorized " + basic,
		mockserver.SeedClientID + " OK ", mockserver.SeedClientID + " Unauthorized ",
	}
	if strings.Join(seen, "\n") != strings.Join(wantSeen, "\n") {
		t.Errorf("token requests the mock saw:\n%s\nwant\n%s", strings.Join(seen, "\n"), strings.Join(wantSeen, "\n"))
	}
}

// getJSON decodes the JSON answer of a GET into out.
func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// jsAuthOutcome is what e2e/clients/js-auth.mjs prints. Each step holds
// Thrown when the call threw.
type jsAuthOutcome struct {
	Authenticate struct {
		TokenType   string `json:"tokenType"`
		ExpiresIn   int    `json:"expiresIn"`
		Scope       string `json:"scope"`
		TokenLength int    `json:"tokenLength"`
		Errors      []any  `json:"errors"`
		Thrown      string `json:"thrown"`
	} `json:"authenticate"`
	WrongSecret struct {
		AccessToken string `json:"accessToken"`
		Errors      []struct {
			Code   string `json:"code"`
			Title  string `json:"title"`
			Detail string `json:"detail"`
			Status any    `json:"status"`
		} `json:"errors"`
		Thrown string `json:"thrown"`
	} `json:"wrongSecret"`
	Verify struct {
		Alg    string `json:"alg"`
		Kid    string `json:"kid"`
		Iss    string `json:"iss"`
		Thrown string `json:"thrown"`
	} `json:"verify"`
	VerifyAltered struct {
		Verified bool   `json:"verified"`
		Thrown   string `json:"thrown"`
	} `json:"verifyAltered"`
	Before, After struct {
		Status int    `json:"status"`
		Thrown string `json:"thrown"`
	}
	Revoke json.RawMessage `json:"revoke"`
}

// TestJSAuth runs @commercelayer/js-auth 8, unmodified and with Node's own
// fetch, against `tollgate serve --tls`: js-auth hard-codes
// https://auth.<domain>/oauth/token, so the test gives it the domain
// localhost:PORT, trusts the run's CA with NODE_EXTRA_CA_CERTS, and lets the
// node process alone resolve auth.localhost to 127.0.0.1 from a hosts file
// of its own (libnss-wrapper: LD_PRELOAD and NSS_WRAPPER_HOSTS; Node, unlike
// curl and browsers, does not resolve *.localhost by itself). js-auth gets a
// token, sees a wrong secret as an error with errors[], verifies the token
// with jwtVerify against the JWKS of its issuer https://auth.localhost:PORT
// (and refuses an altered one), and revokes it: the protected route opens
// before and refuses after.
func TestJSAuth(t *testing.T) {
	bin := tollgateBinary(t)
	nssWrapper := findNSSWrapper(t)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	target := startServe(t, bin, dir, "tls:\n  enabled: true\n  names: [auth.localhost]\n  ca_out: "+ca+"\n")
	port := target[strings.LastIndex(target, ":")+1:]
	hosts := filepath.Join(dir, "hosts")
	if err := os.WriteFile(hosts, []byte("127.0.0.1 auth.localhost\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"NODE_EXTRA_CA_CERTS=" + ca, "LD_PRELOAD=" + nssWrapper, "NSS_WRAPPER_HOSTS=" + hosts}
	var got jsAuthOutcome
	runNode(t, env, &got, "js-auth.mjs", "localhost:"+port, mockserver.SeedClientID, mockserver.SeedClientSecret, protectedPath)

	a := got.Authenticate
	if a.Thrown != "" || len(a.Errors) != 0 || !strings.EqualFold(a.TokenType, "bearer") || a.TokenLength == 0 || a.ExpiresIn < 7000 || a.ExpiresIn > 7200 || a.Scope == "" {
		t.Fatalf("authenticate: %+v; want a Bearer token for about 7200 s with its scope", a)
	}
	w := got.WrongSecret
	if w.Thrown != "" || w.AccessToken != "" || len(w.Errors) == 0 {
		t.Errorf("authenticate with a wrong secret: %+v; want errors[] and no token", w)
	}
	for _, e := range w.Errors {
		if e.Code == "" || e.Title == "" || e.Detail == "" || fmt.Sprint(e.Status) != "401" {
			t.Errorf("wrong secret: errors[] item %+v, want code, title, detail and status 401", e)
		}
	}
	wantIss := "https://auth.localhost:" + port
	if v := got.Verify; v.Thrown != "" || v.Alg != "RS512" || v.Kid == "" || v.Iss != wantIss {
		t.Errorf("jwtVerify: %+v; want RS512 with a kid, iss %s", v, wantIss)
	}
	if v := got.VerifyAltered; v.Verified || !strings.Contains(v.Thrown, "Invalid signature") {
		t.Errorf("jwtVerify of an altered token: %+v; want InvalidTokenError: Invalid signature", v)
	}
	if got.Before.Status != http.StatusOK {
		t.Errorf("protected call before revoke: %+v, want 200", got.Before)
	}
	if string(got.Revoke) != "{}" {
		t.Errorf("revoke answered %s, want {}", got.Revoke)
	}
	if got.After.Status != http.StatusUnauthorized {
		t.Errorf("protected call after revoke: %+v, want 401", got.After)
	}
}

// findNSSWrapper returns the path of Debian's libnss_wrapper.so
// (scripts/install-e2e-clients.sh installs it).
func findNSSWrapper(t *testing.T) string {
	t.Helper()
	for _, pattern := range []string{"/usr/lib/*/libnss_wrapper.so", "/usr/lib*/libnss_wrapper.so"} {
		if found, _ := filepath.Glob(pattern); len(found) > 0 {
			return found[0]
		}
	}
	t.Fatal("no libnss_wrapper.so under /usr/lib: run scripts/install-e2e-clients.sh, as make e2e does (Debian package libnss-wrapper)")
	return ""
}
