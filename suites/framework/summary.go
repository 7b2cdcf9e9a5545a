package framework

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/onsi/ginkgo/v2/types"
)

// Verdict is the outcome of one check on one flow.
type Verdict string

// Verdicts, worst first.
const (
	VerdictFail         Verdict = "FAIL"
	VerdictWarn         Verdict = "WARN"
	VerdictNotVerified  Verdict = "NOT VERIFIED"
	VerdictInconclusive Verdict = "INCONCLUSIVE"
	VerdictInfo         Verdict = "INFO"
	VerdictSkip         Verdict = "SKIP"
	VerdictNA           Verdict = "N/A"
	VerdictPass         Verdict = "PASS"
)

// Result is one check's verdict on one flow.
type Result struct {
	ID      string  `json:"id"`
	Flow    string  `json:"flow"`
	Area    string  `json:"area"`
	Level   Level   `json:"level"` // the check's level under the profile; for a WARN of a lesser finding (SoftLevel), that finding's
	Verdict Verdict `json:"verdict"`
	Title   string  `json:"title"`
	Message string  `json:"message,omitempty"` // why, for anything but PASS; redacted

	// Evidence is the redacted exchange (with its repeat: curl line) that
	// ends Message, when the check recorded one; "" otherwise. It is part
	// of Message already, so the JSON summary leaves it out.
	Evidence string `json:"-"`
}

// Summary is the verdicts of a run.
type Summary struct {
	// Expiry says how the expiry checks let time pass: by moving the
	// target's clock through its control API, or waiting (Framework.Expiry).
	Expiry  string   `json:"expiry,omitempty"`
	Results []Result `json:"results"`
}

// Summarize reads a Ginkgo report: spec state plus the verdict entries
// CheckIt and the skip helpers leave.
func Summarize(report types.Report) Summary {
	checks := NewChecks()
	var s Summary
	for _, spec := range report.SpecReports {
		if spec.LeafNodeType != types.NodeTypeIt {
			continue
		}
		id, flow, level := checkLabels(spec, checks)
		if id == "" {
			continue
		}
		r := Result{ID: id, Flow: flow, Area: checks[id].Area, Level: Level(level), Title: checks[id].Title}
		switch spec.State {
		case types.SpecStatePassed:
			r.Verdict = VerdictPass
			for _, e := range spec.ReportEntries {
				if e.Name == VerdictEntry {
					v, msg, _ := strings.Cut(e.Value.String(), "\n")
					r.Verdict, r.Message = Verdict(v), msg
					if r.Verdict == VerdictWarn && r.Level == Must {
						r.Level = Should // a lesser finding of a MUST check (Warn)
					}
					if r.Verdict == VerdictInfo && r.Level == Must {
						r.Level = Info // a lesser finding recorded by Note
					}
				}
			}
		case types.SpecStateSkipped:
			if spec.Failure.IsZero() {
				continue // left out by the label filter, not skipped by a check
			}
			msg := spec.Failure.Message
			r.Verdict = VerdictSkip
			for prefix, v := range map[string]Verdict{inconclusivePrefix: VerdictInconclusive, notVerifiedPrefix: VerdictNotVerified, notApplicablePrefix: VerdictNA} {
				if rest, ok := trimPrefix(msg, prefix); ok {
					r.Verdict, msg = v, rest
				}
			}
			r.Message = msg
		case types.SpecStatePending:
			continue
		default: // failed, panicked, timed out, interrupted, aborted
			r.Verdict = VerdictFail
			r.Message = spec.Failure.Message
			if spec.State != types.SpecStateFailed {
				r.Message = spec.State.String() + ": " + r.Message
			}
		}
		r.Evidence = evidenceOf(spec, r.Message)
		s.Results = append(s.Results, r)
	}
	sort.SliceStable(s.Results, func(i, j int) bool {
		if s.Results[i].Flow != s.Results[j].Flow {
			return s.Results[i].Flow < s.Results[j].Flow
		}
		return s.Results[i].ID < s.Results[j].ID
	})
	s.Results = voidRefusalsAfterLockout(s.Results)
	return s
}

