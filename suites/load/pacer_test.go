package load

import (
	"testing"
	"time"
)

func TestPacers(t *testing.T) {
	t.Parallel()
	step := StepPacer{Start: Rate{Freq: 10}, Step: Rate{Freq: 10}, Every: time.Second, Max: Rate{Freq: 25}}
	tests := []struct {
		name     string
		p        Pacer
		elapsed  time.Duration
		hits     uint64
		wantWait time.Duration
		wantStop bool
	}{
		{"constant: the first hit is due at once", Rate{Freq: 100}, 0, 0, 0, false},
		{"constant: hit 5 at 100/s is due at 50ms", Rate{Freq: 100}, 20 * time.Millisecond, 5, 30 * time.Millisecond, false},
		{"constant: a late hit is due now", Rate{Freq: 100}, time.Second, 5, 0, false},
		{"constant: 30/min spaces hits 2s apart", Rate{Freq: 30, Per: time.Minute}, 0, 1, 2 * time.Second, false},
		{"constant: a zero rate stops", Rate{}, 0, 0, 0, true},
		{"step: hit 10 is due at the end of the first step", step, 500 * time.Millisecond, 10, 500 * time.Millisecond, false},
		{"step: the second step runs at 20/s", step, time.Second, 20, 500 * time.Millisecond, false},
		{"step: the rate stops at its ceiling", step, 3 * time.Second, 60, 200 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wait, stop := tt.p.Pace(tt.elapsed, tt.hits)
			if stop != tt.wantStop {
				t.Fatalf("stop = %v, want %v", stop, tt.wantStop)
			}
			if d := wait - tt.wantWait; d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("wait = %s, want %s", wait, tt.wantWait)
			}
		})
	}
	if got := step.Rate(10 * time.Second); got != 25 {
		t.Errorf("step rate at 10s = %g, want the ceiling 25", got)
	}
}
