package framework_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/suites/framework"
)

// waiverFields is what a test compares of a Waiver (its unexported position
// is compared through the messages that show it).
type waiverFields struct{ Check, Flow, Reason, Expires string }

func fieldsOf(ws []framework.Waiver) []waiverFields {
	var out []waiverFields
	for _, w := range ws {
		out = append(out, waiverFields{w.Check, w.Flow, w.Reason, w.Expires})
	}
	return out
}

func writeWaivers(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "waivers.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadWaivers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string
		want    []waiverFields
		wantErr []string // in the error, after "waivers FILE"; empty: no error
	}{
		{
			name: "a complete file",
			content: `# expected failures of our staging server
- check: TOK-011
  flow: simple
  reason: UUIDv4 tokens carry 122 random bits (JIRA-123)
  expires: 2026-06-30
- check: TOK-003
  reason: "the gateway strips Cache-Control; OPS-7"
  expires: "2027-01-15"
- check: TOK-011
  flow: oauth2
  reason: another flow, another waiver
`,
			want: []waiverFields{
				{"TOK-011", "simple", "UUIDv4 tokens carry 122 random bits (JIRA-123)", "2026-06-30"},
				{"TOK-003", "", "the gateway strips Cache-Control; OPS-7", "2027-01-15"},
				{"TOK-011", "oauth2", "another flow, another waiver", ""},
			},
		},
		{name: "an empty file", content: ""},
		{name: "only comments", content: "# nothing waived yet\n"},
		{name: "an empty list", content: "[]\n"},
		{name: "an empty expires", content: "- check: TOK-001\n  reason: r\n  expires:\n", want: []waiverFields{{"TOK-001", "", "r", ""}}},
		{
			name:    "unknown key",
			content: "- check: TOK-011\n  reason: r\n  expire: 2026-01-01\n",
			wantErr: []string{":3: ", `unknown key "expire"`, "fix its spelling", "check, flow, reason, expires"},
		},
		{
			name:    "impossible date",
			content: "- check: TOK-011\n  reason: r\n  expires: 2026-02-30\n",
			wantErr: []string{":3: ", `expires "2026-02-30" is not a date`, "YYYY-MM-DD"},
		},
		{
			name:    "date in another layout",
			content: "- check: TOK-011\n  reason: r\n\n  expires: 30/06/2026\n",
			wantErr: []string{":4: ", `"30/06/2026"`, "YYYY-MM-DD"},
		},
		{
			name:    "unknown check ID",
			content: "- check: TOK-011\n  reason: r\n- check: TOK-999\n  reason: r\n",
			wantErr: []string{":3: ", `check "TOK-999" is not a check ID`, "--list-checks"},
		},
		{
			name:    "lower-case check ID",
			content: "- check: tok-011\n  reason: r\n",
			wantErr: []string{":1: ", `"tok-011" is not a check ID`},
		},
		{
			name:    "missing reason",
			content: "- check: TOK-011\n  flow: simple\n",
			wantErr: []string{":1: ", "waiver for TOK-011 has no reason", "add reason:"},
		},
		{
			name:    "blank reason",
			content: "- check: TOK-011\n  reason: '  '\n",
			wantErr: []string{":1: ", "has no reason"},
		},
		{
			name:    "missing check",
			content: "- reason: r\n",
			wantErr: []string{":1: ", "waiver without a check", "add check:"},
		},
		{
			name:    "a mapping instead of a list",
			content: "waivers:\n  - check: TOK-011\n",
			wantErr: []string{":1: ", "want a list of waivers", "got a mapping"},
		},
		{
			name:    "a list of strings",
			content: "- TOK-011\n",
			wantErr: []string{":1: ", "a waiver is a mapping", "got a string"},
		},
		{
			name:    "a list as a value",
			content: "- check: TOK-011\n  reason: [a, b]\n",
			wantErr: []string{":2: ", "reason must be a single value", "got a list"},
		},
		{
			name:    "YAML syntax error",
			content: "- check: TOK-011\n  reason: r\n  flow: [simple\n",
			wantErr: []string{"not YAML", "docs/check.md"},
		},
		{
			name:    "the same check and flow twice",
			content: "- check: TOK-011\n  reason: a\n- check: TOK-011\n  reason: b\n",
			wantErr: []string{":3: ", "a second waiver for TOK-011", ":1", "keep one"},
		},
		{
			name:    "a key twice",
			content: "- check: TOK-011\n  reason: a\n  reason: b\n",
			wantErr: []string{"reason"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeWaivers(t, tt.content)
			got, err := framework.ReadWaivers(path)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("ReadWaivers: %v, want an error", fieldsOf(got))
				}
				msg := err.Error()
				if !strings.HasPrefix(msg, "waivers "+path) || strings.Contains(msg, "\n") {
					t.Errorf("error %q, want one line starting with %q", msg, "waivers "+path)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(msg, w) {
						t.Errorf("error %q lacks %q", msg, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadWaivers: %v", err)
			}
			if !reflect.DeepEqual(fieldsOf(got), tt.want) {
				t.Errorf("ReadWaivers = %+v, want %+v", fieldsOf(got), tt.want)
			}
		})
	}
}