// voidRefusalsAfterLockout turns the PASS of each refusal check into
// INCONCLUSIVE in a flow whose BEAR-025 failed: once the valid token
// itself is refused after the forgeries, their refusals may be the
// server's lockout rather than their verdicts.
func voidRefusalsAfterLockout(results []Result) []Result {
	locked := map[string]bool{}
	for _, r := range results {
		if r.ID == PersistenceCheckID && r.Verdict == VerdictFail {
			locked[r.Flow] = true
		}
	}
	if len(locked) == 0 {
		return results
	}
	dependent := map[string]bool{}
	for _, id := range PersistenceDependents() {
		dependent[id] = true
	}
	for i, r := range results {
		if locked[r.Flow] && dependent[r.ID] && r.Verdict == VerdictPass {
			results[i].Verdict = VerdictInconclusive
			results[i].Message = PersistenceCheckID + " failed: the valid token stopped working after the forgeries and bad tokens, so this refusal may be the server's lockout"
		}
	}
	return results
}

// evidenceOf returns the evidence entry CheckIt left on spec when msg ends
// with it, as CheckIt's failure messages do; else "".
func evidenceOf(spec types.SpecReport, msg string) string {
	for _, e := range spec.ReportEntries {
		if e.Name != EvidenceEntry {
			continue
		}
		if ev := e.Value.String(); ev != "" && (msg == ev || strings.HasSuffix(msg, "\n"+ev)) {
			return ev
		}
	}
	return ""
}

// checkLabels reads the check ID, flow and level CheckIt put in a spec's
// labels; id is "" for a spec that is not a check.
func checkLabels(spec types.SpecReport, checks Checks) (id, flow, level string) {
	for _, l := range spec.Labels() {
		switch {
		case checks[l].ID != "":
			id = l
		case strings.HasPrefix(l, "flow:"):
			flow = strings.TrimPrefix(l, "flow:")
		case strings.HasPrefix(l, "level:"):
			level = strings.TrimPrefix(l, "level:")
		}
	}
	return id, flow, level
}

// Count returns how many results have each verdict.
func (s Summary) Count() map[Verdict]int {
	n := map[Verdict]int{}
	for _, r := range s.Results {
		n[r.Verdict]++
	}
	return n
}

// Failed reports whether the run fails: any FAIL, and with failOn "should"
// also any WARN.
func (s Summary) Failed(failOn string) bool {
	n := s.Count()
	return n[VerdictFail] > 0 || (failOn == "should" && n[VerdictWarn] > 0)
}

// Render writes a human summary grouped by flow and area, worst verdicts
// explained below the table.
func (s Summary) Render(w io.Writer) {
	var flow, area string
	for _, r := range s.Results {
		if r.Flow != flow {
			flow, area = r.Flow, ""
			fmt.Fprintf(w, "\nflow %s\n", flow)
		}
		if r.Area != area {
			area = r.Area
			fmt.Fprintf(w, "  %s\n", area)
		}
		line := fmt.Sprintf("    %-12s %-9s %-6s %s", r.Verdict, r.ID, r.Level, r.Title)
		if r.Verdict != VerdictPass && r.Verdict != VerdictFail && r.Verdict != VerdictWarn && r.Message != "" {
			// The whole message, never cut: a NOT VERIFIED or INFO
			// names its remedy there. Lines after the first go beneath.
			// A WAIVED result shows its waiver only: the finding under it
			// was accepted.
			first, rest, _ := strings.Cut(strings.TrimSpace(r.Message), "\n")
			line += " (" + first + ")"
			if rest != "" && r.Verdict != VerdictWaived {
				line += "\n" + strings.Repeat(" ", 8) + strings.ReplaceAll(rest, "\n", "\n"+strings.Repeat(" ", 8))
			}
		}
		fmt.Fprintln(w, line)
	}
	for _, r := range s.Results {
		if r.Verdict == VerdictFail || r.Verdict == VerdictWarn {
			fmt.Fprintf(w, "\n%s %s [%s]: %s\n%s\n", r.Verdict, r.ID, r.Flow, r.Title, indent(r.Message))
		}
	}
	n := s.Count()
	var parts []string
	for _, v := range []Verdict{VerdictPass, VerdictFail, VerdictWarn, VerdictWaived, VerdictInfo, VerdictNotVerified, VerdictInconclusive, VerdictSkip, VerdictNA} {
		if n[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[v], v))
		}
	}
	if s.Expiry != "" {
		fmt.Fprintf(w, "\nexpiry: %s\n", s.Expiry)
	}
	fmt.Fprintf(w, "\n%d checks: %s\n", len(s.Results), strings.Join(parts, ", "))
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ")
}

// oneLine shortens a message to its first line, at most 160 bytes, for
// places that name a result in passing (the waiver notes).
func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 160 {
		cut := 160
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
