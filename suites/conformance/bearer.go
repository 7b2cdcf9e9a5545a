package conformance

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega" //nolint:revive // matchers read as prose in checks

	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/authheader"
	"github.com/tollgate/tollgate/spec/oautherr"
	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/probe"
)

// BearerChecks defines the BEAR checks for r's flow, probing its protected
// operations.
func BearerChecks(r *framework.Registrar) {
	f := r.F
	protected := f.Protected()
	target := func() spec.Operation { return probedOperation(f) }
	call := func(ctx ginkgo.SpecContext, g Gomega, op spec.Operation, query string, auth ...string) *probe.Exchange {
		ex, err := f.Call(ctx, op, query, auth...)
		return framework.Sent(g, ex, err)
	}
	// observe sends the canonical requests to the probed route: what every
	// "was it accepted?" below is judged against (routeAnswers).
	observe := func(ctx ginkgo.SpecContext, g Gomega) *routeAnswers {
		return observeRoute(ctx, g, f, target())
	}
	expectRefused := func(g Gomega, ex *probe.Exchange, what string) {
		g.Expect(ex.Status).To(And(BeNumerically(">=", 400), BeNumerically("<", 500)), "%s must be refused with a 4xx", what)
	}

	r.CheckIt("BEAR-001", func(ctx ginkgo.SpecContext, g Gomega) {
		// The one place a valid token refused everywhere is a finding: the
		// checks that need a working token end INCONCLUSIVE pointing here.
		rt := observe(ctx, g)
		g.Expect(rt.tokenWorks()).To(BeTrue(), "the valid token gets %d on %s, as an unknown token does: no answer shows it accepted (RFC 6750 §2.1: resource servers MUST support the Authorization header)", rt.valid.Status, rt.route())
	})

	r.CheckIt("BEAR-002", func(ctx ginkgo.SpecContext, g Gomega) {
		rt := observe(ctx, g) // its last request is the one without credentials
		rt.needEnforcement()
		g.Expect(rt.noCreds.Status).To(Equal(http.StatusUnauthorized), "a request without credentials")
		bearerChallenge(g, rt.noCreds)
	})

	r.CheckIt("BEAR-003", func(ctx ginkgo.SpecContext, g Gomega) {
		ex := call(ctx, g, target(), "")
		c := challengeOrNotVerified(g, ex)
		code, has := c.Param("error")
		g.Expect(has).To(BeFalse(), "the challenge to a request without credentials carries error=%q", code)
	})

	r.CheckIt("BEAR-004", func(ctx ginkgo.SpecContext, g Gomega) {
		rt := observe(ctx, g)
		rt.needEnforcement()
		ex := call(ctx, g, target(), "", "Bearer "+unknownToken)
		rt.expectRefusedVariant(g, ex, "an unknown token")
		// Refused: the rest is the SHOULD of RFC 6750 §3.1 (401 and
		// error="invalid_token"), a WARN. A missing challenge is BEAR-002's.
		c, hasChallenge := findChallenge(g, ex, "Bearer")
		code, _ := c.Param("error")
		switch {
		case ex.Status != http.StatusUnauthorized:
			framework.Warn("an unknown token was refused with %d, not 401 (RFC 6750 §3.1 invalid_token: SHOULD respond with 401)", ex.Status)
		case hasChallenge && code != oautherr.InvalidToken:
			framework.Warn("an unknown token was refused with a challenge naming error=%q, not invalid_token (RFC 6750 §3: SHOULD include the error attribute)", code)
		}
	})

	r.CheckIt("BEAR-005", func(ctx ginkgo.SpecContext, g Gomega) {
		rt := observe(ctx, g)
		rt.needEnforcement()
		rt.needUnknownRefused()
		rt.needWorkingToken()
		tok := rt.validToken()
		variants := map[string]string{
			"first character changed": spec.AlterToken(tok, 0),
			"truncated":               tok[:len(tok)-1],
			"extended":                tok + "A",
		}
		if parts := strings.Split(tok, "."); len(parts) == 3 {
			// Not the last character: in base64url its low bits may be
			// padding that decoders ignore, so the signature would be the
			// same and the token, in substance, unmodified.
			variants["JWT payload changed"] = parts[0] + "." + spec.AlterToken(parts[1], len(parts[1])/2) + "." + parts[2]
			variants["JWT signature changed"] = parts[0] + "." + parts[1] + "." + spec.AlterToken(parts[2], len(parts[2])/2)
		} else {
			variants["last character changed"] = spec.AlterToken(tok, len(tok)-1)
		}
		for name, v := range variants {
			f.AddSecret(v)
			rt.expectRefusedVariant(g, call(ctx, g, target(), "", "Bearer "+v), "the token with its "+name)
		}
	})

	r.CheckIt("BEAR-006", func(ctx ginkgo.SpecContext, g Gomega) {
		rt := observe(ctx, g)
		rt.needWorkingToken()
		for _, scheme := range []string{"bearer", "BEARER", "bEaReR"} {
			rt.expectAcceptedVariant(g, call(ctx, g, target(), "", scheme+" "+rt.validToken()), fmt.Sprintf("the valid token after the scheme %q", scheme))
		}
	})

	r.CheckIt("BEAR-007", func(ctx ginkgo.SpecContext, g Gomega) {
		rt := observe(ctx, g)
		rt.needEnforcement()
		rt.needWorkingToken()
		tok := rt.validToken()
		for _, auth := range []string{"Basic " + tok, "Token " + tok, tok, "Bearer" + tok} {
			rt.expectRefusedVariant(g, call(ctx, g, target(), "", auth), fmt.Sprintf("%q", prefix(auth)+"…"))
		}
	})

	r.CheckIt("BEAR-008", func(ctx ginkgo.SpecContext, g Gomega) {
		observe(ctx, g).needEnforcement()
		for _, auth := range []string{"Bearer", "Bearer ", "Bearer    "} {
			expectRefused(g, call(ctx, g, target(), "", auth), "an empty bearer")
		}
	})

	r.CheckIt("BEAR-009", func(ctx ginkgo.SpecContext, g Gomega) {
		rt := observe(ctx, g)
		rt.needEnforcement()
		rt.needUnknownRefused() // then a malformed token is one more unknown one
		for _, auth := range []string{"Bearer a b", `Bearer x"y`, "Bearer " + strings.Repeat("a", 16<<10)} {
			expectRefused(g, call(ctx, g, target(), "", auth), "a token outside b64token")
		}
	})

	r.CheckIt("BEAR-010", func(ctx ginkgo.SpecContext, g Gomega) {
		rt := observe(ctx, g)
		rt.needWorkingToken()
		rt.expectAcceptedVariant(g, call(ctx, g, target(), "", "Bearer   "+rt.validToken()), "the valid token after three spaces (RFC 6750 §2.1: 1*SP)")
	})

	r.CheckIt("BEAR-011", func(ctx ginkgo.SpecContext, g Gomega) {
		rt := observe(ctx, g)
		rt.needEnforcement()
		rt.needWorkingToken()
		ex := call(ctx, g, target(), "access_token="+rt.validToken())
		rt.expectRefusedVariant(g, ex, "the valid token in the access_token query parameter, with no Authorization header,")
	})

	r.CheckIt("BEAR-012", func(ctx ginkgo.SpecContext, g Gomega) {
		rt := observe(ctx, g)
		rt.needEnforcement()
		rt.needWorkingToken()
		ex := call(ctx, g, target(), "access_token="+rt.validToken())
		if !rt.accepted(ex) {
			framework.NotApplicable("the target does not accept a token in the query string: it %s (BEAR-011)", rt.compare(ex))
		}
		if ex.Status >= 300 {
			framework.NotApplicable("the target recognises a token in the query string (it %s, BEAR-011) but serves no 2xx, and RFC 6750 §2.3 asks Cache-Control: private of 2xx answers only", rt.compare(ex))
		}
		g.Expect(cacheDirectives(ex.Header)).To(ContainElement("private"), "a 2xx to a query-string token must be Cache-Control: private")
	})

	r.CheckIt("BEAR-013", func(ctx ginkgo.SpecContext, g Gomega) {
		op := target()
		if op.Method != http.MethodGet {
			framework.NotApplicable("the probed operation is not a GET")
		}
		rt := observe(ctx, g)
		rt.needEnforcement()
		rt.needWorkingToken()
		header := http.Header{"Content-Type": {spec.FormMediaType}, "Accept": {"application/json"}}
		ex, err := f.Do(ctx, http.MethodGet, f.Config.Target+op.ProbePath(), header, []byte("access_token="+url.QueryEscape(rt.validToken())))
		framework.Sent(g, ex, err)
		rt.expectRefusedVariant(g, ex, "a GET carrying the valid token in a form body (RFC 6750 §2.2: the GET method MUST NOT be used)")
	})

	r.CheckIt("BEAR-014", func(ctx ginkgo.SpecContext, g Gomega) {
		rt := observe(ctx, g)
		rt.needEnforcement()
		rt.needWorkingToken()
		tok := rt.validToken()
		ex := call(ctx, g, target(), "access_token="+tok, "Bearer "+tok)
		g.Expect(ex.Status).To(Equal(http.StatusBadRequest), "a token in the header and in the query (RFC 6750 §3.1 invalid_request: SHOULD 400)")
		c := bearerChallenge(g, ex)
		code, _ := c.Param("error")
		g.Expect(code).To(Equal(oautherr.InvalidRequest))
	})

	r.CheckIt("BEAR-015", func(ctx ginkgo.SpecContext, g Gomega) {
		// Hardening: RFC 9110 §5.3 forbids the sender to repeat the
		// field; a server that honours one of two is not wrong by the
		// RFC, only easier to confuse (a WARN, catalog level).
		rt := observe(ctx, g)
		rt.needEnforcement()
		rt.needUnknownRefused()
		rt.needWorkingToken()
		tok := rt.validToken()
		for _, pair := range []struct {
			what string
			auth []string
		}{
			{"two Authorization headers, the valid token's first", []string{"Bearer " + tok, "Bearer garbage"}},
			{"two Authorization headers, the valid token's second", []string{"Bearer garbage", "Bearer " + tok}},
		} {
			rt.expectRefusedVariant(g, call(ctx, g, target(), "", pair.auth...), pair.what)
		}
	})

	r.CheckIt("BEAR-016", func(ctx ginkgo.SpecContext, g Gomega) {
		for _, auth := range [][]string{nil, {"Bearer tollgateUnknownToken0123456789"}} {
			ex := call(ctx, g, target(), "", auth...)
			c := challengeOrNotVerified(g, ex)
			if len(c.Params) == 0 && c.Token68 == "" {
				// Common, and harmless to clients: WARN, not FAIL (catalog F9).
				framework.Warn("a bare Bearer challenge: RFC 6750 section 3 wants at least one auth-param (realm)")
				continue
			}
			counts := map[string]int{}
			for _, p := range c.Params {
				counts[strings.ToLower(p.Name)]++
			}
			for _, name := range []string{"realm", "scope", "error", "error_description", "error_uri"} {
				g.Expect(counts[name]).To(BeNumerically("<=", 1), "%s appears more than once", name)
			}
			if code, ok := c.Param("error"); ok {
				g.Expect(oautherr.ValidCode(code)).To(BeTrue(), "error=%q", code)
			}
		}
	})

	r.CheckIt("BEAR-017", func(ctx ginkgo.SpecContext, g Gomega) {
		// RFC 6750 §3: a request whose access token "does not ... enable
		// access to the protected resource" MUST get WWW-Authenticate. A
		// valid token the probed route refuses with 403 (zitadel's
		// userinfo, for a client-credentials token) is such a request.
		judged := false
		if rt := observe(ctx, g); rt.valid.Status == http.StatusForbidden && rt.tokenWorks() {
			_, ok := findChallenge(g, rt.valid, "Bearer")
			g.Expect(ok).To(BeTrue(), "the valid token is refused with 403 on %s without a Bearer challenge (RFC 6750 §3: MUST include WWW-Authenticate); WWW-Authenticate %q", rt.route(), rt.valid.Header.Values("WWW-Authenticate"))
			judged = true
		}
		skip := func(verdict func(string, ...any), format string, args ...any) {
			if !judged {
				verdict(format, args...)
			}
		}
		scoped := false
		for _, op := range protected {
			scoped = scoped || len(op.Scopes) > 0
		}
		if !scoped {
			skip(framework.NotApplicable, "no operation of the flow document needs a scope")
			return
		}
		if f.Config.ScopedClient.IsZero() {
			skip(framework.NotVerified, "needs a client limited to some scopes: set scoped_client (TOLLGATE_SCOPED_CLIENT_ID/_SECRET)")
			return
		}
		tr, _, err := f.Token(ctx, f.Config.ScopedClient)
		framework.Sent(g, nil, err)
		granted := strings.Fields(tr.Scope)
		var op *spec.Operation
		for i := range protected {
			if len(protected[i].Scopes) > 0 && !protected[i].Allows(granted) {
				op = &protected[i]
				break
			}
		}
		if op == nil {
			skip(framework.NotApplicable, "every protected operation is open to the scoped client's scope %q", tr.Scope)
			return
		}
		ex := call(ctx, g, *op, "", "Bearer "+tr.AccessToken)
		if ex.Status < 300 {
			// A route that serves requests without any token is
			// BEAR-019's fault, reported once there.
			observeRouteWith(ctx, g, f, *op, tr.AccessToken).needEnforcement()
		}
		g.Expect(ex.Status).NotTo(BeNumerically("<", 300), "%s %s answered without the scope it needs", op.Method, op.Path)
		c, ok := findChallenge(g, ex, "Bearer")
		g.Expect(ok).To(BeTrue(), "%s %s refused a token without the scope it needs with %d and no Bearer challenge (RFC 6750 §3: MUST include WWW-Authenticate)", op.Method, op.Path, ex.Status)
		// The status and the code are SHOULDs (RFC 6750 §3.1): a WARN.
		code, _ := c.Param("error")
		switch {
		case ex.Status != http.StatusForbidden:
			framework.Warn("a token without the scope %s %s needs was refused with %d, not 403 (RFC 6750 §3.1 insufficient_scope: SHOULD respond with 403)", op.Method, op.Path, ex.Status)
		case code != oautherr.InsufficientScope:
			framework.Warn("a token without the scope %s %s needs was refused with error=%q, not insufficient_scope (RFC 6750 §3.1)", op.Method, op.Path, code)
		}
	})

	r.CheckIt("BEAR-018", func(ctx ginkgo.SpecContext, g Gomega) {
		for _, auth := range [][]string{nil, {"Bearer tollgateUnknownToken0123456789"}} {
			ex := call(ctx, g, target(), "", auth...)
			g.Expect(ex.Status).NotTo(Equal(http.StatusForbidden), "a missing or invalid token must get 401, not 403 (RFC 9110 §15.5.4)")
		}
	})

	r.CheckIt("BEAR-019", func(ctx ginkgo.SpecContext, g Gomega) {
		// The owner of "the route enforces nothing": the checks of subtler
		// bypasses end INCONCLUSIVE pointing here. Only enforcement is
		// judged; the status of a refusal is BEAR-002's and BEAR-004's.
		// An unknown token accepted on the probed route is BEAR-004's, and
		// then a fault of the whole server: the other routes are judged
		// on it only when the probed route refuses it.
		if len(protected) == 0 {
			framework.NotApplicable("the flow document protects no operation")
		}
		probed := target()
		unknownIsBEAR004 := !observe(ctx, g).refusesUnknown()
		for _, op := range protected {
			rt := observeRoute(ctx, g, f, op)
			rt.expectRefusedVariant(g, rt.noCreds, "a request without any token")
			if !unknownIsBEAR004 && op.Method+" "+op.Path != probed.Method+" "+probed.Path {
				rt.expectRefusedVariant(g, rt.invalid, "an unknown token")
			}
		}
	})

	r.CheckIt("BEAR-020", func(ctx ginkgo.SpecContext, g Gomega) {
		op := target()
		observe(ctx, g).needEnforcement()
		path := op.ProbePath()
		variants := []struct{ method, path string }{
			{op.Method, path + "/"},
			{op.Method, "/" + path},
			{op.Method, strings.ToUpper(path)},
			{op.Method, path + ";x"},
			{op.Method, strings.Replace(path, "/", "/%2e/", 1)},
			{http.MethodHead, path},
		}
		for _, v := range variants {
			ex, err := f.Do(ctx, v.method, f.Config.Target+v.path, http.Header{"Accept": {"application/json"}}, nil)
			framework.Sent(g, ex, err)
			g.Expect(ex.Status).NotTo(BeNumerically("<", 300), "%s %s without a token was served", v.method, v.path)
		}
		ex, err := f.Do(ctx, http.MethodPost, f.Config.Target+path, http.Header{"X-HTTP-Method-Override": {op.Method}}, nil)
		framework.Sent(g, ex, err)
		g.Expect(ex.Status).NotTo(BeNumerically("<", 300), "X-HTTP-Method-Override without a token was served")
	})

	r.CheckIt("BEAR-021", func(ctx ginkgo.SpecContext, g Gomega) {
		rt := observe(ctx, g)
		tok := spec.AlterToken(rt.validToken(), 0)
		ex := call(ctx, g, target(), "", "Bearer "+tok)
		if rt.accepted(ex) {
			framework.NotVerified("an altered token was accepted (it %s), so there is no rejection to inspect (BEAR-005 judges that)", rt.compare(ex))
		}
		g.Expect(string(ex.Body)+headerText(ex.Header)).NotTo(ContainSubstring(tok), "the rejection reflects the token")
	})

	r.CheckIt("BEAR-022", func(ctx ginkgo.SpecContext, g Gomega) {
		// Only the refusal is judged: its status is BEAR-004's.
		rt := observe(ctx, g)
		rt.needEnforcement()
		rt.needUnknownRefused()
		rt.needWorkingToken()
		foreign := foreignToken(ctx, f)
		rt.expectRefusedVariant(g, call(ctx, g, target(), "", "Bearer "+foreign), "a token for another audience")
	})

	r.CheckIt("BEAR-023", func(ctx ginkgo.SpecContext, g Gomega) {
		// Only whether the credentials were accepted: the status of the
		// refusal is BEAR-004's.
		rt := observe(ctx, g)
		rt.needEnforcement()
		rt.needUnknownRefused()
		c := f.Config.Client
		for _, v := range []struct{ what, auth string }{
			{"the client's id and secret as Basic credentials", authheader.FormatBasic(c.ID, c.Secret)},
			{"the client secret as a Bearer token", "Bearer " + c.Secret},
		} {
			rt.expectRefusedVariant(g, call(ctx, g, target(), "", v.auth), v.what)
		}
	})

	r.CheckIt("BEAR-024", func(ctx ginkgo.SpecContext, g Gomega) {
		ex := call(ctx, g, target(), "")
		if ex.Status != http.StatusUnauthorized && ex.Status != http.StatusForbidden {
			framework.NotVerified("the target answered %d, not 401, to a request without credentials (BEAR-002)", ex.Status)
		}
		g.Expect(cacheDirectives(ex.Header)).To(Or(ContainElement("no-store"), ContainElement("private")), "Cache-Control %q on a 401", ex.Header.Values("Cache-Control"))
	})
}

