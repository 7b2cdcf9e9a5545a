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
