package conformance

import (
	"fmt"
	"net/http"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega" //nolint:revive // matchers read as prose in checks

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/oautherr"
	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/probe"
)

// offerJudge names, for a kind of client operation, the one check that
// fails when a required endpoint is not offered; the others of its area are
// then NOT VERIFIED, so that one missing endpoint gives one FAIL.
func offerJudge(kind string) string {
	switch kind {
	case introspectionKind:
		return "INTRO-002" // a live token is active: the endpoint works at all
	case spec.CapabilityGraphQL:
		return "GQL-004" // a valid token gets data: the endpoint works at all
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
		if !judgesUnauthenticated(id) && clientRefused(ex) {
			refusedClient(g, f, kind, id, ep, ex)
		}
		return ep
	}
	optional := ep.Source == probe.SourceFlowDocument && f.Flow.IsOptional(kind)
	advertised := optional && !f.Config.Requires(kind) && advertises(ctx, g, f, kind)
	why := requiredBecause(kind, ep.Source, optional, f.Config.Requires(kind), advertised)
	if why == "" {
		framework.NotApplicable("not offered: %s answered %d (the flow document marks %s optional, x-tollgate.optional; --require %s makes its absence a FAIL)",
			ep.URL, ex.Status, kind, kind)
	}
	notOffered(g, kind, id, fmt.Sprintf("the %s endpoint %s (from %s) answered %d %s", kind, ep.URL, ep.Source, ex.Status, http.StatusText(ex.Status)), why)
	return ep
}

// judgesUnauthenticated reports whether check id, of revocation or
// introspection, judges requests sent without client credentials: it needs
// no client the endpoint admits.
func judgesUnauthenticated(id string) bool { return id == "REV-004" || id == "INTRO-001" }

// clientRefused reports whether the endpoint refused the configured client
// itself rather than the unknown token it was sent: an RFC 6749 §5.2
// invalid_client or unauthorized_client code, or a 401 with no error code
// to say otherwise (RFC 7009 §2.2 and RFC 7662 §2.2 answer an unknown
// token with 200, so any other refusal is the token checks' to judge).
func clientRefused(ex *probe.Exchange) bool {
	if e, err := oautherr.Parse(ex.Body); err == nil && e.Code != "" {
		return ex.Status >= 400 && (e.Code == "invalid_client" || e.Code == "unauthorized_client")
	}
	return ex.Status == http.StatusUnauthorized
}

// refusedClient ends check id when the endpoint refuses the configured
// client. RFC 7009 §2.1 and RFC 7662 §2.1 leave it to the server which
// clients may revoke or introspect, so an endpoint found only in the
// target's metadata that refuses this client cannot be judged with it (NOT
// VERIFIED, for every check of the kind); one the flow document declares,
// or the user requires, is promised to this client: its judge FAILs once
// and the others are NOT VERIFIED.
func refusedClient(g Gomega, f *framework.Framework, kind, id string, ep *probe.ClientOperationEndpoint, ex *probe.Exchange) {
	what := fmt.Sprintf("the %s endpoint %s (from %s) refused client %q with %d", kind, ep.URL, ep.Source, f.Config.Client.ID, ex.Status)
	if ep.Source != probe.SourceFlowDocument && ep.Source != probe.SourceConfiguration && !f.Config.Requires(kind) {
		framework.NotVerified("%s: the server may choose which clients use it (RFC 7009 §2.1, RFC 7662 §2.1); declare the endpoint in the flow document, or configure a client it admits, to judge it", what)
	}
	if judge := offerJudge(kind); id != judge {
		framework.NotVerified("%s; %s judges that", what, judge)
	}
	admitted := false
	g.Expect(admitted).To(BeTrue(), "%s, which %s: the client cannot use the endpoint it was promised", what, requiredBecause(kind, ep.Source, false, f.Config.Requires(kind), false))
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
	case source == probe.SourceFlowDocument:
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
