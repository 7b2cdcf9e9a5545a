package mockserver

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
)

// TestDocumentCacheIsBounded: however many distinct documents arrive, the
// cache holds at most its bound, and a document in use stays cached.
func TestDocumentCacheIsBounded(t *testing.T) {
	t.Parallel()
	c := newDocumentCache(8)
	hot := &loadedDocument{}
	c.put("hot", hot)
	for i := range 1000 {
		c.put(strconv.Itoa(i), &loadedDocument{})
		if c.get("hot") != hot {
			t.Fatalf("after %d others, the document in use was dropped", i+1)
		}
		if n := c.len(); n > 8 {
			t.Fatalf("after %d documents the cache holds %d, bound 8", i+2, n)
		}
	}
	if c.get("0") != nil {
		t.Error("an old, unused document is still cached")
	}
	if c.get("999") == nil {
		t.Error("the latest document is not cached")
	}
}

// TestOverlongQueriesAreNotCached: a query over MaxQueryBytes is refused
// without a cache entry, so the cache holds no key longer than the limit
// (a request body may carry ten times as much); a query within it is cached.
func TestOverlongQueriesAreNotCached(t *testing.T) {
	t.Parallel()
	flow, err := spec.Read(context.Background(), openapi.FS(), "simple.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e := newGraphQLEndpoint(flow.GraphQL, nil, nil)
	long := "{ collections { id } }" + strings.Repeat(" ", flow.GraphQL.Limits.MaxQueryBytes)
	if d := e.load(long); len(d.errs) == 0 || !strings.Contains(d.errs[0].Message, "bytes long") {
		t.Fatalf("an over-long query: errors %v, want the length refused", d.errs)
	}
	if n := e.docs.len(); n != 0 {
		t.Errorf("an over-long query left %d cache entries, want 0", n)
	}
	if d := e.load("{ collections { id } }"); len(d.errs) != 0 {
		t.Fatalf("a valid query: %v", d.errs)
	}
	if n := e.docs.len(); n != 1 {
		t.Errorf("a valid query: %d cache entries, want 1", n)
	}
}
