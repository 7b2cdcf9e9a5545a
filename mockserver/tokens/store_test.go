package tokens

import (
	"math"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

func TestStoreLookup(t *testing.T) {
	t.Parallel()
	g1, g2 := NewGrant("authorization_code", "web", "openid profile"), NewGrant("client_credentials", "svc", "read")
	tests := []struct {
		name      string
		setup     func(s *Store)
		token     string
		now       time.Time
		wantGrant *Grant
		wantExp   time.Time
		wantOK    bool
	}{
		{
			name:      "hit",
			setup:     func(s *Store) { s.Put("t1", g1, testNow.Add(time.Hour), testNow) },
			token:     "t1",
			now:       testNow,
			wantGrant: g1, wantExp: testNow.Add(time.Hour), wantOK: true,
		},
		{
			name:  "miss",
			setup: func(s *Store) { s.Put("t1", g1, testNow.Add(time.Hour), testNow) },
			token: "t2",
			now:   testNow,
		},
		{
			name:  "empty token",
			setup: func(s *Store) {},
			token: "",
			now:   testNow,
		},
		{
			name:      "one nanosecond before expiry",
			setup:     func(s *Store) { s.Put("t1", g1, testNow.Add(time.Second), testNow) },
			token:     "t1",
			now:       testNow.Add(time.Second - 1),
			wantGrant: g1, wantExp: testNow.Add(time.Second), wantOK: true,
		},
		{
			name:  "expires exactly now",
			setup: func(s *Store) { s.Put("t1", g1, testNow.Add(time.Second), testNow) },
			token: "t1",
			now:   testNow.Add(time.Second),
		},
		{
			name:  "expired",
			setup: func(s *Store) { s.Put("t1", g1, testNow.Add(time.Second), testNow) },
			token: "t1",
			now:   testNow.Add(time.Hour),
		},
		{
			name:  "put already expired",
			setup: func(s *Store) { s.Put("t1", g1, testNow.Add(-time.Second), testNow) },
			token: "t1",
			now:   testNow,
		},
		{
			name:  "zero expiry never valid",
			setup: func(s *Store) { s.Put("t1", g1, time.Time{}, testNow) },
			token: "t1",
			now:   testNow,
		},
		{
			name:      "far-future expiry does not overflow",
			setup:     func(s *Store) { s.Put("t1", g1, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), testNow) },
			token:     "t1",
			now:       testNow,
			wantGrant: g1, wantExp: time.Unix(0, math.MaxInt64), wantOK: true,
		},
		{
			name: "replaced",
			setup: func(s *Store) {
				s.Put("t1", g1, testNow.Add(time.Hour), testNow)
				s.Put("t1", g2, testNow.Add(2*time.Hour), testNow)
			},
			token:     "t1",
			now:       testNow,
			wantGrant: g2, wantExp: testNow.Add(2 * time.Hour), wantOK: true,
		},
		{
			name: "revoked",
			setup: func(s *Store) {
				s.Put("t1", g1, testNow.Add(time.Hour), testNow)
				s.Revoke("t1")
			},
			token: "t1",
			now:   testNow,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewStore(StoreOptions{})
			tt.setup(s)
			g, exp, ok := s.Lookup(tt.token, tt.now)
			if g != tt.wantGrant || ok != tt.wantOK || !exp.Equal(tt.wantExp) {
				t.Errorf("Lookup(%q) = %p, %v, %v; want %p, %v, %v", tt.token, g, exp, ok, tt.wantGrant, tt.wantExp, tt.wantOK)
			}
		})
	}
}

func TestStoreRevoke(t *testing.T) {
	t.Parallel()
	g := NewGrant("password", "cli", "read")
	tests := []struct {
		name   string
		put    bool
		expiry time.Duration
		want   bool
	}{
		{name: "live", put: true, expiry: time.Hour, want: true},
		{name: "expired but not swept", put: true, expiry: -time.Hour, want: true},
		{name: "unknown", put: false, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewStore(StoreOptions{})
			if tt.put {
				s.Put("tok", g, testNow.Add(tt.expiry), testNow)
			}
			if got := s.Revoke("tok"); got != tt.want {
				t.Errorf("Revoke = %v, want %v", got, tt.want)
			}
			if s.Revoke("tok") {
				t.Error("second Revoke = true, want false")
			}
			if _, _, ok := s.Lookup("tok", testNow); ok {
				t.Error("revoked token passed Lookup")
			}
			if n := s.Len(); n != 0 {
				t.Errorf("Len = %d after Revoke, want 0", n)
			}
		})
	}
}

