package mockserver

import (
	"fmt"
	"sync/atomic"
	"time"
)

// ClockSetting is a state of the server's clock, as the control API and
// the config file's clock section say it: Now is where the clock stands
// (zero: where the underlying clock stands), Frozen whether it stays there.
type ClockSetting struct {
	Now    time.Time `yaml:"now" json:"now"`
	Frozen bool      `yaml:"frozen" json:"frozen"`
}

// controlClock is the clock the server issues, validates, introspects and
// revokes with: the configured clock moved by an offset, or frozen at an
// instant. Reads are lock-free, since every Bearer check reads it.
type controlClock struct {
	base  Clock
	state atomic.Pointer[clockState]
}

type clockState struct {
	offset time.Duration
	frozen bool
	at     time.Time // when frozen
}

func newControlClock(base Clock) *controlClock {
	c := &controlClock{base: base}
	c.state.Store(&clockState{})
	return c
}

// Now returns the server's current time.
func (c *controlClock) Now() time.Time {
	st := c.state.Load()
	if st.frozen {
		return st.at
	}
	if st.offset == 0 {
		return c.base.Now()
	}
	return c.base.Now().Add(st.offset)
}

// Setting describes the clock now.
func (c *controlClock) Setting() ClockSetting {
	return ClockSetting{Now: c.Now(), Frozen: c.state.Load().frozen}
}

// Set moves the clock to s.Now (a zero Now keeps the current time) and
// freezes or thaws it; a Now outside the range checkClockTime allows is an
// error, and moves nothing.
func (c *controlClock) Set(s ClockSetting) error {
	now := s.Now
	if now.IsZero() {
		now = c.Now()
	} else if err := checkClockTime(now); err != nil {
		return err
	}
	st := &clockState{offset: now.Sub(c.base.Now()), frozen: s.Frozen, at: now}
	c.state.Store(st)
	return nil
}

// Advance moves the clock by d, frozen or not; it moves nothing, and
// returns an error, when the clock would leave the range checkClockTime
// allows.
func (c *controlClock) Advance(d time.Duration) error {
	for {
		old := c.state.Load()
		next := *old
		next.offset += d
		next.at = next.at.Add(d)
		now := next.at
		if !next.frozen {
			now = c.base.Now().Add(next.offset)
		}
		if (d > 0 && next.offset < old.offset) || (d < 0 && next.offset > old.offset) {
			return fmt.Errorf("moving the clock by %s overflows", d)
		}
		if err := checkClockTime(now); err != nil {
			return err
		}
		if c.state.CompareAndSwap(old, &next) {
			return nil
		}
	}
}

// clockLatest is the latest time the clock may be set to: a token issued
// then, with the longest lifetime a flow allows (366 days), still expires
// before Unix nanoseconds run out in 2262.
func clockLatest() time.Time { return time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC) }

// checkClockTime refuses a clock setting the server cannot issue tokens
// at: before 1970 (Unix time is negative) or after clockLatest.
func checkClockTime(t time.Time) error {
	const layout = "2006-01-02T15:04:05Z07:00"
	if t.Before(time.Unix(0, 0)) || t.After(clockLatest()) {
		return fmt.Errorf("%s is outside the clock's range, %s to %s", t.UTC().Format(layout),
			time.Unix(0, 0).UTC().Format(layout), clockLatest().Format(layout))
	}
	return nil
}

// Reset returns to the underlying clock.
func (c *controlClock) Reset() { c.state.Store(&clockState{}) }
