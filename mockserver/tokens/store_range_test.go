package tokens

import (
	"testing"
	"time"
)

func TestStoreRangeAndClear(t *testing.T) {
	t.Parallel()
	s := NewStore(StoreOptions{})
	now := time.Unix(1_700_000_000, 0)
	g := NewGrant("simple", "testClient", "")
	s.Put("live-1", g, now.Add(time.Minute), now)
	s.Put("live-2", g, now.Add(time.Hour), now)
	s.Put("dead", g, now.Add(-time.Second), now)
	seen := map[string]bool{}
	s.Range(now, func(token string, got *Grant, expires time.Time) bool {
		if got != g || !expires.After(now) {
			t.Errorf("Range gave %s: grant %v, expires %v", token, got, expires)
		}
		seen[token] = true
		return true
	})
	if len(seen) != 2 || !seen["live-1"] || !seen["live-2"] {
		t.Errorf("Range saw %v, want the two live tokens", seen)
	}
	calls := 0
	s.Range(now, func(string, *Grant, time.Time) bool { calls++; return false })
	if calls != 1 {
		t.Errorf("Range went on after false: %d calls", calls)
	}
	s.Clear()
	if s.Len() != 0 {
		t.Errorf("Len after Clear = %d", s.Len())
	}
}

// TestStoreLookupIssued: a token's issue time is the now of the Put or Add
// that stored it, and an expired or unknown token has none.
func TestStoreLookupIssued(t *testing.T) {
	t.Parallel()
	s := NewStore(StoreOptions{MaxTokens: 10})
	issued := time.Unix(1_700_000_000, 0)
	g := NewGrant("simple", "testClient", "")
	s.Put("put", g, issued.Add(time.Hour), issued)
	if err := s.Add("added", g, issued.Add(2*time.Hour), issued.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	later := issued.Add(30 * time.Minute)
	for token, want := range map[string]time.Time{"put": issued, "added": issued.Add(time.Minute)} {
		got, at, exp, ok := s.LookupIssued(token, later)
		if !ok || got != g || !at.Equal(want) || !exp.After(later) {
			t.Errorf("%s: %v %v %v %v, want issued %v", token, got, at, exp, ok, want)
		}
	}
	if _, _, _, ok := s.LookupIssued("put", issued.Add(time.Hour)); ok {
		t.Error("an expired token was found")
	}
	if _, _, _, ok := s.LookupIssued("unknown", later); ok {
		t.Error("an unknown token was found")
	}
}