func TestReadWaiversMissingFile(t *testing.T) {
	t.Parallel()
	_, err := framework.ReadWaivers(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") || !strings.Contains(err.Error(), "--waivers") {
		t.Errorf("error %v, want one naming the file and --waivers", err)
	}
}

// TestReadWaiversPosition: the problems ApplyWaivers reports name the line
// of the waiver in the file.
func TestReadWaiversPosition(t *testing.T) {
	t.Parallel()
	path := writeWaivers(t, "- check: TOK-011\n  reason: a\n\n- check: TOK-001\n  reason: fixed since\n")
	ws, err := framework.ReadWaivers(path)
	if err != nil {
		t.Fatal(err)
	}
	s := framework.Summary{Results: []framework.Result{{ID: "TOK-001", Flow: "simple", Verdict: framework.VerdictPass}}}
	_, problems := s.ApplyWaivers(ws, time.Now())
	if len(problems) != 1 || !strings.Contains(problems[0], path+":4") {
		t.Errorf("problems %q, want one naming %s:4", problems, path)
	}
}

func TestApplyWaivers(t *testing.T) {
	t.Parallel()
	today := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	res := func(id, flow string, v framework.Verdict, msg string) framework.Result {
		return framework.Result{ID: id, Flow: flow, Level: framework.Must, Verdict: v, Message: msg}
	}
	tests := []struct {
		name     string
		results  []framework.Result
		waivers  []framework.Waiver
		today    time.Time // zero: today
		want     []framework.Verdict
		wantMsg  []string // in each result's message, in order; "" to skip
		problems []string // in each problem line, in order
	}{
		{
			name:    "a FAIL on a waived check is WAIVED, with the reason and what it said",
			results: []framework.Result{res("TOK-003", "simple", framework.VerdictFail, "no Cache-Control")},
			waivers: []framework.Waiver{{Check: "TOK-003", Reason: "OPS-7"}},
			want:    []framework.Verdict{framework.VerdictWaived},
			wantMsg: []string{"waived (was FAIL): OPS-7\nno Cache-Control"},
		},
		{
			name:    "a WARN on a waived check and flow is WAIVED",
			results: []framework.Result{res("TOK-011", "simple", framework.VerdictWarn, "122 bits")},
			waivers: []framework.Waiver{{Check: "TOK-011", Flow: "simple", Reason: "UUIDv4"}},
			want:    []framework.Verdict{framework.VerdictWaived},
			wantMsg: []string{"waived (was WARN): UUIDv4\n122 bits"},
		},
		{
			name:     "a waived check that passes fails the run",
			results:  []framework.Result{res("TOK-001", "simple", framework.VerdictPass, "")},
			waivers:  []framework.Waiver{{Check: "TOK-001", Reason: "broken until v2"}},
			want:     []framework.Verdict{framework.VerdictFail},
			wantMsg:  []string{"waived check now passes: remove its waiver (reason was: broken until v2)"},
			problems: []string{"TOK-001 [simple]: waived check now passes: remove its waiver (reason was: broken until v2)"},
		},
		{
			name:    "a waiver for another flow does not apply",
			results: []framework.Result{res("TOK-011", "oauth2", framework.VerdictFail, "m"), res("TOK-011", "simple", framework.VerdictPass, "")},
			waivers: []framework.Waiver{{Check: "TOK-011", Flow: "userpass", Reason: "r"}},
			want:    []framework.Verdict{framework.VerdictFail, framework.VerdictPass},
			wantMsg: []string{"m", ""},
		},
		{
			name:    "a waiver without a flow applies to each flow",
			results: []framework.Result{res("TOK-011", "oauth2", framework.VerdictFail, "m"), res("TOK-011", "simple", framework.VerdictWarn, "m")},
			waivers: []framework.Waiver{{Check: "TOK-011", Reason: "r"}},
			want:    []framework.Verdict{framework.VerdictWaived, framework.VerdictWaived},
		},
		{
			name:    "a flow's own waiver wins over one for every flow, whatever the order",
			results: []framework.Result{res("TOK-011", "oauth2", framework.VerdictFail, ""), res("TOK-011", "simple", framework.VerdictWarn, "")},
			waivers: []framework.Waiver{{Check: "TOK-011", Reason: "any flow"}, {Check: "TOK-011", Flow: "simple", Reason: "simple only"}},
			want:    []framework.Verdict{framework.VerdictWaived, framework.VerdictWaived},
			wantMsg: []string{"any flow", "simple only"},
		},
		{
			name:    "the same, the flow's waiver first",
			results: []framework.Result{res("TOK-011", "simple", framework.VerdictWarn, "")},
			waivers: []framework.Waiver{{Check: "TOK-011", Flow: "simple", Reason: "simple only"}, {Check: "TOK-011", Reason: "any flow"}},
			want:    []framework.Verdict{framework.VerdictWaived},
			wantMsg: []string{"simple only"},
		},
		{
			name:     "an expired waiver does not apply and is a problem",
			results:  []framework.Result{res("TOK-003", "simple", framework.VerdictFail, "no Cache-Control")},
			waivers:  []framework.Waiver{{Check: "TOK-003", Reason: "r", Expires: "2026-06-30"}},
			want:     []framework.Verdict{framework.VerdictFail},
			wantMsg:  []string{"no Cache-Control"},
			problems: []string{"waiver for TOK-003 expired on 2026-06-30", "(TOK-003 [simple] is FAIL)", "renew or remove"},
		},
		{
			name:     "an expired waiver of a passing check is a problem, the PASS stays",
			results:  []framework.Result{res("TOK-003", "simple", framework.VerdictPass, "")},
			waivers:  []framework.Waiver{{Check: "TOK-003", Reason: "r", Expires: "2026-06-30"}},
			want:     []framework.Verdict{framework.VerdictPass},
			problems: []string{"expired on 2026-06-30"},
		},
		{
			name:     "an expired waiver is one problem however many flows it matches",
			results:  []framework.Result{res("TOK-003", "oauth2", framework.VerdictWarn, ""), res("TOK-003", "simple", framework.VerdictWarn, "")},
			waivers:  []framework.Waiver{{Check: "TOK-003", Reason: "r", Expires: "2026-06-30"}},
			want:     []framework.Verdict{framework.VerdictWarn, framework.VerdictWarn},
			problems: []string{"expired"},
		},
		{
			name:    "a waiver applies through its expiry day",
			results: []framework.Result{res("TOK-003", "simple", framework.VerdictFail, "")},
			waivers: []framework.Waiver{{Check: "TOK-003", Reason: "r", Expires: "2026-07-01"}},
			today:   time.Date(2026, 7, 1, 23, 59, 59, 0, time.UTC),
			want:    []framework.Verdict{framework.VerdictWaived},
		},
		{
			name:    "the expiry day is today's date where the run is",
			results: []framework.Result{res("TOK-003", "simple", framework.VerdictFail, "")},
			waivers: []framework.Waiver{{Check: "TOK-003", Reason: "r", Expires: "2026-06-30"}},
			today:   time.Date(2026, 6, 30, 22, 0, 0, 0, time.FixedZone("UTC-5", -5*3600)), // 03:00 UTC on July 1st
			want:    []framework.Verdict{framework.VerdictWaived},
		},
		{
			name: "a waiver does not judge checks that did not run their test",
			results: []framework.Result{
				res("TOK-001", "simple", framework.VerdictNA, "n/a"), res("TOK-002", "simple", framework.VerdictNotVerified, "nv"),
				res("TOK-003", "simple", framework.VerdictInconclusive, "429"), res("TOK-004", "simple", framework.VerdictInfo, "i"),
			},
			waivers: []framework.Waiver{{Check: "TOK-001", Reason: "r"}, {Check: "TOK-002", Reason: "r"}, {Check: "TOK-003", Reason: "r"}, {Check: "TOK-004", Reason: "r"}},
			want:    []framework.Verdict{framework.VerdictNA, framework.VerdictNotVerified, framework.VerdictInconclusive, framework.VerdictInfo},
			wantMsg: []string{"n/a", "nv", "429", "i"},
		},
		{
			name:    "no waivers, no change",
			results: []framework.Result{res("TOK-001", "simple", framework.VerdictFail, "m"), res("TOK-002", "simple", framework.VerdictPass, "")},
			want:    []framework.Verdict{framework.VerdictFail, framework.VerdictPass},
		},
		{
			name:    "a multi-line reason shows its first line",
			results: []framework.Result{res("TOK-003", "simple", framework.VerdictWarn, "")},
			waivers: []framework.Waiver{{Check: "TOK-003", Reason: "OPS-7\nlong story"}},
			want:    []framework.Verdict{framework.VerdictWaived},
			wantMsg: []string{"waived (was WARN): OPS-7"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := framework.Summary{Results: append([]framework.Result(nil), tt.results...)}
			day := tt.today
			if day.IsZero() {
				day = today
			}
			got, problems := in.ApplyWaivers(tt.waivers, day)
			if !reflect.DeepEqual(in.Results, tt.results) {
				t.Errorf("ApplyWaivers changed its receiver: %+v", in.Results)
			}
			if len(got.Results) != len(tt.want) {
				t.Fatalf("%d results, want %d", len(got.Results), len(tt.want))
			}
			for i, r := range got.Results {
				if r.Verdict != tt.want[i] {
					t.Errorf("%s [%s]: %s, want %s (message %q)", r.ID, r.Flow, r.Verdict, tt.want[i], r.Message)
				}
				if i < len(tt.wantMsg) && !strings.Contains(r.Message, tt.wantMsg[i]) {
					t.Errorf("%s [%s]: message %q lacks %q", r.ID, r.Flow, r.Message, tt.wantMsg[i])
				}
				if r.ID != tt.results[i].ID || r.Flow != tt.results[i].Flow || r.Level != tt.results[i].Level {
					t.Errorf("result %d is %s [%s] %s, want %s [%s] %s", i, r.ID, r.Flow, r.Level, tt.results[i].ID, tt.results[i].Flow, tt.results[i].Level)
				}
			}
			if wantProblems := len(tt.problems) > 0; wantProblems != (len(problems) > 0) || len(problems) > 1 {
				t.Fatalf("problems %q, want one with %q", problems, tt.problems)
			}
			for _, p := range tt.problems {
				if !strings.Contains(problems[0], p) {
					t.Errorf("problem %q lacks %q", problems[0], p)
				}
			}
		})
	}
}

