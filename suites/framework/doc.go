// Package framework is the small object the conformance checks run through,
// in the manner of the Kubernetes e2e framework: a validated Config naming
// the target and its credentials, a Framework that issues token requests and
// calls protected operations of one flow over plain HTTP (the target is a
// black box), the frozen catalog of check IDs with their severity per
// profile, the CheckIt wrapper that turns a check into a labelled Ginkgo
// spec, and the summary that turns a Ginkgo report into PASS / FAIL / WARN /
// INFO / SKIP / INCONCLUSIVE verdicts.
//
// Check IDs and their sources come from the conformance catalog
// (shared/conformance-catalog.md); docs/checks.md is generated from Catalog.
package framework
