package conformance

import (
	"strings"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega" //nolint:revive // matchers read as prose in checks

	"github.com/tollgate/tollgate/suites/framework"
)

// SecurityChecks defines the SEC checks for r's flow: hardening facts the
// catalog records at INFO level, without a MUST to fail.
func SecurityChecks(r *framework.Registrar) {
	f := r.F
	r.CheckIt("SEC-001", func(ctx ginkgo.SpecContext, g Gomega) {
		tr, err := f.PrimaryToken(ctx)
		framework.Sent(g, nil, err)
		// RFC 9700 §2.2.1: authorization servers "SHOULD use mechanisms
		// for sender-constraining access tokens" (DPoP, mTLS); a Bearer
		// token works for whoever presents it (RFC 6750 §1.2).
		g.Expect(strings.EqualFold(tr.TokenType, "Bearer")).To(BeFalse(),
			"the token type is %s: a leaked token can be replayed by anyone (not sender-constrained, RFC 9700 §2.2.1)", tr.TokenType)
	})
}
