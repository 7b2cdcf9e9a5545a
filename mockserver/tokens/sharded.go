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

// entry is the per-token value of a Store: 16 bytes, no pointers besides
// the interned *Grant.
type entry struct {
	grant   *Grant
	expires int64 // Unix nanoseconds; the token is valid while now < expires.
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
}

type shard[E expiring] struct {
	shardData[E]
	// Every instantiation has the size of shardData[entry]: a mutex, a map
	// pointer and an int64.
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

// sweepLocked deletes the shard's entries that are expired at now and
// returns how many it deleted. The caller holds sh.mu for writing.
func (sh *shard[E]) sweepLocked(now int64) int {
	n := 0
	for k, e := range sh.m {
		if e.expiry() <= now {
			delete(sh.m, k)
			n++
		}
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
