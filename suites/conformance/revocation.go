package conformance

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega" //nolint:revive // matchers read as prose in checks

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/oautherr"
	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/probe"
)

// Kinds of token endpoints the REV and INTRO checks find: the capabilities
// of the same name, which a flow document may mark optional.
const (
	revocationKind    = spec.CapabilityRevocation
	introspectionKind = spec.CapabilityIntrospection
)

// actionEndpoint finds the target's revocation or introspection endpoint:
// the configuration's, else the flow document's, else the one its RFC 8414
// metadata advertises (OAuth 2.0 flows only, and only when the metadata
// issuer matches, RFC 8414 §3.3). With none the check is N/A.
func actionEndpoint(ctx ginkgo.SpecContext, g Gomega, f *framework.Framework, kind string) *probe.ClientOperationEndpoint {
	if ep := findActionEndpoint(ctx, g, f, kind); ep != nil {
		if err := f.Config.MaySendSecretsTo(ep.URL); err != nil {
			// Advertised by metadata: the configuration was checked before.
			framework.NotVerified("the %s endpoint from %s: %v; the check would send client credentials there", kind, ep.Source, err)
		}
		return ep
	}
	framework.NotApplicable("no %[1]s endpoint: the flow document declares none (x-tollgate.%[1]sEndpoint), none is configured (--%[1]s-endpoint, TOLLGATE_%[2]s_ENDPOINT or %[1]s_endpoint in the target file) and no RFC 8414 or OpenID discovery metadata (consulted for OAuth 2.0 flows only) advertises one",
		kind, map[string]string{revocationKind: "REVOCATION", introspectionKind: "INTROSPECTION"}[kind])
	return nil
}

// findActionEndpoint is actionEndpoint returning nil when there is none.
func findActionEndpoint(ctx ginkgo.SpecContext, g Gomega, f *framework.Framework, kind string) *probe.ClientOperationEndpoint {
	configured, op := f.Config.RevocationEndpoint, f.Flow.Revocation
	if kind == introspectionKind {
		configured, op = f.Config.IntrospectionEndpoint, f.Flow.Introspection
	}
	switch {
	case configured != "":
		return &probe.ClientOperationEndpoint{URL: f.Config.EndpointURL(configured), Source: probe.SourceConfiguration, Op: op}
	case op != nil:
		return &probe.ClientOperationEndpoint{URL: f.Config.Target + op.Path, Source: probe.SourceFlowDocument, Op: op}
	}
	if f.Flow.Token.GrantType != "" {
		if d, _ := usableMetadata(ctx, g, f); d != nil {
			if u, ok := d.md[kind+"_endpoint"].(string); ok && u != "" {
				return &probe.ClientOperationEndpoint{URL: u, Source: "the metadata at " + d.url,
					AuthMethods: stringList(d.md[kind+"_endpoint_auth_methods_supported"])}
			}
		}
	}
	return nil
}

// randomToken is a token no server issued.
func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return "tollgate-unknown-" + hex.EncodeToString(b)
}

// tokenUser issues fresh tokens and uses them on a protected operation.
type tokenUser struct {
	f  *framework.Framework
	op func() spec.Operation
}

func newTokenUser(f *framework.Framework) tokenUser {
	return tokenUser{f: f, op: func() spec.Operation { return probedOperation(f) }}
}

// use calls the protected operation with token and returns the status.
func (u tokenUser) use(ctx ginkgo.SpecContext, g Gomega, token string) int {
	ex, err := u.f.Call(ctx, u.op(), "", "Bearer "+token)
	return framework.Sent(g, ex, err).Status
}

// try uses token on the protected operation and judges, by itself,
// whether it works (tryToken).
func (u tokenUser) try(ctx ginkgo.SpecContext, g Gomega, token string) *routeAnswers {
	return tryToken(ctx, g, u.f, u.op(), token)
}

// fresh issues a token of its own for the primary client (never the cached
// primary token, which other checks use) and shows that it works.
func (u tokenUser) fresh(ctx ginkgo.SpecContext, g Gomega, c framework.Credentials) string {
	tr, _, err := u.f.Token(ctx, c)
	if errors.Is(err, probe.ErrInconclusive) {
		framework.Inconclusive("%v", err)
	}
	if err != nil {
		framework.NotVerified("no fresh token to work with: %v (the TOK checks judge the token endpoint)", err)
	}
	if tried := u.try(ctx, g, tr.AccessToken); !tried.tokenWorks() {
		framework.NotVerified("a fresh token was refused (status %d, as an unknown token), so its refusal later proves nothing (BEAR-001 judges that)", tried.valid.Status)
	}
	return tr.AccessToken
}

