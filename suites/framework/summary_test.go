package framework_test

import (
	"bytes"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/tollgate/tollgate/suites/framework"
)

// where is a code location, as Ginkgo records for Skip and Fail.
var where = types.CodeLocation{FileName: "token.go", LineNumber: 42}

// specReport builds the report of one CheckIt spec: an It labelled with the
// ID, area and level, inside a Describe labelled flow:<flow>, as
// conformance.Define builds them.
func specReport(flow, id, level string, state types.SpecState) types.SpecReport {
	return types.SpecReport{
		ContainerHierarchyTexts:  []string{"flow " + flow, "token issuance"},
		ContainerHierarchyLabels: [][]string{{"flow:" + flow}, {}},
		LeafNodeType:             types.NodeTypeIt,
		LeafNodeText:             id + " title",
		LeafNodeLabels:           []string{id, "area:token", "level:" + level},
		State:                    state,
	}
}

func withFailure(r types.SpecReport, msg string) types.SpecReport {
	r.Failure = types.Failure{Message: msg, Location: where}
	return r
}

func withEntry(r types.SpecReport, name, value string) types.SpecReport {
	r.ReportEntries = append(r.ReportEntries, types.ReportEntry{Name: name, Value: types.WrapEntryValue(value)})
	return r
}

func title(id string) string { return framework.NewChecks()[id].Title }