func TestStoreSweep(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		lifetimes   []time.Duration // one token per entry, issued at testNow
		at          time.Duration   // sweep at testNow+at
		wantRemoved int
	}{
		{name: "empty", at: time.Hour},
		{name: "none expired", lifetimes: []time.Duration{time.Minute, time.Hour}, at: time.Second},
		{name: "some expired", lifetimes: []time.Duration{time.Second, time.Second, time.Hour}, at: time.Minute, wantRemoved: 2},
		{name: "expiry equal to now is removed", lifetimes: []time.Duration{time.Minute}, at: time.Minute, wantRemoved: 1},
		{name: "all expired", lifetimes: []time.Duration{time.Second, time.Minute, time.Hour}, at: 2 * time.Hour, wantRemoved: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewStore(StoreOptions{})
			g := NewGrant("implicit", "spa", "")
			for i, d := range tt.lifetimes {
				s.Put("tok"+strconv.Itoa(i), g, testNow.Add(d), testNow)
			}
			if got := s.Sweep(testNow.Add(tt.at)); got != tt.wantRemoved {
				t.Errorf("Sweep removed %d, want %d", got, tt.wantRemoved)
			}
			if got, want := s.Len(), len(tt.lifetimes)-tt.wantRemoved; got != want {
				t.Errorf("Len = %d, want %d", got, want)
			}
		})
	}
}

// TestStoreLazySweep checks that Put sweeps a shard only once its interval
// has passed.
func TestStoreLazySweep(t *testing.T) {
	t.Parallel()
	const n = 10 * numShards
	tests := []struct {
		name     string
		interval time.Duration
		putAt    time.Duration // second wave of Puts happens at testNow+putAt
		wantLen  int           // after the second wave
	}{
		{name: "before interval keeps expired", interval: time.Minute, putAt: 30 * time.Second, wantLen: 2 * n},
		{name: "after interval sweeps", interval: time.Minute, putAt: time.Minute, wantLen: n},
		{name: "default interval", interval: 0, putAt: DefaultSweepInterval, wantLen: n},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewStore(StoreOptions{SweepInterval: tt.interval})
			g := NewGrant("client_credentials", "svc", "read")
			for i := range n {
				s.Put("a"+strconv.Itoa(i), g, testNow.Add(time.Second), testNow)
			}
			later := testNow.Add(tt.putAt)
			// Enough distinct tokens that every shard gets at least one Put.
			for i := range n {
				s.Put("b"+strconv.Itoa(i), g, later.Add(time.Hour), later)
			}
			if got := s.Len(); got != tt.wantLen {
				t.Errorf("Len = %d, want %d", got, tt.wantLen)
			}
			for i := range n {
				if _, _, ok := s.Lookup("a"+strconv.Itoa(i), later); ok {
					t.Fatalf("expired token a%d passed Lookup", i)
				}
			}
		})
	}
}

// TestStoreStaysFlat issues a long stream of short-lived tokens with a fake
// clock and checks that lazy sweeping keeps the store from growing.
func TestStoreStaysFlat(t *testing.T) {
	t.Parallel()
	const (
		seconds   = 500
		perSecond = 1000
		lifetime  = time.Second
		interval  = 10 * time.Second
		// Live tokens plus at most ~interval+lifetime seconds of expired
		// ones waiting for their shard's next sweep.
		bound = 12_000
	)
	s := NewStore(StoreOptions{SweepInterval: interval})
	g := NewGrant("client_credentials", "svc", "read")
	maxLen := 0
	tok := make([]byte, 0, 32)
	for sec := range seconds {
		for i := range perSecond {
			now := testNow.Add(time.Duration(sec)*time.Second + time.Duration(i)*time.Second/perSecond)
			tok = strconv.AppendInt(tok[:0], int64(sec*perSecond+i), 36)
			s.Put(string(tok), g, now.Add(lifetime), now)
		}
		maxLen = max(maxLen, s.Len())
	}
	if maxLen >= bound {
		t.Errorf("max Len = %d over %d tokens, want < %d", maxLen, seconds*perSecond, bound)
	}
	t.Logf("max Len = %d over %d tokens", maxLen, seconds*perSecond)
}

