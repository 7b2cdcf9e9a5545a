package conformance

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	"github.com/onsi/gomega/gmeasure"

	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/load"
)

// LoadLabel marks the load specs. They are not conformance checks and are
// left out of a run unless its label filter names them (--label-filter=load,
// or tollgate check --load).
const LoadLabel = "load"

// LoadEntry is the name of the report entry holding a load spec's summary.
const LoadEntry = "tollgate-load"

// LoadSpecs defines the load specs of one flow: a short validate run,
// bounded by f.Config.Load's duration and request count, through
// suites/load (the library behind tollgate load). The figures are recorded
// with gmeasure; the spec fails on any wrong verdict and on any threshold
// of f.Config.Load it misses.
func LoadSpecs(f *framework.Framework) {
	cfg := f.Config.Load
	timeout := cfg.Duration + 4*f.Config.Timeout + f.Config.MaxExpiryWait + time.Minute
	ginkgo.It("a short validate run keeps every verdict right and meets the thresholds", ginkgo.Label(LoadLabel), ginkgo.SpecTimeout(timeout),
		func(ctx ginkgo.SpecContext) {
			mix, err := load.ParseMix(cfg.Mix)
			gomega.Expect(err).NotTo(gomega.HaveOccurred(), "fix load.mix in the target file")
			th := load.Thresholds{MaxP99: cfg.MaxP99, MinRPS: cfg.MinRPS}
			if cfg.MaxErrorRate != "" {
				gomega.Expect(th.SetMaxErrorRate(cfg.MaxErrorRate)).To(gomega.Succeed(), "fix load.max_error_rate in the target file")
			}
			var pacer load.Pacer
			if cfg.Rate != "" {
				rate, err := load.ParseRate(cfg.Rate)
				gomega.Expect(err).NotTo(gomega.HaveOccurred(), "fix load.rate in the target file")
				pacer = rate
			}
			sc, err := load.BuildValidate(ctx, load.ValidateInput{F: f.Prober, Mix: mix, RunFor: cfg.Duration})
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
			for _, n := range sc.Notes {
				ginkgo.AddReportEntry("note", n)
			}
			// A valid token refused is a wrong verdict only while it
			// lives: a run that may outlast the earliest expiry (the
			// tokens were slow to come, or the process was held up) cannot
			// judge, and says so.
			if end := time.Now().Add(cfg.Duration + time.Second); !sc.ValidUntil.IsZero() && end.After(sc.ValidUntil) {
				framework.Inconclusive("the valid tokens may expire %v before the run would end: give the load run longer-lived tokens or a shorter duration", end.Sub(sc.ValidUntil).Round(time.Millisecond))
			}
			opts := load.Options{Duration: cfg.Duration, MaxRequests: cfg.Requests, Concurrency: cfg.Concurrency, Timeout: f.Config.Timeout}
			m := load.NewAttacker(opts).Attack(ctx, sc.Targeter, pacer)

			exp := gmeasure.NewExperiment("load " + f.Flow.Name)
			ginkgo.AddReportEntry(exp.Name, exp)
			exp.RecordValue("throughput", m.RPS(), gmeasure.Units("req/s"), gmeasure.Precision(1))
			for _, q := range []float64{50, 90, 99, 99.9} {
				exp.RecordDuration(fmt.Sprintf("p%g", q), m.Quantile(q), gmeasure.Precision(time.Microsecond))
			}
			exp.RecordDuration("max", m.Max(), gmeasure.Precision(time.Microsecond))
			exp.RecordValue("error rate", 100*m.ErrorRate(), gmeasure.Units("%"), gmeasure.Precision(3))
			exp.RecordValue("wrong verdicts", float64(m.WrongVerdicts()))

			rep := &load.Report{Version: load.ReportVersion, Target: f.Config.Target, Flow: f.Flow.Name, Scenario: "validate", Model: "closed",
				Concurrency: cfg.Concurrency, Mix: sc.Mix.String(), Notes: sc.Notes, Parts: []load.Part{{Name: "validate", Metrics: m}}}
			if pacer != nil {
				rep.Model, rep.Rate, rep.Concurrency = "open", cfg.Rate, 0
			}
			var summary bytes.Buffer
			rep.Render(&summary)
			ginkgo.AddReportEntry(LoadEntry, summary.String())

			if m.Requests == 0 {
				ginkgo.Fail("no request was answered within " + cfg.Duration.String())
			}
			if n := m.WrongVerdicts(); n > 0 {
				ginkgo.Fail(fmt.Sprintf("%d wrong verdict(s) under load (%d bad tokens accepted)\n%s", n, m.Accepted(), summary.String()))
			}
			if misses := th.Check(m); len(misses) > 0 {
				ginkgo.Fail("thresholds missed: " + strings.Join(misses, "; ") + "\n" + summary.String())
			}
		})
}

// WithoutLoad adds "!load" to a label filter that does not name the load
// label, so that load specs run only when asked for.
func WithoutLoad(filter string) string {
	if mentionsLoad(filter) {
		return filter
	}
	if strings.TrimSpace(filter) == "" {
		return "!" + LoadLabel
	}
	return "(" + filter + ") && !" + LoadLabel
}

// mentionsLoad reports whether a label filter names the load label as a
// whole word.
func mentionsLoad(filter string) bool {
	for _, field := range strings.FieldsFunc(filter, func(r rune) bool {
		word := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == ':'
		return !word
	}) {
		if strings.EqualFold(field, LoadLabel) {
			return true
		}
	}
	return false
}
