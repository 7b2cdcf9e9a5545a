package conformance

import (
	"context"
	"testing"
	"time"
)

// at is a time s seconds after a fixed origin, for readable schedules.
func at(s float64) time.Time {
	return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(s * float64(time.Second)))
}

// uses builds a schedule: each entry is sent at its second, answered 50 ms
// later, with its status (a 2xx: it works, as on a route that answers live
// tokens 200).
func uses(entries ...[2]float64) []tokenUse {
	var out []tokenUse
	for _, e := range entries {
		out = append(out, tokenUse{sent: at(e[0]), answered: at(e[0] + 0.05), status: int(e[1]), works: e[1] < 300})
	}
	return out
}

func TestJudgeSlide(t *testing.T) {
	t.Parallel()
	// Issued between 0 and 0.1 s, 3 s of life, 2 s leeway: the latest exp
	// is 3.1 s and the deadline 6.1 s.
	life := tokenLife{from: at(0), by: at(0.1), lifetime: 3 * time.Second}
	const leeway = 2 * time.Second
	tests := []struct {
		name string
		uses []tokenUse
		want slideOutcome
	}{
		{"a token used every 0.3 s and accepted past the deadline slides",
			uses([2]float64{0.2, 200}, [2]float64{3, 200}, [2]float64{5.9, 200}, [2]float64{6.2, 200}), slideSeen},
		{"accepted up to the deadline but not sent after it: still inside the leeway",
			uses([2]float64{0.2, 200}, [2]float64{6.05, 200}), slideWaitRanOut},
		{"refused soon after exp, a short gap after the use before: no slide",
			uses([2]float64{0.2, 200}, [2]float64{3, 200}, [2]float64{3.3, 401}), slideNotSeen},
		{"refused after a gap as long as the lifetime: a slide would be refused too",
			uses([2]float64{0.2, 200}, [2]float64{1, 200}, [2]float64{4.5, 401}), slideUnknown},
		{"refused before exp, after a long gap: no slide can explain it",
			uses([2]float64{0.2, 200}, [2]float64{2.95, 401}), slideNotSeen},
		{"the fresh token was refused", uses([2]float64{0.2, 401}), slideNeverWorked},
		{"no use at all", nil, slideNeverWorked},
		{"a redirect is neither", uses([2]float64{0.2, 200}, [2]float64{3.5, 302}), slideUnclearRefusal},
		{"the gap is counted from the latest accepted use",
			uses([2]float64{0.2, 200}, [2]float64{2.9, 200}, [2]float64{3.1, 302}, [2]float64{3.3, 401}), slideNotSeen},
		{"a redirect between does not shorten the gap",
			uses([2]float64{0.2, 200}, [2]float64{2.5, 302}, [2]float64{3.4, 401}), slideUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, why := judgeSlide(life, leeway, tt.uses)
			if got != tt.want {
				t.Errorf("judgeSlide = %d (%s), want %d", got, why, tt.want)
			}
			if why == "" && got != slideNotSeen {
				t.Errorf("judgeSlide gives no reason for outcome %d", got)
			}
		})
	}
}

func TestUseInterval(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lifetime   time.Duration
		controlled bool
		want       time.Duration
	}{
		{3 * time.Second, false, 300 * time.Millisecond},
		{5 * time.Second, false, 500 * time.Millisecond},
		{30 * time.Second, false, time.Second},                  // at least once a second when waiting
		{500 * time.Millisecond, false, 100 * time.Millisecond}, // at most ten a second
		{30 * time.Minute, true, 3 * time.Minute},
		{3 * time.Second, true, 300 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := useInterval(tt.lifetime, tt.controlled); got != tt.want {
			t.Errorf("useInterval(%v, %v) = %v, want %v", tt.lifetime, tt.controlled, got, tt.want)
		}
		if got := useInterval(tt.lifetime, tt.controlled); got > tt.lifetime/4 && tt.lifetime >= time.Second {
			t.Errorf("useInterval(%v) = %v: not well below the lifetime", tt.lifetime, got)
		}
	}
}

func TestNextProbe(t *testing.T) {
	t.Parallel()
	deadline := at(10)
	tests := []struct {
		name string
		sent time.Time
		want time.Time
	}{
		{"well before the deadline: a full interval", at(2), at(3)},
		{"the interval would cross the deadline: right after it", at(9.5), deadline.Add(time.Millisecond)},
		{"sent at the deadline: right after it", at(10), deadline.Add(time.Millisecond)},
		{"past the deadline: a full interval", at(10.5), at(11.5)},
	}
	for _, tt := range tests {
		if got := nextProbe(tt.sent, deadline, time.Second); !got.Equal(tt.want) {
			t.Errorf("%s: nextProbe = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestLeastSkew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		date, sent, answered time.Time
		want                 time.Duration
	}{
		{"Date within the exchange", at(10), at(9.5), at(10.5), 0},
		{"Date truncated to the second before the send", at(9), at(9.5), at(9.6), 0},
		{"a slow answer is no skew", at(14), at(10), at(14.2), 0},
		{"the target ahead", at(20), at(10), at(10.1), 9900 * time.Millisecond},
		{"the target behind", at(3), at(10), at(10.1), -6 * time.Second},
	}
	for _, tt := range tests {
		if got := leastSkew(tt.date, tt.sent, tt.answered); got != tt.want {
			t.Errorf("%s: leastSkew = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestTokenLifeDeadline(t *testing.T) {
	t.Parallel()
	life := tokenLife{from: at(0), by: at(2), lifetime: 5 * time.Second}
	// The latest exp counts from the answer: 2 + 5; then the leeway and a
	// second for an exp in whole seconds.
	if got, want := life.deadline(3*time.Second), at(11); !got.Equal(want) {
		t.Errorf("deadline = %v, want %v", got, want)
	}
}

func TestPollUntilDeadJudgesBySendTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// A token that never dies: the poll ends with the first probe sent
	// after the window, however few probes fitted in it.
	by := time.Now().Add(150 * time.Millisecond)
	var lastSent time.Time
	if pollUntilDead(ctx, by, 40*time.Millisecond, func() bool { lastSent = time.Now(); return false }) {
		t.Fatal("pollUntilDead reports a live token dead")
	}
	if !lastSent.After(by) {
		t.Errorf("the deciding probe was sent %v before the window closed", by.Sub(lastSent))
	}
	// A token that dies on the second probe.
	n := 0
	if !pollUntilDead(ctx, time.Now().Add(time.Second), 10*time.Millisecond, func() bool { n++; return n == 2 }) {
		t.Error("pollUntilDead missed the token's death")
	}
}
