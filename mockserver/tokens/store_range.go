package tokens

import (
	"math"
	"time"
)

// Range calls fn for every token live at now (in no particular order)
// until fn returns false. It holds one shard's read lock at a time, so fn
// must not call the Store.
func (s *Store) Range(now time.Time, fn func(token string, g *Grant, expires time.Time) bool) {
	n := unixNano(now)
	for i := range s.m.shards {
		sh := &s.m.shards[i]
		sh.mu.RLock()
		for token, e := range sh.m {
			if e.expires > n && !fn(token, e.grant, time.Unix(0, e.expires)) {
				sh.mu.RUnlock()
				return
			}
		}
		sh.mu.RUnlock()
	}
}

// Clear forgets every token.
func (s *Store) Clear() {
	for i := range s.m.shards {
		sh := &s.m.shards[i]
		sh.mu.Lock()
		removed := len(sh.m)
		sh.m = make(map[string]entry) // the old map's memory goes back
		sh.minExpiry = math.MaxInt64
		sh.mu.Unlock()
		s.n.Add(int64(-removed))
	}
}
