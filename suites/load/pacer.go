package load

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// A Pacer decides when the next request of an open-model run is due. It is
// vegeta's interface: Pace gets the time since the start and the number of
// requests sent so far and returns how long to wait before sending the next
// one, or stop once the pacer has nothing more to send.
type Pacer interface {
	Pace(elapsed time.Duration, hits uint64) (wait time.Duration, stop bool)
	// Rate is the rate asked for at elapsed, in requests per second.
	Rate(elapsed time.Duration) float64
}

// ConstantPacer sends Freq requests every Per, evenly spaced; it is also
// the Rate type that flags parse into, as in vegeta. The zero value sends
// nothing.
type ConstantPacer struct {
	Freq int           // requests per Per
	Per  time.Duration // the period; zero means one second
}

// Rate is a number of requests per period.
type Rate = ConstantPacer

// PerSecond returns the rate in requests per second.
func (r Rate) PerSecond() float64 {
	if r.Freq <= 0 {
		return 0
	}
	per := r.Per
	if per <= 0 {
		per = time.Second
	}
	return float64(r.Freq) / per.Seconds()
}

// String formats the rate as ParseRate reads it, e.g. "2000/s".
func (r Rate) String() string {
	per := r.Per
	if per <= 0 {
		per = time.Second
	}
	unit := map[time.Duration]string{time.Millisecond: "ms", time.Second: "s", time.Minute: "min", time.Hour: "h"}[per]
	if unit == "" {
		unit = per.String()
	}
	return strconv.Itoa(r.Freq) + "/" + unit
}

// ParseRate reads "2000/s", "30/min", "5/100ms" or a bare "2000" (per
// second).
func ParseRate(s string) (Rate, error) {
	num, unit, hasUnit := strings.Cut(strings.TrimSpace(s), "/")
	freq, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || freq <= 0 {
		return Rate{}, fmt.Errorf("load: rate %q: write a positive count per period, e.g. 2000/s or 30/min", s)
	}
	if !hasUnit {
		return Rate{Freq: freq, Per: time.Second}, nil
	}
	unit = strings.TrimSpace(unit)
	switch unit {
	case "s", "sec":
		return Rate{Freq: freq, Per: time.Second}, nil
	case "m", "min":
		return Rate{Freq: freq, Per: time.Minute}, nil
	case "h", "hour":
		return Rate{Freq: freq, Per: time.Hour}, nil
	case "ms":
		return Rate{Freq: freq, Per: time.Millisecond}, nil
	}
	per, err := time.ParseDuration(unit)
	if err != nil || per <= 0 {
		return Rate{}, fmt.Errorf("load: rate %q: the period must be s, min, h, ms or a duration such as 100ms", s)
	}
	return Rate{Freq: freq, Per: per}, nil
}

// Pace implements Pacer: hit n is due at n/rate after the start.
func (p ConstantPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	rps := p.PerSecond()
	if rps <= 0 {
		return 0, true
	}
	due := time.Duration(float64(hits) / rps * float64(time.Second))
	if due <= elapsed {
		return 0, false
	}
	return due - elapsed, false
}

// Rate implements Pacer.
func (p ConstantPacer) Rate(time.Duration) float64 { return p.PerSecond() }

// StepPacer starts at Start and adds Step every Every, up to Max (zero: no
// ceiling), to find the rate at which a server starts to fall behind.
type StepPacer struct {
	Start, Step Rate
	Every       time.Duration
	Max         Rate
}

// Rate implements Pacer.
func (p StepPacer) Rate(elapsed time.Duration) float64 {
	r := p.Start.PerSecond()
	if p.Every > 0 {
		r += float64(elapsed/p.Every) * p.Step.PerSecond()
	}
	if m := p.Max.PerSecond(); m > 0 && r > m {
		r = m
	}
	return r
}

// hitsBefore is how many requests are due in [0, t): the integral of the
// stepped rate.
func (p StepPacer) hitsBefore(t time.Duration) float64 {
	if p.Every <= 0 {
		return p.Rate(0) * t.Seconds()
	}
	var sum float64
	for start := time.Duration(0); start < t; start += p.Every {
		end := min(start+p.Every, t)
		sum += p.Rate(start) * (end - start).Seconds()
	}
	return sum
}

// Pace implements Pacer: it waits until the integral of the rate reaches
// hits+1, found by bisection over the current step.
func (p StepPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if p.Rate(elapsed) <= 0 {
		return 0, true
	}
	if p.hitsBefore(elapsed) >= float64(hits) {
		return 0, false
	}
	lo, hi := elapsed, elapsed+time.Duration(float64(time.Second)/p.Rate(elapsed))+p.Every
	for hi-lo > time.Microsecond {
		mid := lo + (hi-lo)/2
		if p.hitsBefore(mid) >= float64(hits) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi - elapsed, false
}

// expectedHits is how many requests a pacer asks for over d.
func expectedHits(p Pacer, d time.Duration) float64 {
	if sp, ok := p.(StepPacer); ok {
		return sp.hitsBefore(d)
	}
	return p.Rate(0) * d.Seconds()
}

// roundRate rounds a rate for display.
func roundRate(r float64) float64 { return math.Round(r*10) / 10 }