func TestSummarizeOneSpec(t *testing.T) {
	t.Parallel()
	passed := specReport("simple", "TOK-003", "SHOULD", types.SpecStatePassed)
	skipped := specReport("simple", "TOK-003", "SHOULD", types.SpecStateSkipped)
	failed := specReport("simple", "TOK-003", "MUST", types.SpecStateFailed)
	tests := []struct {
		name string
		spec types.SpecReport
		want *framework.Result // nil: no result
		bug  string            // the bug this case once caught: a regression guard
	}{
		{
			name: "a passed spec is PASS",
			spec: passed,
			want: &framework.Result{Verdict: framework.VerdictPass},
		},
		{
			name: "a passed spec with a WARN verdict entry is WARN with its message",
			spec: withEntry(passed, framework.VerdictEntry, "WARN\nmsg"),
			want: &framework.Result{Verdict: framework.VerdictWarn, Message: "msg"},
		},
		{
			name: "a verdict message keeps its later lines",
			spec: withEntry(passed, framework.VerdictEntry, "WARN\nno no-store\n> POST /token"),
			want: &framework.Result{Verdict: framework.VerdictWarn, Message: "no no-store\n> POST /token"},
		},
		{
			name: "a passed spec with an INFO verdict entry is INFO",
			spec: withEntry(passed, framework.VerdictEntry, "INFO\nno Pragma"),
			want: &framework.Result{Verdict: framework.VerdictInfo, Message: "no Pragma"},
		},
		{
			name: "an evidence entry alone leaves PASS",
			spec: withEntry(passed, framework.EvidenceEntry, "> POST /token"),
			want: &framework.Result{Verdict: framework.VerdictPass},
		},
		{
			name: "an evidence entry next to a verdict entry is ignored",
			spec: withEntry(withEntry(passed, framework.EvidenceEntry, "> POST /token"), framework.VerdictEntry, "WARN\nmsg"),
			want: &framework.Result{Verdict: framework.VerdictWarn, Message: "msg"},
		},
		{
			name: "a WARN whose message ends with the evidence entry carries it as Evidence",
			spec: withEntry(withEntry(passed, framework.EvidenceEntry, "> POST /token\nrepeat: curl"), framework.VerdictEntry, "WARN\nno no-store\n> POST /token\nrepeat: curl"),
			want: &framework.Result{Verdict: framework.VerdictWarn, Message: "no no-store\n> POST /token\nrepeat: curl", Evidence: "> POST /token\nrepeat: curl"},
		},
		{
			name: "a FAIL whose message ends with the evidence entry carries it as Evidence",
			spec: withEntry(withFailure(failed, "got 200\n> GET /api\n< 200 OK"), framework.EvidenceEntry, "> GET /api\n< 200 OK"),
			want: &framework.Result{Verdict: framework.VerdictFail, Message: "got 200\n> GET /api\n< 200 OK", Evidence: "> GET /api\n< 200 OK"},
		},
		{
			name: "INCONCLUSIVE: is an INCONCLUSIVE verdict, prefix removed",
			spec: withFailure(skipped, "INCONCLUSIVE: rate limited"),
			want: &framework.Result{Verdict: framework.VerdictInconclusive, Message: "rate limited"},
		},
		{
			name: "NOT VERIFIED: is a NOT VERIFIED verdict, prefix removed",
			spec: withFailure(skipped, "NOT VERIFIED: set scoped_client"),
			want: &framework.Result{Verdict: framework.VerdictNotVerified, Message: "set scoped_client"},
		},
		{
			name: "N/A: is an N/A verdict, prefix removed",
			spec: withFailure(skipped, "N/A: no grant_type"),
			want: &framework.Result{Verdict: framework.VerdictNA, Message: "no grant_type"},
		},
		{
			name: "a skip without a known prefix is SKIP with the message as is",
			spec: withFailure(skipped, "skipped by hand"),
			want: &framework.Result{Verdict: framework.VerdictSkip, Message: "skipped by hand"},
		},
		{
			name: "a prefix is only recognised at the start",
			spec: withFailure(skipped, "see N/A: above"),
			want: &framework.Result{Verdict: framework.VerdictSkip, Message: "see N/A: above"},
		},
		{
			name: "a failed spec is FAIL with its message",
			spec: withFailure(failed, "want no-store"),
			want: &framework.Result{Verdict: framework.VerdictFail, Message: "want no-store"},
		},
		{
			name: "a panicked spec is FAIL, the state named",
			spec: withFailure(specReport("simple", "TOK-003", "MUST", types.SpecStatePanicked), "nil map"),
			want: &framework.Result{Verdict: framework.VerdictFail, Message: "panicked: nil map"},
		},
		{
			name: "a timed-out spec is FAIL, the state named",
			spec: withFailure(specReport("simple", "TOK-003", "MUST", types.SpecStateTimedout), "A spec timeout occurred"),
			want: &framework.Result{Verdict: framework.VerdictFail, Message: "timedout: A spec timeout occurred"},
		},
		{
			name: "an interrupted spec is FAIL",
			spec: withFailure(specReport("simple", "TOK-003", "MUST", types.SpecStateInterrupted), "interrupted by user"),
			want: &framework.Result{Verdict: framework.VerdictFail, Message: "interrupted: interrupted by user"},
		},
		{
			name: "an aborted spec is FAIL",
			spec: withFailure(specReport("simple", "TOK-003", "MUST", types.SpecStateAborted), "abort"),
			want: &framework.Result{Verdict: framework.VerdictFail, Message: "aborted: abort"},
		},
		{
			name: "a pending spec is left out",
			spec: specReport("simple", "TOK-003", "MUST", types.SpecStatePending),
		},
		{
			name: "a BeforeSuite node is left out",
			spec: func() types.SpecReport {
				r := withFailure(failed, "setup failed")
				r.LeafNodeType = types.NodeTypeBeforeSuite
				return r
			}(),
		},
		{
			name: "a ReportAfterSuite node is left out",
			spec: func() types.SpecReport { r := passed; r.LeafNodeType = types.NodeTypeReportAfterSuite; return r }(),
		},
		{
			name: "an It without a catalog ID label is left out",
			spec: func() types.SpecReport {
				r := withFailure(failed, "x")
				r.LeafNodeLabels = []string{"area:token", "level:MUST"}
				return r
			}(),
		},
		{
			name: "an It labelled with an ID missing from the catalog is left out",
			spec: func() types.SpecReport { r := passed; r.LeafNodeLabels = []string{"TOK-999", "level:MUST"}; return r }(),
		},
		{
			name: "a spec a label filter excluded (skipped, no failure) is left out",
			spec: skipped,
			bug:  "summary.go Summarize reports every spec a --label-filter excluded as SKIP, so check.go's \"no check ran\" guard never fires",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := framework.Summarize(types.Report{SpecReports: types.SpecReports{tc.spec}}).Results
			if tc.want == nil {
				if len(got) != 0 {
					t.Fatalf("Summarize() = %+v, want no result", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("Summarize() = %+v, want one result", got)
			}
			want := *tc.want
			want.ID, want.Flow, want.Area, want.Title = "TOK-003", "simple", framework.AreaToken, title("TOK-003")
			want.Level = framework.Level(strings.TrimPrefix(tc.spec.LeafNodeLabels[2], "level:"))
			if got[0] != want {
				t.Errorf("Summarize():\n got %+v\nwant %+v", got[0], want)
			}
		})
	}
}

// TestSummarizeLabels: the ID, flow and level come from the labels, the
// area and title from the catalog; container labels count.
func TestSummarizeLabels(t *testing.T) {
	t.Parallel()
	r := types.SpecReport{
		ContainerHierarchyLabels: [][]string{{"flow:x", "slow"}, {"flow:x"}},
		LeafNodeType:             types.NodeTypeIt,
		LeafNodeLabels:           []string{"area:whatever", "level:MUST", "BEAR-002"},
		State:                    types.SpecStatePassed,
	}
	got := framework.Summarize(types.Report{SpecReports: types.SpecReports{r}}).Results
	want := []framework.Result{{
		ID: "BEAR-002", Flow: "x", Area: framework.AreaBearer, Level: framework.Must,
		Verdict: framework.VerdictPass, Title: title("BEAR-002"),
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Summarize():\n got %+v\nwant %+v", got, want)
	}
}

// mixedReport has one spec of each verdict over two flows, out of order.
func mixedReport() types.Report {
	return types.Report{SpecReports: types.SpecReports{
		withFailure(specReport("simple", "TOK-010", "MUST", types.SpecStateFailed), "tokens repeat\n> POST /token"),
		specReport("oauth2", "TOK-001", "MUST", types.SpecStatePassed),
		withEntry(specReport("simple", "TOK-003", "SHOULD", types.SpecStatePassed), framework.VerdictEntry, "WARN\nno no-store"),
		withFailure(specReport("oauth2", "BEAR-017", "MUST", types.SpecStateSkipped), "NOT VERIFIED: set scoped_client"),
		withFailure(specReport("oauth2", "TOK-011", "MUST", types.SpecStateSkipped), "N/A: a JWT"),
		withEntry(specReport("oauth2", "TOK-004", "INFO", types.SpecStatePassed), framework.VerdictEntry, "INFO\nno Pragma"),
		withFailure(specReport("simple", "EXP-005", "MUST", types.SpecStateSkipped), "INCONCLUSIVE: rate limited"),
		withFailure(specReport("simple", "BEAR-002", "MUST", types.SpecStateSkipped), "by hand"),
		{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStatePassed},
	}}
}

func TestSummarizeOrder(t *testing.T) {
	t.Parallel()
	s := framework.Summarize(mixedReport())
	var got []string
	for _, r := range s.Results {
		got = append(got, r.Flow+" "+r.ID+" "+string(r.Verdict))
	}
	want := []string{
		"oauth2 BEAR-017 NOT VERIFIED",
		"oauth2 TOK-001 PASS",
		"oauth2 TOK-004 INFO",
		"oauth2 TOK-011 N/A",
		"simple BEAR-002 SKIP",
		"simple EXP-005 INCONCLUSIVE",
		"simple TOK-003 WARN",
		"simple TOK-010 FAIL",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("results in order\n %q\nwant\n %q", got, want)
	}
	wantCount := map[framework.Verdict]int{
		framework.VerdictPass: 1, framework.VerdictFail: 1, framework.VerdictWarn: 1, framework.VerdictInfo: 1,
		framework.VerdictNotVerified: 1, framework.VerdictInconclusive: 1, framework.VerdictSkip: 1, framework.VerdictNA: 1,
	}
	if c := s.Count(); !reflect.DeepEqual(c, wantCount) {
		t.Errorf("Count() = %v, want %v", c, wantCount)
	}
}

func TestSummaryFailed(t *testing.T) {
	t.Parallel()
	result := func(v framework.Verdict) framework.Result { return framework.Result{ID: "TOK-001", Verdict: v} }
	tests := []struct {
		name                  string
		verdicts              []framework.Verdict
		wantMust, wantShould  bool
		wantCount, wantPassed int
	}{
		{name: "no results fail nothing", verdicts: nil},
		{name: "passes fail nothing", verdicts: []framework.Verdict{framework.VerdictPass, framework.VerdictPass}, wantCount: 2, wantPassed: 2},
		{
			name:       "a WARN fails only with --fail-on should",
			verdicts:   []framework.Verdict{framework.VerdictPass, framework.VerdictWarn},
			wantMust:   false,
			wantShould: true, wantCount: 2, wantPassed: 1,
		},
		{
			name:       "a FAIL fails either way",
			verdicts:   []framework.Verdict{framework.VerdictFail, framework.VerdictPass},
			wantMust:   true,
			wantShould: true, wantCount: 2, wantPassed: 1,
		},
		{
			name: "INFO, NOT VERIFIED, INCONCLUSIVE, SKIP and N/A fail nothing",
			verdicts: []framework.Verdict{
				framework.VerdictInfo, framework.VerdictNotVerified, framework.VerdictInconclusive, framework.VerdictSkip, framework.VerdictNA,
			},
			wantCount: 5,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var s framework.Summary
			for _, v := range tc.verdicts {
				s.Results = append(s.Results, result(v))
			}
			if got := s.Failed("must"); got != tc.wantMust {
				t.Errorf(`Failed("must") = %v, want %v`, got, tc.wantMust)
			}
			if got := s.Failed("should"); got != tc.wantShould {
				t.Errorf(`Failed("should") = %v, want %v`, got, tc.wantShould)
			}
			n := 0
			for _, c := range s.Count() {
				n += c
			}
			if n != tc.wantCount || s.Count()[framework.VerdictPass] != tc.wantPassed {
				t.Errorf("Count() = %v, want %d results, %d PASS", s.Count(), tc.wantCount, tc.wantPassed)
			}
		})
	}
}

func TestSummaryRender(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	framework.Summarize(mixedReport()).Render(&b)
	out := b.String()

	for _, re := range []string{
		`(?m)^flow oauth2$`,
		`(?m)^flow simple$`,
		`(?m)^  token$`,
		`(?m)^    PASS +TOK-001 +MUST +` + regexp.QuoteMeta(title("TOK-001")) + `$`,
		`(?m)^    FAIL +TOK-010 +MUST +` + regexp.QuoteMeta(title("TOK-010")) + `$`,
		`(?m)^    WARN +TOK-003 +SHOULD +` + regexp.QuoteMeta(title("TOK-003")) + `$`,
		`(?m)^    INCONCLUSIVE +EXP-005 +MUST +.* \(rate limited\)$`,
		`(?m)^    NOT VERIFIED +BEAR-017 +MUST +.* \(set scoped_client\)$`,
		`(?m)^    INFO +TOK-004 +INFO +.* \(no Pragma\)$`,
		`(?m)^    N/A +TOK-011 +MUST +.* \(a JWT\)$`,
		`(?m)^    SKIP +BEAR-002 +MUST +.* \(by hand\)$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("Render output does not match %s:\n%s", re, out)
		}
	}
	// The details of FAIL and WARN follow the table, message indented.
	for _, want := range []string{
		"\nFAIL TOK-010 [simple]: " + title("TOK-010") + "\n    tokens repeat\n    > POST /token\n",
		"\nWARN TOK-003 [simple]: " + title("TOK-003") + "\n    no no-store\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Render output does not contain %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "\nFAIL TOK-010") < strings.Index(out, "flow simple") {
		t.Errorf("the FAIL details come before the table:\n%s", out)
	}
	wantLast := "8 checks: 1 PASS, 1 FAIL, 1 WARN, 1 INFO, 1 NOT VERIFIED, 1 INCONCLUSIVE, 1 SKIP, 1 N/A\n"
	if !strings.HasSuffix(out, "\n\n"+wantLast) {
		t.Errorf("Render output does not end with the summary line %q:\n%s", wantLast, out)
	}
}

func TestSummaryRenderLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		results []framework.Result
		want    []string // substrings
		notWant []string
		bug     string // the bug this case once caught: a regression guard
	}{
		{
			name:    "an empty summary says 0 checks",
			results: nil,
			want:    []string{"\n0 checks: \n"},
		},
		{
			name:    "only the verdicts present are counted",
			results: []framework.Result{{ID: "TOK-001", Flow: "f", Verdict: framework.VerdictPass}, {ID: "TOK-002", Flow: "f", Verdict: framework.VerdictPass}},
			want:    []string{"\n2 checks: 2 PASS\n"},
			notWant: []string{"FAIL"},
		},
		{
			name:    "a PASS shows no message",
			results: []framework.Result{{ID: "TOK-001", Flow: "f", Verdict: framework.VerdictPass, Message: "hidden"}},
			notWant: []string{"hidden"},
		},
		{
			name:    "an inline reason's further lines go beneath it",
			results: []framework.Result{{ID: "TOK-001", Flow: "f", Verdict: framework.VerdictNA, Message: "first\nsecond"}},
			want:    []string{"(first)\n        second\n"},
		},
		{
			name:    "a long inline reason is never cut (its remedy is at the end)",
			results: []framework.Result{{ID: "TOK-001", Flow: "f", Verdict: framework.VerdictNotVerified, Message: strings.Repeat("x", 300) + " remedy: --opt-in X"}},
			want:    []string{"(" + strings.Repeat("x", 300) + " remedy: --opt-in X)\n"},
			notWant: []string{"…"},
		},
		{
			name:    "a long inline reason of multi-byte characters stays whole",
			results: []framework.Result{{ID: "TOK-001", Flow: "f", Verdict: framework.VerdictNA, Message: "x" + strings.Repeat("§", 100)}},
			want:    []string{"(x" + strings.Repeat("§", 100) + ")\n"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			framework.Summary{Results: tc.results}.Render(&b)
			out := b.String()
			if !utf8.ValidString(out) {
				t.Errorf("Render output is not valid UTF-8: %q", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("Render output does not contain %q:\n%s", w, out)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out, w) {
					t.Errorf("Render output contains %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestPersistenceFailureVoidsRefusals: when BEAR-025 fails in a flow, the
// refusal checks that passed there become INCONCLUSIVE; other flows and
// other checks keep their verdicts.
func TestPersistenceFailureVoidsRefusals(t *testing.T) {
	t.Parallel()
	results := []framework.Result{
		{ID: "BEAR-005", Flow: "a", Verdict: framework.VerdictPass},
		{ID: "BEAR-025", Flow: "a", Verdict: framework.VerdictFail},
		{ID: "JWT-004", Flow: "a", Verdict: framework.VerdictFail},
		{ID: "TOK-001", Flow: "a", Verdict: framework.VerdictPass},
		{ID: "BEAR-005", Flow: "b", Verdict: framework.VerdictPass},
	}
	got := framework.VoidRefusalsAfterLockout(results)
	want := []framework.Verdict{framework.VerdictInconclusive, framework.VerdictFail, framework.VerdictFail, framework.VerdictPass, framework.VerdictPass}
	for i, r := range got {
		if r.Verdict != want[i] {
			t.Errorf("%s in flow %s: %s, want %s", r.ID, r.Flow, r.Verdict, want[i])
		}
	}
}
