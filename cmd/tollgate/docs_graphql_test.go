package main

import (
	"path/filepath"
	"testing"
)

// TestDocsGraphQL runs docs/graphql.md's curl examples as written against a
// fresh mock: a token returns data, no token gets 401 with a challenge and
// a GraphQL error body, a token without a field's scope gets that field null
// with FORBIDDEN, a write over GET gets 405.
func TestDocsGraphQL(t *testing.T) {
	t.Parallel()
	file := filepath.Join("..", "..", "docs", "graphql.md")
	runDocBlocks(t, file, readDocBlocks(t, file, ""))
}
