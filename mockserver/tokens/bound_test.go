package tokens

import (
	"errors"
	"runtime"
	"strconv"
	"testing"
	"time"
)

func TestStoreAddBound(t *testing.T) {
	t.Parallel()
	g := NewGrant("client_credentials", "svc", "read")
	tests := []struct {
		name string
		// lifetimes of the tokens added first, filling a store of len(lifetimes)
		lifetimes []time.Duration
		later     time.Duration // when the extra token is added, after testNow
		wantErr   bool
		wantNext  time.Duration // FullError.NextExpiry - testNow
		wantLen   int           // after the extra Add
	}{
		{name: "full of live tokens: refused, with the earliest expiry",
			lifetimes: []time.Duration{time.Hour, 10 * time.Minute, 30 * time.Minute},
			later:     time.Minute, wantErr: true, wantNext: 10 * time.Minute, wantLen: 3},
		{name: "an expired token makes room",
			lifetimes: []time.Duration{time.Hour, 10 * time.Minute, 30 * time.Minute},
			later:     10 * time.Minute, wantLen: 3},
		{name: "every token expired: all swept",
			lifetimes: []time.Duration{time.Minute, time.Minute},
			later:     time.Hour, wantLen: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewStore(StoreOptions{MaxTokens: len(tt.lifetimes)})
			for i, d := range tt.lifetimes {
				if err := s.Add("tok-"+strconv.Itoa(i), g, testNow.Add(d), testNow); err != nil {
					t.Fatalf("Add %d of %d: %v", i+1, len(tt.lifetimes), err)
				}
			}
			now := testNow.Add(tt.later)
			err := s.Add("extra", g, now.Add(time.Hour), now)
			var full *FullError
			switch {
			case tt.wantErr && !errors.As(err, &full):
				t.Fatalf("Add to a full store: %v, want a *FullError", err)
			case tt.wantErr:
				if full.Max != len(tt.lifetimes) || !full.NextExpiry.Equal(testNow.Add(tt.wantNext)) {
					t.Errorf("FullError{Max: %d, NextExpiry: %v}, want {%d, %v}", full.Max, full.NextExpiry, len(tt.lifetimes), testNow.Add(tt.wantNext))
				}
				if _, _, ok := s.Lookup("extra", now); ok {
					t.Error("a refused token was stored")
				}
			case err != nil:
				t.Fatalf("Add: %v, want room made by sweeping expired tokens", err)
			}
			for i, d := range tt.lifetimes {
				if _, _, ok := s.Lookup("tok-"+strconv.Itoa(i), now); ok != (d > tt.later) {
					t.Errorf("token %d (lifetime %v) live at +%v: %v, want %v: no live token is ever evicted", i, d, tt.later, ok, d > tt.later)
				}
			}
			if got := s.Len(); got != tt.wantLen {
				t.Errorf("Len = %d, want %d", got, tt.wantLen)
			}
		})
	}
}

func TestStoreRevokeFreesASlot(t *testing.T) {
	t.Parallel()
	g := NewGrant("client_credentials", "svc", "read")
	s := NewStore(StoreOptions{MaxTokens: 1})
	if err := s.Add("a", g, testNow.Add(time.Hour), testNow); err != nil {
		t.Fatal(err)
	}
	if err := s.Add("b", g, testNow.Add(time.Hour), testNow); err == nil {
		t.Fatal("Add to a full store succeeded")
	}
	if !s.Revoke("a") || s.Len() != 0 {
		t.Fatalf("after Revoke: Len %d, want 0", s.Len())
	}
	if err := s.Add("b", g, testNow.Add(time.Hour), testNow); err != nil {
		t.Fatalf("Add after a revocation freed the slot: %v", err)
	}
}

func TestVerifiedCacheSweep(t *testing.T) {
	t.Parallel()
	g := NewGrant("client_credentials", "svc", "read")
	c := NewVerifiedCache(100)
	c.Add("short", g, "", testNow.Add(time.Minute), testNow)
	c.Add("long", g, "", testNow.Add(time.Hour), testNow)
	if got := c.Sweep(testNow.Add(time.Minute)); got != 1 {
		t.Errorf("Sweep removed %d, want 1", got)
	}
	if _, _, ok := c.Lookup("long", testNow.Add(time.Minute)); !ok || c.Len() != 1 {
		t.Errorf("after Sweep: long cached %v, Len %d; want true, 1", ok, c.Len())
	}
}

// TestStoreChurnReturnsMemory adds 200,000 short-lived tokens, sweeps them
// once expired, and checks that the heap returns near where it started: Go
// maps keep their buckets after deletes, so the sweep must rebuild them. It
// is deliberately not parallel: it measures the process-wide heap.
func TestStoreChurnReturnsMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation behaviour; run without -race")
	}
	const n = 200_000
	g := NewGrant("client_credentials", "svc", "read")
	start := heapAlloc()
	s := NewStore(StoreOptions{MaxTokens: n})
	for i := range n {
		if err := s.Add("token-"+strconv.Itoa(i), g, testNow.Add(time.Second), testNow); err != nil {
			t.Fatal(err)
		}
	}
	peak := heapAlloc()
	if removed := s.Sweep(testNow.Add(time.Second)); removed != n {
		t.Fatalf("Sweep removed %d, want %d", removed, n)
	}
	end := heapAlloc()
	runtime.KeepAlive(s)
	t.Logf("heap: start %d KiB, %d tokens %d KiB, swept %d KiB", start>>10, n, peak>>10, end>>10)
	if grown, held := end-start, peak-start; grown > held/20 {
		t.Errorf("the heap keeps %d of the %d bytes the tokens took after they were swept, want under 5%%", grown, held)
	}
}
