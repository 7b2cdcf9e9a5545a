//go:build e2e

package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/tollgate/tollgate/mockserver"
)

// startServe starts `tollgate serve --quiet` on a free loopback port with
// the given config file text (addr is set here) and returns the URL it
// prints (https with tls.enabled); the server stops when the test ends.
// Whatever the config has the server write (tls.ca_out) is there once the
// URL is printed.
func startServe(t *testing.T, bin, dir, yaml string) string {
	t.Helper()
	config := filepath.Join(dir, "serve.yaml")
	if err := os.WriteFile(config, []byte("addr: 127.0.0.1:0\n"+yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--config", config, "--quiet")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("tollgate serve: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				found <- rest
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout) // the banner; the pipe must not fill
	}()
	select {
	case url := <-found:
		if !regexp.MustCompile(`^https?://127\.0\.0\.1:\d+$`).MatchString(url) {
			t.Fatalf("tollgate serve listens on %q, want http(s)://127.0.0.1:PORT", url)
		}
		return url
	case <-time.After(30 * time.Second):
		t.Fatalf("tollgate serve printed no \"listening on\" line within 30 s; stderr:\n%s", stderr.String())
	}
	return ""
}

// browse loads url in headless Chromium, lets its scripts run (their
// fetches included, up to 10 s of the page's time) and returns the DOM it
// built and the lines the page logged to the console (where Chromium also
// reports what CORS or a Content-Security-Policy blocked). The browser is
// kept off the network: no background services, and every host name but
// 127.0.0.1 resolves to nothing.
func browse(t *testing.T, chromium, url string) (dom string, console []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := []string{
		"--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
		"--disable-extensions", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-default-apps", "--no-pings", "--disable-domain-reliability",
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
		"--user-data-dir=" + t.TempDir(),
		"--enable-logging=stderr", "--v=0",
		"--virtual-time-budget=10000",
		"--dump-dom", url,
	}
	if os.Geteuid() == 0 {
		args = append([]string{"--no-sandbox"}, args...) // Chromium's sandbox refuses root
	}
	cmd := exec.CommandContext(ctx, chromium, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || ctx.Err() != nil {
		t.Fatalf("chromium --dump-dom %s: %v (%v)\nstderr:\n%s", url, err, ctx.Err(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "<body>") {
		t.Fatalf("chromium --dump-dom %s printed no document:\n%s\nstderr:\n%s", url, stdout.String(), stderr.String())
	}
	for line := range strings.Lines(stderr.String()) {
		if strings.Contains(line, ":CONSOLE") || strings.Contains(line, "Content Security Policy") {
			console = append(console, strings.TrimSpace(line))
		}
	}
	return stdout.String(), console
}

// pageOutcome is what e2e/clients/browser.html writes into its #result.
type pageOutcome struct {
	BareStatus      int             `json:"bareStatus"`
	BareChallenge   string          `json:"bareChallenge"`
	TokenStatus     int             `json:"tokenStatus"`
	ProtectedStatus int             `json:"protectedStatus"`
	ProtectedBody   json.RawMessage `json:"protectedBody"`
	Error           string          `json:"error"`
}

// TestBrowserCrossOrigin opens e2e/clients/browser.html in headless
// Chromium from another origin than the mock's (another port): the page
// reads the challenge of a bare call, gets a token and calls a protected
// route, with fetch's default credentials mode and with credentials
// 'include'. With the default CORS settings the browser hands the page
// every answer without credentials and refuses the credentialed calls;
// with the page's origin listed and cors_allow_credentials on, the
// credentialed calls work too.
func TestBrowserCrossOrigin(t *testing.T) {
	chromium := findChromium(t)
	bin := tollgateBinary(t)
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join("clients", "browser.html"))
	}))
	t.Cleanup(page.Close)

	tests := []struct {
		name        string
		yaml        string
		credentials string // the page's credentials mode; "" for fetch's default
		wantRefusal string // in the console when the browser refuses the answer; "" when the calls work
	}{
		{name: "any origin", yaml: ""},
		{name: "any origin, credentials", yaml: "", credentials: "include", wantRefusal: "Access-Control-Allow-Credentials"},
		{name: "listed origin with credentials", yaml: "cors_origins: [" + page.URL + "]\ncors_allow_credentials: true\n", credentials: "include"},
		{name: "listed origin with credentials, called without", yaml: "cors_origins: [" + page.URL + "]\ncors_allow_credentials: true\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target := startServe(t, bin, t.TempDir(), tc.yaml)
			q := url.Values{"mock": {target}, "client_id": {mockserver.SeedClientID}, "client_secret": {mockserver.SeedClientSecret}}
			if tc.credentials != "" {
				q.Set("credentials", tc.credentials)
			}
			dom, console := browse(t, chromium, page.URL+"/browser.html?"+q.Encode())
			var got pageOutcome
			result := elementText(t, dom, "result")
			if err := json.Unmarshal([]byte(result), &got); err != nil {
				t.Fatalf("#result is %q, not the page's JSON outcome (%v); console:\n%s", result, err, strings.Join(console, "\n"))
			}
			if tc.wantRefusal != "" {
				if got.Error == "" || got.TokenStatus != 0 || !slices.ContainsFunc(console, func(l string) bool { return strings.Contains(l, tc.wantRefusal) }) {
					t.Errorf("page error %q, token %d, protected call %d; console:\n%s\nwant the browser to refuse the answers, naming %s", got.Error, got.TokenStatus, got.ProtectedStatus, strings.Join(console, "\n"), tc.wantRefusal)
				}
				return
			}
			if got.Error != "" || len(console) != 0 {
				t.Fatalf("the page failed: %s; console:\n%s", got.Error, strings.Join(console, "\n"))
			}
			if got.BareStatus != http.StatusUnauthorized || !strings.HasPrefix(got.BareChallenge, "Bearer ") {
				t.Errorf("bare call: %d with challenge %q readable by the page, want 401 and Bearer …", got.BareStatus, got.BareChallenge)
			}
			var markets struct {
				Data []struct{ ID string } `json:"data"`
			}
			if err := json.Unmarshal(got.ProtectedBody, &markets); err != nil || got.TokenStatus != http.StatusOK || got.ProtectedStatus != http.StatusOK || len(markets.Data) == 0 {
				t.Errorf("token %d, protected call %d with %s (%v); want 200, 200 and the markets", got.TokenStatus, got.ProtectedStatus, got.ProtectedBody, err)
			}
		})
	}
}

// elementText returns the text of the DOM's element with the given id.
func elementText(t *testing.T, dom, id string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(dom))
	if err != nil {
		t.Fatalf("the dumped DOM does not parse: %v", err)
	}
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && slices.ContainsFunc(n.Attr, func(a html.Attribute) bool { return a.Key == "id" && a.Val == id }) {
			var text strings.Builder
			for c := range n.Descendants() {
				if c.Type == html.TextNode {
					text.WriteString(c.Data)
				}
			}
			return text.String()
		}
	}
	t.Fatalf("the DOM has no element with id %q:\n%s", id, dom)
	return ""
}
