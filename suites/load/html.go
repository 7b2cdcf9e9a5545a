package load

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// plot geometry, in SVG user units.
const (
	plotW, plotH           = 720.0, 320.0
	padL, padR, padT, padB = 64.0, 16.0, 16.0, 40.0
)

// plotColor is the i-th part's color; red is kept for errors.
func plotColor(i int) string {
	colors := [...]string{"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"}
	return colors[i%len(colors)]
}

// percentilePoints returns where the latency curve is sampled: evenly on the
// 1/(1-q) log scale HdrHistogram plots use, so the tail gets its room.
func percentilePoints() []float64 {
	return []float64{0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.995, 99.999, 100}
}

// WriteHTMLFile writes the report as a self-contained HTML page.
func (r *Report) WriteHTMLFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("load: html: %w", err)
	}
	if err := r.WriteHTML(f); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("load: html: %w", err)
	}
	return nil
}

// WriteHTML writes a page with the verdict and the thresholds (once the
// report is judged), and inline SVG: the latency distribution of each
// part by percentile (corrected latency solid, service time dashed) and
// the requests answered per second over the run. No script, no external
// resource.
func (r *Report) WriteHTML(w io.Writer) error {
	var summary strings.Builder
	r.Render(&summary)
	data := struct {
		R                   *Report
		Summary             string
		NoThresholds        bool
		Latency, Throughput template.HTML
	}{r, summary.String(), r.Thresholds == nil || r.Thresholds.IsZero(), template.HTML(r.latencySVG()), template.HTML(r.throughputSVG())} //nolint:gosec // built from numbers and escaped names only
	page, err := template.New("page").Parse(pageHTML)
	if err != nil {
		return fmt.Errorf("load: html template: %w", err)
	}
	if err := page.Execute(w, data); err != nil {
		return fmt.Errorf("load: html: %w", err)
	}
	return nil
}