// RevocationChecks defines the REV checks for r's flow: RFC 7009 token
// revocation. They run when the flow document declares a revocation
// endpoint, the configuration names one, or RFC 8414 metadata advertises
// one. Each revokes tokens it issued itself.
func RevocationChecks(r *framework.Registrar) {
	f := r.F
	u := newTokenUser(f)
	revoke := func(ctx ginkgo.SpecContext, g Gomega, ep *probe.ClientOperationEndpoint, c framework.Credentials, token string) *probe.Exchange {
		ex, err := f.CallClientOperation(ctx, ep, probe.ClientOperationRequest{Client: c, Token: token, Hint: "access_token"})
		return framework.Sent(g, ex, err)
	}

	r.CheckIt("REV-001", func(ctx ginkgo.SpecContext, g Gomega) {
		ep := offeredEndpoint(ctx, g, f, revocationKind, "REV-001")
		token := u.fresh(ctx, g, f.Config.Client)
		ex := revoke(ctx, g, ep, f.Config.Client, token)
		if ex.Status == http.StatusBadRequest && isErrorCode(ex, oautherr.UnsupportedTokenType) {
			// RFC 7009 §2: servers "SHOULD support the revocation of access
			// tokens"; §2.2.1 gives this answer to those that do not.
			framework.Warn("the server does not revoke access tokens (400 unsupported_token_type): RFC 7009 §2 SHOULD")
			return
		}
		// RFC 7009 §2.2: "The authorization server responds with HTTP
		// status code 200 if the token has been revoked successfully".
		g.Expect(ex.Status).To(Equal(http.StatusOK), "revoking a valid access token at %s (from %s)", ep.URL, ep.Source)
	})

	r.CheckIt("REV-002", func(ctx ginkgo.SpecContext, g Gomega) {
		ep := offeredEndpoint(ctx, g, f, revocationKind, "REV-002")
		if status := u.use(ctx, g, randomToken()); status < 300 {
			framework.NotVerified("the protected operation accepts a token the server never issued (status %d; BEAR-004 judges that), so a revoked token working proves nothing", status)
		}
		token := u.fresh(ctx, g, f.Config.Client)
		if ex := revoke(ctx, g, ep, f.Config.Client, token); ex.Status != http.StatusOK {
			framework.NotVerified("the revocation was not accepted (status %d; REV-001 judges that)", ex.Status)
		}
		// RFC 7009 §2.1: "the token cannot be used again after the
		// revocation. In practice, there could be a propagation delay".
		// Only whether it still works: the status of the refusal is
		// BEAR-004's to judge. The delay counts from the revocation's
		// answer, and the verdict from a use sent after it is over
		// (pollUntilDead).
		prop := f.Config.RevocationPropagation
		dead := pollUntilDead(ctx, time.Now().Add(prop), pollInterval(prop), func() bool {
			return !u.try(ctx, g, token).tokenWorks()
		})
		g.Expect(dead).To(BeTrue(), "the revoked token still works more than %v after its revocation (revocation_propagation)", prop)
	})

	r.CheckIt("REV-003", func(ctx ginkgo.SpecContext, g Gomega) {
		ep := offeredEndpoint(ctx, g, f, revocationKind, "REV-003")
		ex := revoke(ctx, g, ep, f.Config.Client, randomToken())
		// RFC 7009 §2.2: 200 "if the client submitted an invalid token".
		g.Expect(ex.Status).To(Equal(http.StatusOK), "revoking a token the server never issued")
	})

	r.CheckIt("REV-004", func(ctx ginkgo.SpecContext, g Gomega) {
		ep := offeredEndpoint(ctx, g, f, revocationKind, "REV-004")
		token := u.fresh(ctx, g, f.Config.Client)
		wrong := framework.Credentials{ID: f.Config.Client.ID, Secret: f.Config.Client.Secret + "-wrong"}
		ex := revoke(ctx, g, ep, wrong, token)
		// RFC 7009 §2.1: the server "first validates the client
		// credentials"; RFC 6749 §5.2 invalid_client, 400 or 401.
		g.Expect(ex.Status).To(BeElementOf(http.StatusBadRequest, http.StatusUnauthorized), "a revocation with a wrong client secret")
		expectErrorCode(g, ex, oautherr.InvalidClient)
		if ex.Status == http.StatusUnauthorized {
			// RFC 9110 §11.6.1: a 401 "MUST send a WWW-Authenticate header field".
			g.Expect(ex.Header.Values("WWW-Authenticate")).NotTo(BeEmpty(), "a 401 without a challenge")
		}
		g.Expect(u.try(ctx, g, token).tokenWorks()).To(BeTrue(), "a revocation with a wrong secret revoked the token")
	})

	r.CheckIt("REV-005", func(ctx ginkgo.SpecContext, g Gomega) {
		ep := offeredEndpoint(ctx, g, f, revocationKind, "REV-005")
		if f.Config.Client2.IsZero() {
			framework.NotVerified("REV-005 needs a second client of the target: set client2 in the target file, or --client2-id with TOLLGATE_CLIENT2_SECRET")
		}
		token := u.fresh(ctx, g, f.Config.Client)
		ex := revoke(ctx, g, ep, f.Config.Client2, token)
		if e, _ := errorOf(ex); e != nil && e.Code == oautherr.InvalidClient {
			framework.NotVerified("client2 %q could not authenticate at the revocation endpoint (status %d): check its credentials", f.Config.Client2.ID, ex.Status)
		}
		// RFC 7009 §2.1: "verifies whether the token was issued to the
		// client making the revocation request. If this validation fails,
		// the request is refused".
		g.Expect(u.try(ctx, g, token).tokenWorks()).To(BeTrue(), "client2 %q revoked a token issued to %q", f.Config.Client2.ID, f.Config.Client.ID)
		if ex.Status == http.StatusOK {
			framework.Warn("the refused revocation answered 200: RFC 7009 §2.1 says the client \"is informed of the error\"")
		}
	})
}

// pollInterval polls about ten times within d, and no more often than
// every 100 ms.
func pollInterval(d time.Duration) time.Duration {
	return max(d/10, 100*time.Millisecond)
}
