package tokens

import (
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"time"
)

// Grant is what a token was issued for. Callers intern Grants (one *Grant per
// flow/client/scope combination) so that the stores keep only a pointer per
// token. A Grant must not be modified once it has been handed to a Store or
// VerifiedCache.
type Grant struct {
	Flow     string   // the grant type or flow that issued the token, e.g. "client_credentials"
	ClientID string   // the client the token was issued to
	Scope    string   // space-delimited, as granted
	Scopes   []string // Scope split on spaces; read-only
}

// NewGrant returns a Grant with Scopes filled in from scope (split on
// whitespace, as RFC 6749 section 3.3 delimits scope tokens).
func NewGrant(flow, clientID, scope string) *Grant {
	return &Grant{Flow: flow, ClientID: clientID, Scope: scope, Scopes: strings.Fields(scope)}
}

// DefaultSweepInterval is the sweep interval a Store uses when
// StoreOptions.SweepInterval is zero.
const DefaultSweepInterval = 30 * time.Second

// StoreOptions configures a Store.
type StoreOptions struct {
	// SweepInterval is how often each shard deletes its expired tokens.
	// Sweeping is lazy: it happens inside Put once the interval has passed
	// for the shard being written, so an idle Store does no work. Zero (or a
	// negative value) means DefaultSweepInterval.
	SweepInterval time.Duration

	// MaxTokens bounds the tokens Add will hold, expired ones not yet swept
	// included. Zero (or a negative value) means no bound. Put ignores it.
	MaxTokens int
}

// FullError is what Add returns when the Store holds MaxTokens tokens that
// are all still live: it makes room by sweeping expired tokens, never by
// dropping a live one.
type FullError struct {
	Max int // the bound, StoreOptions.MaxTokens
	// NextExpiry is at or before the moment the earliest held token
	// expires, and so frees a slot; it is after the now given to Add.
	NextExpiry time.Time
}

func (e *FullError) Error() string {
	return fmt.Sprintf("tokens: the store holds its maximum of %d live tokens; the next expires by %s",
		e.Max, e.NextExpiry.UTC().Format(time.RFC3339))
}

// Store holds the opaque (and UUID) tokens the mock server has issued and
// the Grant each was issued for. It is safe for concurrent use. Lookup does
// not allocate.
//
// Expired tokens are never returned by Lookup; they are removed from memory
// by lazy per-shard sweeps in Put and Add, or by an explicit Sweep (which a
// server calls on a timer, so that memory comes back while it is idle).
type Store struct {
	m        *shardedMap[entry]
	interval int64 // nanoseconds
	max      int64 // 0: no bound
	n        atomic.Int64
}

// NewStore returns an empty Store.
func NewStore(opts StoreOptions) *Store {
	interval := opts.SweepInterval
	if interval <= 0 {
		interval = DefaultSweepInterval
	}
	return &Store{m: newShardedMap[entry](), interval: int64(interval), max: int64(max(opts.MaxTokens, 0))}
}

// Put records that token was issued for g at now and is valid until
// expires, replacing any previous record for token (LookupIssued reports
// now as the issue time). now also drives lazy sweeping: if the shard that
// token falls in is due for a sweep at now, its expired entries are
// deleted first.
//
// The Store keeps token as given, so it should not be a substring of a larger
// buffer the caller wants garbage collected. g should not be nil.
func (s *Store) Put(token string, g *Grant, expires time.Time, now time.Time) {
	n := unixNano(now)
	s.put(token, entry{grant: g, expires: unixNano(expires), issued: n}, n, false)
}

// Add is Put within StoreOptions.MaxTokens: when the Store is full it first
// deletes the tokens expired at now, and if every slot still holds a live
// token it stores nothing and returns a *FullError.
func (s *Store) Add(token string, g *Grant, expires time.Time, now time.Time) error {
	n := unixNano(now)
	reserved := s.max > 0
	if reserved && !s.reserve(n) {
		return &FullError{Max: int(s.max), NextExpiry: time.Unix(0, s.nextExpiry())}
	}
	s.put(token, entry{grant: g, expires: unixNano(expires), issued: n}, n, reserved)
	return nil
}

