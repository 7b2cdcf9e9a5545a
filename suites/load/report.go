package load

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// ReportVersion is the version of the JSON report format.
const ReportVersion = 1

// Report is what `tollgate load --json` writes and `tollgate load report`
// reads and merges: the run's setup and the full metrics of each part.
type Report struct {
	Version     int       `json:"version"`
	Target      string    `json:"target"`
	Flow        string    `json:"flow"`
	Scenario    string    `json:"scenario"` // validate, issue or mixed
	Model       string    `json:"model"`    // open or closed
	Rate        string    `json:"rate,omitempty"`
	Concurrency int       `json:"concurrency,omitempty"`
	Mix         string    `json:"mix,omitempty"`
	Started     time.Time `json:"started"`
	Hosts       []string  `json:"hosts"` // where each merged run came from
	Notes       []string  `json:"notes,omitempty"`
	Parts       []Part    `json:"parts"`
	// Thresholds and Verdict are the pass marks the run was judged by and
	// the judgement (Judge); nil until it is judged. A merged report is
	// judged again by the thresholds of `tollgate load report`.
	Thresholds *Thresholds `json:"thresholds,omitempty"`
	Verdict    *RunVerdict `json:"verdict,omitempty"`
}

// Part is the metrics of one scenario part (validate or issue).
type Part struct {
	Name    string   `json:"name"`
	Start   float64  `json:"start_seconds,omitempty"` // when the part began, in seconds after the run's start
	Metrics *Metrics `json:"metrics"`
}

// Part returns the part with the given name, or nil.
func (r *Report) Part(name string) *Metrics {
	for _, p := range r.Parts {
		if p.Name == name {
			return p.Metrics
		}
	}
	return nil
}

// WrongVerdicts counts wrong verdicts over every part.
func (r *Report) WrongVerdicts() uint64 {
	var n uint64
	for _, p := range r.Parts {
		n += p.Metrics.WrongVerdicts()
	}
	return n
}

// metricsJSON is the JSON form of Metrics. Summary figures are written for
// people and scripts; only the counts and histograms are read back.
type metricsJSON struct {
	Requests    uint64                       `json:"requests"`
	Skipped     uint64                       `json:"skipped_retry_after"`
	ElapsedSec  float64                      `json:"elapsed_seconds"`
	AskedRPS    float64                      `json:"asked_rps"`
	AchievedRPS float64                      `json:"achieved_rps"`
	LatencyMs   map[string]float64           `json:"latency_ms"`
	ErrorRate   float64                      `json:"error_rate"`
	Errors      map[string]uint64            `json:"errors"`
	Wrong       uint64                       `json:"wrong_verdicts"`
	Outcomes    map[string]map[string]uint64 `json:"outcomes"`
	Statuses    map[string]uint64            `json:"statuses"`
	Timeline    []Second                     `json:"timeline"`
	Latency     histogramJSON                `json:"latency_histogram"`
	Service     histogramJSON                `json:"service_time_histogram"`
}

// histogramJSON is a histogram's geometry and every non-empty bucket as
// [lowest value in the bucket, count]; read back, it is the same histogram.
type histogramJSON struct {
	Unit    string     `json:"unit"`
	Lowest  int64      `json:"lowest"`
	Highest int64      `json:"highest"`
	SigFigs int64      `json:"significant_figures"`
	Buckets [][2]int64 `json:"buckets"`
}

func toHistogramJSON(h *hdrhistogram.Histogram) histogramJSON {
	out := histogramJSON{Unit: "us", Lowest: h.LowestTrackableValue(), Highest: h.HighestTrackableValue(), SigFigs: h.SignificantFigures(), Buckets: [][2]int64{}}
	for _, b := range h.Distribution() {
		if b.Count > 0 {
			out.Buckets = append(out.Buckets, [2]int64{b.From, b.Count})
		}
	}
	return out
}

func (j histogramJSON) histogram() (*hdrhistogram.Histogram, error) {
	if j.Unit != "us" || j.Lowest != histLowest || j.Highest != histHighest || j.SigFigs != histSigFigs {
		return nil, fmt.Errorf("histogram geometry %s %d..%d/%d differs from this version's us %d..%d/%d", j.Unit, j.Lowest, j.Highest, j.SigFigs, histLowest, histHighest, histSigFigs)
	}
	h := newHistogram()
	for _, b := range j.Buckets {
		if err := h.RecordValues(b[0], b[1]); err != nil || b[1] < 0 {
			return nil, fmt.Errorf("histogram bucket %v: out of range", b)
		}
	}
	return h, nil
}

