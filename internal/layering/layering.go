// Package layering states which packages of the module may import which,
// and checks a package's dependencies against those rules. Its test runs
// `go list` over the module, so `make test` fails on a violation; the
// depguard rules in .golangci.yml say the same to the linter.
//
// The rules apply to non-test files: a test may wire the mock and the
// suite together (the selftest and the conformance tests start the mock
// through mockservertest), which is what tests are for.
package layering

import "strings"

// Module is the module path the rules are written against.
const Module = "github.com/tollgate/tollgate"

// Rule forbids some dependencies to some packages. A pattern is an import
// path, or a path ending in "/..." for it and every package below it.
type Rule struct {
	Name     string
	Packages []string // patterns of the packages the rule applies to
	Except   []string // patterns of packages exempt from it
	Deny     []string // patterns of forbidden dependencies
	Allow    []string // patterns of dependencies allowed despite Deny
	Why      string
}

// Rules returns the module's import rules.
func Rules() []Rule {
	return []Rule{
		{
			Name:     "probe-and-load-need-no-test-framework",
			Packages: []string{Module + "/suites/probe/...", Module + "/suites/load/...", Module + "/suites/flowinit/..."},
			Deny:     []string{"github.com/onsi/..."},
			Why:      "the probe, load and flowinit libraries must be usable without Ginkgo and Gomega",
		},
		{
			Name:     "suites-are-black-box",
			Packages: []string{Module + "/suites/..."},
			Deny:     []string{Module + "/mockserver/..."},
			Why:      "the suites talk to targets over HTTP only; tests start the mock through mockservertest",
		},
		{
			Name:     "spec-is-the-shared-leaf",
			Packages: []string{Module + "/spec/..."},
			Deny:     []string{Module + "/..."},
			Allow:    []string{Module + "/spec/..."},
			Why:      "spec is the model both sides share and depends on no other project package",
		},
		{
			Name:     "mock-does-not-depend-on-the-suite",
			Packages: []string{Module + "/mockserver/..."},
			Except:   []string{Module + "/mockserver/mockservertest"},
			Deny:     []string{Module + "/suites/...", "github.com/onsi/..."},
			Why:      "the mock is a server, not a test, and never depends on the suite",
		},
		{
			Name:     "mockservertest-uses-only-the-probe-library",
			Packages: []string{Module + "/mockserver/mockservertest"},
			Deny:     []string{Module + "/suites/...", "github.com/onsi/..."},
			Allow:    []string{Module + "/suites/probe"},
			Why:      "mockservertest hands tests a probe.Config for the mock and nothing more of the suite",
		},
	}
}

// Violation is one forbidden dependency of one package.
type Violation struct {
	Package, Dependency string
	Rule                Rule
}

func (v Violation) String() string {
	return v.Package + " depends on " + v.Dependency + " (rule " + v.Rule.Name + ": " + v.Rule.Why + ")"
}

// Check returns the dependencies of pkg that rules forbid; deps is the
// package's transitive dependency list, as `go list -f '{{.Deps}}'` prints it.
func Check(rules []Rule, pkg string, deps []string) []Violation {
	var out []Violation
	for _, r := range rules {
		if !matchAny(r.Packages, pkg) || matchAny(r.Except, pkg) {
			continue
		}
		for _, d := range deps {
			if matchAny(r.Deny, d) && !matchAny(r.Allow, d) {
				out = append(out, Violation{Package: pkg, Dependency: d, Rule: r})
			}
		}
	}
	return out
}

func matchAny(patterns []string, path string) bool {
	for _, p := range patterns {
		if match(p, path) {
			return true
		}
	}
	return false
}

// match reports whether path matches pattern ("a/b" or "a/b/...").
func match(pattern, path string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == pattern
}
