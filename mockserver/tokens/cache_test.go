package tokens

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestVerifiedCacheLookup(t *testing.T) {
	t.Parallel()
	g1, g2 := NewGrant("authorization_code", "web", "openid"), NewGrant("client_credentials", "svc", "read")
	tests := []struct {
		name      string
		setup     func(c *VerifiedCache)
		raw       string
		now       time.Time
		wantGrant *Grant
		wantOK    bool
	}{
		{
			name:      "hit",
			setup:     func(c *VerifiedCache) { c.Add("jwt1", g1, "jti", testNow.Add(time.Minute), testNow) },
			raw:       "jwt1",
			now:       testNow,
			wantGrant: g1, wantOK: true,
		},
		{
			name:  "miss",
			setup: func(c *VerifiedCache) { c.Add("jwt1", g1, "jti", testNow.Add(time.Minute), testNow) },
			raw:   "jwt2",
			now:   testNow,
		},
		{
			name:  "expires exactly now",
			setup: func(c *VerifiedCache) { c.Add("jwt1", g1, "jti", testNow.Add(time.Minute), testNow) },
			raw:   "jwt1",
			now:   testNow.Add(time.Minute),
		},
		{
			name:  "expired",
			setup: func(c *VerifiedCache) { c.Add("jwt1", g1, "jti", testNow.Add(time.Minute), testNow) },
			raw:   "jwt1",
			now:   testNow.Add(time.Hour),
		},
		{
			name:  "add already expired is ignored",
			setup: func(c *VerifiedCache) { c.Add("jwt1", g1, "jti", testNow, testNow) },
			raw:   "jwt1",
			now:   testNow.Add(-time.Second),
		},
		{
			name: "add already expired drops old entry",
			setup: func(c *VerifiedCache) {
				c.Add("jwt1", g1, "jti", testNow.Add(time.Hour), testNow)
				c.Add("jwt1", g1, "jti", testNow.Add(-time.Second), testNow)
			},
			raw: "jwt1",
			now: testNow,
		},
		{
			name: "replaced",
			setup: func(c *VerifiedCache) {
				c.Add("jwt1", g1, "jti", testNow.Add(time.Minute), testNow)
				c.Add("jwt1", g2, "jti", testNow.Add(time.Minute), testNow)
			},
			raw:       "jwt1",
			now:       testNow,
			wantGrant: g2, wantOK: true,
		},
		{
			name: "removed",
			setup: func(c *VerifiedCache) {
				c.Add("jwt1", g1, "jti", testNow.Add(time.Minute), testNow)
				c.Remove("jwt1")
			},
			raw: "jwt1",
			now: testNow,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := NewVerifiedCache(0)
			tt.setup(c)
			g, _, ok := c.Lookup(tt.raw, tt.now)
			if g != tt.wantGrant || ok != tt.wantOK {
				t.Errorf("Lookup(%q) = %p, %v; want %p, %v", tt.raw, g, ok, tt.wantGrant, tt.wantOK)
			}
		})
	}
}

// TestVerifiedCacheBounded checks that the cache never grows past its
// capacity (rounded up to whole shards) and evicts expired entries first.
// TestVerifiedCacheKeepsTheID: a hit returns the jti the token was cached
// with, which the mock checks against its revocation deny-list; a
// re-verification replaces it.
func TestVerifiedCacheKeepsTheID(t *testing.T) {
	t.Parallel()
	g := NewGrant("client_credentials", "svc", "read")
	// Room for several entries per shard: with one, jwt1 and jwt2 in one
	// shard would evict each other (the shard is chosen by a seeded hash).
	c := NewVerifiedCache(numShards * 4)
	c.Add("jwt1", g, "jti-1", testNow.Add(time.Minute), testNow)
	c.Add("jwt2", g, "", testNow.Add(time.Minute), testNow)
	for raw, want := range map[string]string{"jwt1": "jti-1", "jwt2": ""} {
		if got, id, ok := c.Lookup(raw, testNow); !ok || got != g || id != want {
			t.Errorf("Lookup(%s) = %v, %q, %v; want the grant, %q, true", raw, got, id, ok, want)
		}
	}
	c.Add("jwt1", g, "jti-2", testNow.Add(time.Minute), testNow)
	if _, id, _ := c.Lookup("jwt1", testNow); id != "jti-2" {
		t.Errorf("after a second Add the jti is %q, want jti-2", id)
	}
	if _, id, ok := c.Lookup("jwt1", testNow.Add(time.Minute)); ok || id != "" {
		t.Errorf("an expired entry returns jti %q, ok %v", id, ok)
	}
}

func TestVerifiedCacheBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		maxEntries int
		wantCap    int // total capacity after rounding up per shard
	}{
		{name: "small", maxEntries: 100, wantCap: numShards * 2},
		{name: "exact multiple", maxEntries: numShards * 10, wantCap: numShards * 10},
		{name: "one", maxEntries: 1, wantCap: numShards},
		{name: "default", maxEntries: 0, wantCap: ((DefaultCacheEntries + numShards - 1) / numShards) * numShards},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := NewVerifiedCache(tt.maxEntries)
			g := NewGrant("client_credentials", "svc", "read")
			n := 3*tt.wantCap + 17
			maxLen := 0
			for i := range n {
				c.Add("raw-"+strconv.Itoa(i), g, "jti", testNow.Add(time.Hour), testNow)
				if i%64 == 0 {
					maxLen = max(maxLen, c.Len())
				}
			}
			maxLen = max(maxLen, c.Len())
			if maxLen > tt.wantCap {
				t.Errorf("Len reached %d, want <= %d", maxLen, tt.wantCap)
			}
			// The most recent entry always survives its own Add.
			if _, _, ok := c.Lookup("raw-"+strconv.Itoa(n-1), testNow); !ok {
				t.Error("most recently added entry missing")
			}
		})
	}
}

