package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckGraphQLEvidenceIsTheGraphQLExchange: when GQL-004 fails (here
// an SDL that does not describe the target's schema, so the probe query
// gets 400), the evidence under the FAIL is the GraphQL request and its
// answer, not a REST exchange the check sent on the way.
func TestCheckGraphQLEvidenceIsTheGraphQLExchange(t *testing.T) {
	t.Parallel()
	target := checkMock(t)
	dir := t.TempDir()
	sdl := filepath.Join(dir, "other.graphql")
	if err := os.WriteFile(sdl, []byte("type Query { notOnTheTarget: Int }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "tollgate.yaml")
	if err := os.WriteFile(cfg, []byte("graphql:\n  endpoint: /graphql\n  sdl: "+sdl+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runTollgate(t, seedEnv, "check", "--config", cfg, "--target", target, "--flow", "simple", "--label-filter", "GQL-004")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (GQL-004 FAIL); stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	_, block, ok := strings.Cut(r.stdout, "\nFAIL GQL-004")
	if !ok {
		t.Fatalf("no FAIL GQL-004 block:\n%s", r.stdout)
	}
	block, _, _ = strings.Cut(block, "\n\n")
	if !strings.Contains(block, "> POST "+target+"/graphql") || !strings.Contains(block, "notOnTheTarget") {
		t.Errorf("GQL-004's evidence is not the GraphQL exchange:\n%s", block)
	}
	if strings.Contains(block, "/api/collections") {
		t.Errorf("GQL-004's evidence shows a REST exchange:\n%s", block)
	}
}