// TestStoreConcurrent hammers one Store from many goroutines; run it with
// -race. All goroutines share one fake clock that ticks a microsecond per
// operation. Each worker owns long-lived tokens so it can check its own
// results, and all workers also race on a shared set of short-lived tokens,
// which lazy sweeps (interval 100µs) and explicit Sweeps keep deleting.
func TestStoreConcurrent(t *testing.T) {
	t.Parallel()
	const (
		workers = 8
		rounds  = 1000
		shared  = 64
	)
	s := NewStore(StoreOptions{SweepInterval: 100 * time.Microsecond})
	grants := testGrants(workers)
	var clock atomic.Int64
	tick := func() time.Time { return testNow.Add(time.Duration(clock.Add(1)) * time.Microsecond) }
	var failures atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			g := grants[w]
			prefix := "w" + strconv.Itoa(w) + "-"
			for i := range rounds {
				own := prefix + strconv.Itoa(i)
				now := tick()
				s.Put(own, g, now.Add(time.Hour), now)
				if got, _, ok := s.Lookup(own, tick()); !ok || got != g {
					failures.Add(1)
				}
				sh := "shared-" + strconv.Itoa(i%shared)
				now = tick()
				s.Put(sh, g, now.Add(50*time.Microsecond), now)
				if got, _, ok := s.Lookup(sh, tick()); ok && got == nil {
					failures.Add(1)
				}
				if i%3 == 0 {
					if !s.Revoke(own) {
						failures.Add(1)
					}
					if _, _, ok := s.Lookup(own, tick()); ok {
						failures.Add(1)
					}
					s.Revoke(sh)
				}
				if i%250 == 0 {
					s.Sweep(tick())
					_ = s.Len()
				}
			}
		})
	}
	wg.Wait()
	if n := failures.Load(); n != 0 {
		t.Errorf("%d inconsistent results under concurrency", n)
	}
	// Two thirds of the own tokens are revoked; the rest are live.
	now := tick()
	s.Sweep(now.Add(time.Second))
	if got, want := s.Len(), workers*(rounds-(rounds+2)/3); got != want {
		t.Errorf("Len = %d after final sweep, want %d", got, want)
	}
}

// TestLookupAllocs checks that the hot-path lookups of Store and
// VerifiedCache do not allocate. It is deliberately not parallel:
// testing.AllocsPerRun counts allocations process-wide, so it must not run
// alongside other tests (top-level parallel tests only start once all
// sequential ones have finished).
func TestLookupAllocs(t *testing.T) {
	store := NewStore(StoreOptions{})
	cache := NewVerifiedCache(0)
	g := NewGrant("client_credentials", "svc", "read")
	hit, miss := opaqueTokens(t, 1)[0], opaqueTokens(t, 1)[0]
	store.Put(hit, g, testNow.Add(time.Hour), testNow)
	cache.Add(hit, g, "jti-1", testNow.Add(time.Hour), testNow)
	var sinkOK bool
	tests := []struct {
		name string
		f    func()
	}{
		{"Store.Lookup hit", func() { _, _, sinkOK = store.Lookup(hit, testNow) }},
		{"Store.Lookup miss", func() { _, _, sinkOK = store.Lookup(miss, testNow) }},
		{"Store.Lookup expired", func() { _, _, sinkOK = store.Lookup(hit, testNow.Add(2*time.Hour)) }},
		{"VerifiedCache.Lookup hit", func() { _, _, sinkOK = cache.Lookup(hit, testNow) }},
		{"VerifiedCache.Lookup miss", func() { _, _, sinkOK = cache.Lookup(miss, testNow) }},
		{"VerifiedCache.Lookup expired", func() { _, _, sinkOK = cache.Lookup(hit, testNow.Add(2*time.Hour)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if avg := testing.AllocsPerRun(1000, tt.f); avg != 0 {
				t.Errorf("%s allocates %.1f times per call, want 0", tt.name, avg)
			}
		})
	}
	_ = sinkOK
}

// heapAlloc returns HeapAlloc after a full GC.
func heapAlloc() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// storeBytesPerToken fills a fresh Store with tokens, sharing a handful of
// grants, and returns the heap growth per token. The token strings are
// allocated by the caller beforehand and are not counted.
func storeBytesPerToken(tokens []string, grants []*Grant) float64 {
	expires := testNow.Add(time.Hour)
	before := heapAlloc()
	s := NewStore(StoreOptions{})
	for i, tok := range tokens {
		s.Put(tok, grants[i%len(grants)], expires, testNow)
	}
	after := heapAlloc()
	runtime.KeepAlive(s)
	return float64(after-before) / float64(len(tokens))
}

// TestStoreMemoryPerToken checks the memory budget of the Store: under 256
// bytes per live token. It is deliberately not parallel: it measures the
// process-wide heap.
func TestStoreMemoryPerToken(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation behaviour; run without -race (see BenchmarkStoreMemoryPerToken)")
	}
	const (
		n      = 200_000
		budget = 256.0
	)
	tokens := opaqueTokens(t, n)
	got := storeBytesPerToken(tokens, testGrants(4))
	runtime.KeepAlive(tokens)
	t.Logf("Store: %.1f B/token for %d tokens (excluding the %d-byte token strings)", got, n, OpaqueLen)
	if got >= budget {
		t.Errorf("Store uses %.1f B/token, want < %.0f", got, budget)
	}
}