// TestWaivedIsNotAFailure: WAIVED fails no run, with either --fail-on.
func TestWaivedIsNotAFailure(t *testing.T) {
	t.Parallel()
	s := framework.Summary{Results: []framework.Result{
		{ID: "TOK-003", Flow: "simple", Level: framework.Must, Verdict: framework.VerdictFail},
		{ID: "TOK-011", Flow: "simple", Level: framework.Should, Verdict: framework.VerdictWarn},
	}}
	if !s.Failed("must") || !s.Failed("should") {
		t.Fatal("the summary before the waivers should fail")
	}
	waived, problems := s.ApplyWaivers([]framework.Waiver{{Check: "TOK-003", Reason: "a"}, {Check: "TOK-011", Reason: "b"}}, time.Now())
	if len(problems) != 0 {
		t.Errorf("problems %q, want none", problems)
	}
	if waived.Failed("must") || waived.Failed("should") {
		t.Errorf("a summary of WAIVED results fails: %+v", waived.Results)
	}
	if n := waived.Count()[framework.VerdictWaived]; n != 2 {
		t.Errorf("%d WAIVED, want 2", n)
	}
}

// TestRenderWaived: WAIVED results show with their reason, and in the count.
func TestRenderWaived(t *testing.T) {
	t.Parallel()
	s := framework.Summary{Results: []framework.Result{
		{ID: "TOK-001", Flow: "simple", Area: "token", Level: framework.Must, Verdict: framework.VerdictPass, Title: title("TOK-001")},
		{ID: "TOK-011", Flow: "simple", Area: "token", Level: framework.Should, Verdict: framework.VerdictWarn, Title: title("TOK-011"), Message: "122 bits"},
	}}
	waived, _ := s.ApplyWaivers([]framework.Waiver{{Check: "TOK-011", Reason: "UUIDv4, JIRA-123"}}, time.Now())
	var b bytes.Buffer
	waived.Render(&b)
	out := b.String()
	for _, want := range []string{
		"    WAIVED       TOK-011   SHOULD " + title("TOK-011") + " (waived (was WARN): UUIDv4, JIRA-123)\n",
		"\n2 checks: 1 PASS, 1 WAIVED\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Render lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "122 bits") {
		t.Errorf("Render explains a WAIVED result below the table like a WARN:\n%s", out)
	}
}
