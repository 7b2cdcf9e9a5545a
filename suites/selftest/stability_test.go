package selftest_test

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tollgate/tollgate/suites/framework"
)

// Stability mode (make stability, scripts/stability.sh): TestStability runs
// the timing-dependent variants of mutants() and variations() over and
// over, and fails unless every mutant is caught and every conformant
// variation passes in every run, each check giving the same verdict each
// time. The script keeps the machine's cores busy meanwhile.
const (
	// stabilityRunsEnv switches stability mode on: how many times each
	// timing-dependent variant is checked.
	stabilityRunsEnv = "TOLLGATE_STABILITY_RUNS"
	// stabilityReportEnv names a file for the per-variant table.
	stabilityReportEnv = "TOLLGATE_STABILITY_REPORT"
)

// timedChecks are the checks that wait or poll: their verdicts rest on
// when their probes go out.
var timedChecks = []string{"EXP-005", "EXP-006", "EXP-007", "EXP-010", "EXP-011", "EXP-012", "REV-002", "INTRO-003"}

// timedVariations are the conformant variations whose answers change with
// time: a revocation that takes a second, a 429 to wait out.
var timedVariations = []string{"revocation-delay", "rate-limit"}

// timed reports whether v's verdicts depend on timing: it waits in real
// time, it is a timed variation, or a check that waits or polls must catch
// it.
func (v variant) timed() bool {
	if v.noControl || slices.Contains(timedVariations, v.mutation) {
		return true
	}
	for _, id := range v.want {
		if slices.Contains(timedChecks, id) {
			return true
		}
	}
	return false
}

// missed lists why a mutant's run did not catch it: the run did not fail,
// or a check named for it is neither FAIL nor WARN.
func missed(v variant, res result) []string {
	var out []string
	if res.exit != 1 {
		out = append(out, fmt.Sprintf("exit %d, want 1 (a check failed)", res.exit))
	}
	for _, id := range v.want {
		if got := res.verdicts[id]; got != framework.VerdictFail && got != framework.VerdictWarn {
			out = append(out, fmt.Sprintf("%s: %s, want FAIL or WARN", id, got))
		}
	}
	return out
}

// stabilityVariants are the variants stability mode checks: the correct
// mock on both flows, clock moved and waited, then every timed mutant and
// variation.
func stabilityVariants() []variant {
	var out []variant
	for _, flow := range []string{"simple", "oauth2"} {
		out = append(out, variant{flow: flow, expiry: true}, variant{flow: flow, expiry: true, noControl: true})
	}
	for _, v := range append(mutants(), variations()...) {
		if v.timed() {
			out = append(out, v)
		}
	}
	return out
}