// BenchmarkStoreMemoryPerToken reports the heap cost of holding 1,000,000
// live 43-character opaque tokens. Run with -benchtime=1x. "B/token" is the
// store's own overhead (map slots, entries); "B/token+string" adds the
// heap size of the token string itself, which the store retains.
func BenchmarkStoreMemoryPerToken(b *testing.B) {
	b.ReportAllocs()
	const n = 1_000_000
	b.StopTimer()
	before := heapAlloc()
	tokens := opaqueTokens(b, n)
	strBytes := float64(heapAlloc()-before-n*int64(unsafe.Sizeof(""))) / n // minus the []string backing array
	grants := testGrants(4)
	var perToken float64
	for range b.N {
		b.StartTimer()
		perToken = storeBytesPerToken(tokens, grants)
		b.StopTimer()
	}
	runtime.KeepAlive(tokens)
	b.ReportMetric(perToken, "B/token")
	b.ReportMetric(perToken+strBytes, "B/token+string")
}

func BenchmarkStoreLookupHit(b *testing.B) {
	b.ReportAllocs()
	const n = 1 << 16
	tokens := opaqueTokens(b, n)
	s := NewStore(StoreOptions{})
	g := NewGrant("client_credentials", "svc", "read")
	for _, tok := range tokens {
		s.Put(tok, g, testNow.Add(time.Hour), testNow)
	}
	i := 0
	for b.Loop() {
		if _, _, ok := s.Lookup(tokens[i&(n-1)], testNow); !ok {
			b.Fatal("miss")
		}
		i++
	}
}

func BenchmarkStoreLookupMiss(b *testing.B) {
	b.ReportAllocs()
	const n = 1 << 16
	s := NewStore(StoreOptions{})
	g := NewGrant("client_credentials", "svc", "read")
	for _, tok := range opaqueTokens(b, n) {
		s.Put(tok, g, testNow.Add(time.Hour), testNow)
	}
	misses := opaqueTokens(b, n)
	i := 0
	for b.Loop() {
		if _, _, ok := s.Lookup(misses[i&(n-1)], testNow); ok {
			b.Fatal("hit")
		}
		i++
	}
}

func BenchmarkStoreLookupParallel(b *testing.B) {
	b.ReportAllocs()
	const n = 1 << 16
	tokens := opaqueTokens(b, n)
	s := NewStore(StoreOptions{})
	g := NewGrant("client_credentials", "svc", "read")
	for _, tok := range tokens {
		s.Put(tok, g, testNow.Add(time.Hour), testNow)
	}
	var start atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(start.Add(7919))
		for pb.Next() {
			if _, _, ok := s.Lookup(tokens[i&(n-1)], testNow); !ok {
				b.Error("miss")
				return
			}
			i++
		}
	})
}

func BenchmarkStorePut(b *testing.B) {
	b.ReportAllocs()
	const n = 1 << 20
	tokens := opaqueTokens(b, n)
	s := NewStore(StoreOptions{})
	g := NewGrant("client_credentials", "svc", "read")
	expires := testNow.Add(time.Hour)
	i := 0
	for b.Loop() {
		s.Put(tokens[i&(n-1)], g, expires, testNow)
		i++
	}
}

// TestStoreExpired checks that an expired token still held is told apart
// from a live one, a revoked one and one never stored.
func TestStoreExpired(t *testing.T) {
	t.Parallel()
	s := NewStore(StoreOptions{})
	g := NewGrant("simple", "c", "")
	exp := testNow.Add(time.Minute)
	s.Put("old", g, exp, testNow)
	s.Put("gone", g, exp, testNow)
	s.Revoke("gone")
	tests := []struct {
		name   string
		token  string
		now    time.Time
		wantOK bool
	}{
		{name: "live", token: "old", now: testNow},
		{name: "expired at its expiry", token: "old", now: exp, wantOK: true},
		{name: "expired later", token: "old", now: exp.Add(time.Second), wantOK: true},
		{name: "revoked", token: "gone", now: exp.Add(time.Second)},
		{name: "never stored", token: "nope", now: exp.Add(time.Second)},
	}
	for _, tt := range tests {
		got, ok := s.Expired(tt.token, tt.now)
		if ok != tt.wantOK || (ok && !got.Equal(exp)) {
			t.Errorf("%s: Expired = %v, %v; want %v, %v", tt.name, got, ok, exp, tt.wantOK)
		}
	}
}
