package conformance

import (
	"context"
	"fmt"
	"time"

	"github.com/tollgate/tollgate/suites/framework"
)

// This file holds how the checks that wait or poll (EXP-005, EXP-010,
// REV-002, INTRO-003) schedule their probes. Each schedule is derived from
// the token's advertised lifetime and the passage's timeline (the target's
// clock when it can be moved, ours otherwise), and each verdict is judged
// by when a probe was sent or answered, never by how many probes fitted in
// a window: a process held up by a busy machine sends fewer probes, later,
// and must still reach the verdict a quiet machine reaches, or say that it
// cannot (INCONCLUSIVE), never PASS.

// tokenLife is when a token was issued, as closely as the run can tell (no
// earlier than from, the token request's send, and no later than by, its
// answer, on the passage's timeline), and its advertised lifetime.
type tokenLife struct {
	from, by time.Time
	lifetime time.Duration
}

// latestExp is the latest the target's exp can be: the answer's time plus
// the lifetime.
func (l tokenLife) latestExp() time.Time { return l.by.Add(l.lifetime) }

// deadline is when the token must be refused whatever the delays: its
// latest exp, the allowed leeway, and a second for an exp counted in whole
// seconds.
func (l tokenLife) deadline(leeway time.Duration) time.Time {
	return l.latestExp().Add(leeway + time.Second)
}

// tokenUse is one use of a token on a protected operation: sent no earlier
// than sent and answered no later than answered, on the passage's timeline.
type tokenUse struct {
	sent, answered time.Time
	status         int
	works          bool // answered like a live token on the route (routeAnswers.accepted)
}

func (u tokenUse) accepted() bool { return u.works }
func (u tokenUse) refused() bool  { return !u.works && u.status >= 400 }

// useInterval is how often EXP-010 uses its token: a tenth of its lifetime,
// so that a token whose expiry slides by its lifetime with each use (or by
// a few tenths of it) is kept alive past its deadline however the uses are
// delayed. When the run waits in real time it uses the token at least once
// a second and at most ten times a second; a moved clock costs no time.
func useInterval(lifetime time.Duration, controlled bool) time.Duration {
	d := lifetime / 10
	if controlled {
		return max(d, 10*time.Millisecond)
	}
	return min(max(d, 100*time.Millisecond), time.Second)
}

// nextProbe is when the probe after one sent at sent goes out: every
// interval, except that the first probe past deadline is sent as soon as
// the deadline is over, so that the verdict comes from a probe that
// reached the target after it.
func nextProbe(sent, deadline time.Time, every time.Duration) time.Time {
	next := sent.Add(every)
	if !sent.After(deadline) && next.After(deadline) {
		return deadline.Add(time.Millisecond)
	}
	return next
}

// slideOutcome is EXP-010's finding from the uses of its token.
type slideOutcome int

const (
	slideNotSeen        slideOutcome = iota // the token died by its deadline: PASS
	slideSeen                               // the token worked past its deadline: FAIL, unless an unused twin did too
	slideUnknown                            // the uses cannot tell sliding from not sliding: INCONCLUSIVE
	slideNeverWorked                        // the fresh token was refused: NOT VERIFIED
	slideWaitRanOut                         // max_expiry_wait ran out first: NOT VERIFIED
	slideUnclearRefusal                     // the last answer was neither a refusal nor an acceptance: NOT VERIFIED
)

// judgeSlide judges EXP-010 from uses, in order, of a token with life: the
// expiry must be the first deadline (issued + expires_in + leeway), not the
// last use's. It returns the outcome and the sentence that explains it.
//
// A token whose expiry slides by its lifetime stays alive while no two
// uses are a lifetime apart. So a refusal rules sliding out only when the
// refused use reached the target less than a lifetime after the accepted
// use before it; a refusal after a longer gap (this process was held up)
// cannot tell the two apart.
func judgeSlide(life tokenLife, leeway time.Duration, uses []tokenUse) (slideOutcome, string) {
	if len(uses) == 0 || !uses[0].accepted() {
		status := 0
		if len(uses) > 0 {
			status = uses[0].status
		}
		return slideNeverWorked, fmt.Sprintf("the fresh token was refused (status %d), so there is no expiry to watch (EXP-004 judges a fresh token)", status)
	}
	last := uses[len(uses)-1]
	deadline := life.deadline(leeway)
	var prev tokenUse // the latest accepted use before last
	for _, u := range uses[:len(uses)-1] {
		if u.accepted() {
			prev = u
		}
	}
	gap := last.answered.Sub(prev.sent)
	switch {
	case last.accepted() && last.sent.After(deadline):
		return slideSeen, fmt.Sprintf("the token still works %v after its deadline (issued + expires_in %v + leeway %v), used %d times at most %v apart: its expiry slides with use",
			last.sent.Sub(deadline).Round(time.Millisecond), life.lifetime, leeway, len(uses), widestGap(uses).Round(time.Millisecond))
	case last.accepted():
		return slideWaitRanOut, fmt.Sprintf("the token still worked %v after exp, within the leeway of %v, when --max-expiry-wait ran out", max(0, last.sent.Sub(life.latestExp())).Round(time.Second), leeway)
	case !last.refused():
		return slideUnclearRefusal, fmt.Sprintf("the token got status %d, neither accepted nor refused, so whether it outlived its deadline is unknown", last.status)
	case last.sent.Before(life.from.Add(life.lifetime)):
		return slideNotSeen, fmt.Sprintf("the token was refused before its exp, after %d uses", len(uses))
	case gap >= life.lifetime:
		return slideUnknown, fmt.Sprintf("the token was refused %v after the use before it, no less than its lifetime (%v): this process was held up, and a token whose expiry slides by its lifetime would have been refused too; rerun on a less busy machine",
			gap.Round(time.Millisecond), life.lifetime)
	default:
		return slideNotSeen, fmt.Sprintf("the token was refused %v after exp, %v after the use before it", last.sent.Sub(life.latestExp()).Round(time.Millisecond), gap.Round(time.Millisecond))
	}
}

// widestGap is the longest time between one use being sent and the next
// being answered: how long the target may have seen the token unused.
func widestGap(uses []tokenUse) time.Duration {
	var widest time.Duration
	for i := 1; i < len(uses); i++ {
		widest = max(widest, uses[i].answered.Sub(uses[i-1].sent))
	}
	return widest
}

// pollUntilDead sends probe every interval, in real time, until it reports
// the token dead (true), or until a probe sent after by still finds it
// alive (false): how long the poll lasts follows from when each probe was
// sent, so a held-up process judges the same window as a prompt one.
func pollUntilDead(ctx context.Context, by time.Time, every time.Duration, probe func() bool) bool {
	for {
		sent := time.Now()
		if probe() {
			return true
		}
		if sent.After(by) {
			return false
		}
		sleep(ctx, time.Until(nextProbe(sent, by, every)))
		if ctx.Err() != nil {
			framework.Inconclusive("interrupted while waiting for a token to be refused")
		}
	}
}

// leastSkew is the smallest difference between the target's clock and ours
// that a Date header of date allows for a response generated while our
// clock was between sent and answered: zero when the two can agree, else
// how far the target is ahead (positive) or behind (negative) at least.
func leastSkew(date, sent, answered time.Time) time.Duration {
	switch {
	case date.After(answered):
		return date.Sub(answered)
	case date.Add(time.Second).Before(sent):
		return date.Add(time.Second).Sub(sent)
	}
	return 0
}
