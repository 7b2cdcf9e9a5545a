package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/mockserver/mockservertest"
	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/probe"
)

// `tollgate check` runs the Ginkgo suite, and ginkgo.RunSpecs runs once per
// process: every test that may get past preflight runs a built binary, never
// run() in this process.

// binDir holds the binary built for the check tests; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var buildTollgate = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "tollgate-check-test")
	if err != nil {
		return "", err
	}
	binDir = dir
	path := filepath.Join(dir, "tollgate")
	args := []string{"build", "-o", path}
	// Build as this test binary was built, so go test -race reuses its
	// compiled packages (and the checks run under the race detector too).
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "-race" && s.Value == "true" {
				args = append(args, "-race")
			}
		}
	}
	out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return path, nil
})

// tollgateBin returns the path of the built binary, building it once.
func tollgateBin(t *testing.T) string {
	t.Helper()
	path, err := buildTollgate()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// checkMock starts a mock server for one test, once the binary is built:
// its manual clock starts now, so the run sees no clock skew.
func checkMock(t *testing.T) string {
	t.Helper()
	tollgateBin(t)
	return mockservertest.NewServer(t).URL
}

// seedEnv is the mock's seed client, as the environment gives it.
var seedEnv = []string{"TOLLGATE_CLIENT_ID=" + mockserver.SeedClientID, "TOLLGATE_CLIENT_SECRET=" + mockserver.SeedClientSecret}

// checkRun is one run of the binary.
type checkRun struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

// runTollgate runs the binary with args and an environment of env alone as
// far as TOLLGATE_* goes: the caller's own TOLLGATE_TARGET or secrets never
// leak into a test.
func runTollgate(t *testing.T, env []string, args ...string) checkRun {
	t.Helper()
	bin := tollgateBin(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TOLLGATE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := checkRun{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("tollgate %q did not end within a minute; stdout:\n%s\nstderr:\n%s", args, r.stdout, r.stderr)
	case errors.As(err, &exitErr):
		r.code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("tollgate %q: %v", args, err)
	}
	return r
}

// mockTarget in the args of checkExitTwo is replaced by a running mock's URL.
const mockTarget = "MOCK"

// checkExitTwo runs `tollgate check` with args (mockTarget replaced by a
// running mock) and env, and asserts what every configuration error gives:
// exit 2, nothing on stdout (no check ran), and one stderr line holding
// each of want. It returns the run for further assertions.
func checkExitTwo(t *testing.T, env, args []string, want ...string) checkRun {
	t.Helper()
	args = append([]string{"check"}, args...)
	for i, a := range args {
		if a == mockTarget {
			args[i] = checkMock(t)
		}
	}
	r := runTollgate(t, env, args...)
	if r.code != 2 {
		t.Errorf("exit code %d, want 2; stderr: %s", r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing: no check may run", r.stdout)
	}
	oneStderrLine(t, r.stderr, want...)
	return r
}

// oneStderrLine fails the test unless stderr is one "tollgate: " line
// holding each of want.
func oneStderrLine(t *testing.T, stderr string, want ...string) {
	t.Helper()
	if !strings.HasPrefix(stderr, "tollgate: ") || !strings.HasSuffix(stderr, "\n") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("stderr %q, want one line starting with \"tollgate: \"", stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q lacks %q", stderr, w)
		}
	}
}

var (
	// countLine is the last line of the summary: "87 checks: 51 PASS, 1 WARN, …".
	countLine = regexp.MustCompile(`(?m)^(\d+) checks: (\d+ [A-Z/ ]+(?:, \d+ [A-Z/ ]+)*)$`)
	// checkLine is one check's line: "    PASS         TOK-001   MUST   Valid credentials…".
	checkLine = regexp.MustCompile(`(?m)^    (PASS|FAIL|WARN|WAIVED|INFO|NOT VERIFIED|INCONCLUSIVE|SKIP|N/A) +([A-Z]+-\d{3}) +(MUST|SHOULD|INFO) +\S`)
)

// checkLines returns the verdict of each check line of stdout by ID, and
// the count the summary line gives.
func checkLines(t *testing.T, stdout string) (map[string]string, int) {
	t.Helper()
	m := countLine.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("stdout has no \"N checks: …\" line:\n%s", stdout)
	}
	n, _ := strconv.Atoi(m[1])
	verdicts := map[string]string{}
	for _, l := range checkLine.FindAllStringSubmatch(stdout, -1) {
		if _, dup := verdicts[l[2]]; dup {
			t.Errorf("%s has two lines", l[2])
		}
		verdicts[l[2]] = l[1]
	}
	return verdicts, n
}

// junitReport is what the test reads of a JUnit XML report.
type junitReport struct {
	XMLName xml.Name `xml:"testsuites"`
	Suites  []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Name    string    `xml:"name,attr"`
			Failure *struct{} `xml:"failure"`
			Skipped *struct{} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// TestCheckAgainstMock runs every check of the simple flow against the mock:
// a conformant server passes, every check reports one line, and the JUnit
// report is well-formed.
func TestCheckAgainstMock(t *testing.T) {
	t.Parallel()
	target := checkMock(t)
	junit := filepath.Join(t.TempDir(), "junit.xml")
	page := filepath.Join(t.TempDir(), "report.html")
	r := runTollgate(t, seedEnv, "check", "--target", target, "--flow", "simple", "--junit-report", junit, "--html-report", page)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q; want 0 and nothing\nstdout:\n%s", r.code, r.stderr, r.stdout)
	}
	if first, _, _ := strings.Cut(r.stdout, "\n"); first != "tollgate check: "+target+", flow simple, profile simple" {
		t.Errorf("first line %q, want the target, flow and profile", first)
	}
	verdicts, n := checkLines(t, r.stdout)
	if len(verdicts) != n {
		t.Errorf("%d check lines, the summary counts %d:\n%s", len(verdicts), n, r.stdout)
	}
	catalog := framework.NewChecks()
	for id := range verdicts {
		if _, ok := catalog[id]; !ok {
			t.Errorf("line for %s, which is not in the catalog", id)
		}
	}
	for id := range catalog {
		if _, ok := verdicts[id]; !ok {
			t.Errorf("no line for %s: every check reports a verdict on every flow", id)
		}
	}
	// The mock issues UUIDv4 tokens: 122 random bits, a WARN under simple.
	for id, want := range map[string]string{"TOK-001": "PASS", "BEAR-001": "PASS", "TOK-011": "WARN"} {
		if verdicts[id] != want {
			t.Errorf("%s: %q, want %s", id, verdicts[id], want)
		}
	}
	for id, got := range verdicts {
		if got == "FAIL" || got == "INCONCLUSIVE" {
			t.Errorf("%s: %s against the conformant mock", id, got)
		}
	}
	if !strings.Contains(r.stdout, "\nWARN TOK-011 [simple]: ") {
		t.Errorf("stdout does not explain the WARN of TOK-011 below the table:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "JUnit report: "+junit+"\n") {
		t.Errorf("stdout does not name the JUnit report:\n%s", r.stdout)
	}

	if !strings.Contains(r.stdout, "HTML report: "+page+"\n") {
		t.Errorf("stdout does not name the HTML report:\n%s", r.stdout)
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatalf("--html-report: %v", err)
	}
	// The page's own tests (suites/framework, make e2e) read it in full;
	// here: the run's verdicts reached it, and no secret did.
	for _, want := range []string{"PASSED", fmt.Sprintf("<p id=\"total\">%d checks</p>", n), "TOK-001", "WARN</span> TOK-011 [simple]", "testClient"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("--html-report lacks %q", want)
		}
	}
	if strings.Contains(string(html), mockserver.SeedClientSecret) {
		t.Error("--html-report shows the client secret")
	}

	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatalf("--junit-report: %v", err)
	}
	var rep junitReport
	if err := xml.Unmarshal(data, &rep); err != nil {
		t.Fatalf("--junit-report is not XML: %v\n%s", err, data)
	}
	if len(rep.Suites) != 1 {
		t.Fatalf("%d testsuite elements, want 1", len(rep.Suites))
	}
	s := rep.Suites[0]
	if !strings.Contains(s.Name, "simple") || s.Failures != 0 {
		t.Errorf("testsuite %q with %d failures, want the simple flow's with none", s.Name, s.Failures)
	}
	var cases []string
	for _, c := range s.Cases {
		if strings.Contains(c.Name, "TOK-001") || strings.Contains(c.Name, "TOK-011") {
			cases = append(cases, c.Name)
		}
		if c.Failure != nil {
			t.Errorf("testcase %q failed", c.Name)
		}
	}
	if len(cases) != 2 || len(s.Cases) < n {
		t.Errorf("%d testcases, %d of them TOK-001 or TOK-011 (%q); want at least %d and both", len(s.Cases), len(cases), cases, n)
	}
}

