package framework_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/framework"
)

// sharedCatalog is the shared conformance catalog, beside the checkout.
var sharedCatalog = filepath.Join("..", "..", "..", "shared", "conformance-catalog.md")

// severityExceptions are the checks whose declared levels differ from the
// catalog's severity column on purpose, each with the reason. Keep it
// short: every entry is a verdict the catalog does not back.
var severityExceptions = map[string]string{
	"TOK-008":   `"else INFO" is for a lifetime no document pins; every flow document pins one (x-tollgate.token.lifetime)`,
	"TOK-017":   "INFO under cl: Commerce Layer takes no HTTP Basic (F3), so Appendix B encoding cannot be asked of it",
	"EXP-004":   `"INFO later" (the token near exp) is not implemented: EXP-004 judges t0 only`,
	"BEAR-013":  `"INFO / WARN": the suite reports WARN only`,
	"REV-001":   "warns when access tokens cannot be revoked (RFC 7009 §2 SHOULD); the row names FAIL only",
	"REV-005":   "warns when a refused revocation answers 200 (RFC 7009 §2.1); the row names FAIL only",
	"INTRO-001": "warns when introspection without authentication is refused with another status than 401 (RFC 7662 §2.3); the row names FAIL only",
}

// catalogRow is one check row of the shared catalog: its ID and severity.
type catalogRow struct{ id, severity string }

// readCatalogSeverities returns the severity column of every check row.
func readCatalogSeverities(t *testing.T) []catalogRow {
	t.Helper()
	data, err := os.ReadFile(sharedCatalog)
	if os.IsNotExist(err) {
		t.Skipf("the shared catalog %s is absent (a checkout without ../shared): the severity pins cannot be compared", sharedCatalog)
	}
	if err != nil {
		t.Fatal(err)
	}
	var rows []catalogRow
	for _, line := range strings.Split(string(data), "\n") {
		cells := splitCells(line)
		if len(cells) < 3 || !idPattern.MatchString(cells[0]) {
			continue
		}
		rows = append(rows, catalogRow{id: cells[0], severity: cells[len(cells)-1]})
	}
	return rows
}

// splitCells splits a Markdown table row on its unescaped pipes.
func splitCells(line string) []string {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "|") {
		return nil
	}
	var cells []string
	var cur strings.Builder
	for i := 1; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			cur.WriteByte('|')
			i++
		case line[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(line[i])
		}
	}
	return cells
}

var (
	severityWord = regexp.MustCompile(`\b(FAIL|WARN|INFO)\b`)
	profileName  = regexp.MustCompile("`([a-z0-9]+)`")
	flowLetter   = regexp.MustCompile(`(?:^|[\s(/])([AB])(?:$|[\s:)/,])`)
)

var levelOf = map[string]framework.Level{"FAIL": framework.Must, "WARN": framework.Should, "INFO": framework.Info}

// expectedLevels reads a severity cell ("B: FAIL; A: WARN", "FAIL
// `rfc6749`; INFO `oauth21`/`cl`/A", "FAIL if 200; WARN on the code") as
// the levels a check may report under each profile. Flow A is the simple
// profile, flow B the others; "others" is every profile no other part
// names. A profile the cell does not determine is absent.
func expectedLevels(severity string) map[string][]framework.Level {
	type part struct {
		levels   []framework.Level
		profiles []string // nil: every profile
		others   bool
	}
	var parts []part
	named := map[string]bool{}
	for _, seg := range strings.Split(severity, ";") {
		for _, p := range strings.Split(seg, ",") {
			var pt part
			for _, m := range severityWord.FindAllStringSubmatch(p, -1) {
				pt.levels = append(pt.levels, levelOf[m[1]])
			}
			if len(pt.levels) == 0 {
				continue // "A: see F1", "or SKIPPED with a reason"
			}
			for _, m := range profileName.FindAllStringSubmatch(p, -1) {
				if slices.Contains(spec.Profiles(), m[1]) {
					pt.profiles = append(pt.profiles, m[1])
				}
			}
			for _, m := range flowLetter.FindAllStringSubmatch(p, -1) {
				if m[1] == "A" {
					pt.profiles = append(pt.profiles, "simple")
					continue
				}
				for _, prof := range spec.Profiles() {
					if prof != "simple" {
						pt.profiles = append(pt.profiles, prof)
					}
				}
			}
			pt.others = strings.Contains(p, "others")
			for _, prof := range pt.profiles {
				named[prof] = true
			}
			parts = append(parts, pt)
		}
	}
	out := map[string][]framework.Level{}
	for _, prof := range spec.Profiles() {
		var levels []framework.Level
		for _, pt := range parts {
			applies := slices.Contains(pt.profiles, prof) || (pt.others && !named[prof]) || (pt.profiles == nil && !pt.others)
			if applies {
				levels = append(levels, pt.levels...)
			}
		}
		if len(levels) == 0 && spec.ProfileBase(prof) != "" {
			continue // filled from the base below
		}
		if len(levels) > 0 {
			out[prof] = sortedLevels(levels)
		}
	}
	for _, prof := range spec.Profiles() {
		if _, ok := out[prof]; !ok {
			if base := spec.ProfileBase(prof); base != "" && out[base] != nil {
				out[prof] = out[base]
			}
		}
	}
	return out
}

