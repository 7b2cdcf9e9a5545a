package conformance

import (
	"context"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/probe"
)

// passage is how a check lets time pass on the target: by moving the
// target's clock through its control API when the run found one, else by
// waiting. Its times are the target's clock then, ours otherwise, so a
// check reads the same either way.
type passage struct {
	ctl  *probe.Control // nil: wait
	snap probe.ClockSnapshot
	err  error // the control API failed when the clock was read for Restore
}

// newPassage starts a passage for the node that calls it: with a control
// API, the clock as it stands now is put back once the node is over (once
// the whole container is, from a BeforeAll), even when a check fails or
// the run is interrupted.
func newPassage(ctx context.Context, f *framework.Framework) *passage {
	ctl := f.Control()
	if ctl == nil {
		return &passage{}
	}
	snap, err := ctl.Snapshot(ctx)
	if err != nil {
		return &passage{ctl: ctl, err: err}
	}
	ginkgo.DeferCleanup(func(ctx ginkgo.SpecContext) {
		if err := ctl.Restore(ctx, snap); err != nil {
			ginkgo.AddReportEntry("clock-restore", err.Error())
		}
		f.ForgetPrimaryToken()
	})
	return &passage{ctl: ctl, snap: snap}
}

// controlled reports whether time passes by moving the target's clock.
func (p *passage) controlled() bool { return p.ctl != nil }

// strategy names the way time passes, for the report entry.
func (p *passage) strategy(waiting string) string {
	if p.controlled() {
		return framework.ExpiryByControl
	}
	return waiting
}

// now is the target's time (control) or ours.
func (p *passage) now(ctx context.Context) time.Time {
	if !p.controlled() {
		return time.Now()
	}
	p.check()
	s, err := p.ctl.Clock(ctx)
	p.fail(err)
	return s.Now
}

// until lets time pass until at.
func (p *passage) until(ctx context.Context, at time.Time) {
	if !p.controlled() {
		sleep(ctx, time.Until(at))
		return
	}
	if d := at.Sub(p.now(ctx)); d > 0 {
		_, err := p.ctl.Advance(ctx, d)
		p.fail(err)
	}
}

func (p *passage) check() { p.fail(p.err) }

// fail ends the check NOT VERIFIED when the control API fails: the check
// could not let time pass, which says nothing of the target's tokens.
func (p *passage) fail(err error) {
	if err != nil {
		framework.NotVerified("the target's control API failed (%v): run with --no-control to wait in real time instead", err)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
