package framework_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/framework"
)

var update = flag.Bool("update", false, "rewrite docs/checks.md from the catalog")

// checksDoc is docs/checks.md, relative to this package.
var checksDoc = filepath.Join("..", "..", "docs", "checks.md")

// checksDocHeader is the hand-written part of docs/checks.md; the table
// below it is framework.MarkdownTable().
const checksDocHeader = `# Checks

<!-- Generated from suites/framework/catalog.go: edit the catalog or the header in
suites/framework/catalog_test.go, then run
go test ./suites/framework -run TestChecksDoc -update -->

The checks ` + "`tollgate check`" + ` and ` + "`go test ./suites/conformance`" + ` run against a target,
one row per check. The IDs come from the shared conformance catalog
(` + "`shared/conformance-catalog.md`" + `), which traces each check to the normative sentence
behind it and says how it is tested from outside the server: ` + "`TOK-`" + ` for token
issuance, ` + "`BEAR-`" + ` for Bearer enforcement, ` + "`EXP-`" + ` for expiry, and the optional
modules ` + "`JWT-`" + `, ` + "`META-`" + `, ` + "`REV-`" + ` (RFC 7009 revocation) and ` + "`INTRO-`" + ` (RFC 7662
introspection), ` + "`SEC-`" + ` for hardening facts recorded at INFO level, and ` + "`GQL-`" + ` for
Bearer enforcement on a GraphQL endpoint.
REV and INTRO run when the flow document declares the endpoint,
the configuration names it (` + "`revocation_endpoint`" + `, ` + "`introspection_endpoint`" + `) or the
target's RFC 8414 metadata advertises it; otherwise they are N/A. An endpoint
the flow document marks optional (` + "`x-tollgate.optional`" + `) that answers 404 or 405
is N/A too ("not offered") unless ` + "`--require`" + ` or the metadata asks for it; a
required endpoint that is not offered fails REV-001 or INTRO-002 once, the rest
of the area NOT VERIFIED ([check.md](check.md#optional-capabilities)). An ID never changes
meaning once released; gaps in the numbering are catalog checks this suite does
not implement. ` + "`tollgate check --list-checks`" + ` prints the same table as YAML.

The GQL checks run when the flow document declares a GraphQL endpoint
(` + "`x-tollgate.graphql`" + `) or the target file names one (` + "`graphql:`" + `); otherwise they
are N/A ("not offered"), as they are when an endpoint the flow document marks optional
answers 404 or 405. Every query they send is first validated against the
target's SDL with gqlparser: a fixture the SDL rejects is a configuration error
(exit 2), never a server failure ([check.md](check.md#graphql)).

## Levels

How much a failed check matters depends on the profile the run is judged by:
` + "`--profile`" + `, else the flow document's ` + "`x-tollgate.profile`" + ` (` + "`simple`" + ` for the simple
flow, ` + "`cl`" + ` for oauth2; ` + "`rfc9068`" + ` is ` + "`rfc6749`" + ` with RFC 9068's JWT profile binding).
The last five columns give the level under each profile; a level in parentheses is that
of a lesser finding the catalog grades below the rest of the check ("FAIL if 200; WARN on
the code"), reported at that level (a WARN, or an INFO for GQL-006's legacy servers) while
the check's own failure stays at its level.

- **MUST**: a failure is a FAIL and fails the run (exit code 1).
- **SHOULD**: a failure is a WARN; it fails the run only with ` + "`--fail-on should`" + `.
- **INFO**: a failure is reported as INFO, a record of what the server does; it
  never fails the run.

Each check's spec carries the labels ` + "`<ID>`" + `, ` + "`area:<area>`" + `, ` + "`level:<level>`" + ` and
` + "`flow:<flow>`" + `, so ` + "`--label-filter 'area:token && level:MUST'`" + ` runs a subset.

## Verdicts

| verdict | meaning |
|---|---|
| PASS | the check held |
| FAIL | a MUST check did not hold; the report shows the redacted exchange and a curl line that repeats it |
| WARN | a SHOULD check did not hold |
| INFO | an INFO check did not hold |
| NOT VERIFIED | the check could not run with this configuration (for example no expiry or scoped client); the message names the remedy. Not a pass |
| INCONCLUSIVE | the target would not answer (429 past the retries, or the token budget spent); neither a pass nor a failure |
| N/A | the check does not apply to this flow document |
| SKIP | the check was skipped for another reason |

## Regenerating

This file is generated: ` + "`go test ./suites/framework`" + ` fails when it differs from the
catalog in ` + "`suites/framework/catalog.go`" + `. After changing the catalog, run

    go test ./suites/framework -run TestChecksDoc -update

## The checks

`

