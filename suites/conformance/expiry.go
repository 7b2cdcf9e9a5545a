package conformance

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega" //nolint:revive // matchers read as prose in checks

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/oautherr"
	"github.com/tollgate/tollgate/suites/framework"
)

// ExpiryChecks defines the EXP checks for r's flow.
func ExpiryChecks(r *framework.Registrar) {
	f := r.F
	protected := f.Flow.Protected()
	target := func() spec.Operation {
		for _, op := range protected {
			if len(op.Scopes) == 0 {
				return op
			}
		}
		if len(protected) == 0 {
			framework.NotApplicable("the flow document protects no operation")
		}
		return protected[0]
	}
	primary := func(ctx ginkgo.SpecContext, g Gomega) spec.TokenResponse {
		tr, err := f.PrimaryToken(ctx)
		framework.Sent(g, nil, err)
		return tr
	}

	r.CheckIt("EXP-001", func(ctx ginkgo.SpecContext, g Gomega) {
		g.Expect(primary(ctx, g).ExpiresIn).To(BeNumerically(">", 0), "no lifetime (%s) in the token response", f.Flow.Token.Response.ExpiresIn)
	})

	r.CheckIt("EXP-002", func(ctx ginkgo.SpecContext, g Gomega) {
		n := primary(ctx, g).ExpiresIn
		if n == 0 {
			framework.NotApplicable("no lifetime advertised (EXP-001)")
		}
		g.Expect(n).To(BeNumerically("<=", 31536000), "a lifetime over a year: milliseconds instead of seconds?")
	})

	r.CheckIt("EXP-003", func(ctx ginkgo.SpecContext, g Gomega) {
		n := primary(ctx, g).ExpiresIn
		if n == 0 {
			framework.NotApplicable("no lifetime advertised (EXP-001)")
		}
		g.Expect(n).To(BeNumerically("<=", 3600), "tokens live %ds; RFC 6750 §5.3 asks for one hour or less", n)
	})

	r.CheckIt("EXP-004", func(ctx ginkgo.SpecContext, g Gomega) {
		tr, _, err := f.Token(ctx, f.Config.Client)
		framework.Sent(g, nil, err)
		ex, err := f.Call(ctx, target(), "", "Bearer "+tr.AccessToken)
		framework.Sent(g, ex, err)
		g.Expect(ex.Status).To(BeNumerically("<", 300), "a fresh token was refused")
	})

	r.CheckIt("EXP-008", func(ctx ginkgo.SpecContext, g Gomega) {
		tr := primary(ctx, g)
		claims, ok := jwtClaims(tr.AccessToken)
		if !ok {
			framework.NotApplicable("the token is not a JWT")
		}
		exp, expOK := numericClaim(claims["exp"])
		iat, iatOK := numericClaim(claims["iat"])
		g.Expect(expOK && iatOK).To(BeTrue(), "the JWT lacks numeric exp and iat claims")
		g.Expect(math.Abs(exp-iat-float64(tr.ExpiresIn))).To(BeNumerically("<=", 2), "exp - iat = %v, expires_in = %d", exp-iat, tr.ExpiresIn)
	})

	r.CheckIt("EXP-009", func(ctx ginkgo.SpecContext, g Gomega) {
		ex, err := f.Call(ctx, target(), "")
		framework.Sent(g, ex, err)
		date := ex.Header.Get("Date")
		g.Expect(date).NotTo(BeEmpty(), "no Date header")
		t, err := http.ParseTime(date)
		g.Expect(err).NotTo(HaveOccurred(), "Date %q", date)
		skew := t.Sub(ex.Sent.Add(ex.Elapsed / 2)).Round(time.Second)
		g.Expect(skew.Abs()).To(BeNumerically("<=", f.Config.ClockSkew+time.Second), "the target's clock is %v off ours", skew)
	})

	// EXP-005 and EXP-006 share one token's life: issue, use, outlive.
	ginkgo.Describe("a token's life", ginkgo.Ordered, func() {
		var rejected *framework.Exchange
		var skipReason string

		r.CheckIt("EXP-005", func(ctx ginkgo.SpecContext, g Gomega) {
			creds, strategy := f.Config.Client, "bounded wait on the primary client's token"
			if !f.Config.ExpiryClient.IsZero() {
				creds, strategy = f.Config.ExpiryClient, "short-lived expiry client"
			}
			tr, ex, err := f.Token(ctx, creds)
			framework.Sent(g, ex, err)
			if tr.ExpiresIn == 0 {
				skipReason = "the token response advertises no lifetime, so there is no expiry to test"
				framework.NotVerified("%s", skipReason)
			}
			lifetime := time.Duration(tr.ExpiresIn) * time.Second
			if lifetime+2*time.Second > f.Config.MaxExpiryWait {
				skipReason = fmt.Sprintf("expires_in=%ds exceeds --max-expiry-wait=%v: configure an expiry client with short-lived tokens (TOLLGATE_EXPIRY_CLIENT_ID) or raise --max-expiry-wait", tr.ExpiresIn, f.Config.MaxExpiryWait)
				framework.NotVerified("%s", skipReason)
			}
			ginkgo.AddReportEntry("expiry-strategy", strategy)
			op := target()
			use := func() *framework.Exchange {
				ex, err := f.Call(ctx, op, "", "Bearer "+tr.AccessToken)
				return framework.Sent(g, ex, err)
			}
			g.Expect(use().Status).To(BeNumerically("<", 300), "the fresh token was refused")
			exp := ex.Sent.Add(lifetime)
			deadline := exp.Add(f.Config.Leeway + time.Second)
			limit := ex.Sent.Add(f.Config.MaxExpiryWait)
			sleep(ctx, time.Until(exp.Add(time.Second)))
			for {
				last := use()
				if last.Status >= 400 {
					rejected = last
					grace := time.Since(exp).Round(time.Second)
					ginkgo.AddReportEntry("observed-grace-seconds", grace.Seconds())
					g.Expect(last.Status).To(Equal(http.StatusUnauthorized), "an expired token should get 401")
					return
				}
				now := time.Now()
				switch {
				case now.After(deadline):
					g.Expect(last.Status).To(BeNumerically(">=", 400), "the token still works %v after it expired (allowed leeway %v)", time.Since(exp).Round(time.Second), f.Config.Leeway)
				case now.After(limit):
					skipReason = fmt.Sprintf("the token still worked %v after exp, within the leeway of %v, when --max-expiry-wait ran out", time.Since(exp).Round(time.Second), f.Config.Leeway)
					framework.NotVerified("%s", skipReason)
				}
				sleep(ctx, time.Second)
			}
		})

		r.CheckIt("EXP-006", func(ctx ginkgo.SpecContext, g Gomega) {
			if rejected == nil {
				if skipReason == "" {
					skipReason = "EXP-005 did not see an expired token rejected"
				}
				framework.NotVerified("%s", skipReason)
			}
			c := bearerChallenge(g, rejected)
			code, _ := c.Param("error")
			g.Expect(code).To(Equal(oautherr.InvalidToken))
		})
	})
}

func sleep(ctx ginkgo.SpecContext, d time.Duration) {
	if d <= 0 {
		return
	}
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func numericClaim(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	fl, err := n.Float64()
	return fl, err == nil
}
