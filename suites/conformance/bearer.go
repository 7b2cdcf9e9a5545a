package conformance

import (
	"io/fs"
	"net/http"
	"net/url"
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
	token := func(ctx ginkgo.SpecContext, g Gomega) string {
		tr, err := f.PrimaryToken(ctx)
		framework.Sent(g, nil, err)
		return tr.AccessToken
	}
	call := func(ctx ginkgo.SpecContext, g Gomega, op spec.Operation, query string, auth ...string) *probe.Exchange {
		ex, err := f.Call(ctx, op, query, auth...)
		return framework.Sent(g, ex, err)
	}
	// refusesAnonymous stops a check as NOT VERIFIED when op serves a
	// request without credentials: BEAR-002 fails that, and a check of a
	// subtler bypass would only repeat it.
	refusesAnonymous := func(ctx ginkgo.SpecContext, g Gomega, op spec.Operation) {
		if ex := call(ctx, g, op, ""); ex.Status < 300 {
			framework.NotVerified("%s %s answers %d without credentials (BEAR-002 judges that)", op.Method, op.Path, ex.Status)
		}
	}
	expectUnauthorized := func(g Gomega, ex *probe.Exchange, code string) {
		g.Expect(ex.Status).To(Equal(http.StatusUnauthorized))
		c := bearerChallenge(g, ex)
		if code != "" {
			got, _ := c.Param("error")
			g.Expect(got).To(Equal(code), "challenge %q", ex.Header.Get("WWW-Authenticate"))
		}
	}
	expectRefused := func(g Gomega, ex *probe.Exchange, what string) {
		g.Expect(ex.Status).To(And(BeNumerically(">=", 400), BeNumerically("<", 500)), "%s must be refused with a 4xx", what)
	}

	r.CheckIt("BEAR-001", func(ctx ginkgo.SpecContext, g Gomega) {
		ex := call(ctx, g, target(), "", "Bearer "+token(ctx, g))
		g.Expect(ex.Status).To(BeNumerically("<", 300))
	})

	r.CheckIt("BEAR-002", func(ctx ginkgo.SpecContext, g Gomega) {
		expectUnauthorized(g, call(ctx, g, target(), ""), "")
	})

	r.CheckIt("BEAR-003", func(ctx ginkgo.SpecContext, g Gomega) {
		ex := call(ctx, g, target(), "")
		c := challengeOrNotVerified(g, ex)
		code, has := c.Param("error")
		g.Expect(has).To(BeFalse(), "the challenge to a request without credentials carries error=%q", code)
	})

	r.CheckIt("BEAR-004", func(ctx ginkgo.SpecContext, g Gomega) {
		ex := call(ctx, g, target(), "", "Bearer tollgateUnknownToken0123456789abcdefABCDEF0123456")
		g.Expect(ex.Status).NotTo(BeNumerically("<", 300), "an unknown token was accepted")
		expectUnauthorized(g, ex, oautherr.InvalidToken)
	})

	r.CheckIt("BEAR-005", func(ctx ginkgo.SpecContext, g Gomega) {
		tok := token(ctx, g)
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
			ex := call(ctx, g, target(), "", "Bearer "+v)
			g.Expect(ex.Status).To(Equal(http.StatusUnauthorized), "%s: a modified token must be refused", name)
		}
	})

	r.CheckIt("BEAR-006", func(ctx ginkgo.SpecContext, g Gomega) {
		tok := token(ctx, g)
		for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
			ex := call(ctx, g, target(), "", scheme+" "+tok)
			g.Expect(ex.Status).To(BeNumerically("<", 300), "scheme %q", scheme)
		}
	})

	r.CheckIt("BEAR-007", func(ctx ginkgo.SpecContext, g Gomega) {
		tok := token(ctx, g)
		for _, auth := range []string{"Basic " + tok, "Token " + tok, tok, "Bearer" + tok} {
			ex := call(ctx, g, target(), "", auth)
			g.Expect(ex.Status).NotTo(BeNumerically("<", 300), "%q was accepted", prefix(auth)+"…")
			expectRefused(g, ex, "a wrong scheme")
		}
	})

	r.CheckIt("BEAR-008", func(ctx ginkgo.SpecContext, g Gomega) {
		for _, auth := range []string{"Bearer", "Bearer ", "Bearer    "} {
			expectRefused(g, call(ctx, g, target(), "", auth), "an empty bearer")
		}
	})

	r.CheckIt("BEAR-009", func(ctx ginkgo.SpecContext, g Gomega) {
		for _, auth := range []string{"Bearer a b", `Bearer x"y`, "Bearer " + strings.Repeat("a", 16<<10)} {
			expectRefused(g, call(ctx, g, target(), "", auth), "a token outside b64token")
		}
	})

	r.CheckIt("BEAR-010", func(ctx ginkgo.SpecContext, g Gomega) {
		ex := call(ctx, g, target(), "", "Bearer   "+token(ctx, g))
		g.Expect(ex.Status).To(BeNumerically("<", 300))
	})

	r.CheckIt("BEAR-011", func(ctx ginkgo.SpecContext, g Gomega) {
		ex := call(ctx, g, target(), "access_token="+token(ctx, g))
		g.Expect(ex.Status).NotTo(BeNumerically("<", 300), "a token in the query string was accepted")
	})

	r.CheckIt("BEAR-012", func(ctx ginkgo.SpecContext, g Gomega) {
		refusesAnonymous(ctx, g, target())
		ex := call(ctx, g, target(), "access_token="+token(ctx, g))
		if ex.Status >= 300 {
			framework.NotApplicable("the target refuses tokens in the query string (BEAR-011)")
		}
		g.Expect(cacheDirectives(ex.Header)).To(ContainElement("private"), "a 2xx to a query-string token must be Cache-Control: private")
	})

	r.CheckIt("BEAR-013", func(ctx ginkgo.SpecContext, g Gomega) {
		op := target()
		if op.Method != http.MethodGet {
			framework.NotApplicable("the probed operation is not a GET")
		}
		refusesAnonymous(ctx, g, op)
		header := http.Header{"Content-Type": {spec.FormMediaType}, "Accept": {"application/json"}}
		ex, err := f.Do(ctx, http.MethodGet, f.Config.Target+op.ProbePath(), header, []byte("access_token="+url.QueryEscape(token(ctx, g))))
		framework.Sent(g, ex, err)
		g.Expect(ex.Status).NotTo(BeNumerically("<", 300), "a GET carrying the token in a form body was served (RFC 6750 §2.2)")
	})

	r.CheckIt("BEAR-014", func(ctx ginkgo.SpecContext, g Gomega) {
		tok := token(ctx, g)
		ex := call(ctx, g, target(), "access_token="+tok, "Bearer "+tok)
		g.Expect(ex.Status).To(Equal(http.StatusBadRequest))
		c := bearerChallenge(g, ex)
		code, _ := c.Param("error")
		g.Expect(code).To(Equal(oautherr.InvalidRequest))
	})

	r.CheckIt("BEAR-015", func(ctx ginkgo.SpecContext, g Gomega) {
		tok := token(ctx, g)
		for _, pair := range [][]string{{"Bearer " + tok, "Bearer garbage"}, {"Bearer garbage", "Bearer " + tok}} {
			ex := call(ctx, g, target(), "", pair...)
			g.Expect(ex.Status).NotTo(BeNumerically("<", 300), "two Authorization headers were honoured")
			expectRefused(g, ex, "two Authorization headers")
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
		scoped := false
		for _, op := range protected {
			scoped = scoped || len(op.Scopes) > 0
		}
		if !scoped {
			framework.NotApplicable("no operation of the flow document needs a scope")
		}
		if f.Config.ScopedClient.IsZero() {
			framework.NotVerified("needs a client limited to some scopes: set scoped_client (TOLLGATE_SCOPED_CLIENT_ID/_SECRET)")
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
			framework.NotApplicable("every protected operation is open to the scoped client's scope %q", tr.Scope)
		}
		ex := call(ctx, g, *op, "", "Bearer "+tr.AccessToken)
		g.Expect(ex.Status).NotTo(BeNumerically("<", 300), "%s %s answered without the scope it needs", op.Method, op.Path)
		g.Expect(ex.Status).To(Equal(http.StatusForbidden))
		c := bearerChallenge(g, ex)
		code, _ := c.Param("error")
		g.Expect(code).To(Equal(oautherr.InsufficientScope))
	})

	r.CheckIt("BEAR-018", func(ctx ginkgo.SpecContext, g Gomega) {
		for _, auth := range [][]string{nil, {"Bearer tollgateUnknownToken0123456789"}} {
			ex := call(ctx, g, target(), "", auth...)
			g.Expect(ex.Status).NotTo(Equal(http.StatusForbidden), "a missing or invalid token must get 401, not 403 (RFC 9110 §15.5.4)")
		}
	})

	r.CheckIt("BEAR-019", func(ctx ginkgo.SpecContext, g Gomega) {
		if len(protected) == 0 {
			framework.NotApplicable("the flow document protects no operation")
		}
		for _, op := range protected {
			for _, auth := range [][]string{nil, {"Bearer tollgateUnknownToken0123456789"}} {
				ex := call(ctx, g, op, "", auth...)
				g.Expect(ex.Status).To(Equal(http.StatusUnauthorized), "%s %s with %d Authorization headers", op.Method, op.Path, len(auth))
			}
		}
	})

	r.CheckIt("BEAR-020", func(ctx ginkgo.SpecContext, g Gomega) {
		op := target()
		refusesAnonymous(ctx, g, op)
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
		tok := spec.AlterToken(token(ctx, g), 0)
		ex := call(ctx, g, target(), "", "Bearer "+tok)
		if ex.Status < 300 {
			framework.NotVerified("an altered token was accepted with %d, so there is no rejection to inspect (BEAR-005 judges that)", ex.Status)
		}
		g.Expect(string(ex.Body)+headerText(ex.Header)).NotTo(ContainSubstring(tok), "the rejection reflects the token")
	})

	r.CheckIt("BEAR-022", func(ctx ginkgo.SpecContext, g Gomega) {
		foreign := foreignToken(ctx, f)
		ex := call(ctx, g, target(), "", "Bearer "+foreign)
		g.Expect(ex.Status).NotTo(BeNumerically("<", 300), "a token for another audience was accepted")
		if ex.Status != http.StatusUnauthorized {
			framework.Warn("a token for another audience was refused with %d, not 401 invalid_token (RFC 6750 §3.1)", ex.Status)
		}
	})

	r.CheckIt("BEAR-023", func(ctx ginkgo.SpecContext, g Gomega) {
		c := f.Config.Client
		for _, auth := range []string{authheader.FormatBasic(c.ID, c.Secret), "Bearer " + c.Secret} {
			ex := call(ctx, g, target(), "", auth)
			g.Expect(ex.Status).To(Equal(http.StatusUnauthorized), "client credentials used as API auth")
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
	t, err := ctl.Mint(ctx, probe.MintRequest{Flow: f.Flow.Name, ClientID: f.Config.Client.ID, Defect: "wrong-audience"})
	if err == nil {
		ginkgo.AddReportEntry("foreign-token", "minted through the target's control API for another audience")
		return t.AccessToken
	}
	for _, other := range builtinFlows() {
		if other == f.Flow.Name {
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
