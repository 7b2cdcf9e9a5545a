package tokens

import "time"

// DefaultCacheEntries is the capacity a VerifiedCache gets when NewVerifiedCache
// is given maxEntries <= 0.
const DefaultCacheEntries = 100_000

// VerifiedCache remembers JWTs whose signature and claims have already been
// verified, keyed by the raw compact token, so that the hot path can skip
// signature verification. It is safe for concurrent use, Lookup does not
// allocate, and memory is bounded by the capacity given to NewVerifiedCache.
//
// Only put tokens in the cache after a successful Signer.Verify; the cache
// itself checks nothing but expiry.
type VerifiedCache struct {
	m        *shardedMap[cacheEntry]
	perShard int
}

// cacheEntry is a verified token: its grant, its expiry and its jti, so
// that the hot path can consult a revocation list without decoding the
// token again.
type cacheEntry struct {
	grant   *Grant
	expires int64 // Unix nanoseconds
	id      string
}

func (e cacheEntry) expiry() int64 { return e.expires }

// NewVerifiedCache returns a cache holding at most about maxEntries tokens
// (the capacity is split evenly over the shards and rounded up).
// maxEntries <= 0 means DefaultCacheEntries.
//
// When a shard is full, Add first deletes that shard's expired entries; if it
// is still full, it clears the shard. That keeps memory bounded without any
// per-entry bookkeeping; the cost is an occasional extra verification.
func NewVerifiedCache(maxEntries int) *VerifiedCache {
	if maxEntries <= 0 {
		maxEntries = DefaultCacheEntries
	}
	perShard := (maxEntries + numShards - 1) / numShards
	return &VerifiedCache{m: newShardedMap[cacheEntry](), perShard: perShard}
}

// Add caches raw as verified for g until expires; id is its jti (may be
// empty). A token that is already expired at now is not cached (and any
// cached entry for it is removed).
func (c *VerifiedCache) Add(raw string, g *Grant, id string, expires time.Time, now time.Time) {
	e := cacheEntry{grant: g, expires: unixNano(expires), id: id}
	n := unixNano(now)
	sh := c.m.shardFor(raw)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e.expires <= n {
		delete(sh.m, raw)
		return
	}
	if _, exists := sh.m[raw]; !exists && len(sh.m) >= c.perShard {
		sh.sweepLocked(n)
		if len(sh.m) >= c.perShard {
			clear(sh.m)
		}
	}
	sh.setLocked(raw, e)
}

// Lookup returns the Grant and jti cached for raw. It reports false when
// raw is not cached or is expired at now (expires <= now). It does not
// allocate.
func (c *VerifiedCache) Lookup(raw string, now time.Time) (*Grant, string, bool) {
	e, ok := c.m.get(raw, unixNano(now))
	return e.grant, e.id, ok
}

// Remove drops raw from the cache, e.g. when the token is revoked.
func (c *VerifiedCache) Remove(raw string) {
	c.m.remove(raw)
}

// Sweep removes every cached token that is expired at now and returns how
// many it removed.
func (c *VerifiedCache) Sweep(now time.Time) int {
	n := unixNano(now)
	removed := 0
	for i := range c.m.shards {
		sh := &c.m.shards[i]
		sh.mu.Lock()
		removed += sh.sweepLocked(n)
		sh.mu.Unlock()
	}
	return removed
}

// Len returns the number of cached tokens, including expired ones that have
// not been evicted yet.
func (c *VerifiedCache) Len() int {
	return c.m.len()
}
