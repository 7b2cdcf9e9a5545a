package mockserver

import (
	"strconv"
	"testing"
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
