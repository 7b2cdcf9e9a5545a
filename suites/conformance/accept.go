package conformance

import (
	"fmt"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega" //nolint:revive // matchers read as prose in checks

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/probe"
)

// unknownToken is the invalid token the route answers are compared with:
// base64url, long enough to look real, issued by nobody.
const unknownToken = "tollgateUnknownToken0123456789abcdefABCDEF0123456"

// routeAnswers is how one protected route answers the three canonical
// requests: the primary (valid) token, an unknown token, and no token.
// It is this suite's single notion of "accepted": every check that asks
// whether a token, a scheme spelling or a forgery was accepted asks it
// here, against these answers.
//
// A real resource server may answer a valid token with something else
// than a 2xx (zitadel's userinfo answers a client-credentials token 403 by
// design, an invalid one 401): what shows a token accepted is that it is
// answered like the valid token and unlike an invalid one.
type routeAnswers struct {
	op                      spec.Operation
	token                   string // the valid token
	valid, invalid, noCreds *probe.Exchange
}

// observeRoute sends the canonical requests to op, with the primary token
// as the valid one.
func observeRoute(ctx ginkgo.SpecContext, g Gomega, f *framework.Framework, op spec.Operation) *routeAnswers {
	tr, err := f.PrimaryToken(ctx)
	framework.Sent(g, nil, err)
	return observeRouteWith(ctx, g, f, op, tr.AccessToken)
}

// observeRouteWith sends the canonical requests to op, with token as the
// valid one.
func observeRouteWith(ctx ginkgo.SpecContext, g Gomega, f *framework.Framework, op spec.Operation, token string) *routeAnswers {
	send := func(auth ...string) *probe.Exchange {
		ex, err := f.Call(ctx, op, "", auth...)
		return framework.Sent(g, ex, err)
	}
	return &routeAnswers{
		op:      op,
		token:   token,
		valid:   send("Bearer " + token),
		invalid: send("Bearer " + unknownToken),
		noCreds: send(),
	}
}

// tryToken sends token to op and, unless it gets a 2xx, an unknown token
// too: enough for tokenWorks, which is all the answers hold (noCreds and,
// after a 2xx, invalid are nil). For a token other than the primary one,
// judged by itself (a fresh, re-issued or revoked token).
func tryToken(ctx ginkgo.SpecContext, g Gomega, f *framework.Framework, op spec.Operation, token string) *routeAnswers {
	send := func(t string) *probe.Exchange {
		ex, err := f.Call(ctx, op, "", "Bearer "+t)
		return framework.Sent(g, ex, err)
	}
	r := &routeAnswers{op: op, token: token, valid: send(token)}
	if r.valid.Status >= 300 {
		r.invalid = send(unknownToken)
	}
	return r
}

// acceptedStatus is the rule, on statuses alone: a 2xx is always an
// acceptance; otherwise got counts as accepted when it matches the valid
// token's answer and not the invalid token's, by status class where the
// classes differ (200 vs 401) and by exact status where only the status
// tells them apart (403 vs 401). When valid and invalid get the same
// status, nothing but a 2xx shows a token accepted.
func acceptedStatus(valid, invalid, got int) bool {
	switch {
	case got < 300:
		return true
	case valid == invalid:
		return false
	case valid/100 != invalid/100:
		return got/100 == valid/100
	default:
		return got == valid
	}
}

// accepted reports whether ex, a variant request to the same route, was
// answered like the valid token: see acceptedStatus.
func (r *routeAnswers) accepted(ex *probe.Exchange) bool {
	return acceptedStatus(r.valid.Status, r.invalid.Status, ex.Status)
}

// tokenWorks reports whether some answer shows the valid token accepted:
// a 2xx, or a status that differs from the invalid token's.
func (r *routeAnswers) tokenWorks() bool {
	return r.valid.Status < 300 || (r.invalid != nil && r.valid.Status != r.invalid.Status)
}

// enforces reports whether the route refuses a request without any token.
func (r *routeAnswers) enforces() bool { return !r.accepted(r.noCreds) }

