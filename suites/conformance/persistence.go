package conformance

import (
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega" //nolint:revive // matchers read as prose in checks

	"github.com/tollgate/tollgate/suites/framework"
)

// PersistenceChecks defines BEAR-025, jwt_tool's persistence check: the
// primary token, which the bearer and JWT checks sent next to every
// unknown, modified and forged token, must still be accepted after them.
// If it is not, a refusal those checks saw may be the server refusing
// everything after an attack, and their verdicts are void. Define runs it
// after the bearer and JWT checks, before the expiry checks move the clock.
func PersistenceChecks(r *framework.Registrar) {
	f := r.F
	r.CheckIt("BEAR-025", func(ctx ginkgo.SpecContext, g Gomega) {
		op := probedOperation(f)
		primary, err := f.PrimaryToken(ctx)
		framework.Sent(g, nil, err)
		if claims, ok := jwtClaims(primary.AccessToken); ok {
			if exp, ok := numericClaim(claims["exp"]); ok && float64(time.Now().Unix()) >= exp {
				framework.Inconclusive("the primary token is past its exp (%s): it cannot show whether the earlier checks disturbed it", time.Unix(int64(exp), 0).UTC().Format(time.RFC3339))
			}
		}
		// A token issued now shows what a working token gets on the route
		// now, so that a route that stopped serving everyone (or never
		// served anyone: BEAR-001) is not blamed on the primary token.
		fresh, _, err := f.Token(ctx, f.Config.Client)
		framework.Sent(g, nil, err)
		now := observeRouteWith(ctx, g, f, op, fresh.AccessToken)
		now.needEnforcement()
		now.needUnknownRefused()
		now.needWorkingToken()
		ex, err := f.Call(ctx, op, "", "Bearer "+primary.AccessToken)
		framework.Sent(g, ex, err)
		g.Expect(now.accepted(ex)).To(BeTrue(),
			"the primary token no longer works after the unknown, modified and forged tokens the bearer and JWT checks sent: it %s (a token issued just now is accepted). Their verdicts are void: a forgery refused after this point may have been refused only because the server now refuses this client's token", now.compare(ex))
	})
}