// TestCheckRevocationEndpoints: --revocation-endpoint and
// TOLLGATE_INTROSPECTION_ENDPOINT replace the flow document's endpoints (a
// path that does not exist makes REV and INTRO fail), and without either
// the document's endpoints pass.
func TestCheckRevocationEndpoints(t *testing.T) {
	t.Parallel()
	target := checkMock(t)
	filter := []string{"check", "--target", target, "--flow", "oauth2", "--label-filter", "area:revocation || area:introspection"}
	r := runTollgate(t, seedEnv, filter...)
	verdicts, _ := checkLines(t, r.stdout)
	for _, id := range []string{"REV-001", "REV-002", "REV-003", "REV-004", "INTRO-001", "INTRO-002", "INTRO-003"} {
		if verdicts[id] != "PASS" {
			t.Errorf("%s: %q with the document's endpoints, want PASS\n%s", id, verdicts[id], r.stdout)
		}
	}
	if verdicts["REV-005"] != "NOT VERIFIED" || !strings.Contains(r.stdout, "client2") {
		t.Errorf("REV-005 without client2: %q, want NOT VERIFIED naming client2\n%s", verdicts["REV-005"], r.stdout)
	}
	env := append([]string{"TOLLGATE_INTROSPECTION_ENDPOINT=" + target + "/nowhere"}, seedEnv...)
	r = runTollgate(t, env, append(filter, "--revocation-endpoint", "/nowhere")...)
	verdicts, _ = checkLines(t, r.stdout)
	if r.code != 1 || verdicts["REV-001"] != "FAIL" || verdicts["INTRO-002"] != "FAIL" {
		t.Errorf("exit %d, REV-001 %q, INTRO-002 %q with endpoints that do not exist; want 1, FAIL, FAIL\n%s", r.code, verdicts["REV-001"], verdicts["INTRO-002"], r.stdout)
	}
}

