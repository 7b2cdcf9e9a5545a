package framework_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/suites/framework"
)

// secret stands for a client secret or token the run knows of.
const secret = "s3cr3t-Value_42"

// hostile is text a target controls (an error description, a header) that
// tries to break out of the page.
const hostile = `</pre><script>alert(1)</script><img src=x onerror="alert(2)">&amp;`

// redactSecret is a RunInfo.Redact that knows secret.
func redactSecret(s string) string { return strings.ReplaceAll(s, secret, "[REDACTED]") }

// evidenceWithCurl is an Evidence text as the prober writes it.
const evidenceWithCurl = "> POST http://127.0.0.1:4455/token\n> Authorization: Basic [REDACTED]\n>\n> grant_type=client_credentials\n< 200 OK\n< Content-Type: application/json\n<\n< {\"access_token\":\"[REDACTED]\"}\nrepeat: curl -si -X POST 'http://127.0.0.1:4455/token' -H 'Authorization: Basic [REDACTED]' --data-binary 'grant_type=client_credentials'"

func htmlSummary() framework.Summary {
	checks := framework.NewChecks()
	result := func(id string, level framework.Level, v framework.Verdict, msg, evidence string) framework.Result {
		if evidence != "" {
			msg += "\n" + evidence
		}
		return framework.Result{ID: id, Flow: "simple", Area: checks[id].Area, Level: level, Verdict: v, Title: checks[id].Title, Message: msg, Evidence: evidence}
	}
	return framework.Summary{
		Expiry: "moved the target's clock through its control API",
		Results: []framework.Result{
			result("BEAR-001", framework.Must, framework.VerdictPass, "", ""),
			result("BEAR-004", framework.Must, framework.VerdictFail, "got 200, want 401 "+hostile, "> GET http://127.0.0.1:4455/api/collections\n> Authorization: Bearer [REDACTED]\n< 200 OK"),
			result("TOK-001", framework.Must, framework.VerdictPass, "", ""),
			result("TOK-002", framework.Must, framework.VerdictFail, "Content-Type text/plain, want application/json; secret "+secret, evidenceWithCurl),
			result("TOK-003", framework.Should, framework.VerdictWarn, "no Cache-Control: no-store", ""),
			result("TOK-011", framework.Should, framework.VerdictWaived, "waived (was WARN): UUIDv4 tokens, ticket 7\n122 random bits", ""),
			result("TOK-020", framework.Info, framework.VerdictNA, "no JSON token requests in this flow", ""),
		},
	}
}

func htmlRun() framework.RunInfo {
	return framework.RunInfo{
		Target:         "http://user:" + secret + "@127.0.0.1:4455",
		Flow:           "simple",
		Profile:        "simple",
		Clients:        []framework.ClientID{{Role: "client", ID: "testClient"}, {Role: "client2", ID: "otherClient"}},
		FailOn:         "must",
		Expiry:         "moved the target's clock through its control API",
		WaiversFile:    "waivers.yaml",
		Waivers:        []framework.Waiver{{Check: "TOK-011", Reason: "UUIDv4 tokens, ticket 7 " + hostile, Expires: "2099-12-31"}},
		WaiverProblems: []string{"waiver for TOK-010 expired on 2020-01-01 and no longer applies"},
		Failed:         true,
		Version:        "v1.2.3",
		Generated:      time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC),
		Redact:         redactSecret,
	}
}

func renderHTML(t *testing.T, s framework.Summary, run framework.RunInfo) string {
	t.Helper()
	var b bytes.Buffer
	if err := framework.RenderHTML(&b, s, run); err != nil {
		t.Fatalf("RenderHTML: %v", err)
	}
	return b.String()
}

// tags matches an HTML tag, to read the page's text.
var tags = regexp.MustCompile(`<[^>]*>`)

// pageText is the page's text with tags dropped and entities decoded, in
// the order a reader sees it, with runs of blanks as one space.
func pageText(page string) string {
	body := page[strings.Index(page, "<body>"):]
	text := tags.ReplaceAllString(body, " ")
	text = html.UnescapeString(text)
	return strings.Join(strings.Fields(text), " ")
}

