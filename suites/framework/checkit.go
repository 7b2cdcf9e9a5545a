package framework

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/tollgate/tollgate/suites/probe"
)

// VerdictEntry is the name of the report entry that carries a verdict other
// than PASS or FAIL (a failed SHOULD or INFO check), read by Summarize: its
// value is the verdict, a newline, and the message.
const VerdictEntry = "tollgate-verdict"

// EvidenceEntry is the name of the report entry that carries the redacted
// exchange behind a failure.
const EvidenceEntry = "tollgate-evidence"

// Skip prefixes that Summarize turns into verdicts.
const (
	inconclusivePrefix  = "INCONCLUSIVE: "
	notVerifiedPrefix   = "NOT VERIFIED: "
	notApplicablePrefix = "N/A: "
)

// checkFailure is what a check's Gomega panics with on a failed assertion.
type checkFailure struct{ message string }

// Body is a check: it asserts through g, never through the global Gomega, so
// that CheckIt can weigh a failure by the check's level.
type Body func(ctx ginkgo.SpecContext, g gomega.Gomega)

// Registrar defines checks as Ginkgo specs for one Framework.
type Registrar struct {
	F      *Framework
	checks Checks
	seen   map[string]bool
}

// NewRegistrar returns a Registrar for f.
func NewRegistrar(f *Framework) *Registrar {
	return &Registrar{F: f, checks: NewChecks(), seen: map[string]bool{}}
}

// Defined returns the IDs of the checks defined so far.
func (r *Registrar) Defined() []string {
	ids := make([]string, 0, len(r.seen))
	for id := range r.seen {
		ids = append(ids, id)
	}
	return ids
}

// CheckIt defines a check as an It: the text starts with the ID, the labels
// carry the ID, the area and the level under the run's profile. A failed
// assertion fails the spec only for a MUST check; for SHOULD and INFO it is
// recorded as a WARN or INFO verdict. An ID missing from the catalog panics
// at tree construction, so a typo never ships.
func (r *Registrar) CheckIt(id string, body Body) {
	c, ok := r.checks[id]
	if !ok {
		panic(fmt.Sprintf("framework: check %s is not in the catalog (suites/framework/catalog.go)", id))
	}
	r.seen[id] = true
	level := c.Level(r.F.Profile())
	f := r.F
	ginkgo.It(id+" "+c.Title, ginkgo.Label(id, "area:"+c.Area, "level:"+string(level)), ginkgo.SpecTimeout(specTimeout(f.Config)),
		func(ctx ginkgo.SpecContext) {
			f.TakeLast()
			msg := runCheck(ctx, body)
			if msg == "" {
				return
			}
			// Gomega prints the values it compared, which may be tokens
			// or secrets: redact like the evidence.
			msg = f.Redact(msg)
			if ev := f.Evidence(f.TakeLast()); ev != "" {
				ginkgo.AddReportEntry(EvidenceEntry, ev)
				msg += "\n" + ev
			}
			switch level {
			case Must:
				ginkgo.Fail(msg, 1)
			case Should:
				ginkgo.AddReportEntry(VerdictEntry, string(VerdictWarn)+"\n"+msg)
			default:
				ginkgo.AddReportEntry(VerdictEntry, string(VerdictInfo)+"\n"+msg)
			}
		})
}

// runCheck runs body and returns its first failure message, or "".
func runCheck(ctx ginkgo.SpecContext, body Body) (msg string) {
	g := gomega.NewGomega(func(message string, _ ...int) { panic(checkFailure{message}) })
	defer func() {
		if v := recover(); v != nil {
			cf, ok := v.(checkFailure)
			if !ok {
				panic(v) // Skip and Ginkgo's own signals pass through
			}
			msg = cf.message
		}
	}()
	body(ctx, g)
	return ""
}

func specTimeout(cfg Config) time.Duration {
	return 2*cfg.MaxExpiryWait + 20*cfg.Timeout + time.Minute
}

// Inconclusive ends a check without a verdict: the target would not answer
// (rate limited, budget spent). It is reported, never counted as a pass.
func Inconclusive(format string, args ...any) {
	ginkgo.Skip(inconclusivePrefix + fmt.Sprintf(format, args...))
}

// NotVerified ends a check that could not be run here, naming the remedy:
// a MUST shown this way is not a pass.
func NotVerified(format string, args ...any) {
	ginkgo.Skip(notVerifiedPrefix + fmt.Sprintf(format, args...))
}

// Warn records a WARN verdict from inside a check whose level is higher:
// for a finding the catalog grades below the rest of the check. The check
// goes on; a later failed assertion still decides the verdict.
// Only a check softLevels lists may: any other WARN would grade a finding
// otherwise than the catalog says, and panics (a programming error the
// check's spec then reports).
func Warn(format string, args ...any) {
	id, _, _ := strings.Cut(ginkgo.CurrentSpecReport().LeafNodeText, " ")
	if soft, ok := softLevels()[id]; !ok || soft != Should {
		panic(fmt.Sprintf("framework: %s reports a WARN the catalog does not give it: declare it in softLevels, or judge it in the check that owns it", id))
	}
	ginkgo.AddReportEntry(VerdictEntry, string(VerdictWarn)+"\n"+fmt.Sprintf(format, args...))
}

// Note records an INFO verdict from inside a check whose level is higher:
// for a finding the catalog grades INFO beside the check's own ("FAIL when
// the media type is used; INFO for legacy servers"). The check goes on; a
// later failed assertion still decides the verdict. Only a check whose
// lesser finding softLevels declares at INFO may; any other panics, as
// Warn does.
func Note(format string, args ...any) {
	id, _, _ := strings.Cut(ginkgo.CurrentSpecReport().LeafNodeText, " ")
	if soft, ok := softLevels()[id]; !ok || soft != Info {
		panic(fmt.Sprintf("framework: %s reports an INFO the catalog does not give it: declare it in softLevels at Info, or judge it in the check that owns it", id))
	}
	ginkgo.AddReportEntry(VerdictEntry, string(VerdictInfo)+"\n"+fmt.Sprintf(format, args...))
}

// NotApplicable ends a check that does not apply to this flow.
func NotApplicable(format string, args ...any) {
	ginkgo.Skip(notApplicablePrefix + fmt.Sprintf(format, args...))
}

// Sent turns a request error into the right outcome: inconclusive when the
// target would not answer, otherwise a failure of the check through g. It
// returns the exchange when there was a response.
func Sent(g gomega.Gomega, ex *probe.Exchange, err error) *probe.Exchange {
	if errors.Is(err, probe.ErrInconclusive) {
		Inconclusive("%v", err)
	}
	g.Expect(err).NotTo(gomega.HaveOccurred(), "request failed")
	return ex
}

func trimPrefix(s, prefix string) (string, bool) {
	if strings.HasPrefix(s, prefix) {
		return strings.TrimPrefix(s, prefix), true
	}
	return s, false
}
