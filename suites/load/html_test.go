package load

import (
	"bytes"
	"encoding/xml"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestWriteHTMLIsSelfContained(t *testing.T) {
	t.Parallel()
	m := NewMetrics()
	for i := range 1000 {
		r := result{kind: KindValid, outcome: OutcomeCorrect, status: 200, sent: time.Duration(i) * time.Millisecond, done: time.Duration(i)*time.Millisecond + time.Duration(i%97+1)*time.Microsecond*10}
		m.record(&r)
	}
	rep := &Report{Version: ReportVersion, Target: "http://127.0.0.1:1", Flow: "simple", Scenario: "validate", Model: "closed",
		Parts: []Part{{Name: "validate <&>", Metrics: m}}}
	var buf bytes.Buffer
	if err := rep.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if strings.Contains(page, "<script") || regexp.MustCompile(`(src|href)="https?:`).MatchString(page) {
		t.Error("the page loads a script or an external resource")
	}
	svgs := regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(page, -1)
	if len(svgs) != 2 {
		t.Fatalf("page has %d inline SVGs, want 2 (latency, throughput)", len(svgs))
	}
	for _, svg := range svgs {
		if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
			t.Errorf("an SVG is not well-formed XML: %v", err)
		}
		if !strings.Contains(svg, "<polyline") {
			t.Error("an SVG has no data line")
		}
	}
	if strings.Contains(page, "validate <&>") || !strings.Contains(page, "validate &lt;&amp;&gt;") {
		t.Error("a part name is not escaped")
	}
	if !strings.Contains(page, "p99.9") || !strings.Contains(page, "requests:     1000") {
		t.Error("the page lacks the percentile axis or the summary")
	}
}

// busyMetrics is a run of 5.3 s at 15,000 answers a second with latencies
// from 40 µs to 40 ms: figures whose axis labels 'g' formatting would put
// in scientific notation.
func busyMetrics() *Metrics {
	m := NewMetrics()
	const total = 5300 * 15
	for i := range total {
		at := time.Duration(i) * 5300 * time.Millisecond / total
		r := result{kind: KindValid, outcome: OutcomeCorrect, status: 200, sent: at, intended: at, done: at + time.Duration(40+i%1000*40)*time.Microsecond}
		m.record(&r)
	}
	return m
}

// svgTexts returns the labels of an SVG.
func svgTexts(svg string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<text [^>]*>([^<]*)</text>`).FindAllStringSubmatch(svg, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestHTMLAxesAreReadable: every axis label is a plain number with its
// unit, and the time axis ends with the run, not at the next whole second
// or beyond.
func TestHTMLAxesAreReadable(t *testing.T) {
	t.Parallel()
	m := busyMetrics()
	rep := &Report{Version: ReportVersion, Target: "http://127.0.0.1:1", Flow: "simple", Scenario: "validate", Model: "open", Parts: []Part{{Name: "validate", Metrics: m}}}
	latency, throughput := rep.latencySVG(), rep.throughputSVG()
	unit := regexp.MustCompile(`^(0|[0-9]+(\.[0-9]+)?(µs|ms|s))$`)
	for _, l := range svgTexts(latency) {
		if strings.HasPrefix(l, "p") || l == "validate" {
			continue // the percentile axis and the legend
		}
		if !unit.MatchString(l) {
			t.Errorf("latency axis label %q: want a number with µs, ms or s", l)
		}
	}
	rate := regexp.MustCompile(`^[0-9]+(\.[0-9]+)?(k|M)?/s$`)
	seconds := regexp.MustCompile(`^[0-9]+(\.[0-9]+)?s$`)
	var times []float64
	for _, l := range svgTexts(throughput) {
		switch {
		case l == "validate":
		case rate.MatchString(l):
		case seconds.MatchString(l):
			v, err := strconv.ParseFloat(strings.TrimSuffix(l, "s"), 64)
			if err != nil {
				t.Fatal(err)
			}
			times = append(times, v)
		default:
			t.Errorf("throughput plot label %q: want a rate (/s, k/s) or a time (s)", l)
		}
	}
	if !slices.Contains(svgTexts(throughput), "15k/s") && !slices.Contains(svgTexts(throughput), "20k/s") {
		t.Errorf("the rate axis does not reach 15,000/s in k/s: %v", svgTexts(throughput))
	}
	end, err := strconv.ParseFloat(plain(m.Elapsed.Seconds()), 64)
	if err != nil {
		t.Fatal(err)
	}
	if end < 5.3 || end > 5.35 || len(times) < 3 || times[len(times)-1] != end || slices.Max(times) != end {
		t.Errorf("time axis labels %v: want several, ending at the run's end, %vs", times, end)
	}
}

// TestHTMLShowsVerdictAndThresholds: a judged report shows the verdict,
// each check with its limit and measure, and the failures; an unjudged
// one shows no verdict section.
func TestHTMLShowsVerdictAndThresholds(t *testing.T) {
	t.Parallel()
	page := func(rep *Report) string {
		t.Helper()
		var buf bytes.Buffer
		if err := rep.WriteHTML(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	newReport := func() *Report {
		return &Report{Version: ReportVersion, Target: "http://127.0.0.1:1", Flow: "simple", Scenario: "validate", Model: "open", Parts: []Part{{Name: "validate", Metrics: busyMetrics()}}}
	}

	if got := page(newReport()); strings.Contains(got, "Verdict") {
		t.Error("an unjudged report shows a verdict")
	}

	failing := newReport()
	var th Thresholds
	th.MaxP99 = time.Millisecond
	th.MinRPS = 100
	if v := failing.Judge(th); v.Result != ResultFail {
		t.Fatalf("p99 of ~40ms against --max-p99 1ms: %s", v.Result)
	}
	got := page(failing)
	for _, want := range []string{
		`Verdict: <span class="FAIL">FAIL</span>`,
		"validate: p99 latency",
		"<td>p99 latency (--max-p99)</td><td>validate</td><td>≤ 1ms</td>",
		"<td>throughput (--min-rps)</td><td>validate</td><td>≥ 100/s</td>",
		`<td class="PASS">met</td>`,
		`<td class="FAIL">MISSED</td>`,
		"<td>wrong verdicts</td><td>validate</td><td>0</td><td>0</td>",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the failing page lacks %q", want)
		}
	}

	passing := newReport()
	passing.Judge(Thresholds{})
	got = page(passing)
	if !strings.Contains(got, `Verdict: <span class="PASS">PASS</span>`) || !strings.Contains(got, "No thresholds were set") {
		t.Errorf("the passing page without thresholds lacks its verdict or the note:\n%s", got)
	}
}
