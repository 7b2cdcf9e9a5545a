package load

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Thresholds are the user's pass marks for a run. Zero fields are not
// checked.
type Thresholds struct {
	MaxP99       time.Duration // p99 latency must not exceed it
	MinRPS       float64       // the achieved rate must reach it
	MaxErrorRate float64       // errors over requests (a fraction, 0.001 for 0.1 %) must not exceed it
	hasErrorRate bool
}

// SetMaxErrorRate sets MaxErrorRate from "0.1%" or "0.001"; "0%" means no
// error at all is allowed.
func (t *Thresholds) SetMaxErrorRate(s string) error {
	v, err := ParsePercent(s)
	if err != nil {
		return err
	}
	t.MaxErrorRate, t.hasErrorRate = v, true
	return nil
}

// ParsePercent reads "0.1%" as 0.001, or a plain fraction such as 0.001.
func ParsePercent(s string) (float64, error) {
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("load: error rate %q: write a percentage such as 0.1%%", s)
	}
	if pct {
		v /= 100
	}
	if v > 1 {
		return 0, fmt.Errorf("load: error rate %q is above 100%%", s)
	}
	return v, nil
}
