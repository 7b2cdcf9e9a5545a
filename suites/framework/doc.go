// Package framework is the small object the conformance checks run through,
// in the manner of the Kubernetes e2e framework: a validated Config naming
// the target, its credentials and what to check, a Framework that wraps a
// probe.Prober (the HTTP side: token requests, calls of protected and
// client operations, evidence) with the conformance settings, the frozen
// catalog of check IDs with their severity per profile, the CheckIt wrapper
// that turns a check into a labelled Ginkgo spec, waivers, and the summary
// that turns a Ginkgo report into PASS / FAIL / WARN / INFO / SKIP /
// INCONCLUSIVE verdicts, JUnit and a self-contained HTML page (RenderHTML).
//
// Check IDs and their sources come from the conformance catalog
// (shared/conformance-catalog.md); docs/checks.md is generated from Catalog.
package framework
