package load

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Render writes the human summary: wrong verdicts first (an accepted bad
// token above all), then throughput, percentiles, errors and statuses.
func (r *Report) Render(w io.Writer) {
	fmt.Fprintf(w, "tollgate load: %s, flow %s, scenario %s, %s model", r.Target, r.Flow, r.Scenario, r.Model)
	if r.Rate != "" {
		fmt.Fprintf(w, ", rate %s", r.Rate)
	}
	if r.Concurrency > 0 {
		fmt.Fprintf(w, ", concurrency %d", r.Concurrency)
	}
	if len(r.Hosts) > 1 {
		fmt.Fprintf(w, ", %d runs merged", len(r.Hosts))
	}
	fmt.Fprintln(w)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	for _, p := range r.Parts {
		p.render(w)
	}
	if alone, with := r.Part("validate-alone"), r.Part("validate"); alone != nil && with != nil && r.Part("issue") != nil && alone.Requests > 0 && with.Requests > 0 {
		a, b := alone.Quantile(99), with.Quantile(99)
		fmt.Fprintf(w, "\nissuance load: validation p99 %s alone, %s with issuance running (×%.2f); p50 %s → %s\n",
			fmtDur(a), fmtDur(b), float64(b)/float64(max(a, time.Microsecond)), fmtDur(alone.Quantile(50)), fmtDur(with.Quantile(50)))
	}
}

func (p Part) render(w io.Writer) {
	m := p.Metrics
	fmt.Fprintf(w, "\n[%s]\n", p.Name)
	if lines := m.wrongLines(); len(lines) > 0 {
		fmt.Fprintf(w, "  WRONG VERDICTS: %d\n", m.WrongVerdicts())
		for _, l := range lines {
			fmt.Fprintf(w, "    %s\n", l)
		}
	} else {
		fmt.Fprintf(w, "  verdicts:     all %d answers as expected\n", m.Requests-m.Errors()-m.Count(func(_ Kind, o Outcome) bool { return o == OutcomeRateLimited }))
	}
	fmt.Fprintf(w, "  requests:     %d in %.2fs", m.Requests, m.Elapsed.Seconds())
	if m.Skipped > 0 {
		fmt.Fprintf(w, " (%d not sent while a Retry-After was in force)", m.Skipped)
	}
	fmt.Fprintln(w)
	if m.AskedRPS > 0 {
		fmt.Fprintf(w, "  throughput:   %.1f/s achieved of %.1f/s asked (%.1f%%)\n", m.RPS(), m.AskedRPS, 100*m.RPS()/m.AskedRPS)
	} else {
		fmt.Fprintf(w, "  throughput:   %.1f/s\n", m.RPS())
	}
	var qs []string
	for _, q := range reportedQuantiles() {
		qs = append(qs, fmt.Sprintf("p%s %s", strconv.FormatFloat(q, 'f', -1, 64), fmtDur(m.Quantile(q))))
	}
	qs = append(qs, "max "+fmtDur(m.Max()))
	fmt.Fprintf(w, "  latency:      %s\n", strings.Join(qs, "  "))
	fmt.Fprintf(w, "  service time: p99 %s (from the actual send; latency counts from the intended send)\n", fmtDur(time.Duration(m.Service.ValueAtQuantile(99))*time.Microsecond))
	ek := m.ErrorsByKind()
	fmt.Fprintf(w, "  errors:       %d (%.3f%%): status %d, timeout %d, connection %d\n", m.Errors(), 100*m.ErrorRate(), ek["status"], ek["timeout"], ek["connection"])
	if n := m.Count(func(k Kind, o Outcome) bool { return k != KindValid && k != KindIssue && o == OutcomeServerError }); n > 0 {
		fmt.Fprintf(w, "                %d of them a 5xx on a bad token (which should get 401)\n", n)
	}
	if n := m.Count(func(_ Kind, o Outcome) bool { return o == OutcomeRateLimited }); n > 0 {
		fmt.Fprintf(w, "  rate limited: %d (429, not errors)\n", n)
	}
	var ss []string
	for _, s := range m.statusKeys() {
		ss = append(ss, fmt.Sprintf("%d×%d", s, m.Statuses[s]))
	}
	fmt.Fprintf(w, "  statuses:     %s\n", strings.Join(ss, "  "))
	var ks []string
	for k := Kind(0); k < numKinds; k++ {
		var n uint64
		for _, c := range m.Outcomes[k] {
			n += c
		}
		if n > 0 {
			ks = append(ks, fmt.Sprintf("%s %d", k, n))
		}
	}
	fmt.Fprintf(w, "  by kind:      %s\n", strings.Join(ks, ", "))
}

// fmtDur writes a latency with three significant figures.
func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.3gs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.3gms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%dµs", d.Microseconds())
	}
}