func TestChecksDoc(t *testing.T) {
	t.Parallel()
	want := checksDocHeader + framework.MarkdownTable()
	if *update {
		if err := os.WriteFile(checksDoc, []byte(want), 0o644); err != nil {
			t.Fatalf("update %s: %v", checksDoc, err)
		}
		return
	}
	got, err := os.ReadFile(checksDoc)
	if err != nil {
		t.Fatalf("%v: generate it with go test ./suites/framework -run TestChecksDoc -update", err)
	}
	if string(got) == want {
		return
	}
	gotLines, wantLines := strings.Split(string(got), "\n"), strings.Split(want, "\n")
	for i := 0; i < len(gotLines) || i < len(wantLines); i++ {
		var g, w string
		if i < len(gotLines) {
			g = gotLines[i]
		}
		if i < len(wantLines) {
			w = wantLines[i]
		}
		if g != w {
			t.Fatalf("%s is stale (first difference at line %d):\n have %q\n want %q\nregenerate it with go test ./suites/framework -run TestChecksDoc -update", checksDoc, i+1, g, w)
		}
	}
}

func TestMarkdownTable(t *testing.T) {
	t.Parallel()
	lines := strings.Split(strings.TrimSuffix(framework.MarkdownTable(), "\n"), "\n")
	catalog := framework.Catalog()
	if len(lines) != 2+len(catalog) {
		t.Fatalf("MarkdownTable has %d lines, want a header, a rule and %d rows", len(lines), len(catalog))
	}
	if lines[0] != "| ID | area | what must hold | source | rfc6749 | oauth21 | cl | simple | rfc9068 |" {
		t.Errorf("header = %q", lines[0])
	}
	for i, c := range catalog {
		row := lines[i+2]
		// Unescaped pipes separate the cells: an ID, area, title, source and one level per profile.
		cells := regexp.MustCompile(`\s*(?:^|[^\\])\|\s*`).Split(strings.Trim(row, "| "), -1)
		if len(cells) != 4+len(spec.Profiles()) {
			t.Errorf("row %q has %d cells, want %d", row, len(cells), 4+len(spec.Profiles()))
			continue
		}
		if cells[0] != c.ID {
			t.Errorf("row %d is %s, want %s", i, cells[0], c.ID)
		}
		for j, p := range spec.Profiles() {
			want := string(c.Level(p))
			if soft, ok := c.SoftLevel(p); ok {
				want += " (" + string(soft) + ")"
			}
			if got := cells[4+j]; got != want {
				t.Errorf("%s under %s: table says %s, Level says %s", c.ID, p, got, c.Level(p))
			}
		}
	}
}

var idPattern = regexp.MustCompile(`^(TOK|BEAR|EXP|GQL|JWT|META|REV|INTRO|SEC)-\d{3}$`)

