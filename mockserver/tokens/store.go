package tokens

import (
	"strings"
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
}

// Store holds the opaque (and UUID) tokens the mock server has issued and
// the Grant each was issued for. It is safe for concurrent use. Lookup does
// not allocate.
//
// Expired tokens are never returned by Lookup; they are removed from memory
// by lazy per-shard sweeps in Put, or by an explicit Sweep.
type Store struct {
	m        *shardedMap[entry]
	interval int64 // nanoseconds
}

// NewStore returns an empty Store.
func NewStore(opts StoreOptions) *Store {
	interval := opts.SweepInterval
	if interval <= 0 {
		interval = DefaultSweepInterval
	}
	return &Store{m: newShardedMap[entry](), interval: int64(interval)}
}

// Put records that token was issued for g and is valid until expires,
// replacing any previous record for token. now drives lazy sweeping: if the
// shard that token falls in is due for a sweep at now, its expired entries
// are deleted first.
//
// The Store keeps token as given, so it should not be a substring of a larger
// buffer the caller wants garbage collected. g should not be nil.
func (s *Store) Put(token string, g *Grant, expires time.Time, now time.Time) {
	e := entry{grant: g, expires: unixNano(expires)}
	n := unixNano(now)
	sh := s.m.shardFor(token)
	sh.mu.Lock()
	if n >= sh.nextSweep {
		sh.sweepLocked(n)
		sh.nextSweep = n + s.interval
	}
	sh.m[token] = e
	sh.mu.Unlock()
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

// Revoke removes token and reports whether it was present (expired entries
// that have not yet been swept count as present). A revoked token fails
// Lookup.
func (s *Store) Revoke(token string) bool {
	return s.m.remove(token)
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
	return removed
}

// Len returns the number of tokens held, including expired tokens that have
// not been swept yet.
func (s *Store) Len() int {
	return s.m.len()
}
