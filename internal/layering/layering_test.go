package layering_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/internal/layering"
)

const m = layering.Module

// TestCheckFindsViolations proves that the checking function can fail: each
// case is a package with a made-up dependency list.
func TestCheckFindsViolations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		pkg      string
		deps     []string
		wantRule string // "": no violation
	}{
		{"load importing gomega", m + "/suites/load", []string{"net/http", "github.com/onsi/gomega"}, "probe-and-load-need-no-test-framework"},
		{"probe importing ginkgo through a subpackage", m + "/suites/probe", []string{"github.com/onsi/ginkgo/v2/types"}, "probe-and-load-need-no-test-framework"},
		{"flowinit importing gomega", m + "/suites/flowinit", []string{"github.com/onsi/gomega"}, "probe-and-load-need-no-test-framework"},
		{"framework may import ginkgo", m + "/suites/framework", []string{"github.com/onsi/ginkgo/v2", m + "/suites/probe"}, ""},
		{"conformance importing the mock", m + "/suites/conformance", []string{m + "/mockserver"}, "suites-are-black-box"},
		{"load importing the mock's token store", m + "/suites/load", []string{m + "/mockserver/tokens"}, "suites-are-black-box"},
		{"a package named like the mock is not the mock", m + "/suites/load", []string{m + "/mockserverx"}, ""},
		{"spec importing the suite", m + "/spec", []string{m + "/suites/probe"}, "spec-is-the-shared-leaf"},
		{"spec/authheader importing openapi", m + "/spec/authheader", []string{m + "/openapi"}, "spec-is-the-shared-leaf"},
		{"spec importing its own subpackage", m + "/spec", []string{m + "/spec/authheader", "github.com/getkin/kin-openapi/openapi3"}, ""},
		{"the mock importing the framework", m + "/mockserver", []string{m + "/suites/framework"}, "mock-does-not-depend-on-the-suite"},
		{"mockservertest importing probe", m + "/mockserver/mockservertest", []string{m + "/suites/probe", m + "/mockserver"}, ""},
		{"mockservertest importing the framework", m + "/mockserver/mockservertest", []string{m + "/suites/framework"}, "mockservertest-uses-only-the-probe-library"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := layering.Check(layering.Rules(), tt.pkg, tt.deps)
			if tt.wantRule == "" {
				if len(got) > 0 {
					t.Fatalf("Check() = %v, want no violation", got)
				}
				return
			}
			if len(got) != 1 || got[0].Rule.Name != tt.wantRule {
				t.Fatalf("Check() = %v, want one violation of %s", got, tt.wantRule)
			}
		})
	}
}

// TestModuleFollowsTheRules checks every package of the module, as
// `go list` sees it (non-test files), against layering.Rules.
func TestModuleFollowsTheRules(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	cmd := exec.CommandContext(t.Context(), "go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, m+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	packages := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		packages++
		for _, v := range layering.Check(layering.Rules(), fields[0], fields[1:]) {
			t.Error(v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if packages < 10 {
		t.Fatalf("go list listed %d packages: the module pattern is wrong", packages)
	}
}
