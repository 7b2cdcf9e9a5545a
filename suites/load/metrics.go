package load

import (
	"fmt"
	"sort"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram geometry shared by every run, so that runs merge: microseconds
// from 1 µs to 2 minutes with 3 significant digits (0.1 % resolution).
const (
	histLowest  = 1
	histHighest = int64(2 * time.Minute / time.Microsecond)
	histSigFigs = 3
)

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, histHighest, histSigFigs)
}

// Second is one second of a run, counted by when responses arrived.
type Second struct {
	Requests uint64 `json:"requests"`
	Errors   uint64 `json:"errors"`
	Wrong    uint64 `json:"wrong"`
}

// Metrics are the figures of one run (or of merged runs) of one scenario
// part. A Metrics is not safe for concurrent use; the Attacker records
// into shards and merges them.
type Metrics struct {
	// Latency is measured from the intended send time in the open model
	// (corrected for coordinated omission) and from the send time in the
	// closed model, in microseconds.
	Latency *hdrhistogram.Histogram
	// Service is measured from the moment the request was actually sent,
	// in microseconds: what a sender that ignores coordinated omission sees.
	Service *hdrhistogram.Histogram

	Requests uint64                        // requests answered or failed
	Skipped  uint64                        // requests not sent while a Retry-After was in force
	Outcomes [numKinds][numOutcomes]uint64 // by request kind and outcome
	Statuses map[int]uint64                // by HTTP status; transport failures are not here
	Timeline []Second                      // by second since the start
	Elapsed  time.Duration                 // from the start to the last answer
	AskedRPS float64                       // the rate asked for on average; 0 in the closed model
}

// NewMetrics returns empty Metrics.
func NewMetrics() *Metrics {
	return &Metrics{Latency: newHistogram(), Service: newHistogram(), Statuses: map[int]uint64{}}
}

// record adds one request.
func (m *Metrics) record(r *result) {
	m.Requests++
	m.Outcomes[r.kind][r.outcome]++
	if r.status != 0 {
		m.Statuses[r.status]++
	}
	// A value beyond the histogram's range is clamped, never dropped.
	_ = m.Latency.RecordValue(clampMicros(r.done - r.intended))
	_ = m.Service.RecordValue(clampMicros(r.done - r.sent))
	sec := int(r.done / time.Second)
	for len(m.Timeline) <= sec {
		m.Timeline = append(m.Timeline, Second{})
	}
	m.Timeline[sec].Requests++
	if r.outcome.IsError() {
		m.Timeline[sec].Errors++
	}
	if r.outcome.IsWrongVerdict() {
		m.Timeline[sec].Wrong++
	}
	if r.done > m.Elapsed {
		m.Elapsed = r.done
	}
}

func clampMicros(d time.Duration) int64 {
	us := int64(d / time.Microsecond)
	return max(histLowest, min(us, histHighest))
}

// Merge adds other's figures to m. Runs are taken to have run at the same
// time (several machines against one target): counts and histograms add up,
// timelines add second by second, the asked rates add up, and the elapsed
// time is the longest.
func (m *Metrics) Merge(other *Metrics) {
	m.Latency.Merge(other.Latency)
	m.Service.Merge(other.Service)
	m.Requests += other.Requests
	m.Skipped += other.Skipped
	for k := range other.Outcomes {
		for o := range other.Outcomes[k] {
			m.Outcomes[k][o] += other.Outcomes[k][o]
		}
	}
	for s, n := range other.Statuses {
		m.Statuses[s] += n
	}
	for i, s := range other.Timeline {
		if i >= len(m.Timeline) {
			m.Timeline = append(m.Timeline, Second{})
		}
		m.Timeline[i].Requests += s.Requests
		m.Timeline[i].Errors += s.Errors
		m.Timeline[i].Wrong += s.Wrong
	}
	m.Elapsed = max(m.Elapsed, other.Elapsed)
	m.AskedRPS += other.AskedRPS
}

// Count returns how many requests had an outcome matching keep.
func (m *Metrics) Count(keep func(Kind, Outcome) bool) uint64 {
	var n uint64
	for k := range m.Outcomes {
		for o, c := range m.Outcomes[k] {
			if keep(Kind(k), Outcome(o)) {
				n += c
			}
		}
	}
	return n
}

// Errors counts requests that failed by status (5xx), timeout or connection.
func (m *Metrics) Errors() uint64 {
	return m.Count(func(_ Kind, o Outcome) bool { return o.IsError() })
}

// WrongVerdicts counts requests whose answer was not the one they should get.
func (m *Metrics) WrongVerdicts() uint64 {
	return m.Count(func(_ Kind, o Outcome) bool { return o.IsWrongVerdict() })
}

// Accepted counts bad tokens that were accepted: security failures.
func (m *Metrics) Accepted() uint64 {
	return m.Count(func(_ Kind, o Outcome) bool { return o == OutcomeAccepted })
}

// ErrorRate is Errors over Requests, 0 when nothing was sent.
func (m *Metrics) ErrorRate() float64 {
	if m.Requests == 0 {
		return 0
	}
	return float64(m.Errors()) / float64(m.Requests)
}

// RPS is the rate achieved: requests per second of elapsed time.
func (m *Metrics) RPS() float64 {
	if m.Elapsed <= 0 {
		return 0
	}
	return float64(m.Requests) / m.Elapsed.Seconds()
}

// Quantile returns the latency at quantile q (in percent, e.g. 99.9).
func (m *Metrics) Quantile(q float64) time.Duration {
	return time.Duration(m.Latency.ValueAtQuantile(q)) * time.Microsecond
}

// Max returns the largest latency recorded.
func (m *Metrics) Max() time.Duration { return time.Duration(m.Latency.Max()) * time.Microsecond }

// reportedQuantiles are the percentiles the summary reports.
func reportedQuantiles() []float64 { return []float64{50, 90, 99, 99.9} }

// ErrorsByKind counts errors by their kind: status, timeout, connection.
func (m *Metrics) ErrorsByKind() map[string]uint64 {
	out := map[string]uint64{}
	for name, o := range map[string]Outcome{"status": OutcomeServerError, "timeout": OutcomeTimeout, "connection": OutcomeConnection} {
		out[name] = m.Count(func(_ Kind, got Outcome) bool { return got == o })
	}
	return out
}

// wrongLines describes each wrong verdict group, security failures first.
func (m *Metrics) wrongLines() []string {
	var lines []string
	for _, o := range []Outcome{OutcomeAccepted, OutcomeRejected, OutcomeWrong} {
		for k := Kind(0); k < numKinds; k++ {
			n := m.Outcomes[k][o]
			if n == 0 {
				continue
			}
			lines = append(lines, fmt.Sprintf("%d %s %s", n, k, wrongText(o)))
		}
	}
	return lines
}

// wrongText says what a wrong verdict of outcome o means.
func wrongText(o Outcome) string {
	switch o {
	case OutcomeAccepted:
		return "requests were ACCEPTED (2xx): a bad token must be refused with 401 (SECURITY FAILURE)"
	case OutcomeRejected:
		return "requests were refused (4xx) although their token or credentials were good"
	default:
		return "requests were refused the wrong way (want 401 with a Bearer challenge; invalid_token for a bad token, no error code for a missing one)"
	}
}

// statusKeys returns the statuses seen, in order.
func (m *Metrics) statusKeys() []int {
	keys := make([]int, 0, len(m.Statuses))
	for s := range m.Statuses {
		keys = append(keys, s)
	}
	sort.Ints(keys)
	return keys
}
