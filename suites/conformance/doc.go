// Package conformance holds the conformance checks: reusable Ginkgo spec
// functions that probe any target over HTTP, through a framework.Framework,
// for the behaviour the flow document and the RFCs demand of token issuance
// (TOK), Bearer enforcement (BEAR) and on a GraphQL endpoint (GQL), expiry
// (EXP), JWT access tokens (JWT),
// authorization server metadata (META), token revocation (REV) and token
// introspection (INTRO). Each check is one It with its catalog ID in the
// text and as a label. Specs labelled "load" (LoadSpecs) are not checks:
// they run a short load through suites/load and assert the user's
// thresholds, and run only when a label filter names them.
//
// The checks are ordinary (non-test) code so that `tollgate check` links
// them; conformance_suite_test.go runs them under `go test` against the
// in-process mock or, with -tollgate.target, against any server. The suite
// never imports the mock: it speaks HTTP only.
package conformance

import (
	"github.com/onsi/ginkgo/v2"

	"github.com/tollgate/tollgate/suites/framework"
)

// Define builds the spec tree: one Describe per framework (one per flow),
// labelled flow:<name>, holding every check. Call it before RunSpecs.
func Define(frameworks ...*framework.Framework) []*framework.Registrar {
	var regs []*framework.Registrar
	for _, f := range frameworks {
		r := framework.NewRegistrar(f)
		regs = append(regs, r)
		ginkgo.Describe("flow "+f.Flow.Name, ginkgo.Label("flow:"+f.Flow.Name), func() {
			ginkgo.Describe("token issuance", func() { TokenChecks(r) })
			ginkgo.Describe("Bearer enforcement", func() { BearerChecks(r) })
			ginkgo.Describe("JWT access tokens", func() {
				JWTChecks(r)
				JWTAttackChecks(r)
			})
			// After every bad token and forgery the checks above send:
			// Ginkgo runs the specs of a container in the order defined.
			ginkgo.Describe("persistence", func() { PersistenceChecks(r) })
			// After persistence: the expiry checks move the target's clock,
			// and a store that sweeps what is expired at the moved time may
			// drop the primary token, which BEAR-025 would then blame on
			// the forgeries.
			ginkgo.Describe("expiry", func() { ExpiryChecks(r) })
			ginkgo.Describe("authorization server metadata", func() { MetadataChecks(r) })
			ginkgo.Describe("hardening", func() { SecurityChecks(r) })
			ginkgo.Describe("token revocation", func() { RevocationChecks(r) })
			ginkgo.Describe("token introspection", func() { IntrospectionChecks(r) })
			// After expiry: GQL-003 may take the expiry client's token,
			// which a server that caches tokens per client would hand
			// EXP-005 again, already dead. A primary token the forgeries
			// killed (BEAR-025) leaves GQL-004 and GQL-012 INCONCLUSIVE.
			ginkgo.Describe("GraphQL", func() { GraphQLChecks(r) })
			// Last: these judge every exchange the checks above had with
			// the token endpoint.
			ginkgo.Describe("token endpoint, the whole run", func() { TokenRunChecks(r) })
			ginkgo.Describe("load", func() { LoadSpecs(f) })
		})
	}
	return regs
}