// TestStability is stability mode: skipped unless TOLLGATE_STABILITY_RUNS
// is set (scripts/stability.sh sets it).
func TestStability(t *testing.T) {
	n := os.Getenv(stabilityRunsEnv)
	if n == "" {
		t.Skip("stability mode: set " + stabilityRunsEnv + " (make stability)")
	}
	runs, err := strconv.Atoi(n)
	if err != nil || runs < 1 {
		t.Fatalf("%s=%q: want a whole number of runs, at least 1", stabilityRunsEnv, n)
	}
	vs := stabilityVariants()
	results := make([][]result, len(vs))
	var mu sync.Mutex
	t.Run("runs", func(t *testing.T) {
		// Round by round, so that each variant's runs are spread over
		// the whole time, whatever else the machine is doing.
		for round := 1; round <= runs; round++ {
			for i, v := range vs {
				t.Run(fmt.Sprintf("%s/%s/%d", v.label(), v.flow, round), func(t *testing.T) {
					t.Parallel()
					limit(t)
					res := check(t, v)
					mu.Lock()
					results[i] = append(results[i], res)
					mu.Unlock()
				})
			}
		}
	})
	table, problems := stabilityTable(vs, results, runs)
	t.Logf("stability over %d runs:\n%s", runs, table)
	if path := os.Getenv(stabilityReportEnv); path != "" {
		if err := os.WriteFile(path, []byte(table), 0o644); err != nil {
			t.Errorf("write the stability table: %v", err)
		}
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// label names a variant in the stability table.
func (v variant) label() string {
	if v.mutation == "" {
		v.mutation = "correct-mock"
	}
	return v.name()
}

// stabilityTable tallies the runs of each variant: how often a mutant was
// caught or a conformant variant passed, how often each check named for a
// mutant got each verdict, and any check whose verdict changed from run to
// run. It returns the table and the problems that fail stability mode.
func stabilityTable(vs []variant, results [][]result, runs int) (string, []string) {
	// A conformant run passes with no FAIL, no INCONCLUSIVE, and no WARN
	// the correct mock does not give in every run on that flow.
	expectedWarns := map[string]map[string]bool{}
	for i, v := range vs {
		if v.mutation != "" {
			continue
		}
		for _, res := range results[i] {
			warns := map[string]bool{}
			for id, verdict := range res.verdicts {
				if verdict == framework.VerdictWarn {
					warns[id] = true
				}
			}
			if prev, ok := expectedWarns[v.flow]; ok {
				for id := range prev {
					if !warns[id] {
						delete(prev, id)
					}
				}
			} else {
				expectedWarns[v.flow] = warns
			}
		}
	}
	var b strings.Builder
	var problems []string
	fmt.Fprintf(&b, "%-40s %-7s %-14s %s\n", "variant", "flow", "result", "verdicts")
	for i, v := range vs {
		good := 0
		for _, res := range results[i] {
			var bad []string
			if len(v.want) > 0 {
				bad = missed(v, res)
			} else {
				bad = falseFindings(res, expectedWarns[v.flow])
			}
			if len(bad) == 0 {
				good++
			} else {
				problems = append(problems, fmt.Sprintf("%s (%s): %s", v.label(), v.flow, strings.Join(bad, "; ")))
			}
		}
		result := fmt.Sprintf("passed %d/%d", good, runs)
		if len(v.want) > 0 {
			result = fmt.Sprintf("caught %d/%d", good, runs)
		}
		if good < runs {
			problems = append(problems, fmt.Sprintf("%s (%s): %s", v.label(), v.flow, result))
		}
		var cells []string
		for _, id := range v.want {
			cells = append(cells, id+" "+tally(results[i], id, runs))
		}
		for _, id := range unstableChecks(results[i]) {
			cell := "unstable " + id + " " + tally(results[i], id, runs)
			cells = append(cells, cell)
			problems = append(problems, fmt.Sprintf("%s (%s): %s", v.label(), v.flow, cell))
		}
		fmt.Fprintf(&b, "%-40s %-7s %-14s %s\n", v.label(), v.flow, result, strings.Join(cells, "; "))
	}
	return b.String(), problems
}

// falseFindings lists what a conformant run should not have: a FAIL, an
// INCONCLUSIVE, a WARN outside expected.
func falseFindings(res result, expected map[string]bool) []string {
	var out []string
	for id, v := range res.verdicts {
		if v == framework.VerdictFail || v == framework.VerdictInconclusive || (v == framework.VerdictWarn && !expected[id]) {
			out = append(out, id+" "+string(v))
		}
	}
	sort.Strings(out)
	return out
}

// tally says how often check id got each verdict over runs, e.g.
// "FAIL 10/10" or "PASS 9/10, INCONCLUSIVE 1/10"; a run with no verdict
// for id (no summary) counts as "none".
func tally(results []result, id string, runs int) string {
	counts := map[string]int{}
	for _, res := range results {
		v := string(res.verdicts[id])
		if v == "" {
			v = "none"
		}
		counts[v]++
	}
	if missing := runs - len(results); missing > 0 {
		counts["no result"] += missing
	}
	verdicts := make([]string, 0, len(counts))
	for v := range counts {
		verdicts = append(verdicts, v)
	}
	sort.Slice(verdicts, func(i, j int) bool {
		a, b := verdicts[i], verdicts[j]
		return counts[a] > counts[b] || counts[a] == counts[b] && a < b
	})
	cells := make([]string, len(verdicts))
	for i, v := range verdicts {
		cells[i] = fmt.Sprintf("%s %d/%d", v, counts[v], runs)
	}
	return strings.Join(cells, ", ")
}

// unstableChecks are the checks whose verdict was not the same in every
// run, sorted.
func unstableChecks(results []result) []string {
	seen := map[string]framework.Verdict{}
	unstable := map[string]bool{}
	ids := map[string]bool{}
	for _, res := range results {
		for id := range res.verdicts {
			ids[id] = true
		}
	}
	for _, res := range results {
		for id := range ids {
			v := res.verdicts[id]
			if first, ok := seen[id]; ok && first != v {
				unstable[id] = true
			}
			seen[id] = v
		}
	}
	var out []string
	for id := range unstable {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func TestStabilityTable(t *testing.T) {
	t.Parallel()
	pass, fail, warn, inconclusive := framework.VerdictPass, framework.VerdictFail, framework.VerdictWarn, framework.VerdictInconclusive
	run := func(exit int, verdicts map[string]framework.Verdict) result {
		return result{exit: exit, verdicts: verdicts}
	}
	correct := variant{flow: "simple", expiry: true}
	slides := variant{mutation: "expiry-slides", flow: "simple", want: []string{"EXP-010"}}
	delay := variant{mutation: "revocation-delay", flow: "simple", expiry: true}
	tests := []struct {
		name     string
		vs       []variant
		results  [][]result
		problems int
		contains []string
	}{
		{"all caught, all passing, warnings the correct mock gives", []variant{correct, slides, delay}, [][]result{
			{run(0, map[string]framework.Verdict{"TOK-011": warn, "EXP-010": pass}), run(0, map[string]framework.Verdict{"TOK-011": warn, "EXP-010": pass})},
			{run(1, map[string]framework.Verdict{"EXP-010": fail}), run(1, map[string]framework.Verdict{"EXP-010": fail})},
			{run(0, map[string]framework.Verdict{"TOK-011": warn, "REV-002": pass}), run(0, map[string]framework.Verdict{"TOK-011": warn, "REV-002": pass})},
		}, 0, []string{"expiry-slides", "caught 2/2", "EXP-010 FAIL 2/2", "passed 2/2"}},
		{"a mutant missed once, its check unstable", []variant{slides}, [][]result{
			{run(1, map[string]framework.Verdict{"EXP-010": fail}), run(0, map[string]framework.Verdict{"EXP-010": pass})},
		}, 3, []string{"caught 1/2", "EXP-010 FAIL 1/2, PASS 1/2", "unstable EXP-010"}},
		{"a conformant run inconclusive, and a run with no result", []variant{delay}, [][]result{
			{run(0, map[string]framework.Verdict{"REV-002": inconclusive})},
		}, 2, []string{"passed 0/2"}},
		{"a warning only some correct runs give is a false finding", []variant{correct}, [][]result{
			{run(0, map[string]framework.Verdict{"EXP-009": warn}), run(0, map[string]framework.Verdict{"EXP-009": pass})},
		}, 3, []string{"passed 1/2", "unstable EXP-009"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			table, problems := stabilityTable(tt.vs, tt.results, 2)
			if len(problems) != tt.problems {
				t.Errorf("%d problems, want %d: %q", len(problems), tt.problems, problems)
			}
			for _, want := range tt.contains {
				if !strings.Contains(table, want) {
					t.Errorf("the table lacks %q:\n%s", want, table)
				}
			}
		})
	}
}

func TestStabilityVariantsAreTimed(t *testing.T) {
	t.Parallel()
	names := map[string]bool{}
	for _, v := range stabilityVariants() {
		names[v.label()] = true
	}
	// The expiry mutants both ways, the polled revocation defects, the
	// timed variations and the correct mock: each must be in.
	for _, want := range []string{"expiry-slides", "expiry-slides/no-control", "accept-expired/no-control", "reissue-cached-token",
		"expired-without-error-code/no-control", "revoke-noop", "introspect-dead-active", "revocation-delay", "rate-limit/no-control",
		"correct-mock", "correct-mock/no-control"} {
		if !names[want] {
			t.Errorf("stability mode leaves out %s", want)
		}
	}
	for _, notTimed := range []string{"text-plain-token", "jwt-accept-alg-none", "lowercase-token-type"} {
		if names[notTimed] {
			t.Errorf("stability mode checks %s, whose verdicts do not depend on timing", notTimed)
		}
	}
}
