package mockserver

import (
	"os"
	"strings"
	"testing"
)

// requestPathFiles serve correct requests. Mutations reach a server only
// through New's assembly (assemble.go) and the mutation files. (mint.go is
// left out: the token defects it mints are a feature of the control API.)
var requestPathFiles = []string{
	"server.go", "clientop.go", "token.go", "bearer.go", "revoke.go",
	"body.go", "logging.go", "cors.go", "clock.go", "options.go",
	"faults.go", "capture.go", "metrics.go", "refusal.go", "debug.go", "issuers.go", "controlclock.go", "lifecycle.go",
	"keys.go", "clients.go", "control.go", "controlgo.go", "duration.go",
	"graphql.go", "graphql_exec.go", "graphql_data.go", "graphql_introspect.go", "graphql_cache.go",
}

// TestRequestPathHasNoMutations: no file that serves correct requests names
// a mutation, in any spelling, or the concept itself; the correct request
// path never asks whether the server is mutated.
func TestRequestPathHasNoMutations(t *testing.T) {
	t.Parallel()
	for _, file := range requestPathFiles {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if bad := mutationIdentifiers(string(src), file == "options.go"); len(bad) > 0 {
			t.Errorf("%s names mutations: %s", file, strings.Join(bad, ", "))
		}
	}
}

// TestMutationIdentifiersFindsThem: the scan above can fail.
func TestMutationIdentifiersFindsThem(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		"if s.defects != nil {", "d.acceptAnyBearer", "case ignoreScope:", `"revoke-noop"`, "jwtTypJWT := true", "// a mutant",
	} {
		if len(mutationIdentifiers(src, false)) == 0 {
			t.Errorf("%q: not found", src)
		}
	}
	if bad := mutationIdentifiers("func (s *Server) bearer(fr *flowRuntime) {}", false); len(bad) > 0 {
		t.Errorf("false positive: %v", bad)
	}
}

// mutationIdentifiers returns the mutation names (kebab-case or camelCase)
// and concept words in src. options.go may document the Mutations option
// itself, and nothing else of them.
func mutationIdentifiers(src string, optionsFile bool) []string {
	lower := strings.ToLower(src)
	if optionsFile {
		lower = strings.ReplaceAll(lower, "mutations []string `yaml:\"mutations\"`", "")
		lower = strings.ReplaceAll(lower, "// mutations switch on deliberate defects (see mutations)", "")
	}
	var bad []string
	for _, word := range []string{"mutat", "defect", "mutant"} {
		if strings.Contains(lower, word) {
			bad = append(bad, word)
		}
	}
	// Names of rules the correct server keeps, which a mutation breaks
	// under the same name.
	for _, rule := range []string{"duplicatemember"} {
		lower = strings.ReplaceAll(lower, rule, "")
	}
	for _, m := range Mutations() {
		camel := strings.ToLower(strings.ReplaceAll(m.Name, "-", ""))
		if strings.Contains(lower, m.Name) || strings.Contains(strings.ReplaceAll(lower, "_", ""), camel) {
			bad = append(bad, m.Name)
		}
	}
	return bad
}
