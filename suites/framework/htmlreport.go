package framework

import (
	"bytes"
	"crypto/sha256"
	_ "embed" // the page template
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/tollgate/tollgate/suites/probe"
)

// RunInfo is what the HTML report of a run shows besides its verdicts: the
// configuration used, the waivers and the outcome. It holds no secret: the
// clients are named by their ids only, and every text the page shows passes
// through Redact first.
type RunInfo struct {
	Target       string // base URL of the target; a password in it is masked
	Flow         string // the flow's name
	FlowDocument string // the flow document's path, for a flow not built in
	APIDocument  string // the API document (--api-spec) whose operations were probed; "" for none
	Profile      string
	Clients      []ClientID // the configured clients, by role
	FailOn       string     // must or should
	LabelFilter  string
	OptIn        []string
	Operations   []string
	Expiry       string // how expiry was tested (Summary.Expiry)

	WaiversFile    string
	Waivers        []Waiver // the waivers file's entries
	WaiverProblems []string // what ApplyWaivers found to fail the run

	Failed    bool // the run fails: its exit code is not 0
	Version   string
	Generated time.Time

	// Redact removes every known secret and token from a text; nil when
	// none is known.
	Redact func(string) string
}

// ClientID names one configured client: its role (client, client2,
// expiry_client, scoped_client, as in the target file) and its id.
type ClientID struct {
	Role string
	ID   string
}

// RunInfo returns what f knows of the run for its HTML report: target,
// flow, profile, client ids, opt-ins and operations, with f's redaction.
// The caller adds the outcome, the waivers and the version.
func (f *Framework) RunInfo() RunInfo {
	cfg := f.Config
	run := RunInfo{
		Target:      f.Config.Target,
		Flow:        f.Flow.Name,
		Profile:     f.Profile(),
		OptIn:       append([]string(nil), cfg.OptIn...),
		Operations:  append([]string(nil), cfg.Operations...),
		Redact:      f.Redact,
		APIDocument: f.Flow.OperationsDocument,
	}
	if f.Flow.Name != cfg.Flow {
		run.FlowDocument = cfg.Flow
	}
	for _, c := range []struct {
		role string
		cred Credentials
	}{{"client", cfg.Client}, {"client2", cfg.Client2}, {"expiry_client", cfg.ExpiryClient}, {"scoped_client", cfg.ScopedClient}} {
		if !c.cred.IsZero() {
			run.Clients = append(run.Clients, ClientID{c.role, c.cred.ID})
		}
	}
	return run
}