// findChallenge returns the challenge of a scheme, if any.
func findChallenge(g Gomega, ex *probe.Exchange, scheme string) (authheader.Challenge, bool) {
	return authheader.Find(challenges(g, ex), scheme)
}

// foreignToken is BEAR-022's token for another audience: the configured
// one, else one the target's control API mints (a JWT for another
// audience, or a token of another flow the target serves), else the check
// ends NOT VERIFIED naming the remedy.
func foreignToken(ctx ginkgo.SpecContext, f *framework.Framework) string {
	if t := f.Config.ForeignToken; t != "" {
		f.AddSecret(t)
		return t
	}
	const remedy = "needs a live token the target issued for another audience or resource server: set foreign_token (TOLLGATE_FOREIGN_TOKEN)"
	ctl := f.Control()
	if ctl == nil {
		framework.NotVerified(remedy)
	}
	t, same, err := mintForFlow(ctx, f, ctl, probe.MintRequest{ClientID: f.Config.Client.ID, Defect: "wrong-audience"})
	if err == nil {
		ginkgo.AddReportEntry("foreign-token", "minted through the target's control API for another audience")
		return t.AccessToken
	}
	for _, other := range builtinFlows() {
		if slices.Contains(same, other) {
			continue
		}
		if t, err := ctl.Mint(ctx, probe.MintRequest{Flow: other}); err == nil {
			ginkgo.AddReportEntry("foreign-token", "minted through the target's control API for flow "+other)
			return t.AccessToken
		}
	}
	framework.NotVerified("%s; the target's control API minted none for another audience (%v) nor for another built-in flow", remedy, err)
	return ""
}

// builtinFlows names the flows a Tollgate mock serves unless told
// otherwise: one document "<flow>.yaml" each in openapi.FS.
func builtinFlows() []string {
	entries, err := fs.ReadDir(openapi.FS(), ".")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
			out = append(out, name)
		}
	}
	return out
}