func TestCatalog(t *testing.T) {
	t.Parallel()
	areaOf := map[string]string{"TOK": framework.AreaToken, "BEAR": framework.AreaBearer, "EXP": framework.AreaExpiry, "GQL": framework.AreaGraphQL, "JWT": framework.AreaJWT, "META": framework.AreaMeta,
		"REV": framework.AreaRevocation, "INTRO": framework.AreaIntrospection, "SEC": framework.AreaSecurity}
	levels := map[framework.Level]bool{framework.Must: true, framework.Should: true, framework.Info: true}
	profiles := map[string]bool{"*": true}
	for _, p := range spec.Profiles() {
		profiles[p] = true
	}
	catalog := framework.Catalog()
	if len(catalog) == 0 {
		t.Fatal("the catalog is empty")
	}
	seen := map[string]bool{}
	for i, c := range catalog {
		if !idPattern.MatchString(c.ID) {
			t.Errorf("ID %q does not match %s", c.ID, idPattern)
		}
		if seen[c.ID] {
			t.Errorf("ID %s appears twice", c.ID)
		}
		seen[c.ID] = true
		if i > 0 && catalog[i-1].ID >= c.ID {
			t.Errorf("the catalog is not sorted: %s before %s", catalog[i-1].ID, c.ID)
		}
		if strings.TrimSpace(c.Title) == "" || strings.TrimSpace(c.Source) == "" || c.Area == "" {
			t.Errorf("%s: Title %q, Source %q, Area %q: none may be empty", c.ID, c.Title, c.Source, c.Area)
		}
		if prefix, _, _ := strings.Cut(c.ID, "-"); areaOf[prefix] != c.Area {
			t.Errorf("%s has area %q, want %q", c.ID, c.Area, areaOf[prefix])
		}
		// MarkdownTable escapes pipes in Source only.
		if strings.ContainsAny(c.Title, "|\n") || strings.Contains(c.Source, "\n") {
			t.Errorf("%s: a pipe or a line break in the title or source breaks the table", c.ID)
		}
		if _, ok := c.Levels["*"]; !ok {
			t.Errorf("%s has no \"*\" level", c.ID)
		}
		for p, l := range c.Levels {
			if !profiles[p] {
				t.Errorf("%s: level for unknown profile %q", c.ID, p)
			}
			if !levels[l] {
				t.Errorf("%s: unknown level %q under %q", c.ID, l, p)
			}
		}
	}
	if checks := framework.NewChecks(); len(checks) != len(catalog) {
		t.Errorf("NewChecks has %d entries, want %d", len(checks), len(catalog))
	}
}

func TestCheckLevel(t *testing.T) {
	t.Parallel()
	checks := framework.NewChecks()
	tests := []struct {
		id, profile string
		want        framework.Level
	}{
		{"TOK-004", "rfc6749", framework.Must},
		{"TOK-004", "cl", framework.Info},
		{"TOK-004", "oauth21", framework.Info},
		{"TOK-004", "simple", framework.Info},
		{"TOK-003", "simple", framework.Should},
		{"TOK-003", "rfc6749", framework.Must},
		{"TOK-003", "cl", framework.Must},
		{"TOK-011", "simple", framework.Must},
		{"JWT-002", "rfc9068", framework.Must},
		{"JWT-002", "cl", framework.Info},
		{"JWT-002", "oauth21", framework.Info},
		{"TOK-004", "rfc9068", framework.Must}, // rfc9068 extends rfc6749
		{"TOK-016", "rfc6749", framework.Must},
		{"TOK-016", "oauth21", framework.Info},
		{"TOK-018", "rfc6749", framework.Info},
		{"TOK-018", "oauth21", framework.Must},
		{"TOK-019", "cl", framework.Info},
		{"TOK-020", "cl", framework.Must},
		{"TOK-020", "rfc6749", framework.Info},
		{"BEAR-011", "rfc6749", framework.Info},
		{"BEAR-011", "oauth21", framework.Must},
		{"BEAR-024", "cl", framework.Info},
		{"EXP-001", "simple", framework.Must},
		{"EXP-001", "cl", framework.Should},
		{"TOK-001", "simple", framework.Must},
		{"TOK-004", "", framework.Info},                // no profile: the default
		{"TOK-004", "no-such-profile", framework.Info}, // unknown profile: the default
	}
	for _, tc := range tests {
		t.Run(tc.id+" under "+tc.profile, func(t *testing.T) {
			t.Parallel()
			c, ok := checks[tc.id]
			if !ok {
				t.Fatalf("%s is not in the catalog", tc.id)
			}
			if got := c.Level(tc.profile); got != tc.want {
				t.Errorf("%s.Level(%q) = %s, want %s", tc.id, tc.profile, got, tc.want)
			}
		})
	}
}

// TestCatalogIsFresh: a caller changing its copy changes no one else's.
func TestCatalogIsFresh(t *testing.T) {
	t.Parallel()
	mine := framework.Catalog()
	mine[0].Title = "changed"
	mine[0].Levels["*"] = framework.Info
	mine[0].Levels["rfc6749"] = framework.Info
	fresh := framework.Catalog()
	if fresh[0].Title == "changed" || fresh[0].Levels["*"] == framework.Info || fresh[0].Levels["rfc6749"] == framework.Info {
		t.Errorf("Catalog() returned a shared entry: %+v", fresh[0])
	}
}