// keysInShard returns n distinct keys that c stores in shard 0.
func keysInShard(c *VerifiedCache, prefix string, n int) []string {
	target := &c.m.shards[0]
	keys := make([]string, 0, n)
	for i := 0; len(keys) < n; i++ {
		k := prefix + strconv.Itoa(i)
		if c.m.shardFor(k) == target {
			keys = append(keys, k)
		}
	}
	return keys
}

// TestVerifiedCacheFullShard checks what Add does to a full shard: expired
// entries go first; only if none are expired is the shard cleared.
func TestVerifiedCacheFullShard(t *testing.T) {
	t.Parallel()
	const perShard = 8
	tests := []struct {
		name        string
		expired     int // of the perShard entries filling the shard, how many are expired at Add time
		wantOldLive int // how many of the unexpired old entries survive the Add
	}{
		{name: "all expired", expired: perShard, wantOldLive: 0},
		{name: "some expired", expired: 3, wantOldLive: perShard - 3},
		{name: "none expired clears", expired: 0, wantOldLive: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := NewVerifiedCache(numShards * perShard)
			g := NewGrant("client_credentials", "svc", "read")
			keys := keysInShard(c, "raw-", perShard+1)
			old, extra := keys[:perShard], keys[perShard]
			for i, k := range old {
				exp := testNow.Add(time.Hour)
				if i < tt.expired {
					exp = testNow.Add(time.Second)
				}
				c.Add(k, g, "jti", exp, testNow)
			}
			later := testNow.Add(time.Minute)
			c.Add(extra, g, "jti", later.Add(time.Hour), later)
			if _, _, ok := c.Lookup(extra, later); !ok {
				t.Error("newly added entry missing")
			}
			live := 0
			for _, k := range old[tt.expired:] {
				if _, _, ok := c.Lookup(k, later); ok {
					live++
				}
			}
			if live != tt.wantOldLive {
				t.Errorf("%d unexpired old entries survive, want %d", live, tt.wantOldLive)
			}
			if got, want := c.Len(), tt.wantOldLive+1; got != want {
				t.Errorf("Len = %d, want %d", got, want)
			}
		})
	}
}

// TestVerifiedCacheConcurrent exercises Add/Lookup/Remove from many
// goroutines under -race on a cache small enough to keep clearing shards.
func TestVerifiedCacheConcurrent(t *testing.T) {
	t.Parallel()
	const (
		workers = 8
		rounds  = 2000
	)
	c := NewVerifiedCache(numShards * 4)
	grants := testGrants(workers)
	var failures atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			g := grants[w]
			for i := range rounds {
				raw := "w" + strconv.Itoa(w) + "-" + strconv.Itoa(i%97)
				c.Add(raw, g, "jti", testNow.Add(time.Minute), testNow)
				// Another worker may have cleared the shard, so only a
				// wrong grant counts as a failure.
				if got, _, ok := c.Lookup(raw, testNow); ok && got != g {
					failures.Add(1)
				}
				if _, _, ok := c.Lookup(raw, testNow.Add(time.Minute)); ok {
					failures.Add(1)
				}
				if i%5 == 0 {
					c.Remove(raw)
					if _, _, ok := c.Lookup(raw, testNow); ok {
						failures.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	if n := failures.Load(); n != 0 {
		t.Errorf("%d inconsistent results under concurrency", n)
	}
	if n := c.Len(); n > numShards*4 {
		t.Errorf("Len = %d, want <= %d", n, numShards*4)
	}
}

func BenchmarkVerifiedCacheLookup(b *testing.B) {
	b.ReportAllocs()
	const n = 1 << 14
	// Real-length RS256 access tokens: one signed token with the last bytes
	// of the signature varied (the cache does not look inside).
	s := newTestSigner(b, SignerOptions{})
	raw, err := s.Sign(Claims{
		Issuer: "https://tollgate.test", Subject: "user-1", ClientID: "web", Scope: "openid profile",
		ID: "4172bbf1-0890-41c7-b0db-477095a288b6", Audience: []string{"https://api.test"},
		IssuedAt: testNow, ExpiresAt: testNow.Add(time.Hour),
	})
	if err != nil {
		b.Fatal(err)
	}
	c := NewVerifiedCache(2 * n)
	g := NewGrant("authorization_code", "web", "openid profile")
	raws := make([]string, n)
	for i := range raws {
		raws[i] = fmt.Sprintf("%s%08x", raw[:len(raw)-8], i)
		c.Add(raws[i], g, "jti", testNow.Add(time.Hour), testNow)
	}
	b.Logf("token length %d", len(raw))
	i := 0
	for b.Loop() {
		if _, _, ok := c.Lookup(raws[i&(n-1)], testNow); !ok {
			b.Fatal("miss")
		}
		i++
	}
}
