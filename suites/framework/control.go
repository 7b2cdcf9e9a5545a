package framework

import (
	"context"
	"fmt"

	"github.com/tollgate/tollgate/suites/probe"
)

// Expiry notes for the report: how the expiry checks let time pass.
const (
	ExpiryByControl = "target clock moved through its control API, and put back after each check"
	ExpiryByWaiting = "waited out in real time"
)

// detectControl looks for the target's control API unless the
// configuration turns it off, and records the clock as it stands.
func (f *Framework) detectControl(ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Config.NoControl {
		f.noControl = "--no-control"
		return
	}
	ctl, why := f.DetectControl(ctx)
	if ctl == nil {
		f.noControl = "no control API at the target: " + why
		return
	}
	ctl.SystemTolerance = f.Config.ClockSkew
	snap, err := ctl.Snapshot(ctx)
	if err != nil {
		f.noControl = "no control API at the target: " + err.Error()
		return
	}
	f.control, f.atStart = ctl, snap
}

// Control returns the target's control API, found by Preflight; nil when
// the target has none or the configuration turns it off. Checks that move
// the clock put it back themselves (Control.Snapshot, Control.Restore).
func (f *Framework) Control() *probe.Control {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.control
}

// Expiry says how the run tests expiry, for the report: by moving the
// target's clock, or by waiting (and why).
func (f *Framework) Expiry() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.control != nil {
		return ExpiryByControl
	}
	if f.noControl == "" {
		return ExpiryByWaiting
	}
	return fmt.Sprintf("%s (%s)", ExpiryByWaiting, f.noControl)
}

// RestoreClock puts the target's clock back as Preflight found it when a
// check moved it and did not put it back (an interrupted run); otherwise
// it does nothing. Call it once the specs have run.
func (f *Framework) RestoreClock(ctx context.Context) error {
	ctl := f.Control()
	if ctl == nil || !ctl.Moved() {
		return nil
	}
	f.mu.Lock()
	snap := f.atStart
	f.mu.Unlock()
	return ctl.Restore(ctx, snap)
}
