//go:build e2e

package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/probe"
)

// hostileReason is a waiver reason that tries to add markup to the page.
const hostileReason = "ticket SEC-1 <b>bold</b><script>alert(1)</script>"

// verdictOrder is the order of the page's counts.
var verdictOrder = []framework.Verdict{
	framework.VerdictPass, framework.VerdictFail, framework.VerdictWarn, framework.VerdictWaived, framework.VerdictInfo,
	framework.VerdictNotVerified, framework.VerdictInconclusive, framework.VerdictSkip, framework.VerdictNA,
}

// TestHTMLReportInBrowser runs `tollgate check --html-report` against a
// conformant mock and a broken one, opens each page in headless Chromium
// and reads the text the browser parsed: the counts agree with
// --summary-json, a passing check shows with its title, each FAIL shows
// with its evidence and the curl that repeats it, and neither the client
// secret nor a token the run held appears anywhere.
func TestHTMLReportInBrowser(t *testing.T) {
	chromium := findChromium(t)
	bin := tollgateBinary(t)
	checks := framework.NewChecks()

	tests := []struct {
		name      string
		mutations []string
		flow      string
		wantExit  int
		wantFails []string // FAIL checks whose evidence and curl the test reads
		waived    string   // a check the run waives, with hostileReason
	}{
		{name: "conformant", flow: "simple", wantExit: 0},
		{name: "broken", mutations: []string{"accept-any-bearer", "echo-secret", "no-cache-control"}, flow: "oauth2", wantExit: 1, wantFails: []string{"BEAR-004", "TOK-035"}, waived: "TOK-003"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			target := startMock(t, bin, dir, tc.mutations)
			page := filepath.Join(dir, "report.html")
			summaryPath := filepath.Join(dir, "summary.json")
			tokenPath := filepath.Join(dir, "token.json")
			args := []string{"--target", target, "--flow", tc.flow, "--html-report", page, "--summary-json", summaryPath, "--save-token", tokenPath}
			if tc.waived != "" {
				waivers := filepath.Join(dir, "waivers.yaml")
				if err := os.WriteFile(waivers, []byte("- check: "+tc.waived+"\n  reason: '"+hostileReason+"'\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--waivers", waivers)
			}
			code, out := runCheck(t, bin, args...)
			if code != tc.wantExit {
				t.Fatalf("tollgate check exit %d, want %d:\n%s", code, tc.wantExit, out)
			}
			summary := readSummary(t, summaryPath)
			token := readToken(t, tokenPath)

			dom := dumpDOM(t, chromium, page)
			text := pageText(t, dom)
			raw, err := os.ReadFile(page)
			if err != nil {
				t.Fatal(err)
			}

			outcome := "PASSED"
			if tc.wantExit != 0 {
				outcome = "FAILED"
			}
			var counts []string
			n := summary.Count()
			for _, v := range verdictOrder {
				if n[v] > 0 {
					counts = append(counts, fmt.Sprintf("%d %s", n[v], v))
				}
			}
			wants := []string{
				fmt.Sprintf("Tollgate conformance report %s %s, flow %s, profile ", outcome, target, tc.flow),
				fmt.Sprintf("Summary %d checks %s Failures and warnings", len(summary.Results), strings.Join(counts, " ")),
				"PASS TOK-001 MUST " + checks["TOK-001"].Title + " " + checks["TOK-001"].Source,
				"Configuration target " + target + " flow " + tc.flow + " profile ",
				"client id " + mockserver.SeedClientID,
			}
			if len(summary.Results) < 50 {
				t.Errorf("%d results in --summary-json, want the whole suite", len(summary.Results))
			}
			for _, r := range summary.Results {
				if r.Verdict == framework.VerdictFail || r.Verdict == framework.VerdictWarn {
					wants = append(wants, fmt.Sprintf("%s %s [%s]: %s level %s", r.Verdict, r.ID, r.Flow, r.Title, r.Level))
				}
			}
			if tc.waived != "" {
				wants = append(wants, fmt.Sprintf("Waivers These checks failed or warned as a waiver expects; they do not fail the run. WAIVED %s [%s]: %s", tc.waived, tc.flow, checks[tc.waived].Title),
					"What happened waived (was FAIL): "+hostileReason,
					"Check Flow Expires Reason "+tc.waived+" every flow never "+hostileReason)
				if elements := elementsNamed(t, dom, "b", "script"); elements != 0 {
					t.Errorf("the page has %d <b> or <script> elements: the waiver's reason became markup", elements)
				}
			}
			for _, id := range tc.wantFails {
				r, ok := result(summary, id)
				if !ok || r.Verdict != framework.VerdictFail {
					t.Errorf("%s: %+v in --summary-json, want FAIL", id, r)
					continue
				}
				// The message holds the evidence (redacted) with its
				// repeat: line; the page shows them apart.
				at := strings.Index(r.Message, "\n> ")
				if at < 0 {
					t.Errorf("%s: no evidence in its message:\n%s", id, r.Message)
					continue
				}
				ev := r.Message[at:]
				request, _, _ := strings.Cut(strings.TrimPrefix(ev, "\n"), "\n")
				curl := probe.RepeatCommand(ev)
				if !strings.HasPrefix(curl, "curl -si -X ") || !strings.Contains(curl, target) {
					t.Fatalf("%s: no curl line in its message:\n%s", id, r.Message)
				}
				wants = append(wants, fmt.Sprintf("%s %s [%s]: %s", r.Verdict, id, r.Flow, r.Title),
					"Evidence (secrets redacted) "+strings.Join(strings.Fields(request), " "),
					"Repeat it "+strings.Join(strings.Fields(curl), " "))
			}
			if tc.wantExit != 0 && len(tc.wantFails) == 0 {
				t.Fatal("a failing case names no FAIL to read")
			}
			for _, w := range wants {
				if !strings.Contains(text, w) {
					t.Errorf("the page's text lacks\n  %s\ntext:\n%s", w, text)
				}
			}
			for what, secret := range map[string]string{"the client secret": mockserver.SeedClientSecret, "the primary token": token} {
				if strings.Contains(dom, secret) || bytes.Contains(raw, []byte(secret)) {
					t.Errorf("the page shows %s", what)
				}
			}
		})
	}
}

