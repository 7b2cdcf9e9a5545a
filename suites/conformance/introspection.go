package conformance

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega" //nolint:revive // matchers read as prose in checks

	"github.com/tollgate/tollgate/spec/oautherr"
	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/probe"
)

// IntrospectionChecks defines the INTRO checks for r's flow: RFC 7662 token
// introspection. They run when the flow document declares an introspection
// endpoint, the configuration names one, or RFC 8414 metadata advertises
// one.
func IntrospectionChecks(r *framework.Registrar) {
	f := r.F
	u := newTokenUser(f)
	introspect := func(ctx ginkgo.SpecContext, g Gomega, ep *probe.ClientOperationEndpoint, auth, token string) *probe.Exchange {
		ex, err := f.CallClientOperation(ctx, ep, probe.ClientOperationRequest{Client: f.Config.Client, Auth: auth, Token: token, Hint: "access_token"})
		return framework.Sent(g, ex, err)
	}
	// answer parses an introspection response: a 200 with a JSON object.
	answer := func(g Gomega, ex *probe.Exchange, what string) map[string]json.RawMessage {
		g.Expect(ex.Status).To(Equal(http.StatusOK), "introspecting %s", what)
		var doc map[string]json.RawMessage
		g.Expect(json.Unmarshal(ex.Body, &doc)).To(Succeed(), "introspecting %s: the answer is not a JSON object", what)
		return doc
	}
	// inactive asserts RFC 7662 §2.2 for a dead token and warns about
	// anything said besides active.
	inactive := func(g Gomega, ex *probe.Exchange, what string) {
		doc := answer(g, ex, what)
		g.Expect(string(doc["active"])).To(Equal("false"), "%s is not \"active\": false (RFC 7662 §2.2)", what)
		var extra []string
		for k := range doc {
			if k != "active" {
				extra = append(extra, k)
			}
		}
		if len(extra) > 0 {
			sort.Strings(extra)
			framework.Warn("the answer for %s says more than active: %s (RFC 7662 §2.2 \"SHOULD NOT include any additional information about an inactive token\")", what, strings.Join(extra, ", "))
		}
	}

	r.CheckIt("INTRO-001", func(ctx ginkgo.SpecContext, g Gomega) {
		ep := offeredEndpoint(ctx, g, f, introspectionKind, "INTRO-001")
		tr, err := f.PrimaryToken(ctx)
		framework.Sent(g, nil, err)
		ex := introspect(ctx, g, ep, "none", tr.AccessToken)
		// RFC 7662 §2.1: "To prevent token scanning attacks, the endpoint
		// MUST also require some form of authorization to access this
		// endpoint"; §2.3: invalid client credentials get 401.
		var doc map[string]json.RawMessage
		if json.Unmarshal(ex.Body, &doc) == nil {
			g.Expect(string(doc["active"])).NotTo(Equal("true"), "an unauthenticated caller learned that a token is active")
		}
		g.Expect(ex.Status).To(BeNumerically(">=", 400), "introspection without client authentication at %s (from %s) was answered", ep.URL, ep.Source)
		switch {
		case ex.Status == http.StatusUnauthorized:
			g.Expect(ex.Header.Values("WWW-Authenticate")).NotTo(BeEmpty(), "a 401 without a challenge (RFC 9110 §11.6.1)")
		case ex.Status == http.StatusBadRequest && isErrorCode(ex, oautherr.InvalidClient):
			// RFC 6749 §5.2 lets invalid_client be a 400 when the client
			// did not try HTTP Basic; the request was refused.
		default:
			framework.Warn("introspection without client authentication was refused with %d, not 401 (RFC 7662 §2.3) or 400 invalid_client", ex.Status)
		}
	})

	r.CheckIt("INTRO-002", func(ctx ginkgo.SpecContext, g Gomega) {
		ep := offeredEndpoint(ctx, g, f, introspectionKind, "INTRO-002")
		tr, err := f.PrimaryToken(ctx)
		framework.Sent(g, nil, err)
		doc := answer(g, introspect(ctx, g, ep, "", tr.AccessToken), "a live token")
		// RFC 7662 §2.2: active "REQUIRED. Boolean indicator of whether or
		// not the presented token is currently active."
		g.Expect(string(doc["active"])).To(Equal("true"), "a live token is not \"active\": true (a JSON boolean)")
	})

	r.CheckIt("INTRO-003", func(ctx ginkgo.SpecContext, g Gomega) {
		ep := offeredEndpoint(ctx, g, f, introspectionKind, "INTRO-003")
		// RFC 7662 §2.2: "If the introspection call is properly authorized
		// but the token is not active, does not exist on this server, or
		// the protected resource is not allowed to introspect this
		// particular token, then the authorization server MUST return an
		// introspection response with the "active" field set to "false"."
		inactive(g, introspect(ctx, g, ep, "", randomToken()), "an unknown token")

		var unchecked []string
		if rev := findActionEndpoint(ctx, g, f, revocationKind); rev != nil {
			token := u.fresh(ctx, g, f.Config.Client)
			ex, err := f.CallClientOperation(ctx, rev, probe.ClientOperationRequest{Client: f.Config.Client, Token: token, Hint: "access_token"})
			if framework.Sent(g, ex, err).Status == http.StatusOK {
				// Polled as REV-002 polls: judged by an answer to a
				// request sent after revocation_propagation is over.
				prop := f.Config.RevocationPropagation
				var last *probe.Exchange
				pollUntilDead(ctx, time.Now().Add(prop), pollInterval(prop), func() bool {
					last = introspect(ctx, g, ep, "", token)
					return !saysActive(last)
				})
				inactive(g, last, "a revoked token")
			} else {
				unchecked = append(unchecked, "revoked (the revocation was refused)")
			}
		} else {
			unchecked = append(unchecked, "revoked (no revocation endpoint)")
		}

		if token, ok := expiredToken(ctx, g, f); ok {
			inactive(g, introspect(ctx, g, ep, "", token), "an expired token")
		} else {
			unchecked = append(unchecked, "expired (configure an expiry_client whose tokens outlive max_expiry_wait no longer)")
		}
		if len(unchecked) > 0 {
			ginkgo.AddReportEntry("not checked", strings.Join(unchecked, "; "))
		}
	})
}

