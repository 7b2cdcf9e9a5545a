// Package selftest proves the conformance suite's strength: its test runs
// `tollgate check` against the mock with each deliberate defect switched on
// (mockserver.Mutations) and expects the named checks to fail, and against
// conformant variations of the mock, which must pass. docs/suite-strength.md
// reports the kill rate.
package selftest
