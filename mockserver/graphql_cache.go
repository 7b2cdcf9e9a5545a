package mockserver

import (
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// loadedDocument is a query text parsed and validated against the
// endpoint's schema: the document, or the errors that refused it. Both are
// read-only once cached.
type loadedDocument struct {
	doc        *ast.QueryDocument
	errs       gqlerror.List
	introspect bool // the document selects __schema or __type somewhere
}

// documentCache holds loaded documents by query text, at most limit of
// them. It keeps two generations: lookups hit the current one, or promote
// an entry from the previous one; when the current one fills up it becomes
// the previous one and the older entries are dropped. So the documents in
// use stay cached, memory is bounded by limit entries (each at most the
// endpoint's maxQueryBytes of text), and there is no per-entry bookkeeping
// on a hit, which a linked-list LRU would need.
type documentCache struct {
	mu             sync.Mutex
	limit          int // entries per generation: half the bound
	current, older map[string]*loadedDocument
}

func newDocumentCache(bound int) *documentCache {
	half := max(bound/2, 1)
	return &documentCache{limit: half, current: make(map[string]*loadedDocument, half)}
}

// get returns the cached document of query; nil when it is not cached.
func (c *documentCache) get(query string) *loadedDocument {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d, ok := c.current[query]; ok {
		return d
	}
	d, ok := c.older[query]
	if !ok {
		return nil
	}
	c.putLocked(query, d)
	return d
}

// put caches d for query.
func (c *documentCache) put(query string, d *loadedDocument) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(query, d)
}

func (c *documentCache) putLocked(query string, d *loadedDocument) {
	if len(c.current) >= c.limit {
		c.older, c.current = c.current, make(map[string]*loadedDocument, c.limit)
	}
	c.current[query] = d
}

// len is how many documents the cache holds.
func (c *documentCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.current) + len(c.older)
}
