package load

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Progress is a snapshot of a run in progress.
type Progress struct {
	Elapsed  time.Duration
	Requests uint64
	RPS      float64       // over the last interval
	P99      time.Duration // so far
	Errors   uint64
	Wrong    uint64
}

// progress calls Options.Progress every ProgressEvery until stopped.
func (a *Attacker) progress(ctx context.Context) (stop func()) {
	if a.opts.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(a.opts.ProgressEvery)
		defer t.Stop()
		var lastN uint64
		var lastAt time.Duration
		for {
			select {
			case <-ctx.Done():
				return
			case <-done:
				return
			case <-t.C:
			}
			m := a.snapshot()
			now := a.since()
			p := Progress{Elapsed: now, Requests: m.Requests, P99: m.Quantile(99), Errors: m.Errors(), Wrong: m.WrongVerdicts()}
			if dt := now - lastAt; dt > 0 {
				p.RPS = float64(m.Requests-lastN) / dt.Seconds()
			}
			lastN, lastAt = m.Requests, now
			a.opts.Progress(p)
		}
	})
	return func() { close(done); wg.Wait() }
}

// String formats the progress as one line: time, rate, p99 so far, errors
// and wrong verdicts.
func (p Progress) String() string {
	return fmt.Sprintf("%6.1fs  %9.1f req/s  p99 %-8s  requests %d  errors %d  wrong %d",
		p.Elapsed.Seconds(), p.RPS, fmtDur(p.P99), p.Requests, p.Errors, p.Wrong)
}