// saysActive reports whether an introspection answer is a 200 whose
// active member is true: anything else ends a poll for the token's death,
// and the assertions on the answer judge it.
func saysActive(ex *probe.Exchange) bool {
	var doc map[string]json.RawMessage
	return ex.Status == http.StatusOK && json.Unmarshal(ex.Body, &doc) == nil && string(doc["active"]) == "true"
}

// expiredToken issues a token and lets time pass to its exp plus leeway:
// by moving the target's clock (put back after the check), or by waiting
// for an expiry-client token when that fits in max_expiry_wait.
func expiredToken(ctx ginkgo.SpecContext, g Gomega, f *framework.Framework) (string, bool) {
	pa := newPassage(ctx, f)
	creds := f.Config.ExpiryClient
	if creds.IsZero() {
		if !pa.controlled() {
			return "", false
		}
		creds = f.Config.Client
	}
	tr, _, err := f.Token(ctx, creds)
	if err != nil {
		return "", false
	}
	// Issued no later than now: the token is dead, whatever the delays,
	// by now + lifetime + leeway (tokenLife.deadline).
	life := tokenLife{by: pa.now(ctx), lifetime: time.Duration(tr.ExpiresIn) * time.Second}
	if tr.ExpiresIn <= 0 || (!pa.controlled() && life.lifetime+f.Config.Leeway > f.Config.MaxExpiryWait) {
		return "", false
	}
	pa.until(ctx, life.deadline(f.Config.Leeway))
	if ctx.Err() != nil {
		framework.Inconclusive("interrupted while waiting for a token to expire")
	}
	return tr.AccessToken, true
}