// TestCheckSecrets: the primary secret from a file, and from the command
// line with a warning; either way no secret reaches the output.
func TestCheckSecrets(t *testing.T) {
	t.Parallel()
	secretFile := writeFile(t, "secret", mockserver.SeedClientSecret+"\n")
	tests := []struct {
		name       string
		env        []string
		args       []string
		wantStderr string // "": none
	}{
		{name: "--client-secret-file", env: []string{"TOLLGATE_CLIENT_ID=" + mockserver.SeedClientID}, args: []string{"--client-secret-file", secretFile}},
		{name: "--client-secret-file beats the environment", env: []string{"TOLLGATE_CLIENT_ID=" + mockserver.SeedClientID, "TOLLGATE_CLIENT_SECRET=wrong"}, args: []string{"--client-secret-file", secretFile}},
		{name: "TOLLGATE_CLIENT_SECRET_FILE", env: []string{"TOLLGATE_CLIENT_ID=" + mockserver.SeedClientID, "TOLLGATE_CLIENT_SECRET_FILE=" + secretFile}},
		{
			name:       "--client-secret",
			args:       []string{"--client-id", mockserver.SeedClientID, "--client-secret", mockserver.SeedClientSecret},
			wantStderr: "tollgate: warning: --client-secret shows in ps and shell history; prefer TOLLGATE_CLIENT_SECRET or --client-secret-file\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			target := checkMock(t)
			args := append([]string{"check", "--target", target, "--flow", "simple", "--label-filter", "area:token"}, tt.args...)
			r := runTollgate(t, tt.env, args...)
			if r.code != 0 || r.stderr != tt.wantStderr {
				t.Fatalf("exit %d, stderr %q; want 0 and %q\nstdout:\n%s", r.code, r.stderr, tt.wantStderr, r.stdout)
			}
			verdicts, n := checkLines(t, r.stdout)
			if verdicts["TOK-001"] != "PASS" || verdicts["BEAR-001"] != "" || n != len(verdicts) {
				t.Errorf("TOK-001 %q, BEAR-001 %q, %d lines for %d checks; want PASS, no line (area:token) and one line each", verdicts["TOK-001"], verdicts["BEAR-001"], len(verdicts), n)
			}
			if strings.Contains(r.stdout, mockserver.SeedClientSecret) {
				t.Errorf("stdout shows the client secret:\n%s", r.stdout)
			}
		})
	}
}

