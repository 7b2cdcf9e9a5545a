package conformance

import (
	"encoding/json"
	"math"
	"net/http"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega" //nolint:revive // matchers read as prose in checks

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/oautherr"
	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/probe"
)

// ExpiryChecks defines the EXP checks for r's flow.
func ExpiryChecks(r *framework.Registrar) {
	f := r.F
	target := func() spec.Operation { return probedOperation(f) }
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
		expectWorksLikePrimary(ctx, g, f, target(), tr.AccessToken, "a fresh token")
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

	// expiring issues a token whose expiry the run can reach: the expiry
	// client's, else the primary client's when the target's clock can be
	// moved or its lifetime is short enough to wait out. It returns the
	// token and its exp on pa's timeline; the check ends NOT VERIFIED,
	// naming the remedy, when there is none.
	expiring := func(ctx ginkgo.SpecContext, g Gomega, pa *passage) (spec.TokenResponse, time.Time) {
		creds, strategy := f.Config.Client, "bounded wait on the primary client's token"
		if !f.Config.ExpiryClient.IsZero() {
			creds, strategy = f.Config.ExpiryClient, "short-lived expiry client"
		}
		issued := pa.now(ctx)
		tr, ex, err := f.Token(ctx, creds)
		framework.Sent(g, ex, err)
		if tr.ExpiresIn == 0 {
			framework.NotVerified("the token response advertises no lifetime, so there is no expiry to test")
		}
		lifetime := time.Duration(tr.ExpiresIn) * time.Second
		if !pa.controlled() && lifetime+2*time.Second > f.Config.MaxExpiryWait {
			framework.NotVerified("expires_in=%ds exceeds --max-expiry-wait=%v: configure an expiry client with short-lived tokens (TOLLGATE_EXPIRY_CLIENT_ID) or raise --max-expiry-wait", tr.ExpiresIn, f.Config.MaxExpiryWait)
		}
		ginkgo.AddReportEntry("expiry-strategy", pa.strategy(strategy))
		return tr, issued.Add(lifetime)
	}
	use := func(ctx ginkgo.SpecContext, g Gomega, token string) *probe.Exchange {
		ex, err := f.Call(ctx, target(), "", "Bearer "+token)
		return framework.Sent(g, ex, err)
	}
	// outlive lets time pass to a second after exp, then once a second
	// until the token is refused; it fails when the token still works
	// after exp + leeway, and ends NOT VERIFIED when --max-expiry-wait runs
	// out first (waiting only: a moved clock costs no time).
	outlive := func(ctx ginkgo.SpecContext, g Gomega, pa *passage, token string, exp time.Time) (*probe.Exchange, time.Duration) {
		deadline := exp.Add(f.Config.Leeway + time.Second)
		limit := time.Now().Add(f.Config.MaxExpiryWait)
		// How the route answers this token while it lives: "still works"
		// is answered like that, not "any status under 400" (a route
		// that answers valid tokens 403 by design would make every
		// expired token look refused).
		live := observeRouteWith(ctx, g, f, target(), token)
		if !live.tokenWorks() {
			framework.Inconclusive("the token is refused like an unknown one before it expires, so its refusal after exp would prove nothing (BEAR-001 and EXP-004 judge that)")
		}
		pa.until(ctx, exp.Add(time.Second))
		for {
			last := use(ctx, g, token)
			now := pa.now(ctx)
			if !live.accepted(last) {
				return last, now.Sub(exp).Round(time.Second)
			}
			switch {
			case now.After(deadline):
				g.Expect(live.accepted(last)).To(BeFalse(), "the token still works (%d, as before exp) %v after it expired (allowed leeway %v)", last.Status, now.Sub(exp).Round(time.Second), f.Config.Leeway)
			case !pa.controlled() && now.After(limit):
				framework.NotVerified("the token still worked %v after exp, within the leeway of %v, when --max-expiry-wait ran out", now.Sub(exp).Round(time.Second), f.Config.Leeway)
			}
			pa.sleep(ctx, time.Second)
		}
	}

	// EXP-005, 006, 007 and 011 share one token's life: issue, use, outlive,
	// renew. A moved clock stays moved until all four are over.
	ginkgo.Describe("a token's life", ginkgo.Ordered, func() {
		var life *passage
		var rejected *probe.Exchange
		var grace time.Duration
		var expired string
		const noLife = "EXP-005 did not see an expired token rejected, so there is nothing to judge"

		ginkgo.BeforeAll(func(ctx ginkgo.SpecContext) { life = newPassage(ctx, f) })

		r.CheckIt("EXP-005", func(ctx ginkgo.SpecContext, g Gomega) {
			tr, exp := expiring(ctx, g, life)
			if !tryToken(ctx, g, f, target(), tr.AccessToken).tokenWorks() {
				framework.Inconclusive("a fresh token was refused, so its refusal after exp would prove nothing (EXP-004 and BEAR-001 judge that)")
			}
			rejected, grace = outlive(ctx, g, life, tr.AccessToken, exp)
			expired = tr.AccessToken
			ginkgo.AddReportEntry("observed-grace-seconds", grace.Seconds())
			// Rejected: the status of the refusal is BEAR-004's to judge.
		})

		r.CheckIt("EXP-006", func(ctx ginkgo.SpecContext, g Gomega) {
			if rejected == nil {
				framework.NotVerified(noLife)
			}
			c := bearerChallenge(g, rejected)
			code, _ := c.Param("error")
			g.Expect(code).To(Equal(oautherr.InvalidToken))
		})

		r.CheckIt("EXP-007", func(ctx ginkgo.SpecContext, g Gomega) {
			if rejected == nil {
				framework.NotVerified(noLife)
			}
			g.Expect(grace).To(BeNumerically("<=", 300*time.Second), "the token worked %v past exp", grace)
			if grace > 60*time.Second {
				framework.Warn("the token worked %v past exp: more than a minute of leeway", grace)
			}
		})

		r.CheckIt("EXP-011", func(ctx ginkgo.SpecContext, g Gomega) {
			if rejected == nil {
				framework.NotVerified(noLife)
			}
			creds := f.Config.Client
			if !f.Config.ExpiryClient.IsZero() {
				creds = f.Config.ExpiryClient
			}
			tr, ex, err := f.Token(ctx, creds)
			framework.Sent(g, ex, err)
			g.Expect(tr.AccessToken == expired).To(BeFalse(), "the expired token was issued again")
			g.Expect(tryToken(ctx, g, f, target(), tr.AccessToken).tokenWorks()).To(BeTrue(), "the new token was refused like an unknown token")
		})
	})

	r.CheckIt("EXP-010", func(ctx ginkgo.SpecContext, g Gomega) {
		pa := newPassage(ctx, f)
		tr, exp := expiring(ctx, g, pa)
		// Keep using it (once a second while waiting; ten times over its
		// life when the clock moves): the expiry must not move.
		step := time.Second
		if pa.controlled() {
			step = max(step, time.Duration(tr.ExpiresIn)*time.Second/10)
		}
		for exp.Sub(pa.now(ctx)) > time.Second {
			use(ctx, g, tr.AccessToken)
			pa.sleep(ctx, min(step, exp.Sub(pa.now(ctx))-time.Second))
		}
		outlive(ctx, g, pa, tr.AccessToken, exp)
	})

	r.CheckIt("EXP-012", func(ctx ginkgo.SpecContext, g Gomega) {
		saved, ok := staleToken(ctx, f)
		if saved.Target != f.Config.Target || saved.Flow != f.Flow.Name {
			framework.NotApplicable("the saved token is for %s (flow %s), not this target and flow", saved.Target, saved.Flow)
		}
		if saved.ExpiresIn <= 0 {
			framework.NotVerified("the saved token has no lifetime (expires_in %d), so there is no time after which it must be dead", saved.ExpiresIn)
		}
		dead := saved.IssuedAt.Add(time.Duration(saved.ExpiresIn)*time.Second + f.Config.Leeway)
		now := time.Now()
		if !ok { // minted: on the target's clock, moved past the leeway when that is longer than the mock's minute
			pa := newPassage(ctx, f)
			pa.until(ctx, dead.Add(time.Second))
			now = pa.now(ctx)
		}
		if now.Before(dead) {
			framework.NotVerified("the saved token is still within its lifetime and leeway until %s", dead.Format(time.RFC3339))
		}
		ex := use(ctx, g, saved.Token)
		g.Expect(ex.Status).NotTo(BeNumerically("<", 300), "a token from an earlier run, dead since %s, was accepted", dead.Format(time.RFC3339))
		// Refused: the status of the refusal is BEAR-004's to judge.
	})
}

