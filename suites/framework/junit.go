package framework

import (
	"encoding/xml"
	"fmt"
	"os"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
)

// WriteJUnit writes report as JUnit XML to path after folding in what
// Ginkgo does not know of the final verdicts in s: a WAIVED check is a
// skipped test case, a waived check that now passes is a failure, and
// with failOn "should" a WARN is a failure. A CI system reading the file
// then agrees with the exit code of the run. The test suite's properties
// carry s.Expiry as tollgate.expiry.
func WriteJUnit(path string, report types.Report, s Summary, failOn string) error {
	if err := reporters.GenerateJUnitReport(withVerdicts(report, s, failOn), path); err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	if s.Expiry == "" {
		return nil
	}
	if err := addJUnitProperty(path, JUnitExpiryProperty, s.Expiry); err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	return nil
}

// JUnitExpiryProperty is the test suite property that says how expiry was
// tested (Summary.Expiry).
const JUnitExpiryProperty = "tollgate.expiry"

// addJUnitProperty adds a property to every test suite of the JUnit file
// at path: Ginkgo's generator has no place for one of ours.
func addJUnitProperty(path, name, value string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var suites reporters.JUnitTestSuites
	if err := xml.Unmarshal(data, &suites); err != nil {
		return err
	}
	for i := range suites.TestSuites {
		p := &suites.TestSuites[i].Properties
		p.Properties = append(p.Properties, reporters.JUnitProperty{Name: name, Value: value})
	}
	out, err := xml.MarshalIndent(suites, "  ", "    ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte(xml.Header), append(out, '\n')...), 0o644)
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