// TestCheckExitTwo: configuration and preflight errors end the run with exit
// code 2 and one line that names the fix, before any check runs.
func TestCheckExitTwo(t *testing.T) {
	t.Parallel()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String()
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}

	syntaxError := writeFile(t, "syntax.yaml", "target: http://127.0.0.1:1\nflow: [simple\n")
	unknownKey := writeFile(t, "unknown.yaml", "target: http://127.0.0.1:1\nflow: simple\ntimeot: 3s\n")
	badWaivers := writeFile(t, "waivers.yaml", "- check: TOK-011\n  reason: UUIDv4\n  expires: 31/12/2099\n")
	unknownWaived := writeFile(t, "waivers-unknown.yaml", "- check: TOK-011\n  reason: UUIDv4\n- check: TOK-9999\n  reason: typo\n")
	// No query can fill ping's argument within the suite's depth bound.
	deepSDL := writeFile(t, "deep.graphql", "type Query { ping(x: A!): String }\ninput A { b: B! }\ninput B { c: C! }\ninput C { d: D! }\ninput D { e: E! }\ninput E { x: Int! }\n")
	badSDL := writeFile(t, "bad.graphql", "type Query { ping: Nope }\n")

	tests := []struct {
		name  string
		env   []string
		args  []string
		want  []string
		quick bool // must end within 2 s: no network I/O before the error
	}{
		{name: "unreachable target", env: seedEnv, args: []string{"--target", closedURL, "--flow", "simple"}, want: []string{"preflight", closedURL, "unreachable", "fix --target"}},
		{name: "wrong secret", env: []string{"TOLLGATE_CLIENT_ID=" + mockserver.SeedClientID, "TOLLGATE_CLIENT_SECRET=wrong"}, args: []string{"--target", mockTarget, "--flow", "simple"}, want: []string{"preflight", `client "testClient" cannot get a token`, "TOLLGATE_CLIENT_SECRET"}},
		{name: "misspelled flow", env: seedEnv, args: []string{"--target", mockTarget, "--flow", "simpel"}, want: []string{`unknown flow "simpel"`, "simple", "path to a flow document"}},
		{name: "target file not YAML", env: seedEnv, args: []string{"--config", syntaxError}, want: []string{syntaxError + ":"}},
		{name: "target file unknown key", env: seedEnv, args: []string{"--config", unknownKey}, want: []string{"target file " + unknownKey + ":3:", "unknown key timeot", "fix its spelling", "docs/check.md"}},
		{name: "unknown --require capability", env: seedEnv, args: []string{"--target", mockTarget, "--flow", "simple", "--require", "logout"}, want: []string{"require", `unknown capability "logout"`, "revocation, introspection"}, quick: true},
		{name: "unknown --opt-in check", env: seedEnv, args: []string{"--target", mockTarget, "--flow", "simple", "--opt-in", "TOK-037,TOK-999"}, want: []string{"TOK-999"}, quick: true},
		{name: "missing stale token file", env: seedEnv, args: []string{"--target", mockTarget, "--flow", "simple", "--stale-token-file", "/does/not/exist.json"}, want: []string{"stale token file", "/does/not/exist.json"}},
		{name: "stale token file not JSON", env: append([]string{"TOLLGATE_STALE_TOKEN_FILE=" + unknownKey}, seedEnv...), args: []string{"--target", mockTarget, "--flow", "simple"}, want: []string{"stale token file " + unknownKey, "--save-token"}},
		{name: "unknown --operation", env: seedEnv, args: []string{"--target", mockTarget, "--flow", "simple", "--operation", "GET /api/colections"}, want: []string{`operation "GET /api/colections"`, "listCollections"}},
		{name: "unwritable --junit-report", env: seedEnv, args: []string{"--target", mockTarget, "--flow", "simple", "--junit-report", "/does/not/exist/junit.xml"}, want: []string{"--junit-report", "/does/not/exist/junit.xml", "writable path"}, quick: true},
		{name: "unwritable --html-report", env: seedEnv, args: []string{"--target", mockTarget, "--flow", "simple", "--html-report", "/does/not/exist/report.html"}, want: []string{"--html-report", "/does/not/exist/report.html", "writable path"}, quick: true},
		{name: "--html-report a directory", env: seedEnv, args: []string{"--target", mockTarget, "--flow", "simple", "--html-report", os.TempDir()}, want: []string{"--html-report", "is a directory", "writable path"}, quick: true},
		{name: "unwritable --save-token", env: seedEnv, args: []string{"--target", mockTarget, "--flow", "simple", "--save-token", "/does/not/exist/token.json"}, want: []string{"--save-token", "/does/not/exist/token.json", "writable path"}},
		{name: "missing target file", env: seedEnv, args: []string{"--config", "/does/not/exist.yaml"}, want: []string{"/does/not/exist.yaml", "--config"}},
		{name: "missing client id", args: []string{"--target", mockTarget, "--flow", "simple"}, want: []string{"no client", "TOLLGATE_CLIENT_ID"}},
		{name: "plain http to another host", env: seedEnv, args: []string{"--target", "http://example.invalid", "--flow", "simple"}, want: []string{"http://example.invalid", "plain http", "--insecure"}, quick: true},
		{name: "bad --revocation-endpoint", env: seedEnv, args: []string{"--target", "http://127.0.0.1:1", "--flow", "simple", "--revocation-endpoint", "oauth/revoke"}, want: []string{"revocation_endpoint", "absolute http(s) URL or a path"}, quick: true},
		{name: "bad --jwks-uri", env: seedEnv, args: []string{"--target", "http://127.0.0.1:1", "--flow", "oauth2", "--jwks-uri", "oauth/jwks"}, want: []string{"jwks_uri", `"oauth/jwks"`, "absolute http(s) URL or a path"}, quick: true},
		{name: "bad --metadata-url", env: seedEnv, args: []string{"--target", "http://127.0.0.1:1", "--flow", "oauth2", "--metadata-url", "https://as.example/meta#x"}, want: []string{"metadata_url", "fragment"}, quick: true},
		{name: "bad --fail-on", env: seedEnv, args: []string{"--target", mockTarget, "--flow", "simple", "--fail-on", "maybe"}, want: []string{`--fail-on "maybe"`, "must or should"}},
		{name: "bad waiver date", env: seedEnv, args: []string{"--target", mockTarget, "--flow", "simple", "--waivers", badWaivers}, want: []string{"waivers " + badWaivers + ":3:", "YYYY-MM-DD"}},
		{name: "unknown waived check", env: append([]string{"TOLLGATE_WAIVERS=" + unknownWaived}, seedEnv...), args: []string{"--target", mockTarget, "--flow", "simple"}, want: []string{unknownWaived + ":3:", `"TOK-9999"`, "--list-checks"}},
		{name: "GraphQL SDL no fixture can be built from", env: seedEnv, args: []string{"--target", mockTarget, "--flow", "simple", "--graphql-sdl", deepSDL}, want: []string{"graphql fixture does not match the SDL", deepSDL}},
		{name: "GraphQL SDL that is no schema", env: seedEnv, args: []string{"--target", mockTarget, "--flow", "simple", "--graphql-sdl", badSDL}, want: []string{"graphql sdl " + badSDL, "not a valid GraphQL schema", "Nope"}},
		{name: "missing GraphQL SDL file", env: seedEnv, args: []string{"--target", mockTarget, "--flow", "simple", "--graphql-sdl", "/does/not/exist.graphql"}, want: []string{"graphql sdl", "/does/not/exist.graphql"}},
		{name: "unknown --graphql-signalling", env: seedEnv, args: []string{"--target", "http://127.0.0.1:1", "--flow", "simple", "--graphql-signalling", "teapot"}, want: []string{`graphql signalling "teapot"`, "status401", "errors200"}, quick: true},
		{name: "missing waivers file", env: append([]string{"TOLLGATE_WAIVERS=/does/not/exist.yaml"}, seedEnv...), args: []string{"--target", mockTarget, "--flow", "simple"}, want: []string{"/does/not/exist.yaml", "--waivers"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := checkExitTwo(t, tt.env, tt.args, tt.want...)
			// A loose bound, not a speed target: a run that went on to
			// the network would wait out timeouts far longer than this;
			// a busy CI machine must not fail a correct refusal.
			if tt.quick && r.elapsed > 30*time.Second {
				t.Errorf("took %v: the config is invalid before any network I/O, so the refusal should not wait", r.elapsed)
			}
		})
	}
}