// reserve takes one slot of the bound, sweeping the Store once if it is
// full, and reports whether it got one.
func (s *Store) reserve(now int64) bool {
	for swept := false; ; swept = true {
		if s.n.Add(1) <= s.max {
			return true
		}
		s.n.Add(-1)
		if swept {
			return false
		}
		s.Sweep(time.Unix(0, now))
	}
}

// put stores e; reserved says the caller already counted one new token.
func (s *Store) put(token string, e entry, now int64, reserved bool) {
	sh := s.m.shardFor(token)
	sh.mu.Lock()
	removed := 0
	if now >= sh.nextSweep {
		removed = sh.sweepLocked(now)
		sh.nextSweep = now + s.interval
	}
	added := sh.setLocked(token, e)
	sh.mu.Unlock()
	switch {
	case added && !reserved:
		removed--
	case !added && reserved:
		removed++
	}
	if removed != 0 {
		s.n.Add(int64(-removed))
	}
}

// NextExpiry returns a time at or before the moment the earliest token held
// expires, and false when the Store is empty. A refused Add can be retried
// then.
func (s *Store) NextExpiry() (time.Time, bool) {
	next := s.nextExpiry()
	return time.Unix(0, next), next != math.MaxInt64
}

// nextExpiry is at or before the earliest expiry held (math.MaxInt64 when
// the Store is empty).
func (s *Store) nextExpiry() int64 {
	next := int64(math.MaxInt64)
	for i := range s.m.shards {
		sh := &s.m.shards[i]
		sh.mu.RLock()
		next = min(next, sh.minExpiry)
		sh.mu.RUnlock()
	}
	return next
}

// Lookup returns the Grant token was issued for and when it expires. It
// reports false if the token is unknown, revoked or expired (expires <= now).
// It does not allocate.
func (s *Store) Lookup(token string, now time.Time) (*Grant, time.Time, bool) {
	e, ok := s.m.get(token, unixNano(now))
	if !ok {
		return nil, time.Time{}, false
	}
	return e.grant, time.Unix(0, e.expires), true
}

// LookupIssued is Lookup that also returns when the token was issued: the
// now given to the Put or Add that stored it. It does not allocate.
func (s *Store) LookupIssued(token string, now time.Time) (g *Grant, issued, expires time.Time, ok bool) {
	e, ok := s.m.get(token, unixNano(now))
	if !ok {
		return nil, time.Time{}, time.Time{}, false
	}
	return e.grant, time.Unix(0, e.issued), time.Unix(0, e.expires), true
}

// Expired reports when token expired, if the Store still holds it expired
// at now: until a sweep removes it (StoreOptions.SweepInterval after its
// expiry at most, as long as tokens are being added). A server uses it to
// tell an expired token from an unknown one when it refuses it.
func (s *Store) Expired(token string, now time.Time) (time.Time, bool) {
	e, ok := s.m.peek(token)
	if !ok || e.expires > unixNano(now) {
		return time.Time{}, false
	}
	return time.Unix(0, e.expires), true
}

// Revoke removes token and reports whether it was present (expired entries
// that have not yet been swept count as present). A revoked token fails
// Lookup.
func (s *Store) Revoke(token string) bool {
	if !s.m.remove(token) {
		return false
	}
	s.n.Add(-1)
	return true
}

// Sweep removes every token that is expired at now and returns how many it
// removed. It also restarts the lazy sweep timer of every shard.
func (s *Store) Sweep(now time.Time) int {
	n := unixNano(now)
	removed := 0
	for i := range s.m.shards {
		sh := &s.m.shards[i]
		sh.mu.Lock()
		removed += sh.sweepLocked(n)
		sh.nextSweep = n + s.interval
		sh.mu.Unlock()
	}
	s.n.Add(int64(-removed))
	return removed
}

// Len returns the number of tokens held, including expired tokens that have
// not been swept yet.
func (s *Store) Len() int {
	return int(s.n.Load())
}
