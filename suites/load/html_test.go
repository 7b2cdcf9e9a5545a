package load

import (
	"bytes"
	"encoding/xml"
	"regexp"
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