// TestCheckPreflightLeavesNoReport: a run that ends at preflight writes no
// report file: neither an empty new one nor over an old one.
func TestCheckPreflightLeavesNoReport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	old := filepath.Join(dir, "old.xml")
	if err := os.WriteFile(old, []byte("<old/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	reports := map[string]string{
		"--junit-report": old,
		"--json-report":  filepath.Join(dir, "report.json"),
		"--summary-json": filepath.Join(dir, "summary.json"),
		"--html-report":  filepath.Join(dir, "report.html"),
	}
	args := []string{"check", "--target", checkMock(t), "--flow", "simple"}
	for flag, path := range reports {
		args = append(args, flag, path)
	}
	env := []string{"TOLLGATE_CLIENT_ID=" + mockserver.SeedClientID, "TOLLGATE_CLIENT_SECRET=wrong"}
	r := runTollgate(t, env, args...)
	if r.code != 2 || !strings.Contains(r.stderr, "preflight") {
		t.Fatalf("exit %d, stderr %q; want 2 and a preflight error", r.code, r.stderr)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "old.xml" {
			t.Errorf("preflight failed, yet %s was left in the report folder", e.Name())
		}
	}
	if data, err := os.ReadFile(old); err != nil || string(data) != "<old/>" {
		t.Errorf("the earlier report is now %q (%v), want it untouched", data, err)
	}
}