// validToken is the valid token the answers were observed with.
func (r *routeAnswers) validToken() string { return r.token }

// refusesUnknown reports whether the route refuses the unknown token.
func (r *routeAnswers) refusesUnknown() bool { return !r.accepted(r.invalid) }

// needUnknownRefused ends a check about refusing a bad or forged token
// INCONCLUSIVE when the route accepts a token nobody issued: BEAR-004
// reports that once, and any forgery would be accepted for that reason.
func (r *routeAnswers) needUnknownRefused() {
	if !r.refusesUnknown() {
		framework.Inconclusive("the route accepts a token nobody issued (%s answers an unknown token %d, the valid token %d): see BEAR-004", r.route(), r.invalid.Status, r.valid.Status)
	}
}

// route names the route for messages.
func (r *routeAnswers) route() string { return r.op.Method + " " + r.op.Path }

// needWorkingToken ends a check that needs a working token INCONCLUSIVE
// when the route answers the valid token like an invalid one: BEAR-001
// reports that once.
func (r *routeAnswers) needWorkingToken() {
	if !r.tokenWorks() {
		framework.Inconclusive("the valid token gets %d on %s, as an unknown token does, so no answer there shows a token accepted: see BEAR-001", r.valid.Status, r.route())
	}
}

// needEnforcement ends a check about refusing bad credentials
// INCONCLUSIVE when the route answers a request without any token like
// the valid token: BEAR-019 reports that once.
func (r *routeAnswers) needEnforcement() {
	if !r.enforces() {
		framework.Inconclusive("the route accepts requests without any token (%s answers %d without one, %d to the valid token): see BEAR-019", r.route(), r.noCreds.Status, r.valid.Status)
	}
}

// compare says how ex was judged, for a message: "got 401 like an
// invalid token; the valid token gets 403".
func (r *routeAnswers) compare(ex *probe.Exchange) string {
	switch {
	case r.accepted(ex) && ex.Status == r.valid.Status:
		return fmt.Sprintf("got %d like the valid token; an unknown token gets %d", ex.Status, r.invalid.Status)
	case r.accepted(ex):
		return fmt.Sprintf("got %d, accepted as the valid token (%d) is; an unknown token gets %d", ex.Status, r.valid.Status, r.invalid.Status)
	case ex.Status == r.invalid.Status:
		return fmt.Sprintf("got %d like an unknown token; the valid token gets %d", ex.Status, r.valid.Status)
	default:
		return fmt.Sprintf("got %d, unlike the valid token (%d); an unknown token gets %d", ex.Status, r.valid.Status, r.invalid.Status)
	}
}

// expectRefusedVariant asserts that ex, the answer to a variant request
// that must not be served, was not answered like the valid token.
func (r *routeAnswers) expectRefusedVariant(g Gomega, ex *probe.Exchange, what string) {
	g.Expect(r.accepted(ex)).To(BeFalse(), "%s was accepted: it %s on %s", what, r.compare(ex), r.route())
}

// expectAcceptedVariant asserts that ex, the answer to a variant request
// that must be served, was answered like the valid token.
func (r *routeAnswers) expectAcceptedVariant(g Gomega, ex *probe.Exchange, what string) {
	g.Expect(r.accepted(ex)).To(BeTrue(), "%s was refused: it %s on %s", what, r.compare(ex), r.route())
}

// expectWorksLikePrimary asserts that token, another valid token than the
// primary one, is accepted on op as the primary token is; INCONCLUSIVE
// when the primary token is not seen working there (BEAR-001).
func expectWorksLikePrimary(ctx ginkgo.SpecContext, g Gomega, f *framework.Framework, op spec.Operation, token, what string) {
	rt := observeRoute(ctx, g, f, op)
	rt.needWorkingToken()
	ex, err := f.Call(ctx, op, "", "Bearer "+token)
	rt.expectAcceptedVariant(g, framework.Sent(g, ex, err), what)
}