// TestRenderHTMLText: the page says what the run found, in reading order:
// outcome, counts, each FAIL and WARN with its message, evidence and curl,
// the waivers, each check's verdict by area with level and source, and the
// configuration.
func TestRenderHTMLText(t *testing.T) {
	t.Parallel()
	checks := framework.NewChecks()
	text := pageText(renderHTML(t, htmlSummary(), htmlRun()))
	for _, want := range []string{
		"Tollgate conformance report FAILED http://user:xxxxx@127.0.0.1:4455, flow simple, profile simple",
		"Summary 7 checks 2 PASS 2 FAIL 1 WARN 1 WAIVED 1 N/A",
		// FAILs first, in ID order, then the WARN.
		"FAIL BEAR-004 [simple]: " + checks["BEAR-004"].Title + " level MUST · area bearer · source: " + checks["BEAR-004"].Source,
		"What happened got 200, want 401 " + hostile + " Evidence (secrets redacted) > GET http://127.0.0.1:4455/api/collections > Authorization: Bearer [REDACTED] < 200 OK Repeat it curl -si -X GET 'http://127.0.0.1:4455/api/collections' -H 'Authorization: Bearer [REDACTED]'",
		"FAIL TOK-002 [simple]: " + checks["TOK-002"].Title,
		"Content-Type text/plain, want application/json; secret [REDACTED] Evidence (secrets redacted) > POST http://127.0.0.1:4455/token",
		`< {"access_token":"[REDACTED]"} Repeat it curl -si -X POST 'http://127.0.0.1:4455/token' -H 'Authorization: Basic [REDACTED]' --data-binary 'grant_type=client_credentials'`,
		"WARN TOK-003 [simple]: " + checks["TOK-003"].Title + " level SHOULD",
		"no Cache-Control: no-store No request was recorded for this verdict",
		"WAIVED TOK-011 [simple]: " + checks["TOK-011"].Title,
		"waived (was WARN): UUIDv4 tokens, ticket 7 122 random bits",
		"Waivers that need updating (they fail the run) waiver for TOK-010 expired on 2020-01-01",
		"Waivers file waivers.yaml Check Flow Expires Reason TOK-011 every flow 2099-12-31 UUIDv4 tokens, ticket 7 " + hostile,
		"Flow simple Area: bearer Verdict Check Level Title Source Note PASS BEAR-001 MUST",
		"Area: token Verdict Check Level Title Source Note PASS TOK-001 MUST " + checks["TOK-001"].Title + " " + checks["TOK-001"].Source,
		"WAIVED TOK-011 SHOULD", "N/A TOK-020 INFO " + checks["TOK-020"].Title + " " + checks["TOK-020"].Source + " no JSON token requests in this flow",
		"FAIL BEAR-004 MUST " + checks["BEAR-004"].Title + " " + checks["BEAR-004"].Source + " got 200, want 401",
		"Configuration target http://user:xxxxx@127.0.0.1:4455 flow simple profile simple client id testClient client2 id otherClient fail on must expiry moved the target's clock through its control API waivers file waivers.yaml tollgate v1.2.3 generated 2026-12-03T07:00:00Z",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the page's text lacks\n  %s\ntext:\n%s", want, text)
		}
	}
}

// TestRenderHTMLAPIDocument: a run with --api-spec names the API document
// among the configuration, after the flow.
func TestRenderHTMLAPIDocument(t *testing.T) {
	t.Parallel()
	run := htmlRun()
	run.APIDocument = "openapi/shop.yaml"
	text := pageText(renderHTML(t, htmlSummary(), run))
	if want := "Configuration target http://user:xxxxx@127.0.0.1:4455 flow simple API document openapi/shop.yaml profile simple"; !strings.Contains(text, want) {
		t.Errorf("the page's text lacks\n  %s\ntext:\n%s", want, text)
	}
}