// TestCheckWaivers: a waiver turns an expected WARN into WAIVED; a waiver
// of a check that passes, or an expired one, fails the run.
func TestCheckWaivers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		waivers    string // "": no --waivers
		env        bool   // give the file as TOLLGATE_WAIVERS
		failOnMust bool   // leave --fail-on at must: a WARN fails no run
		wantCode   int
		wantStdout []string
		wantStderr string
		wantJUnit  map[string]string // check ID -> "failure", "skipped" or "passed" in --junit-report
	}{
		{
			name:       "no waiver: the WARN fails --fail-on should",
			wantCode:   1,
			wantStdout: []string{"    WARN         TOK-011 "},
			wantStderr: "conformance checks failed",
			wantJUnit:  map[string]string{"TOK-011": "failure", "TOK-001": "passed"},
		},
		{
			name:       "a waived WARN passes --fail-on should",
			waivers:    "# UUIDv4 is what we ship\n- check: TOK-011\n  flow: simple\n  reason: UUIDv4 tokens, AUTH-123\n  expires: 2999-12-31\n",
			wantStdout: []string{"    WAIVED       TOK-011   SHOULD ", "(waived (was WARN): UUIDv4 tokens, AUTH-123)", " 1 WAIVED"},
			wantJUnit:  map[string]string{"TOK-011": "skipped", "TOK-001": "passed"},
		},
		{
			name:       "the same from TOLLGATE_WAIVERS",
			waivers:    "- check: TOK-011\n  reason: UUIDv4 tokens, AUTH-123\n",
			env:        true,
			wantStdout: []string{"    WAIVED       TOK-011 "},
		},
		{
			name:       "a waiver for another flow does not apply",
			waivers:    "- check: TOK-011\n  flow: oauth2\n  reason: JWTs\n",
			wantCode:   1,
			wantStdout: []string{"    WARN         TOK-011 "},
			wantStderr: "conformance checks failed",
		},
		{
			name:    "a waived check that passes fails the run",
			waivers: "- check: TOK-011\n  reason: UUIDv4\n- check: TOK-001\n  flow: simple\n  reason: broken until v2\n",
			wantStdout: []string{
				"    FAIL         TOK-001 ",
				"\nFAIL TOK-001 [simple]: ",
				"waived check now passes: remove its waiver (reason was: broken until v2)",
				":3", // the waiver's line
			},
			wantCode:   1,
			wantStderr: "conformance checks failed",
			wantJUnit:  map[string]string{"TOK-001": "failure", "TOK-011": "skipped"},
		},
		{
			name:       "an expired waiver no longer applies and fails the run",
			waivers:    "- check: TOK-011\n  reason: UUIDv4\n  expires: 2020-01-01\n",
			wantCode:   1,
			wantStdout: []string{"    WARN         TOK-011 ", "waiver for TOK-011", "expired on 2020-01-01", "renew or remove"},
			wantStderr: "conformance checks failed",
		},
		{
			name:       "an expired waiver fails the run even when its check's WARN would not",
			waivers:    "- check: TOK-011\n  reason: UUIDv4\n  expires: 2020-01-01\n",
			failOnMust: true,
			wantCode:   1,
			wantStdout: []string{"    WARN         TOK-011 ", "expired on 2020-01-01"},
			wantStderr: "1 waiver(s) need updating in ",
		},
		{
			name:       "a valid waiver under --fail-on must: WAIVED, exit 0",
			waivers:    "- check: TOK-011\n  reason: UUIDv4\n  expires: 2999-01-01\n",
			failOnMust: true,
			wantStdout: []string{"    WAIVED       TOK-011 "},
			wantJUnit:  map[string]string{"TOK-011": "skipped"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			target := checkMock(t)
			env := seedEnv
			junit := filepath.Join(t.TempDir(), "junit.xml")
			args := []string{"check", "--target", target, "--flow", "simple", "--label-filter", "area:token", "--junit-report", junit}
			if !tt.failOnMust {
				args = append(args, "--fail-on", "should")
			}
			if tt.waivers != "" {
				file := writeFile(t, "waivers.yaml", tt.waivers)
				if tt.env {
					env = append([]string{"TOLLGATE_WAIVERS=" + file}, seedEnv...)
				} else {
					args = append(args, "--waivers", file)
				}
			}
			r := runTollgate(t, env, args...)
			if r.code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr: %s", r.code, tt.wantCode, r.stderr)
			}
			if tt.wantStderr == "" && r.stderr != "" {
				t.Errorf("stderr %q, want nothing", r.stderr)
			}
			if tt.wantStderr != "" {
				oneStderrLine(t, r.stderr, tt.wantStderr)
			}
			for _, w := range tt.wantStdout {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			for id, want := range tt.wantJUnit {
				if got := junitOutcome(t, junit, id); got != want {
					t.Errorf("JUnit test case %s: %s, want %s", id, got, want)
				}
			}
		})
	}
}

// junitOutcome reads the JUnit report at path and returns "failure",
// "skipped" or "passed" for the test case of check id.
func junitOutcome(t *testing.T, path, id string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("--junit-report: %v", err)
	}
	var rep junitReport
	if err := xml.Unmarshal(data, &rep); err != nil {
		t.Fatalf("--junit-report is not XML: %v", err)
	}
	for _, s := range rep.Suites {
		for _, c := range s.Cases {
			if !strings.Contains(c.Name, id+" ") {
				continue
			}
			switch {
			case c.Failure != nil:
				return "failure"
			case c.Skipped != nil:
				return "skipped"
			}
			return "passed"
		}
	}
	t.Fatalf("the JUnit report has no test case for %s", id)
	return ""
}

// TestCheckListChecks: --list-checks prints the catalog as YAML without
// running anything, so it runs in this process.
func TestCheckListChecks(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runBounded(t, "check", "--list-checks")
	if code != 0 || stderr != "" {
		t.Fatalf("exit code %d, stderr %q; want 0 and nothing", code, stderr)
	}
	var entries []struct {
		ID     string            `yaml:"id"`
		Area   string            `yaml:"area"`
		Title  string            `yaml:"title"`
		Levels map[string]string `yaml:"levels"`
	}
	if err := yaml.Unmarshal([]byte(stdout), &entries); err != nil {
		t.Fatalf("--list-checks is not YAML: %v\n%s", err, stdout)
	}
	if len(entries) != len(framework.Catalog()) {
		t.Errorf("%d entries, want the catalog's %d", len(entries), len(framework.Catalog()))
	}
	found := false
	for _, e := range entries {
		if e.ID == "TOK-001" {
			found = true
			if e.Area != "token" || e.Title == "" || e.Levels["simple"] != "MUST" {
				t.Errorf("TOK-001 entry %+v, want area token, a title and MUST under simple", e)
			}
		}
	}
	if !found {
		t.Errorf("--list-checks lacks TOK-001:\n%s", stdout)
	}
}