func sortedLevels(ls []framework.Level) []framework.Level {
	seen := map[framework.Level]bool{}
	var out []framework.Level
	for _, l := range ls {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// TestExpectedLevels pins the reading of the severity cells.
func TestExpectedLevels(t *testing.T) {
	t.Parallel()
	m, s, i := framework.Must, framework.Should, framework.Info
	tests := []struct {
		severity string
		want     map[string][]framework.Level
	}{
		{"FAIL", map[string][]framework.Level{"rfc6749": {m}, "oauth21": {m}, "cl": {m}, "simple": {m}, "rfc9068": {m}}},
		{"B: FAIL; A: WARN", map[string][]framework.Level{"rfc6749": {m}, "oauth21": {m}, "cl": {m}, "simple": {s}, "rfc9068": {m}}},
		{"FAIL `rfc6749`; INFO `oauth21`/`cl`/A", map[string][]framework.Level{"rfc6749": {m}, "oauth21": {i}, "cl": {i}, "simple": {i}, "rfc9068": {m}}},
		{"FAIL if 200; WARN on the code", map[string][]framework.Level{"rfc6749": {m, s}, "oauth21": {m, s}, "cl": {m, s}, "simple": {m, s}, "rfc9068": {m, s}}},
		{"FAIL (mock/A), WARN (others)", map[string][]framework.Level{"rfc6749": {s}, "oauth21": {s}, "cl": {s}, "simple": {m}, "rfc9068": {s}}},
		{"FAIL `rfc9068`; INFO `cl`", map[string][]framework.Level{"cl": {i}, "rfc9068": {m}}},
		{"A FAIL; B WARN", map[string][]framework.Level{"rfc6749": {s}, "oauth21": {s}, "cl": {s}, "simple": {m}, "rfc9068": {s}}},
		{"FAIL `cl`; INFO others", map[string][]framework.Level{"rfc6749": {i}, "oauth21": {i}, "cl": {m}, "simple": {i}, "rfc9068": {i}}},
	}
	for _, tc := range tests {
		got := expectedLevels(tc.severity)
		if !mapsEqual(got, tc.want) {
			t.Errorf("expectedLevels(%q) = %v, want %v", tc.severity, got, tc.want)
		}
	}
}

func mapsEqual(a, b map[string][]framework.Level) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestLevelsFollowTheCatalog: under every profile the catalog's severity
// column determines, each check reports exactly the levels it names: the
// check's level, and the level of its lesser finding (SoftLevel) where the
// catalog splits the outcome ("FAIL if 200; WARN on the code").
func TestLevelsFollowTheCatalog(t *testing.T) {
	t.Parallel()
	rows := readCatalogSeverities(t)
	checks := framework.NewChecks()
	compared := 0
	for _, row := range rows {
		c, ok := checks[row.id]
		if !ok {
			continue // a catalog check this suite does not implement
		}
		t.Run(row.id, func(t *testing.T) {
			if why, ok := severityExceptions[row.id]; ok {
				t.Skipf("exception: %s", why)
			}
			for profile, want := range expectedLevels(row.severity) {
				got := []framework.Level{c.Level(profile)}
				if soft, ok := c.SoftLevel(profile); ok {
					got = append(got, soft)
				}
				if got = sortedLevels(got); !slices.Equal(got, want) {
					t.Errorf("under %s: declared %v, the catalog's %q says %v", profile, got, row.severity, want)
				}
			}
		})
		compared++
	}
	if compared < len(checks)/2 {
		t.Errorf("only %d of %d checks found in %s: is the table's layout still ID first, severity last?", compared, len(checks), sharedCatalog)
	}
}