// findChromium returns Chromium's path: $CHROMIUM, else /usr/bin/chromium.
func findChromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no Chromium at %s (%v): run scripts/install-chromium.sh, as make e2e does, or set CHROMIUM", path, err)
	}
	return path
}

// tollgateBinary returns $TOLLGATE_BIN, else a binary built for the test.
func tollgateBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("TOLLGATE_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "tollgate")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "../cmd/tollgate").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startMock starts `tollgate serve` on a free loopback port with the given
// mutations and returns its URL; the server stops when the test ends.
func startMock(t *testing.T, bin, dir string, mutations []string) string {
	t.Helper()
	yaml := ""
	if len(mutations) > 0 {
		yaml = "mutations: [" + strings.Join(mutations, ", ") + "]\n"
	}
	return startServe(t, bin, dir, yaml)
}

// runCheck runs `tollgate check` with the mock's seed client and returns
// its exit code and output.
func runCheck(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"check"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TOLLGATE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "TOLLGATE_CLIENT_ID="+mockserver.SeedClientID, "TOLLGATE_CLIENT_SECRET="+mockserver.SeedClientSecret)
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("tollgate check did not end within 2 minutes:\n%s", out)
	case errors.As(err, &exitErr):
		return exitErr.ExitCode(), string(out)
	case err != nil:
		t.Fatalf("tollgate check: %v", err)
	}
	return 0, string(out)
}

func readSummary(t *testing.T, path string) framework.Summary {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s framework.Summary
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("--summary-json: %v", err)
	}
	return s
}

func readToken(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var saved probe.SavedToken
	if err := json.Unmarshal(data, &saved); err != nil || len(saved.Token) < 8 {
		t.Fatalf("--save-token wrote %q (%v), want a token", data, err)
	}
	return saved.Token
}

func result(s framework.Summary, id string) (framework.Result, bool) {
	for _, r := range s.Results {
		if r.ID == id {
			return r, true
		}
	}
	return framework.Result{}, false
}

// dumpDOM loads the page in headless Chromium and returns the DOM it
// built. Anything the page makes the browser log to its console fails the
// test: that is where Chromium reports what the page's
// Content-Security-Policy blocked (a style sheet whose hash is not the one
// the CSP names, a fetch).
func dumpDOM(t *testing.T, chromium, page string) string {
	t.Helper()
	dom, console := browse(t, chromium, "file://"+page)
	for _, line := range console {
		t.Errorf("chromium logged a console message for the page: %s", line)
	}
	return dom
}

// elementsNamed counts the DOM's elements with any of the names.
func elementsNamed(t *testing.T, dom string, names ...string) int {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(dom))
	if err != nil {
		t.Fatalf("the dumped DOM does not parse: %v", err)
	}
	n := 0
	for node := range doc.Descendants() {
		if node.Type == html.ElementNode && slices.Contains(names, node.Data) {
			n++
		}
	}
	return n
}

// pageText returns the text of the DOM's body as a reader sees it: the
// text nodes in order, runs of blanks as one space.
func pageText(t *testing.T, dom string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(dom))
	if err != nil {
		t.Fatalf("the dumped DOM does not parse: %v", err)
	}
	var parts []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "head" || n.Data == "style" || n.Data == "script") {
			return
		}
		if n.Type == html.TextNode {
			parts = append(parts, n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
}