// TestCheckSaveAndStaleToken: --save-token writes the primary token for
// EXP-012 in a later run; EXP-012 is NOT VERIFIED while the saved token
// can still be alive, FAILs when a token past its lifetime still works and
// PASSes when it is refused.
func TestCheckSaveAndStaleToken(t *testing.T) {
	t.Parallel()
	target := checkMock(t)
	dir := t.TempDir()
	saved := filepath.Join(dir, "token.json")
	// An existing world-readable file must not keep its mode.
	if err := os.WriteFile(saved, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"check", "--target", target, "--flow", "simple", "--label-filter", "EXP-012"}
	// --no-control: with the mock's control API EXP-012 would mint its
	// stale token (TestCheckControl).
	r := runTollgate(t, seedEnv, append(args, "--save-token", saved, "--no-control")...)
	if v, _ := checkLines(t, r.stdout); r.code != 0 || v["EXP-012"] != "NOT VERIFIED" {
		t.Fatalf("first run: exit %d, EXP-012 %q; want 0 and NOT VERIFIED (no stale token given)\nstdout:\n%s\nstderr:\n%s", r.code, v["EXP-012"], r.stdout, r.stderr)
	}
	info, err := os.Stat(saved)
	if err != nil {
		t.Fatalf("--save-token wrote nothing: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("the saved token file has mode %v, want 0600: it holds a live token", info.Mode().Perm())
	}
	var tok probe.SavedToken
	data, _ := os.ReadFile(saved)
	if err := json.Unmarshal(data, &tok); err != nil || tok.Token == "" || tok.Target != target || tok.Flow != "simple" || tok.ExpiresIn != 1800 {
		t.Fatalf("saved token %s (%v): want the target, flow simple, a token and expires_in 1800", data, err)
	}
	if strings.Contains(r.stdout, tok.Token) {
		t.Errorf("stdout shows the saved token")
	}

	// The same file as both: read before it is overwritten, still alive.
	r = runTollgate(t, seedEnv, append(args, "--stale-token-file", saved, "--save-token", saved)...)
	if v, _ := checkLines(t, r.stdout); r.code != 0 || v["EXP-012"] != "NOT VERIFIED" || !strings.Contains(r.stdout, "still within its lifetime") {
		t.Errorf("live saved token: exit %d, EXP-012 %q; want 0 and NOT VERIFIED (still within its lifetime)\n%s", r.code, v["EXP-012"], r.stdout)
	}

	aged := func(token string) string {
		t.Helper()
		old := probe.SavedToken{Target: target, Flow: "simple", Token: token, IssuedAt: time.Now().Add(-2 * time.Hour), ExpiresIn: 1800}
		data, err := json.Marshal(old)
		if err != nil {
			t.Fatal(err)
		}
		return writeFile(t, "aged-"+token[:8]+".json", string(data))
	}
	tests := []struct {
		name, token, want string
		code              int
	}{
		// A live token claimed to be 2 h old: the server accepts it, as a
		// server that never expires tokens would accept a really old one.
		{name: "accepted after its lifetime", token: tok.Token, want: "FAIL", code: 1},
		{name: "refused after its lifetime", token: "00000000-0000-4000-8000-000000000000", want: "PASS", code: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runTollgate(t, seedEnv, append(args, "--stale-token-file", aged(tt.token))...)
			if v, _ := checkLines(t, r.stdout); r.code != tt.code || v["EXP-012"] != tt.want {
				t.Errorf("exit %d, EXP-012 %q; want %d and %s\n%s", r.code, v["EXP-012"], tt.code, tt.want, r.stdout)
			}
		})
	}
}

// TestCheckControl: against the mock, the expiry checks move its clock
// through the control API (so the seed client's 30-minute tokens expire
// without a wait and without an expiry client) and put it back; the report
// says so. --no-control, or a target without the API, waits as before:
// with only the seed client that leaves EXP-005 NOT VERIFIED.
func TestCheckControl(t *testing.T) {
	t.Parallel()
	tollgateBin(t)
	expiryIDs := []string{"EXP-005", "EXP-006", "EXP-007", "EXP-010", "EXP-011", "EXP-012", "BEAR-022"}
	tests := []struct {
		name       string
		opts       mockserver.Options
		args       []string
		env        []string
		wantExpiry string // the report's expiry line
		want       string // the verdict of each of expiryIDs
	}{
		{name: "control", wantExpiry: framework.ExpiryByControl, want: "PASS"},
		{name: "--no-control", args: []string{"--no-control"}, wantExpiry: framework.ExpiryByWaiting + " (--no-control)", want: "NOT VERIFIED"},
		{name: "TOLLGATE_NO_CONTROL", env: []string{"TOLLGATE_NO_CONTROL=true"}, wantExpiry: framework.ExpiryByWaiting + " (--no-control)", want: "NOT VERIFIED"},
		{name: "no control API", opts: mockserver.Options{Control: mockserver.ControlOff}, wantExpiry: framework.ExpiryByWaiting + " (no control API at the target: control: GET /_tollgate/clock answered 404", want: "NOT VERIFIED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := mockservertest.NewServer(t, mockservertest.WithSystemClock(), mockservertest.WithOptions(tt.opts))
			dir := t.TempDir()
			junit, summary := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "summary.json")
			args := append([]string{"check", "--target", srv.URL, "--flow", "simple", "--junit-report", junit, "--summary-json", summary}, tt.args...)
			r := runTollgate(t, append(tt.env, seedEnv...), args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing\nstdout:\n%s", r.code, r.stderr, r.stdout)
			}
			verdicts, _ := checkLines(t, r.stdout)
			for _, id := range expiryIDs {
				if verdicts[id] != tt.want {
					t.Errorf("%s: %s, want %s", id, verdicts[id], tt.want)
				}
			}
			if !strings.Contains(r.stdout, "\nexpiry: "+tt.wantExpiry) {
				t.Errorf("stdout lacks the line \"expiry: %s\":\n%s", tt.wantExpiry, r.stdout)
			}
			var s framework.Summary
			if data, err := os.ReadFile(summary); err != nil || json.Unmarshal(data, &s) != nil || !strings.HasPrefix(s.Expiry, tt.wantExpiry) {
				t.Errorf("--summary-json expiry %q (%v), want %q", s.Expiry, err, tt.wantExpiry)
			}
			if data, err := os.ReadFile(junit); err != nil || !bytes.Contains(data, []byte(`name="`+framework.JUnitExpiryProperty+`" value="`)) {
				t.Errorf("--junit-report has no %s property (%v)", framework.JUnitExpiryProperty, err)
			}
			// The clock is back on the system clock: running, and now.
			if d := time.Until(srv.Mock.Clock().Now()).Abs(); d > 2*time.Second {
				t.Errorf("after the run the mock's clock is %v off ours", d)
			}
			if tt.opts.Control != mockserver.ControlOff {
				req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+"/_tollgate/clock", nil)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer func() { _ = resp.Body.Close() }()
				var got struct {
					Now    time.Time `json:"now"`
					Frozen bool      `json:"frozen"`
				}
				if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || got.Frozen || time.Until(got.Now).Abs() > 2*time.Second {
					t.Errorf("GET /_tollgate/clock after the run: %+v (%v), want running and now", got, err)
				}
			}
		})
	}
}

