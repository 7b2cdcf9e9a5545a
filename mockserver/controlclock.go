package mockserver

import (
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
// freezes or thaws it.
func (c *controlClock) Set(s ClockSetting) {
	now := s.Now
	if now.IsZero() {
		now = c.Now()
	}
	st := &clockState{offset: now.Sub(c.base.Now()), frozen: s.Frozen, at: now}
	c.state.Store(st)
}

// Advance moves the clock by d, frozen or not.
func (c *controlClock) Advance(d time.Duration) {
	for {
		old := c.state.Load()
		next := *old
		next.offset += d
		next.at = next.at.Add(d)
		if c.state.CompareAndSwap(old, &next) {
			return
		}
	}
}

// Reset returns to the underlying clock.
func (c *controlClock) Reset() { c.state.Store(&clockState{}) }