// MarshalJSON writes the metrics with their summary figures.
func (m *Metrics) MarshalJSON() ([]byte, error) {
	j := metricsJSON{
		Requests: m.Requests, Skipped: m.Skipped, ElapsedSec: m.Elapsed.Seconds(),
		AskedRPS: roundRate(m.AskedRPS), AchievedRPS: roundRate(m.RPS()),
		LatencyMs: map[string]float64{}, ErrorRate: m.ErrorRate(), Errors: m.ErrorsByKind(), Wrong: m.WrongVerdicts(),
		Outcomes: map[string]map[string]uint64{}, Statuses: map[string]uint64{}, Timeline: m.Timeline,
		Latency: toHistogramJSON(m.Latency), Service: toHistogramJSON(m.Service),
	}
	for _, q := range reportedQuantiles() {
		j.LatencyMs["p"+strconv.FormatFloat(q, 'f', -1, 64)] = ms(m.Quantile(q))
	}
	j.LatencyMs["max"] = ms(m.Max())
	for k := range m.Outcomes {
		for o, n := range m.Outcomes[k] {
			if n > 0 {
				if j.Outcomes[Kind(k).String()] == nil {
					j.Outcomes[Kind(k).String()] = map[string]uint64{}
				}
				j.Outcomes[Kind(k).String()][Outcome(o).String()] = n
			}
		}
	}
	for s, n := range m.Statuses {
		j.Statuses[strconv.Itoa(s)] = n
	}
	if j.Timeline == nil {
		j.Timeline = []Second{}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads the counts and histograms back.
func (m *Metrics) UnmarshalJSON(data []byte) error {
	var j metricsJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	var err error
	if m.Latency, err = j.Latency.histogram(); err != nil {
		return fmt.Errorf("latency: %w", err)
	}
	if m.Service, err = j.Service.histogram(); err != nil {
		return fmt.Errorf("service time: %w", err)
	}
	m.Requests, m.Skipped, m.Timeline, m.AskedRPS = j.Requests, j.Skipped, j.Timeline, j.AskedRPS
	m.Elapsed = time.Duration(j.ElapsedSec * float64(time.Second))
	m.Statuses = map[int]uint64{}
	for s, n := range j.Statuses {
		code, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("status %q is not a number", s)
		}
		m.Statuses[code] = n
	}
	for kname, outcomes := range j.Outcomes {
		k, ok := ParseKind(kname)
		if !ok {
			return fmt.Errorf("unknown request kind %q", kname)
		}
		for oname, n := range outcomes {
			o, ok := parseOutcome(oname)
			if !ok {
				return fmt.Errorf("unknown outcome %q", oname)
			}
			m.Outcomes[k][o] = n
		}
	}
	if m.Latency.TotalCount() != int64(m.Requests) {
		return fmt.Errorf("the latency histogram holds %d values for %d requests", m.Latency.TotalCount(), m.Requests)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// WriteFile writes the report as indented JSON.
func (r *Report) WriteFile(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("load: report: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("load: report: %w", err)
	}
	return nil
}

// ReadReport reads a report written by WriteFile.
func ReadReport(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load: report: %w", err)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("load: report %s: %w (write it with tollgate load --json)", path, err)
	}
	if r.Version != ReportVersion {
		return nil, fmt.Errorf("load: report %s has version %d; this tollgate reads version %d", path, r.Version, ReportVersion)
	}
	for _, p := range r.Parts {
		if p.Metrics == nil {
			return nil, fmt.Errorf("load: report %s: part %q has no metrics", path, p.Name)
		}
	}
	return &r, nil
}

// MergeReports merges runs of the same scenario against the same target
// (e.g. from several machines at once) into one report whose counts are
// the sums (see Metrics.Merge).
func MergeReports(reports ...*Report) (*Report, error) {
	if len(reports) == 0 {
		return nil, errors.New("load: merge: no report")
	}
	first := reports[0]
	out := &Report{Version: ReportVersion, Target: first.Target, Flow: first.Flow, Scenario: first.Scenario, Model: first.Model,
		Rate: first.Rate, Concurrency: first.Concurrency, Mix: first.Mix, Started: first.Started}
	for i, r := range reports {
		if r.Flow != first.Flow || r.Scenario != first.Scenario || r.Target != first.Target || r.Model != first.Model {
			return nil, fmt.Errorf("load: merge: report %d is %s/%s (%s model) against %s, report 1 is %s/%s (%s model) against %s: merge runs of the same scenario and model only",
				i+1, r.Flow, r.Scenario, r.Model, r.Target, first.Flow, first.Scenario, first.Model, first.Target)
		}
		if r.Started.Before(out.Started) {
			out.Started = r.Started
		}
		out.Hosts = append(out.Hosts, r.Hosts...)
		out.Notes = append(out.Notes, r.Notes...)
		if r.Concurrency != first.Concurrency || r.Rate != first.Rate {
			out.Rate, out.Concurrency = "(per run)", 0
		}
		for _, p := range r.Parts {
			m := out.Part(p.Name)
			if m == nil {
				m = NewMetrics()
				out.Parts = append(out.Parts, Part{Name: p.Name, Start: p.Start, Metrics: m})
			}
			m.Merge(p.Metrics)
		}
	}
	return out, nil
}