// WriteHTMLReport writes the run as one self-contained HTML page to path
// (RenderHTML). The page is rendered in full before the file is written,
// so a failed render leaves no half page.
func WriteHTMLReport(path string, s Summary, run RunInfo) error {
	var b bytes.Buffer
	if err := RenderHTML(&b, s, run); err != nil {
		return err
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	return nil
}

// RenderHTML writes the run as one self-contained HTML page: the counts,
// every FAIL and WARN with its evidence and the curl command that repeats
// it, the waivers, each check's verdict by flow and area with its level and
// source, and the configuration. The page fetches nothing (inline CSS, no
// script, no font, no image) and says so in a Content-Security-Policy.
// html/template escapes every value; run.Redact is applied to each text
// taken from the run, so no known secret reaches the page.
func RenderHTML(w io.Writer, s Summary, run RunInfo) error {
	if err := htmlReportTemplate.Execute(w, newHTMLPage(s, run)); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	return nil
}

//go:embed htmlreport.gohtml
var htmlReportSource string

//go:embed htmlreport.css
var htmlReportCSS string

var htmlReportTemplate = template.Must(template.New("htmlreport").Parse(htmlReportSource))

// htmlReportCSP allows the page its own stylesheet, by hash, and nothing
// else: no script, no fetch, no form, no base URL.
var htmlReportCSP = func() string {
	sum := sha256.Sum256([]byte(htmlReportCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; form-action 'none'"
}()

// htmlPage is what the template shows, every text already redacted.
type htmlPage struct {
	CSS      template.CSS
	CSP      string
	Title    string
	Outcome  string // PASSED or FAILED
	Total    int
	Counts   []htmlCount
	Problems []htmlResult // FAIL, then WARN
	Flows    []htmlFlow   // areas in the order of their first check's ID, as in the terminal summary
	Waived   []htmlResult
	Run      RunInfo
	Config   []htmlSetting
}

type htmlCount struct {
	Verdict Verdict
	Class   string
	N       int
}

type htmlFlow struct {
	Name  string
	Areas []htmlArea
}

type htmlArea struct {
	Name    string
	Results []htmlResult
}

type htmlResult struct {
	Result
	Class       string // CSS class of the verdict
	Anchor      string // id of its details, for FAIL, WARN and WAIVED
	Source      string // the catalog's normative source
	Note        string // the message's first line, for the table
	Explanation string // the message without its evidence
	Curl        string // the command that repeats the exchange; "" without evidence
}

type htmlSetting struct {
	Name  string
	Value string
}

// verdictOrder is the order of the counts: as the terminal summary's.
var verdictOrder = []Verdict{VerdictPass, VerdictFail, VerdictWarn, VerdictWaived, VerdictInfo, VerdictNotVerified, VerdictInconclusive, VerdictSkip, VerdictNA}

func newHTMLPage(s Summary, run RunInfo) htmlPage {
	redact := run.Redact
	if redact == nil {
		redact = func(s string) string { return s }
	}
	run.Target = redact(redactURL(run.Target))
	run.FlowDocument = redact(run.FlowDocument)
	run.WaiversFile = redact(run.WaiversFile)
	run.LabelFilter = redact(run.LabelFilter)
	problems := make([]string, len(run.WaiverProblems))
	for i, p := range run.WaiverProblems {
		problems[i] = redact(p)
	}
	run.WaiverProblems = problems
	waivers := make([]Waiver, len(run.Waivers))
	for i, w := range run.Waivers {
		waivers[i] = Waiver{Check: w.Check, Flow: redact(w.Flow), Reason: redact(w.Reason), Expires: w.Expires}
	}
	run.Waivers = waivers

	p := htmlPage{
		CSS:     template.CSS(htmlReportCSS), // our own stylesheet, embedded: trusted
		CSP:     htmlReportCSP,
		Title:   "Tollgate check: " + run.Target + ", flow " + run.Flow,
		Outcome: "PASSED",
		Total:   len(s.Results),
		Run:     run,
		Config:  htmlSettings(run, redact),
	}
	if run.Failed {
		p.Outcome = "FAILED"
	}
	n := s.Count()
	for _, v := range verdictOrder {
		if n[v] > 0 {
			p.Counts = append(p.Counts, htmlCount{v, verdictClass(v), n[v]})
		}
	}

	checks := NewChecks()
	for _, r := range s.Results {
		hr := newHTMLResult(r, checks[r.ID].Source, redact)
		switch r.Verdict {
		case VerdictFail, VerdictWarn:
			p.Problems = append(p.Problems, hr)
		case VerdictWaived:
			p.Waived = append(p.Waived, hr)
		}
		if len(p.Flows) == 0 || p.Flows[len(p.Flows)-1].Name != r.Flow {
			p.Flows = append(p.Flows, htmlFlow{Name: r.Flow})
		}
		fl := &p.Flows[len(p.Flows)-1]
		i := 0
		for i < len(fl.Areas) && fl.Areas[i].Name != r.Area {
			i++
		}
		if i == len(fl.Areas) {
			fl.Areas = append(fl.Areas, htmlArea{Name: r.Area})
		}
		fl.Areas[i].Results = append(fl.Areas[i].Results, hr)
	}
	// FAIL before WARN; the results are already in flow and ID order.
	var fails, warns []htmlResult
	for _, r := range p.Problems {
		if r.Verdict == VerdictFail {
			fails = append(fails, r)
		} else {
			warns = append(warns, r)
		}
	}
	p.Problems = append(fails, warns...)
	return p
}

func newHTMLResult(r Result, source string, redact func(string) string) htmlResult {
	explanation := r.Message
	if r.Evidence != "" {
		explanation = strings.TrimSuffix(r.Message, r.Evidence)
	}
	hr := htmlResult{Result: r, Class: verdictClass(r.Verdict), Source: source}
	hr.Message = redact(r.Message)
	hr.Explanation = redact(strings.TrimSpace(explanation))
	if r.Evidence != "" {
		hr.Curl = redact(probe.RepeatCommand(r.Evidence))
		// The page shows the command on its own, so not twice.
		ev := r.Evidence
		if i := strings.LastIndex(ev, "\nrepeat: "); i >= 0 {
			ev = ev[:i]
		}
		hr.Evidence = redact(ev)
	}
	if r.Verdict != VerdictPass {
		hr.Note = oneLine(hr.Explanation)
	}
	switch r.Verdict {
	case VerdictFail, VerdictWarn, VerdictWaived:
		hr.Anchor = "check-" + anchorSafe(r.ID+"-"+r.Flow)
	}
	return hr
}

// htmlSettings lists the configuration the page shows, in order; empty
// settings are left out. No secret is among them.
func htmlSettings(run RunInfo, redact func(string) string) []htmlSetting {
	var out []htmlSetting
	add := func(name, value string) {
		if value != "" {
			out = append(out, htmlSetting{name, value})
		}
	}
	add("target", run.Target)
	add("flow", run.Flow)
	add("flow document", run.FlowDocument)
	add("API document", redact(run.APIDocument))
	add("profile", run.Profile)
	for _, c := range run.Clients {
		add(c.Role+" id", redact(c.ID))
	}
	add("fail on", run.FailOn)
	add("expiry", redact(run.Expiry))
	add("label filter", run.LabelFilter)
	add("opt-in", redact(strings.Join(run.OptIn, ", ")))
	add("operations", redact(strings.Join(run.Operations, ", ")))
	add("waivers file", run.WaiversFile)
	add("tollgate", run.Version)
	if !run.Generated.IsZero() {
		add("generated", run.Generated.UTC().Format(time.RFC3339))
	}
	return out
}

// redactURL masks a password in a URL's user information.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}

// verdictClass is the CSS class of a verdict: its name in lower case,
// letters only.
func verdictClass(v Verdict) string {
	return "v-" + strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		case r >= 'a' && r <= 'z':
			return r
		}
		return -1
	}, string(v))
}

// anchorSafe keeps letters, digits, '-' and '_' of s, for an element id.
func anchorSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}
