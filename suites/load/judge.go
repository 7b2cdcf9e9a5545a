package load

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Run results (RunVerdict.Result).
const (
	ResultPass = "PASS"
	ResultFail = "FAIL"
)

// RunVerdict is the judgement of a run: PASS when no answer had a wrong
// verdict and every threshold held, FAIL otherwise. The JSON and HTML
// reports carry it, with each check it made.
type RunVerdict struct {
	Result   string           `json:"result"`             // PASS or FAIL
	Checks   []ThresholdCheck `json:"checks"`             // every pass mark, met or not
	Failures []string         `json:"failures,omitempty"` // what failed, as tollgate load prints it
}

// ThresholdCheck is one pass mark judged against one part of a run.
type ThresholdCheck struct {
	Name     string `json:"name"`           // wrong verdicts, p99 latency, throughput, error rate
	Flag     string `json:"flag,omitempty"` // the option that set it: --max-p99, ...
	Part     string `json:"part"`
	Limit    string `json:"limit"` // "≤ 20ms", "≥ 500/s", "≤ 0.1%", "0"
	Measured string `json:"measured"`
	Pass     bool   `json:"pass"`
}

// Judge decides the run against th: every answer's verdict (in every
// part), and th on each part it applies to (in a mixed run the validation
// parts; the issue part only in an issue run). It records th and the
// verdict in r, for the JSON and HTML reports, and returns the verdict.
func (r *Report) Judge(th Thresholds) RunVerdict {
	v := RunVerdict{Result: ResultPass, Checks: []ThresholdCheck{}}
	for _, p := range r.Parts {
		n := p.Metrics.WrongVerdicts()
		v.Checks = append(v.Checks, ThresholdCheck{Name: "wrong verdicts", Part: p.Name, Limit: "0", Measured: strconv.FormatUint(n, 10), Pass: n == 0})
	}
	if n := r.WrongVerdicts(); n > 0 {
		v.Failures = append(v.Failures, fmt.Sprintf("%d wrong verdict(s)", n))
	}
	for _, p := range r.Parts {
		if p.Name == "issue" && r.Scenario != "issue" {
			continue // the thresholds are about validation in a mixed run
		}
		for _, c := range th.evaluate(p.Metrics) {
			c.Part = p.Name
			v.Checks = append(v.Checks, c.ThresholdCheck)
			if !c.Pass {
				v.Failures = append(v.Failures, p.Name+": "+c.miss)
			}
		}
	}
	if len(v.Failures) > 0 {
		v.Result = ResultFail
	}
	r.Thresholds, r.Verdict = &th, &v
	return v
}

// thresholdCheck is a ThresholdCheck with the line that reports its miss.
type thresholdCheck struct {
	ThresholdCheck
	miss string
}

// evaluate judges m against each threshold that is set.
func (t Thresholds) evaluate(m *Metrics) []thresholdCheck {
	var out []thresholdCheck
	if t.MaxP99 > 0 {
		p99 := m.Quantile(99)
		out = append(out, thresholdCheck{
			ThresholdCheck: ThresholdCheck{Name: "p99 latency", Flag: "--max-p99", Limit: "≤ " + t.MaxP99.String(), Measured: fmtDur(p99), Pass: p99 <= t.MaxP99},
			miss:           fmt.Sprintf("p99 latency %s is above --max-p99 %s", fmtDur(p99), t.MaxP99),
		})
	}
	if t.MinRPS > 0 {
		out = append(out, thresholdCheck{
			ThresholdCheck: ThresholdCheck{Name: "throughput", Flag: "--min-rps", Limit: "≥ " + plainNumber(t.MinRPS) + "/s", Measured: fmt.Sprintf("%.1f/s", m.RPS()), Pass: m.RPS() >= t.MinRPS},
			miss:           fmt.Sprintf("throughput %.1f/s is below --min-rps %s", m.RPS(), plainNumber(t.MinRPS)),
		})
	}
	if t.hasErrorRate || t.MaxErrorRate > 0 {
		out = append(out, thresholdCheck{
			ThresholdCheck: ThresholdCheck{Name: "error rate", Flag: "--max-error-rate", Limit: "≤ " + plainNumber(100*t.MaxErrorRate) + "%", Measured: fmt.Sprintf("%.3f%%", 100*m.ErrorRate()), Pass: m.ErrorRate() <= t.MaxErrorRate},
			miss:           fmt.Sprintf("error rate %.3f%% is above --max-error-rate %s%%", 100*m.ErrorRate(), plainNumber(100*t.MaxErrorRate)),
		})
	}
	return out
}

// plainNumber writes a threshold as the user would type it: 1000000, not
// %g's 1e+06; 0.00001, not 1e-05.
func plainNumber(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// Check returns one line per threshold m misses.
func (t Thresholds) Check(m *Metrics) []string {
	var out []string
	for _, c := range t.evaluate(m) {
		if !c.Pass {
			out = append(out, c.miss)
		}
	}
	return out
}

// IsZero reports whether no threshold is set.
func (t Thresholds) IsZero() bool {
	return t.MaxP99 == 0 && t.MinRPS == 0 && t.MaxErrorRate == 0 && !t.hasErrorRate
}

// thresholdsJSON is the JSON form of Thresholds: only the thresholds set.
type thresholdsJSON struct {
	MaxP99       string   `json:"max_p99,omitempty"`        // a Go duration: "20ms"
	MinRPS       float64  `json:"min_rps,omitempty"`        // requests per second
	MaxErrorRate *float64 `json:"max_error_rate,omitempty"` // a fraction: 0.001 for 0.1 %
}

// MarshalJSON writes the thresholds that are set.
func (t Thresholds) MarshalJSON() ([]byte, error) {
	j := thresholdsJSON{MinRPS: t.MinRPS}
	if t.MaxP99 > 0 {
		j.MaxP99 = t.MaxP99.String()
	}
	if t.hasErrorRate || t.MaxErrorRate > 0 {
		rate := t.MaxErrorRate
		j.MaxErrorRate = &rate
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (t *Thresholds) UnmarshalJSON(data []byte) error {
	var j thresholdsJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*t = Thresholds{MinRPS: j.MinRPS}
	if j.MaxP99 != "" {
		d, err := time.ParseDuration(j.MaxP99)
		if err != nil {
			return fmt.Errorf("thresholds: max_p99: %w", err)
		}
		t.MaxP99 = d
	}
	if j.MaxErrorRate != nil {
		t.MaxErrorRate, t.hasErrorRate = *j.MaxErrorRate, true
	}
	return nil
}
