package conformance

import (
	"fmt"
	"net/http"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega" //nolint:revive // matchers read as prose in checks

	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/probe"
)

// offerJudge names, for a kind of client operation, the one check that
// fails when a required endpoint is not offered; the others of its area are
// then NOT VERIFIED, so that one missing endpoint gives one FAIL.
func offerJudge(kind string) string {
	if kind == introspectionKind {
		return "INTRO-002" // a live token is active: the endpoint works at all
	}
	return "REV-001" // revoking a valid token gives 200
}

// offeredEndpoint is actionEndpoint for the check id, which also makes sure
// the target offers the endpoint. It sends one harmless request (an unknown
// token, with the primary client's credentials: RFC 7009 §2.2 and RFC 7662
// §2.2 answer it with 200). An answer of 404 or 405 means the endpoint is
// not offered: the check is N/A when the flow document marks the capability
// optional and nothing requires it; otherwise the kind's judge fails and
// the other checks are NOT VERIFIED.
func offeredEndpoint(ctx ginkgo.SpecContext, g Gomega, f *framework.Framework, kind, id string) *probe.ClientOperationEndpoint {
	if f.Config.Requires(kind) && findActionEndpoint(ctx, g, f, kind) == nil {
		notOffered(g, kind, id, "no "+kind+" endpoint is known: the flow document declares none, none is configured and no metadata advertises one",
			requiredBecause(kind, "", false, true, false))
	}
	ep := actionEndpoint(ctx, g, f, kind)
	ex, err := f.CallClientOperation(ctx, ep, probe.ClientOperationRequest{Client: f.Config.Client, Token: randomToken(), Hint: "access_token"})
	framework.Sent(g, ex, err)
	if ex.Status != http.StatusNotFound && ex.Status != http.StatusMethodNotAllowed {
		return ep
	}
	optional := ep.Source == "the flow document" && f.Flow.IsOptional(kind)
	advertised := optional && !f.Config.Requires(kind) && advertises(ctx, g, f, kind)
	why := requiredBecause(kind, ep.Source, optional, f.Config.Requires(kind), advertised)
	if why == "" {
		framework.NotApplicable("not offered: %s answered %d (the flow document marks %s optional, x-tollgate.optional; --require %s makes its absence a FAIL)",
			ep.URL, ex.Status, kind, kind)
	}
	notOffered(g, kind, id, fmt.Sprintf("the %s endpoint %s (from %s) answered %d %s", kind, ep.URL, ep.Source, ex.Status, http.StatusText(ex.Status)), why)
	return ep
}

// notOffered ends check id for a required endpoint the target does not
// offer: a FAIL for the kind's judge, NOT VERIFIED for the others.
func notOffered(g Gomega, kind, id, what, why string) {
	if judge := offerJudge(kind); id != judge {
		framework.NotVerified("the target does not offer %s: %s; %s judges that", kind, what, judge)
	}
	offered := false
	g.Expect(offered).To(BeTrue(), "%s is required, because %s, but %s: the server does not offer it", kind, why, what)
}

// requiredBecause says why an endpoint that answers 404 or 405 must exist,
// or "" when its absence is allowed: the flow document marks it optional
// (optional is false for an endpoint found anywhere else), the user does
// not require it and the target's metadata does not advertise it.
func requiredBecause(kind, source string, optional, required, advertised bool) string {
	switch {
	case required:
		return "--require " + kind + " (or require: in the target file) asks for it"
	case advertised:
		return "the target's metadata advertises a " + kind + "_endpoint"
	case optional:
		return ""
	case source == "the flow document":
		return "the flow document declares it and does not mark it optional (x-tollgate.optional)"
	default:
		return source + " names it"
	}
}

// advertises reports whether the target's usable metadata (RFC 8414 or
// OpenID discovery, consulted for OAuth 2.0 flows only, as
// findActionEndpoint does) names kind's endpoint: a server that says it
// offers an endpoint must offer it.
func advertises(ctx ginkgo.SpecContext, g Gomega, f *framework.Framework, kind string) bool {
	if f.Flow.Token.GrantType == "" {
		return false
	}
	d, _ := usableMetadata(ctx, g, f)
	if d == nil {
		return false
	}
	u, ok := d.md[kind+"_endpoint"].(string)
	return ok && u != ""
}
