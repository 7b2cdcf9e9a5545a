package framework

import (
	"fmt"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
)

// WriteJUnit writes report as JUnit XML to path after folding in what
// Ginkgo does not know of the final verdicts in s: a WAIVED check is a
// skipped test case, a waived check that now passes is a failure, and
// with failOn "should" a WARN is a failure. A CI system reading the file
// then agrees with the exit code of the run.
func WriteJUnit(path string, report types.Report, s Summary, failOn string) error {
	if err := reporters.GenerateJUnitReport(withVerdicts(report, s, failOn), path); err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	return nil
}

// withVerdicts returns a copy of report whose spec states follow s.
func withVerdicts(report types.Report, s Summary, failOn string) types.Report {
	final := make(map[string]Result, len(s.Results))
	for _, r := range s.Results {
		final[r.ID+" "+r.Flow] = r
	}
	checks := NewChecks()
	out := report
	out.SpecReports = make(types.SpecReports, len(report.SpecReports))
	copy(out.SpecReports, report.SpecReports)
	for i, spec := range out.SpecReports {
		id, flow, _ := checkLabels(spec, checks)
		r, ok := final[id+" "+flow]
		if !ok {
			continue
		}
		switch {
		case r.Verdict == VerdictWaived:
			spec.State = types.SpecStateSkipped
			spec.Failure = types.Failure{Message: r.Message, Location: spec.LeafNodeLocation}
		case r.Verdict == VerdictFail && spec.State == types.SpecStatePassed,
			r.Verdict == VerdictWarn && failOn == "should":
			spec.State = types.SpecStateFailed
			spec.Failure = types.Failure{Message: string(r.Verdict) + ": " + r.Message, Location: spec.LeafNodeLocation, FailureNodeType: types.NodeTypeIt, FailureNodeLocation: spec.LeafNodeLocation}
		default:
			continue
		}
		out.SpecReports[i] = spec
	}
	return out
}