// pageHTML is the page around the plots.
const pageHTML = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tollgate load: {{.R.Flow}} {{.R.Scenario}}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:780px}pre{background:#f6f6f6;padding:1em;overflow:auto}
svg{background:#fff;border:1px solid #ddd}text{font-size:11px;font-family:system-ui,sans-serif}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2em .6em;text-align:left}.PASS{color:#1a7f37}.FAIL{color:#d62728;font-weight:bold}</style></head>
<body><h1>tollgate load</h1>
<p>{{.R.Target}}, flow {{.R.Flow}}, scenario {{.R.Scenario}}, {{.R.Model}} model, started {{.R.Started.Format "2006-01-02 15:04:05Z07:00"}}</p>
{{with .R.Verdict}}<h2 id="verdict">Verdict: <span class="{{.Result}}">{{.Result}}</span></h2>
{{if .Failures}}<ul>{{range .Failures}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if $.NoThresholds}}<p>No thresholds were set (--max-p99, --min-rps, --max-error-rate): the verdict is on the answers alone.</p>{{end}}
<table><thead><tr><th>check</th><th>part</th><th>limit</th><th>measured</th><th>result</th></tr></thead><tbody>
{{range .Checks}}<tr><td>{{.Name}}{{with .Flag}} ({{.}}){{end}}</td><td>{{.Part}}</td><td>{{.Limit}}</td><td>{{.Measured}}</td><td class="{{if .Pass}}PASS">met{{else}}FAIL">MISSED{{end}}</td></tr>
{{end}}</tbody></table>{{end}}
<h2>Latency by percentile</h2>
<p>Solid: latency from the intended send time (corrected for coordinated omission in the open model). Dashed: service time from the actual send.</p>
{{.Latency}}
<h2>Throughput over time</h2>
<p>Requests answered per second; errors and wrong verdicts in red.</p>
{{.Throughput}}
<h2>Summary</h2>
<pre>{{.Summary}}</pre>
</body></html>
`

// latencySVG plots latency against percentile on a log(1/(1-q)) axis.
func (r *Report) latencySVG() string {
	xOf := func(q float64) float64 { return math.Log10(1 / (1 - min(q, 99.999)/100)) } // 0..5
	var maxMs float64
	for _, p := range r.Parts {
		maxMs = max(maxMs, ms(p.Metrics.Max()), float64(p.Metrics.Service.Max())/1000)
	}
	maxMs = niceCeil(maxMs)
	var b strings.Builder
	openSVG(&b, "latency by percentile")
	for i := 0; i <= 5; i++ {
		x := padL + (plotW-padL-padR)*float64(i)/5
		label := strconv.FormatFloat(100-100/math.Pow(10, float64(i)), 'f', -1, 64)
		anchor := map[int]string{0: "start", 5: "end"}[i]
		if anchor == "" {
			anchor = "middle"
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/><text x="%.1f" y="%.1f" text-anchor="%s">p%s</text>`,
			x, padT, x, plotH-padB, x, plotH-padB+14, anchor, label)
	}
	yAxis(&b, maxMs, fmtMs)
	for i, p := range r.Parts {
		color := plotColor(i)
		for _, series := range []struct {
			h    func(float64) float64
			dash string
		}{
			{func(q float64) float64 { return ms(p.Metrics.Quantile(q)) }, ""},
			{func(q float64) float64 { return float64(p.Metrics.Service.ValueAtQuantile(q)) / 1000 }, ` stroke-dasharray="4 3"`},
		} {
			if p.Metrics.Requests == 0 {
				continue
			}
			var pts []string
			for _, q := range percentilePoints() {
				x := padL + (plotW-padL-padR)*xOf(q)/5
				y := plotH - padB - (plotH-padT-padB)*series.h(q)/maxMs
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
			}
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`, color, series.dash, strings.Join(pts, " "))
		}
		legend(&b, i, p.Name, color)
	}
	b.WriteString("</svg>")
	return b.String()
}

// throughputSVG plots requests per second, and errors, over the run: the
// time axis ends when the run did.
func (r *Report) throughputSVG() string {
	var end, peak float64
	for _, p := range r.Parts {
		end = max(end, p.Start+p.Metrics.Elapsed.Seconds())
		for _, s := range p.Metrics.Timeline {
			peak = max(peak, float64(s.Requests))
		}
	}
	if end <= 0 {
		end = 1
	}
	peak = niceCeil(peak)
	var b strings.Builder
	openSVG(&b, "throughput over time")
	yAxis(&b, peak, fmtRate)
	xOf := func(s float64) float64 { return padL + (plotW-padL-padR)*s/end }
	step := niceCeil(end / 6)
	for s := 0.0; s <= end-0.4*step; s += step {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="%s">%s</text>`, xOf(s), plotH-padB+14, map[bool]string{true: "start", false: "middle"}[s == 0], fmtSeconds(s))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`, xOf(end), plotH-padB+14, fmtSeconds(end))
	yOf := func(v uint64) float64 { return plotH - padB - (plotH-padT-padB)*float64(v)/peak }
	for i, p := range r.Parts {
		color := plotColor(i)
		var pts, bad []string
		for s, sec := range p.Metrics.Timeline {
			// The last second is cut short by the end of the run; a few
			// stragglers in it are not a fall in throughput.
			width := min(1, p.Metrics.Elapsed.Seconds()-float64(s))
			if width < 0.5 {
				continue
			}
			x := xOf(p.Start + float64(s) + width/2)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, yOf(uint64(float64(sec.Requests)/width))))
			bad = append(bad, fmt.Sprintf("%.1f,%.1f", x, yOf(uint64(float64(sec.Errors+sec.Wrong)/width))))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, color, strings.Join(pts, " "))
		fmt.Fprintf(&b, `<polyline fill="none" stroke="#d62728" stroke-width="1" stroke-dasharray="2 2" points="%s"/>`, strings.Join(bad, " "))
		legend(&b, i, p.Name, color)
	}
	b.WriteString("</svg>")
	return b.String()
}

func openSVG(b *strings.Builder, title string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img"><title>%s</title>`,
		plotW, plotH, plotW, plotH, template.HTMLEscapeString(title))
	fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#999"/>`, padL, padT, plotW-padL-padR, plotH-padT-padB)
}

// yAxis draws five gridlines from 0 to top, labelled by label.
func yAxis(b *strings.Builder, top float64, label func(float64) string) {
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		y := plotH - padB - (plotH-padT-padB)*float64(i)/4
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/><text x="%.1f" y="%.1f" text-anchor="end">%s</text>`,
			padL, y, plotW-padR, y, padL-4, y+4, template.HTMLEscapeString(label(v)))
	}
}

// fmtMs labels a latency given in milliseconds with its unit, never in
// scientific notation: 250µs, 12.5ms, 2.5s.
func fmtMs(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v < 1:
		return plain(v*1000) + "µs"
	case v < 1000:
		return plain(v) + "ms"
	default:
		return plain(v/1000) + "s"
	}
}

// fmtRate labels a rate per second: 750/s, 12.5k/s, 2M/s.
func fmtRate(v float64) string {
	switch {
	case v < 1000:
		return plain(v) + "/s"
	case v < 1e6:
		return plain(v/1000) + "k/s"
	default:
		return plain(v/1e6) + "M/s"
	}
}

// fmtSeconds labels a time of the run: 0s, 2.5s, 90s.
func fmtSeconds(v float64) string { return plain(v) + "s" }

// plain writes v with at most three significant figures and no exponent.
func plain(v float64) string {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 3, 64), 64)
	return strconv.FormatFloat(r, 'f', -1, 64)
}

func legend(b *strings.Builder, i int, name, color string) {
	y := padT + 14 + 14*float64(i)
	fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="10" height="10" fill="%s"/><text x="%.1f" y="%.1f">%s</text>`,
		padL+8, y-9, color, padL+22, y, template.HTMLEscapeString(name))
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (1 for v ≤ 0).
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}
