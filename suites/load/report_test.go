package load

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// runReport makes a small real run against a loopback server.
func runReport(t *testing.T, url string, requests uint64) *Report {
	t.Helper()
	tg, err := newTarget(KindInvalid, http.MethodGet, url, http.Header{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := NewAttacker(Options{MaxRequests: requests, Concurrency: 3}).Attack(context.Background(), single{tg}, nil)
	return &Report{Version: ReportVersion, Target: url, Flow: "simple", Scenario: "validate", Model: "closed", Concurrency: 3,
		Hosts: []string{"host"}, Parts: []Part{{Name: "validate", Metrics: m}}}
}

func TestMergedReportCountsAreSums(t *testing.T) {
	t.Parallel()
	var count atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		switch n := count.Add(1); {
		case n%7 == 0:
			w.WriteHeader(http.StatusOK) // an accepted bad token
		case n%5 == 0:
			w.WriteHeader(http.StatusBadGateway)
		default:
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	a, b := runReport(t, srv.URL, 120), runReport(t, srv.URL, 80)
	dir := t.TempDir()
	var read []*Report
	for i, r := range []*Report{a, b} {
		path := filepath.Join(dir, []string{"a.json", "b.json"}[i])
		if err := r.WriteFile(path); err != nil {
			t.Fatal(err)
		}
		back, err := ReadReport(path)
		if err != nil {
			t.Fatal(err)
		}
		if !back.Part("validate").Latency.Equals(r.Part("validate").Latency) {
			t.Error("the latency histogram did not survive the JSON round trip")
		}
		read = append(read, back)
	}
	merged, err := MergeReports(read...)
	if err != nil {
		t.Fatal(err)
	}
	ma, mb, mm := a.Part("validate"), b.Part("validate"), merged.Part("validate")
	if mm.Requests != 200 || mm.Requests != ma.Requests+mb.Requests {
		t.Errorf("merged requests = %d, want %d", mm.Requests, ma.Requests+mb.Requests)
	}
	if got, want := mm.Latency.TotalCount(), ma.Latency.TotalCount()+mb.Latency.TotalCount(); got != want {
		t.Errorf("merged histogram count = %d, want %d", got, want)
	}
	if mm.Latency.Max() != max(ma.Latency.Max(), mb.Latency.Max()) {
		t.Errorf("merged max = %d, want the larger of %d and %d", mm.Latency.Max(), ma.Latency.Max(), mb.Latency.Max())
	}
	for k := range mm.Outcomes {
		for o := range mm.Outcomes[k] {
			if got, want := mm.Outcomes[k][o], ma.Outcomes[k][o]+mb.Outcomes[k][o]; got != want {
				t.Errorf("%s/%s = %d, want %d", Kind(k), Outcome(o), got, want)
			}
		}
	}
	for s, c := range mm.Statuses {
		if c != ma.Statuses[s]+mb.Statuses[s] {
			t.Errorf("status %d = %d, want %d", s, c, ma.Statuses[s]+mb.Statuses[s])
		}
	}
	if mm.WrongVerdicts() != ma.WrongVerdicts()+mb.WrongVerdicts() || mm.WrongVerdicts() == 0 {
		t.Errorf("merged wrong verdicts = %d, want %d (> 0)", mm.WrongVerdicts(), ma.WrongVerdicts()+mb.WrongVerdicts())
	}
	if len(merged.Hosts) != 2 {
		t.Errorf("hosts = %q, want both runs", merged.Hosts)
	}
	var out bytes.Buffer
	merged.Render(&out)
	for _, want := range []string{"2 runs merged", "WRONG VERDICTS", "SECURITY FAILURE", "requests:     200"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	if i, j := strings.Index(out.String(), "WRONG VERDICTS"), strings.Index(out.String(), "latency:"); i > j {
		t.Errorf("wrong verdicts are not shown before the figures:\n%s", out.String())
	}
}

func TestMergeRefusesDifferentScenarios(t *testing.T) {
	t.Parallel()
	a := &Report{Version: ReportVersion, Flow: "simple", Scenario: "validate", Model: "open"}
	for _, b := range []*Report{
		{Version: ReportVersion, Flow: "simple", Scenario: "issue", Model: "open"},
		{Version: ReportVersion, Flow: "oauth2", Scenario: "validate", Model: "open"},
		{Version: ReportVersion, Flow: "simple", Scenario: "validate", Model: "closed"},
	} {
		if _, err := MergeReports(a, b); err == nil {
			t.Errorf("merged %s/%s/%s into %s/%s/%s", b.Flow, b.Scenario, b.Model, a.Flow, a.Scenario, a.Model)
		}
	}
}

func TestThresholds(t *testing.T) {
	t.Parallel()
	m := NewMetrics()
	for i := range 100 {
		r := result{kind: KindValid, outcome: OutcomeCorrect, status: 200, done: time.Duration(i+1) * time.Millisecond}
		if i == 0 {
			r.outcome, r.status = OutcomeServerError, 500
		}
		m.record(&r)
	}
	m.Elapsed = time.Second // 100/s
	tests := []struct {
		name     string
		th       Thresholds
		rate     string
		wantFail int
	}{
		{"no threshold passes", Thresholds{}, "", 0},
		{"p99 above the ceiling fails", Thresholds{MaxP99: 50 * time.Millisecond}, "", 1},
		{"p99 below the ceiling passes", Thresholds{MaxP99: time.Second}, "", 0},
		{"too low a rate fails", Thresholds{MinRPS: 500}, "", 1},
		{"one error in 100 is above 0.1%", Thresholds{}, "0.1%", 1},
		{"one error in 100 is within 2%", Thresholds{}, "2%", 0},
		{"0% allows no error", Thresholds{}, "0%", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			th := tt.th
			if tt.rate != "" {
				if err := th.SetMaxErrorRate(tt.rate); err != nil {
					t.Fatal(err)
				}
			}
			if got := th.Check(m); len(got) != tt.wantFail {
				t.Errorf("Check = %q, want %d failure(s)", got, tt.wantFail)
			}
		})
	}
}

// TestThresholdLimitsInPlainNumbers: a threshold is reported as it was
// typed, never in %g's exponent form (1e+06, 1e-05).
func TestThresholdLimitsInPlainNumbers(t *testing.T) {
	t.Parallel()
	m := NewMetrics()
	r := result{kind: KindValid, outcome: OutcomeServerError, status: 500, done: time.Millisecond}
	m.record(&r)
	m.Elapsed = time.Second
	th := Thresholds{MinRPS: 1e6}
	if err := th.SetMaxErrorRate("0.00001%"); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, c := range th.evaluate(m) {
		lines = append(lines, c.Limit, c.miss)
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{"≥ 1000000/s", "--min-rps 1000000", "≤ 0.00001%", "--max-error-rate 0.00001%"} {
		if !strings.Contains(got, want) {
			t.Errorf("limits and misses lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "e+") || strings.Contains(got, "e-0") {
		t.Errorf("a limit in exponent form:\n%s", got)
	}
}

func TestParseRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		wantRPS float64
		wantErr bool
	}{
		{"2000/s", 2000, false},
		{"2000", 2000, false},
		{"30/min", 0.5, false},
		{"5/100ms", 50, false},
		{"0/s", 0, true},
		{"fast", 0, true},
		{"10/fortnight", 0, true},
	}
	for _, tt := range tests {
		r, err := ParseRate(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseRate(%q) error = %v", tt.in, err)
			continue
		}
		if !tt.wantErr && r.PerSecond() != tt.wantRPS {
			t.Errorf("ParseRate(%q) = %g/s, want %g/s", tt.in, r.PerSecond(), tt.wantRPS)
		}
	}
}

// TestReportJSONCarriesThresholdsAndVerdict: the JSON report records the
// thresholds and the verdict, and reads them back.
func TestReportJSONCarriesThresholdsAndVerdict(t *testing.T) {
	t.Parallel()
	m := NewMetrics()
	for i := range 100 {
		at := time.Duration(i) * 10 * time.Millisecond
		r := result{kind: KindValid, outcome: OutcomeCorrect, status: 200, intended: at, sent: at, done: at + time.Duration(i%5+1)*time.Millisecond}
		m.record(&r)
	}
	rep := &Report{Version: ReportVersion, Target: "http://127.0.0.1:1", Flow: "simple", Scenario: "validate", Model: "closed", Parts: []Part{{Name: "validate", Metrics: m}}}
	th := Thresholds{MaxP99: 20 * time.Millisecond}
	if err := th.SetMaxErrorRate("0%"); err != nil {
		t.Fatal(err)
	}
	v := rep.Judge(th)
	if v.Result != ResultPass || len(v.Checks) != 3 {
		t.Fatalf("verdict %+v: want PASS with 3 checks (wrong verdicts, p99, error rate)", v)
	}
	path := filepath.Join(t.TempDir(), "run.json")
	if err := rep.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"thresholds": {`, `"max_p99": "20ms"`, `"max_error_rate": 0`, `"verdict": {`, `"result": "PASS"`, `"flag": "--max-p99"`, `"limit": "≤ 20ms"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("the JSON report lacks %s:\n%s", want, raw)
		}
	}
	back, err := ReadReport(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Thresholds == nil || back.Thresholds.MaxP99 != th.MaxP99 || back.Thresholds.IsZero() || back.Verdict == nil || back.Verdict.Result != ResultPass {
		t.Errorf("read back: thresholds %+v, verdict %+v", back.Thresholds, back.Verdict)
	}
	if back.Thresholds.Check(m) != nil {
		t.Errorf("the read-back thresholds judge differently: %v", back.Thresholds.Check(m))
	}
}