// TestCheckKeyAndMetadataLocations: where the JWK Set and the metadata are
// comes from --jwks-uri/--metadata-url, else the target file, else the
// flow document's x-tollgate, else discovery; each level is seen in the
// location JWT-001 and META-001 report.
func TestCheckKeyAndMetadataLocations(t *testing.T) {
	t.Parallel()
	target := checkMock(t)
	doc, err := os.ReadFile("../../openapi/oauth2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	documented := writeFile(t, "oauth2.yaml", strings.Replace(string(doc), "x-tollgate:\n",
		"x-tollgate:\n  jwksUri: /jwks-from-document\n  metadataUrl: /meta-from-document\n", 1))
	sdl, err := os.ReadFile("../../openapi/oauth2.graphql") // the GraphQL schema the document names
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(documented), "oauth2.graphql"), sdl, 0o600); err != nil {
		t.Fatal(err)
	}
	configFile := writeFile(t, "target.yaml", "target: "+target+"\nflow: "+documented+"\njwks_uri: /jwks-from-file\nmetadata_url: /meta-from-file\n")
	base := []string{"check", "--label-filter", "JWT-001 || META-001"}
	tests := []struct {
		name     string
		args     []string
		wantJWKS string // in JWT-001's NOT VERIFIED message; "": JWT-001 passes
		wantMeta string // in META-001's INFO message; "": META-001 passes
	}{
		{"discovery", []string{"--target", target, "--flow", "oauth2"}, "", ""},
		{"flow document", []string{"--target", target, "--flow", documented}, "/jwks-from-document", "/meta-from-document"},
		{"target file over flow document", []string{"--config", configFile}, "/jwks-from-file", "/meta-from-file"},
		{"flags over target file", []string{"--config", configFile, "--jwks-uri", "/.well-known/jwks.json", "--metadata-url", target + "/.well-known/oauth-authorization-server"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runTollgate(t, seedEnv, append(base, tt.args...)...)
			verdicts, _ := checkLines(t, r.stdout)
			for _, c := range []struct{ id, want, verdict string }{{"JWT-001", tt.wantJWKS, "NOT VERIFIED"}, {"META-001", tt.wantMeta, "INFO"}} {
				switch {
				case c.want == "" && verdicts[c.id] != "PASS":
					t.Errorf("%s: %q, want PASS\n%s", c.id, verdicts[c.id], r.stdout)
				case c.want != "" && (verdicts[c.id] != c.verdict || !strings.Contains(r.stdout, target+c.want)):
					t.Errorf("%s: %q, want %s naming %s\n%s", c.id, verdicts[c.id], c.verdict, target+c.want, r.stdout)
				}
			}
		})
	}
}

// TestRequireHelpNamesEveryCapability: --require's help lists every
// capability it accepts (spec.Capabilities), graphql included.
func TestRequireHelpNamesEveryCapability(t *testing.T) {
	t.Parallel()
	flag := newCheckCmd(&bytes.Buffer{}, &bytes.Buffer{}).Flags().Lookup("require")
	if flag == nil {
		t.Fatal("tollgate check has no --require flag")
	}
	for _, c := range spec.Capabilities() {
		if !strings.Contains(flag.Usage, c) {
			t.Errorf("--require's help %q does not name the capability %s", flag.Usage, c)
		}
	}
}
