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
		// The target's time was in [Date, Date+1s) (Date counts whole
		// seconds) when ours was in [sent, answered]: judged by the least
		// skew those allow, so a slow answer is never taken for a skew.
		skew := leastSkew(t, ex.Sent, ex.Sent.Add(ex.Elapsed))
		g.Expect(skew.Abs()).To(BeNumerically("<=", f.Config.ClockSkew), "the target's clock is at least %v off ours", skew.Round(time.Second))
	})

	// issue gets a token for creds and brackets its issuance on pa's
	// timeline.
	issue := func(ctx ginkgo.SpecContext, g Gomega, pa *passage, creds framework.Credentials) (spec.TokenResponse, tokenLife) {
		from := pa.now(ctx)
		tr, ex, err := f.Token(ctx, creds)
		framework.Sent(g, ex, err)
		return tr, tokenLife{from: from, by: pa.now(ctx), lifetime: time.Duration(tr.ExpiresIn) * time.Second}
	}
	// expiring issues a token whose expiry the run can reach: the expiry
	// client's, else the primary client's when the target's clock can be
	// moved or its lifetime is short enough to wait out. It returns the
	// credentials, the token and its life on pa's timeline; the check ends
	// NOT VERIFIED, naming the remedy, when there is none.
	expiring := func(ctx ginkgo.SpecContext, g Gomega, pa *passage) (framework.Credentials, spec.TokenResponse, tokenLife) {
		creds, strategy := f.Config.Client, "bounded wait on the primary client's token"
		if !f.Config.ExpiryClient.IsZero() {
			creds, strategy = f.Config.ExpiryClient, "short-lived expiry client"
		}
		tr, life := issue(ctx, g, pa, creds)
		if tr.ExpiresIn == 0 {
			framework.NotVerified("the token response advertises no lifetime, so there is no expiry to test")
		}
		if !pa.controlled() && life.lifetime+2*time.Second > f.Config.MaxExpiryWait {
			framework.NotVerified("expires_in=%ds exceeds --max-expiry-wait=%v: configure an expiry client with short-lived tokens (TOLLGATE_EXPIRY_CLIENT_ID) or raise --max-expiry-wait", tr.ExpiresIn, f.Config.MaxExpiryWait)
		}
		ginkgo.AddReportEntry("expiry-strategy", pa.strategy(strategy))
		return creds, tr, life
	}
	use := func(ctx ginkgo.SpecContext, g Gomega, token string) *probe.Exchange {
		ex, err := f.Call(ctx, target(), "", "Bearer "+token)
		return framework.Sent(g, ex, err)
	}
	// timedUse uses token and brackets the use on pa's timeline.
	// Whether the token works is judged against the route's answers to a
	// live and an unknown token (live), not by the status alone.
	timedUse := func(ctx ginkgo.SpecContext, g Gomega, pa *passage, live *routeAnswers, token string) tokenUse {
		sent := pa.now(ctx)
		ex := use(ctx, g, token)
		return tokenUse{sent: sent, answered: pa.now(ctx), status: ex.Status, works: live.accepted(ex)}
	}
	// outlive lets time pass to a second after the token's latest possible
	// exp, then uses it once a second until it is refused. It fails when a
	// use sent after the deadline (exp + leeway, see tokenLife) still
	// works, and ends NOT VERIFIED when --max-expiry-wait runs out first
	// (waiting only: a moved clock costs no time). It returns the refusal
	// and the grace the token was seen to get: how long after its latest
	// exp an accepted use was sent (a lower bound, so a held-up probe never
	// inflates it).
	outlive := func(ctx ginkgo.SpecContext, g Gomega, pa *passage, token string, life tokenLife) (*probe.Exchange, time.Duration) {
		deadline := life.deadline(f.Config.Leeway)
		limit := time.Now().Add(f.Config.MaxExpiryWait)
		// How the route answers this token while it lives: "still works"
		// is answered like that, not "any status under 400" (a route
		// that answers valid tokens 403 by design would make every
		// expired token look refused).
		live := observeRouteWith(ctx, g, f, target(), token)
		if !live.tokenWorks() {
			framework.Inconclusive("the token is refused like an unknown one before it expires, so its refusal after exp would prove nothing (BEAR-001 and EXP-004 judge that)")
		}
		live.needUnknownRefused() // else an expired token is just another unknown one: BEAR-004's finding
		pa.until(ctx, life.latestExp().Add(time.Second))
		var grace time.Duration
		for {
			sent := pa.now(ctx)
			last := use(ctx, g, token)
			if !live.accepted(last) {
				return last, grace
			}
			grace = max(grace, sent.Sub(life.latestExp()))
			switch {
			case sent.After(deadline):
				g.Expect(live.accepted(last)).To(BeFalse(), "the token still works (%d, as before exp) %v after it expired (allowed leeway %v)", last.Status, grace.Round(time.Second), f.Config.Leeway)
			case !pa.controlled() && time.Now().After(limit):
				framework.NotVerified("the token still worked %v after exp, within the leeway of %v, when --max-expiry-wait ran out", grace.Round(time.Second), f.Config.Leeway)
			}
			pa.until(ctx, nextProbe(sent, deadline, time.Second))
			if ctx.Err() != nil {
				framework.Inconclusive("interrupted while waiting for a token to expire")
			}
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
			_, tr, tl := expiring(ctx, g, life)
			if !tryToken(ctx, g, f, target(), tr.AccessToken).tokenWorks() {
				framework.Inconclusive("a fresh token was refused, so its refusal after exp would prove nothing (EXP-004 and BEAR-001 judge that)")
			}
			rejected, grace = outlive(ctx, g, life, tr.AccessToken, tl)
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

	// EXP-010 uses its token every tenth of its lifetime (useInterval)
	// from issuance until its deadline (issued + expires_in + leeway, the
	// first use's, never the last's) is over, then judges the use sent
	// after it (judgeSlide). A twin issued just before and left unused
	// tells sliding from expiry not enforced at all (EXP-005's).
	r.CheckIt("EXP-010", func(ctx ginkgo.SpecContext, g Gomega) {
		pa := newPassage(ctx, f)
		live := observeRoute(ctx, g, f, target())
		if !live.tokenWorks() {
			framework.Inconclusive("the primary token is refused like an unknown one, so a refusal after exp would prove nothing (BEAR-001 judges that)")
		}
		creds, twin, twinLife := expiring(ctx, g, pa)
		tr, life := issue(ctx, g, pa, creds)
		if tr.ExpiresIn == 0 {
			framework.NotVerified("the second token response advertises no lifetime, so there is no expiry to test")
		}
		deadline := life.deadline(f.Config.Leeway)
		every := useInterval(life.lifetime, pa.controlled())
		limit := time.Now().Add(f.Config.MaxExpiryWait)
		var uses []tokenUse
		for {
			u := timedUse(ctx, g, pa, live, tr.AccessToken)
			uses = append(uses, u)
			if !u.accepted() || u.sent.After(deadline) || (!pa.controlled() && time.Now().After(limit)) {
				break
			}
			pa.until(ctx, nextProbe(u.sent, deadline, every))
			if ctx.Err() != nil {
				framework.Inconclusive("interrupted while using a token until its deadline")
			}
		}
		outcome, why := judgeSlide(life, f.Config.Leeway, uses)
		ginkgo.AddReportEntry("expiry-schedule", fmt.Sprintf("used %d times, every %v, until %v past the token's latest exp; widest gap %v",
			len(uses), every, f.Config.Leeway+time.Second, widestGap(uses).Round(time.Millisecond)))
		switch outcome {
		case slideNotSeen:
			return
		case slideUnknown:
			framework.Inconclusive("%s", why)
		case slideNeverWorked, slideWaitRanOut, slideUnclearRefusal:
			framework.NotVerified("%s", why)
		}
		// Seen: unless the twin, unused since issuance, works past its own
		// deadline too, which is expiry not enforced at all.
		stillWorks := uses[len(uses)-1].accepted()
		if twin.AccessToken != tr.AccessToken {
			if late := timedUse(ctx, g, pa, live, twin.AccessToken); late.accepted() && late.sent.After(twinLife.deadline(f.Config.Leeway)) {
				framework.NotVerified("a token of the same client left unused since its issuance works past its deadline too: expiry is not enforced at all (EXP-005 judges that), so sliding cannot be told apart")
			}
			// Used once more, past its deadline still, so that the
			// evidence shown is the token's, not the twin's refusal.
			timedUse(ctx, g, pa, live, tr.AccessToken)
		}
		g.Expect(stillWorks).To(BeFalse(), "%s", why)
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
		observeRoute(ctx, g, f, target()).needUnknownRefused() // else a dead token is just another unknown one: BEAR-004's finding
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
	t, _, err := mintForFlow(ctx, f, ctl, probe.MintRequest{ClientID: f.Config.Client.ID, Defect: "expired"})
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
