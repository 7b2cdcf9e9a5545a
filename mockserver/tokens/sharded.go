package tokens

import (
	"hash/maphash"
	"math"
	"sync"
	"time"
	"unsafe"
)

// numShards is the number of independently locked shards in a shardedMap.
// It must be a power of two.
const numShards = 64

// cacheLine is the stride shards are padded to, so that the locks of
// neighbouring shards never share a cache line (128 covers the adjacent-line
// prefetcher on x86 and the 128-byte lines on some arm64 parts).
const cacheLine = 128

// entry is the per-token value of a Store: 24 bytes, no pointers besides
// the interned *Grant.
type entry struct {
	grant   *Grant
	expires int64 // Unix nanoseconds; the token is valid while now < expires.
	issued  int64 // Unix nanoseconds: the now of the Put or Add that stored it
}

func (e entry) expiry() int64 { return e.expires }

// expiring is what a shardedMap holds: a value that knows when it expires.
type expiring interface{ expiry() int64 }

// shardData is the payload of a shard; shard pads it to a cache line.
type shardData[E expiring] struct {
	mu sync.RWMutex
	m  map[string]E
	// nextSweep is the Unix-nanosecond time at or after which the next Put
	// sweeps this shard. Only used by Store; guarded by mu.
	nextSweep int64
	// minExpiry is at or before the earliest expiry held (math.MaxInt64
	// when the shard has never held anything since its last sweep): a
	// sweep before then would find nothing. Exact after a sweep; a removal
	// leaves it low. Guarded by mu.
	minExpiry int64
	// peak is the most entries m has held since it was last rebuilt: Go
	// maps keep their buckets when entries are deleted, so a sweep that
	// empties most of a large map rebuilds it (see sweepLocked). Guarded by mu.
	peak int
}

type shard[E expiring] struct {
	shardData[E]
	// Every instantiation has the size of shardData[entry]: a mutex, a map
	// pointer and three words.
	_ [cacheLine - unsafe.Sizeof(shardData[entry]{})%cacheLine]byte
}

// shardedMap is the storage shared by Store and VerifiedCache: numShards
// RWMutex-protected maps from token string to entry, with the shard picked
// by a seeded, non-allocating hash of the token.
type shardedMap[E expiring] struct {
	seed   maphash.Seed
	shards [numShards]shard[E]
}

func newShardedMap[E expiring]() *shardedMap[E] {
	sm := &shardedMap[E]{seed: maphash.MakeSeed()}
	for i := range sm.shards {
		sm.shards[i].m = make(map[string]E)
		sm.shards[i].minExpiry = math.MaxInt64
	}
	return sm
}

// shardFor returns the shard that owns key. It does not allocate.
func (sm *shardedMap[E]) shardFor(key string) *shard[E] {
	return &sm.shards[maphash.String(sm.seed, key)&(numShards-1)]
}

// get returns the entry for key if it is present and not expired at now
// (Unix nanoseconds). It does not allocate.
func (sm *shardedMap[E]) get(key string, now int64) (E, bool) {
	sh := sm.shardFor(key)
	sh.mu.RLock()
	e, ok := sh.m[key]
	sh.mu.RUnlock()
	if !ok || e.expiry() <= now {
		var zero E
		return zero, false
	}
	return e, true
}

// peek returns the entry for key if it is present, expired or not. It
// does not allocate.
func (sm *shardedMap[E]) peek(key string) (E, bool) {
	sh := sm.shardFor(key)
	sh.mu.RLock()
	e, ok := sh.m[key]
	sh.mu.RUnlock()
	return e, ok
}

// remove deletes key and reports whether it was present (expired or not).
func (sm *shardedMap[E]) remove(key string) bool {
	sh := sm.shardFor(key)
	sh.mu.Lock()
	_, ok := sh.m[key]
	if ok {
		delete(sh.m, key)
	}
	sh.mu.Unlock()
	return ok
}

// setLocked stores e under key and reports whether key is new. The caller
// holds sh.mu for writing.
func (sh *shard[E]) setLocked(key string, e E) bool {
	_, exists := sh.m[key]
	sh.m[key] = e
	if exp := e.expiry(); exp < sh.minExpiry {
		sh.minExpiry = exp
	}
	if l := len(sh.m); l > sh.peak {
		sh.peak = l
	}
	return !exists
}

// Rebuild bounds: a map that once held at least shrinkMinPeak entries is
// rebuilt when a sweep leaves at most 1/shrinkRatio of its peak.
const (
	shrinkMinPeak = 256
	shrinkRatio   = 4
)

// sweepLocked deletes the shard's entries that are expired at now and
// returns how many it deleted. It does nothing when minExpiry says no entry
// can have expired. Since deleting from a Go map frees none of its buckets,
// a sweep that leaves a large map mostly empty copies the survivors into a
// new map, so that the memory of a burst of tokens comes back once they
// expire. The caller holds sh.mu for writing.
func (sh *shard[E]) sweepLocked(now int64) int {
	if sh.minExpiry > now {
		return 0
	}
	n := 0
	next := int64(math.MaxInt64)
	for k, e := range sh.m {
		switch exp := e.expiry(); {
		case exp <= now:
			delete(sh.m, k)
			n++
		case exp < next:
			next = exp
		}
	}
	sh.minExpiry = next
	if l := len(sh.m); sh.peak >= shrinkMinPeak && l <= sh.peak/shrinkRatio {
		m := make(map[string]E, l)
		for k, e := range sh.m {
			m[k] = e
		}
		sh.m, sh.peak = m, l
	}
	return n
}

// len returns the number of entries, expired or not, across all shards.
func (sm *shardedMap[E]) len() int {
	n := 0
	for i := range sm.shards {
		sh := &sm.shards[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}

// Bounds of the time range whose Unix nanoseconds fit in an int64
// (roughly years 1678 to 2262).
const (
	minNanoSec = math.MinInt64/int64(time.Second) + 1
	maxNanoSec = math.MaxInt64/int64(time.Second) - 1
)

// unixNano is t.UnixNano clamped to the int64 range, so that far-future
// expiries (or the zero Time) compare sensibly instead of overflowing.
func unixNano(t time.Time) int64 {
	switch sec := t.Unix(); {
	case sec >= maxNanoSec:
		return math.MaxInt64
	case sec <= minNanoSec:
		return math.MinInt64
	default:
		return t.UnixNano()
	}
}