// TestRenderHTMLEscapes: text from the target or the waivers file cannot
// add markup to the page: every <, > and quote of it arrives escaped.
func TestRenderHTMLEscapes(t *testing.T) {
	t.Parallel()
	s := htmlSummary()
	run := htmlRun()
	run.Flow = hostile
	run.LabelFilter = hostile
	page := renderHTML(t, s, run)
	for _, bad := range []string{"<script", "<img", "onerror=\"", "</pre><"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q: hostile text became markup", bad)
		}
	}
	if n := strings.Count(page, "&lt;script&gt;alert(1)&lt;/script&gt;"); n < 3 {
		t.Errorf("the hostile text shows escaped %d times, want at least 3 (message, waiver reason, flow)", n)
	}
}

// TestRenderHTMLNoSecret: a secret the run knows of, wherever it appears
// (message, evidence, target, waiver, label filter), never reaches the page.
func TestRenderHTMLNoSecret(t *testing.T) {
	t.Parallel()
	s := htmlSummary()
	for i := range s.Results {
		if s.Results[i].Evidence != "" {
			ev := s.Results[i].Evidence + "\n> X-Echo: " + secret
			s.Results[i].Message = strings.TrimSuffix(s.Results[i].Message, s.Results[i].Evidence) + ev
			s.Results[i].Evidence = ev
		}
	}
	run := htmlRun()
	run.LabelFilter = "area:token && " + secret
	run.WaiverProblems = append(run.WaiverProblems, "waiver reason "+secret)
	run.Waivers[0].Reason += secret
	run.FlowDocument = "/tmp/" + secret + ".yaml"
	page := renderHTML(t, s, run)
	if strings.Contains(page, secret) {
		t.Errorf("the page shows the secret %q", secret)
	}
	if !strings.Contains(page, "[REDACTED]") {
		t.Error("the page shows no [REDACTED]: the test redacted nothing")
	}
	// The password in the target's URL is masked even when Redact does
	// not know it.
	run.Redact = nil
	run.Target = "http://user:hunter22@127.0.0.1:4455"
	if page := renderHTML(t, s, run); strings.Contains(page, "hunter22") {
		t.Error("the page shows the target URL's password")
	}
}

// TestRenderHTMLSelfContained: the page loads nothing: no script, no
// link, no image, no source attribute, and a Content-Security-Policy that
// allows only its own stylesheet, by hash.
func TestRenderHTMLSelfContained(t *testing.T) {
	t.Parallel()
	page := renderHTML(t, htmlSummary(), htmlRun())
	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "<object", "<embed", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q: it must fetch nothing", bad)
		}
	}
	if m := regexp.MustCompile(`<[a-z]+\s[^>]*\b(src|href|action|data)="[^#"]`).FindString(page); m != "" {
		t.Errorf("the page has a link that leaves it: %s", m)
	}
	csp := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`).FindStringSubmatch(page)
	if csp == nil {
		t.Fatalf("no Content-Security-Policy meta in\n%s", page[:min(len(page), 600)])
	}
	policy := html.UnescapeString(csp[1])
	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(page)
	if style == nil {
		t.Fatal("no <style> element")
	}
	sum := sha256.Sum256([]byte(style[1]))
	for _, want := range []string{"default-src 'none'", "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'", "base-uri 'none'", "form-action 'none'"} {
		if !strings.Contains(policy, want) {
			t.Errorf("policy %q lacks %q", policy, want)
		}
	}
}

// TestRenderHTMLOutcome: a run with nothing to report says so.
func TestRenderHTMLOutcome(t *testing.T) {
	t.Parallel()
	s := htmlSummary()
	s.Results = s.Results[:1]
	run := htmlRun()
	run.Failed, run.Waivers, run.WaiverProblems, run.WaiversFile = false, nil, nil, ""
	text := pageText(renderHTML(t, s, run))
	for _, want := range []string{"report PASSED", "1 checks 1 PASS", "No check failed or warned.", "No waivers were given."} {
		if !strings.Contains(text, want) {
			t.Errorf("the page's text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "waivers file") {
		t.Errorf("the configuration names a waivers file though none was given:\n%s", text)
	}
}