// staleToken is EXP-012's token: the one saved by an earlier run (ok), else
// an expired one the target's control API mints, else the check ends NOT
// VERIFIED naming the remedy.
func staleToken(ctx ginkgo.SpecContext, f *framework.Framework) (probe.SavedToken, bool) {
	if saved, ok := f.StaleToken(); ok {
		return saved, true
	}
	ctl := f.Control()
	if ctl == nil {
		framework.NotVerified("save a token in one run with tollgate check --save-token FILE and pass FILE as --stale-token-file (TOLLGATE_STALE_TOKEN_FILE) in a later one")
	}
	t, err := ctl.Mint(ctx, probe.MintRequest{Flow: f.Flow.Name, ClientID: f.Config.Client.ID, Defect: "expired"})
	if err != nil {
		framework.NotVerified("no saved token (--stale-token-file), and the target's control API minted no expired one: %v", err)
	}
	ginkgo.AddReportEntry("stale-token", "minted expired through the target's control API")
	// Dead once expires_at + leeway is past, as a saved token would be.
	return probe.SavedToken{Target: f.Config.Target, Flow: f.Flow.Name, Token: t.AccessToken, IssuedAt: t.ExpiresAt.Add(-time.Second), ExpiresIn: 1}, false
}

func numericClaim(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	fl, err := n.Float64()
	return fl, err == nil
}
