package conformance

import (
	"encoding/json"
	"errors"
	"math/bits"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega" //nolint:revive // matchers read as prose in checks

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/authheader"
	"github.com/tollgate/tollgate/spec/oautherr"
	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/probe"
)

// TokenChecks defines the TOK checks for r's flow.
func TokenChecks(r *framework.Registrar) {
	f := r.F
	tok := f.Flow.Token
	primary := func() probe.TokenRequest { return probe.TokenRequest{Client: f.Config.Client} }
	// issue sends a token request, ending the check as inconclusive when the
	// target would not answer.
	issue := func(ctx ginkgo.SpecContext, g Gomega, tr probe.TokenRequest) *probe.Exchange {
		ex, err := f.RequestToken(ctx, tr)
		return framework.Sent(g, ex, err)
	}
	wrongSecret := func() framework.Credentials {
		return framework.Credentials{ID: f.Config.Client.ID, Secret: f.Config.Client.Secret + "-wrong"}
	}
	requireAuth := func(method string) {
		if !tok.AcceptsClientAuth(method) {
			framework.NotApplicable("the flow document does not accept %s client authentication", method)
		}
	}
	// anError provokes a token-endpoint error: a wrong secret, or, where the
	// server takes that (TOK-012 judges it), an unknown grant type. With no
	// error to be had the check is NOT VERIFIED.
	anError := func(ctx ginkgo.SpecContext, g Gomega) *probe.Exchange {
		ex := issue(ctx, g, probe.TokenRequest{Client: wrongSecret()})
		if ex.Status >= 400 {
			return ex
		}
		if tok.GrantType != "" {
			tr := primary()
			tr.Set = map[string]string{tok.Request.GrantType.Name(): "tollgate_unknown_grant"}
			if ex = issue(ctx, g, tr); ex.Status >= 400 {
				return ex
			}
		}
		framework.NotVerified("the target issued tokens for a wrong secret and an unknown grant, so there is no error to inspect (see TOK-012, TOK-023)")
		return nil
	}
	requireGrantType := func() {
		if tok.GrantType == "" {
			framework.NotApplicable("the flow has no grant_type parameter")
		}
	}

	r.CheckIt("TOK-001", func(ctx ginkgo.SpecContext, g Gomega) {
		ex := issue(ctx, g, primary())
		g.Expect(ex.Status).To(Equal(http.StatusOK))
		_, err := f.Flow.ParseTokenResponse(ex.Body)
		g.Expect(err).NotTo(HaveOccurred())
		req, _ := http.NewRequestWithContext(ctx, ex.Method, ex.URL, nil)
		req.Header = ex.RequestHead
		g.Expect(spec.ValidateResponse(ctx, tok.Operation, req, ex.Status, ex.Header, ex.Body)).To(Succeed(),
			"the token response must match the flow document's schema")
	})

	r.CheckIt("TOK-002", func(ctx ginkgo.SpecContext, g Gomega) {
		ex := issue(ctx, g, primary())
		g.Expect(ex.Status).To(Equal(http.StatusOK))
		g.Expect(baseMediaType(ex)).To(Equal("application/json"), "Content-Type %q", ex.Header.Get("Content-Type"))
	})

	r.CheckIt("TOK-003", func(ctx ginkgo.SpecContext, g Gomega) {
		ex := issue(ctx, g, primary())
		g.Expect(ex.Status).To(Equal(http.StatusOK))
		g.Expect(cacheDirectives(ex.Header)).To(ContainElement("no-store"), "Cache-Control %q", ex.Header.Values("Cache-Control"))
	})

	r.CheckIt("TOK-004", func(ctx ginkgo.SpecContext, g Gomega) {
		ex := issue(ctx, g, primary())
		g.Expect(ex.Status).To(Equal(http.StatusOK))
		g.Expect(strings.ToLower(strings.Join(ex.Header.Values("Pragma"), ","))).To(ContainSubstring("no-cache"))
	})

	r.CheckIt("TOK-005", func(ctx ginkgo.SpecContext, g Gomega) {
		ex := anError(ctx, g)
		g.Expect(cacheDirectives(ex.Header)).To(ContainElement("no-store"), "Cache-Control %q on an error", ex.Header.Values("Cache-Control"))
		// Other kinds of error, each from its own code path in most servers:
		// a body of the wrong media type, and a missing grant_type.
		probes := map[string]probe.TokenRequest{
			"a text/plain body": {Client: primary().Client, MediaType: "text/plain", RawBody: []byte("tollgate")},
		}
		if tok.GrantType != "" {
			tr := primary()
			tr.Omit = []string{tok.Request.GrantType.Name()}
			probes["a request without grant_type"] = tr
		}
		for what, tr := range probes {
			ex := issue(ctx, g, tr)
			if ex.Status < 400 {
				continue // accepted: TOK-022 and TOK-024 judge that
			}
			g.Expect(cacheDirectives(ex.Header)).To(ContainElement("no-store"), "Cache-Control %q on the %d error to %s", ex.Header.Values("Cache-Control"), ex.Status, what)
		}
	})

	r.CheckIt("TOK-006", func(ctx ginkgo.SpecContext, g Gomega) {
		tr, err := f.PrimaryToken(ctx)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(strings.EqualFold(tr.TokenType, "Bearer")).To(BeTrue(), "token type %q", tr.TokenType)
	})

	r.CheckIt("TOK-007", func(ctx ginkgo.SpecContext, g Gomega) {
		ex := issue(ctx, g, primary())
		g.Expect(ex.Status).To(Equal(http.StatusOK))
		var doc any
		g.Expect(json.Unmarshal(ex.Body, &doc)).To(Succeed())
		var raw any
		var ok bool
		if raw, ok = tok.Response.ExpiresIn.Get(doc); !ok {
			framework.NotApplicable("the response has no %s member (EXP-001 judges that)", tok.Response.ExpiresIn)
		}
		n, isNumber := raw.(float64)
		g.Expect(isNumber).To(BeTrue(), "%s must be a JSON number, got %T", tok.Response.ExpiresIn, raw)
		g.Expect(n).To(BeNumerically(">", 0))
		g.Expect(n).To(Equal(float64(int64(n))), "%s must be an integer", tok.Response.ExpiresIn)
	})

	r.CheckIt("TOK-008", func(ctx ginkgo.SpecContext, g Gomega) {
		tr, err := f.PrimaryToken(ctx)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(tr.ExpiresIn).To(Equal(int64(f.Flow.Lifetime.Seconds())), "the document says %v", f.Flow.Lifetime)
	})

	r.CheckIt("TOK-009", func(ctx ginkgo.SpecContext, g Gomega) {
		tr, err := f.PrimaryToken(ctx)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(authheader.IsB64Token(tr.AccessToken)).To(BeTrue(), "the token has characters outside b64token, so no Authorization header can carry it")
	})

	r.CheckIt("TOK-010", func(ctx ginkgo.SpecContext, g Gomega) {
		seen := map[string]bool{}
		for range 3 {
			tr, _, err := f.Token(ctx, f.Config.Client)
			framework.Sent(g, nil, err)
			g.Expect(seen[tr.AccessToken]).To(BeFalse(), "the same token was issued twice")
			seen[tr.AccessToken] = true
		}
	})

	r.CheckIt("TOK-011", func(ctx ginkgo.SpecContext, g Gomega) {
		tr, err := f.PrimaryToken(ctx)
		g.Expect(err).NotTo(HaveOccurred())
		if _, isJWT := jwtClaims(tr.AccessToken); isJWT {
			framework.NotApplicable("a JWT's strength lies in its signature, not in random bits")
		}
		g.Expect(entropyBits(tr.AccessToken)).To(BeNumerically(">=", 128), "token %q… carries too few random bits (RFC 6749 §10.10)", prefix(tr.AccessToken))
	})

	r.CheckIt("TOK-012", func(ctx ginkgo.SpecContext, g Gomega) {
		ex := issue(ctx, g, probe.TokenRequest{Client: wrongSecret()})
		expectRejected(g, r, ex)
		expectErrorCode(g, ex, oautherr.InvalidClient)
	})

	r.CheckIt("TOK-013", func(ctx ginkgo.SpecContext, g Gomega) {
		ex := issue(ctx, g, probe.TokenRequest{Client: framework.Credentials{ID: "tollgate-unknown-client", Secret: f.Config.Client.Secret}})
		expectRejected(g, r, ex)
		expectErrorCode(g, ex, oautherr.InvalidClient)
	})

	r.CheckIt("TOK-014", func(ctx ginkgo.SpecContext, g Gomega) {
		ex := issue(ctx, g, probe.TokenRequest{Auth: "none"})
		expectRejected(g, r, ex)
		expectErrorCode(g, ex, oautherr.InvalidClient, oautherr.InvalidRequest)
	})

	r.CheckIt("TOK-015", func(ctx ginkgo.SpecContext, g Gomega) {
		requireAuth(spec.ClientAuthBasic)
		ex := issue(ctx, g, probe.TokenRequest{Client: wrongSecret(), Auth: spec.ClientAuthBasic})
		if ex.Status < 300 {
			framework.NotVerified("the target accepted a wrong secret over Basic (TOK-012 judges that), so there is no failed login to inspect")
		}
		g.Expect(ex.Status).To(Equal(http.StatusUnauthorized))
		_, ok := findChallenge(g, ex, "Basic")
		g.Expect(ok).To(BeTrue(), "a failed Basic login must answer with a Basic challenge, got %q", ex.Header.Values("WWW-Authenticate"))
	})

	r.CheckIt("TOK-016", func(ctx ginkgo.SpecContext, g Gomega) {
		requireAuth(spec.ClientAuthBasic)
		ex := issue(ctx, g, probe.TokenRequest{Client: f.Config.Client, Auth: spec.ClientAuthBasic})
		g.Expect(ex.Status).To(Equal(http.StatusOK))
	})

	r.CheckIt("TOK-018", func(ctx ginkgo.SpecContext, g Gomega) {
		requireAuth(spec.ClientAuthBody)
		ex := issue(ctx, g, probe.TokenRequest{Client: f.Config.Client, Auth: spec.ClientAuthBody})
		g.Expect(ex.Status).To(Equal(http.StatusOK))
	})

	r.CheckIt("TOK-019", func(ctx ginkgo.SpecContext, g Gomega) {
		if !slices.Contains(tok.MediaTypes, spec.FormMediaType) {
			framework.NotApplicable("the flow document takes no form-encoded requests")
		}
		tr := primary()
		tr.MediaType = spec.FormMediaType
		if tok.AcceptsClientAuth(spec.ClientAuthBasic) {
			tr.Auth = spec.ClientAuthBasic
		}
		g.Expect(issue(ctx, g, tr).Status).To(Equal(http.StatusOK))
	})

	r.CheckIt("TOK-020", func(ctx ginkgo.SpecContext, g Gomega) {
		var jsonTypes []string
		for _, mt := range tok.MediaTypes {
			if spec.IsJSONMediaType(mt) {
				jsonTypes = append(jsonTypes, mt)
			}
		}
		if len(jsonTypes) == 0 || !tok.AcceptsClientAuth(spec.ClientAuthBody) {
			framework.NotApplicable("the flow document takes no JSON requests with body credentials")
		}
		for _, mt := range jsonTypes {
			tr := primary()
			tr.MediaType, tr.Auth = mt, spec.ClientAuthBody
			g.Expect(issue(ctx, g, tr).Status).To(Equal(http.StatusOK), "as %s", mt)
		}
	})

	r.CheckIt("TOK-021", func(ctx ginkgo.SpecContext, g Gomega) {
		requireAuth(spec.ClientAuthBasic)
		requireAuth(spec.ClientAuthBody)
		tr := primary()
		tr.Auth = spec.ClientAuthBasic
		tr.Set = map[string]string{tok.Request.ClientID.Name(): f.Config.Client.ID, tok.Request.ClientSecret.Name(): f.Config.Client.Secret}
		ex := issue(ctx, g, tr)
		g.Expect(ex.Status).To(Equal(http.StatusBadRequest))
		expectErrorCode(g, ex, oautherr.InvalidRequest)
	})

	r.CheckIt("TOK-022", func(ctx ginkgo.SpecContext, g Gomega) {
		requireGrantType()
		tr := primary()
		tr.Omit = []string{tok.Request.GrantType.Name()}
		ex := issue(ctx, g, tr)
		expectRejected(g, r, ex)
		expectErrorCode(g, ex, oautherr.InvalidRequest)
	})

	r.CheckIt("TOK-023", func(ctx ginkgo.SpecContext, g Gomega) {
		requireGrantType()
		grants := []string{"tollgate_unknown_grant"}
		if f.Profile() == "oauth21" {
			grants = append(grants, "password") // OAuth 2.1 removed it; RFC 6749 and vendors may support it
		}
		for _, grant := range grants {
			tr := primary()
			tr.Set = map[string]string{tok.Request.GrantType.Name(): grant}
			ex := issue(ctx, g, tr)
			expectRejected(g, r, ex)
			expectErrorCode(g, ex, oautherr.UnsupportedGrantType, oautherr.UnauthorizedClient, oautherr.InvalidRequest)
		}
	})

	r.CheckIt("TOK-024", func(ctx ginkgo.SpecContext, g Gomega) {
		tr := primary()
		tr.Set = map[string]string{"tollgate_unknown_parameter": "ignored"}
		g.Expect(issue(ctx, g, tr).Status).To(Equal(http.StatusOK))
	})

	r.CheckIt("TOK-025", func(ctx ginkgo.SpecContext, g Gomega) {
		if tok.Request.Scope.IsZero() {
			framework.NotApplicable("the flow has no scope parameter")
		}
		tr := primary()
		tr.Set = map[string]string{tok.Request.Scope.Name(): ""}
		g.Expect(issue(ctx, g, tr).Status).To(Equal(http.StatusOK), "an empty scope must count as omitted")
	})

	r.CheckIt("TOK-026", func(ctx ginkgo.SpecContext, g Gomega) {
		requireGrantType()
		if !slices.Contains(tok.MediaTypes, spec.FormMediaType) {
			framework.NotApplicable("a form is needed to repeat a parameter")
		}
		tr := primary()
		tr.MediaType = spec.FormMediaType
		name := tok.Request.GrantType.Name()
		tr.Auth = f.DefaultAuth()
		tr.RawBody = []byte(name + "=" + tok.GrantType + "&" + name + "=" + tok.GrantType)
		if tr.Auth == spec.ClientAuthBody {
			tr.RawBody = append(tr.RawBody, []byte("&"+formPair(tok.Request.ClientID.Name(), f.Config.Client.ID)+"&"+formPair(tok.Request.ClientSecret.Name(), f.Config.Client.Secret))...)
		}
		ex := issue(ctx, g, tr)
		expectRejected(g, r, ex)
		expectErrorCode(g, ex, oautherr.InvalidRequest)
	})

	r.CheckIt("TOK-027", func(ctx ginkgo.SpecContext, g Gomega) {
		ex := issue(ctx, g, primary())
		g.Expect(ex.Status).To(Equal(http.StatusOK))
		dups, err := spec.DuplicateMembers(ex.Body)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(dups).To(BeEmpty(), "duplicated members")
	})

	r.CheckIt("TOK-028", func(ctx ginkgo.SpecContext, g Gomega) {
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
			tr := probe.TokenRequest{Client: f.Config.Client, Method: method}
			ex := issue(ctx, g, tr)
			g.Expect(ex.Status).NotTo(BeNumerically("<", 300), "%s issued a token", method)
			g.Expect([]int{http.StatusMethodNotAllowed, http.StatusBadRequest, http.StatusNotFound}).To(ContainElement(ex.Status), "%s answered %d", method, ex.Status)
			if ex.Status == http.StatusMethodNotAllowed {
				g.Expect(ex.Header.Get("Allow")).To(ContainSubstring("POST"), "a 405 must list the allowed methods in Allow")
			}
		}
	})

	r.CheckIt("TOK-032", func(ctx ginkgo.SpecContext, g Gomega) {
		ex := anError(ctx, g)
		expectRejected(g, r, ex)
		e, err := errorOf(ex)
		g.Expect(err).NotTo(HaveOccurred(), "the error body")
		g.Expect(oautherr.TokenEndpointCodes()).To(ContainElement(e.Code))
	})

	r.CheckIt("TOK-033", func(ctx ginkgo.SpecContext, g Gomega) {
		ex := issue(ctx, g, probe.TokenRequest{Client: wrongSecret()})
		if ex.Status >= 300 {
			g.Expect([]int{400, 401}).To(ContainElement(ex.Status), "invalid_client")
		} else if tok.GrantType == "" {
			framework.NotVerified("the target accepted a wrong secret (TOK-012), so there is no error status to inspect")
		}
		if tok.GrantType != "" {
			tr := primary()
			tr.Set = map[string]string{tok.Request.GrantType.Name(): "tollgate_unknown_grant"}
			ex = issue(ctx, g, tr)
			g.Expect(ex.Status).To(Equal(http.StatusBadRequest), "unsupported_grant_type must use 400")
		}
	})

	r.CheckIt("TOK-034", func(ctx ginkgo.SpecContext, g Gomega) {
		ex := issue(ctx, g, primary())
		g.Expect(ex.Status).To(Equal(http.StatusOK))
		_, has := rawMember(ex.Body, "refresh_token")
		g.Expect(has).To(BeFalse(), "a refresh token came with a client-credentials token")
	})

	r.CheckIt("TOK-035", func(ctx ginkgo.SpecContext, g Gomega) {
		canary := framework.Credentials{ID: "tollgate-canary-id-7f3a", Secret: "tollgate-canary-secret-9b2c"}
		for _, tr := range []probe.TokenRequest{{Client: canary}, {Client: wrongSecret()}} {
			ex := issue(ctx, g, tr)
			text := string(ex.Body) + headerText(ex.Header)
			g.Expect(text).NotTo(ContainSubstring(canary.Secret), "the response echoes the secret")
			g.Expect(text).NotTo(ContainSubstring(f.Config.Client.Secret), "the response echoes the real secret")
			g.Expect(stackTrace.MatchString(text)).To(BeFalse(), "the response carries a stack trace")
		}
	})

	r.CheckIt("TOK-038", func(ctx ginkgo.SpecContext, g Gomega) {
		mt := f.DefaultMediaType(f.DefaultAuth())
		bodies := map[string][]byte{
			"truncated JSON": []byte(`{"a":`),
			"invalid UTF-8":  []byte("{\"a\":\"\xff\xfe\"}"),
			"deep nesting":   []byte(strings.Repeat("[", 10000) + strings.Repeat("]", 10000)),
			"1 MB body":      []byte(`{"pad":"` + strings.Repeat("x", 1<<20) + `"}`),
			"form in JSON":   []byte("a=b&c=d"),
			"empty body":     {},
			"a bare string":  []byte(`"x"`),
		}
		for name, body := range bodies {
			ex := issue(ctx, g, probe.TokenRequest{Client: f.Config.Client, MediaType: mt, RawBody: body})
			g.Expect(ex.Status).To(And(BeNumerically(">=", 400), BeNumerically("<", 500)), "%s", name)
		}
		ex := issue(ctx, g, probe.TokenRequest{Client: f.Config.Client, MediaType: "text/plain"})
		g.Expect(ex.Status).To(And(BeNumerically(">=", 400), BeNumerically("<", 500)), "a text/plain body")
	})

	r.CheckIt("TOK-017", func(ctx ginkgo.SpecContext, g Gomega) {
		requireAuth(spec.ClientAuthBasic)
		var client framework.Credentials
		for _, c := range f.Clients() {
			if url.QueryEscape(c.ID) != c.ID || url.QueryEscape(c.Secret) != c.Secret {
				client = c
				break
			}
		}
		if client.IsZero() {
			framework.NotVerified("no configured client has characters that need form-encoding in its id or secret: configure one as client2 (on the mock: id %q, secret %q)", "encoded client", "a:b+c%d e")
		}
		ex := issue(ctx, g, probe.TokenRequest{Client: client, Auth: spec.ClientAuthBasic})
		g.Expect(ex.Status).To(Equal(http.StatusOK), "Basic credentials encoded per RFC 6749 Appendix B were refused")
	})

	r.CheckIt("TOK-029", func(ctx ginkgo.SpecContext, g Gomega) {
		if !f.TargetIsLocal() && !f.OptedIn("TOK-029") {
			framework.NotVerified("this probe puts a client secret into the target's access logs: opt in with --opt-in TOK-029, ideally with a disposable client")
		}
		tr := probe.TokenRequest{Client: f.Config.Client, Auth: "none"}
		ex, err := f.RequestToken(ctx, tr) // builds the body without credentials
		framework.Sent(g, ex, err)
		q := url.Values{}
		if !tok.Request.ClientID.IsZero() {
			q.Set(tok.Request.ClientID.Name(), f.Config.Client.ID)
			q.Set(tok.Request.ClientSecret.Name(), f.Config.Client.Secret)
		} else {
			q.Set("client_id", f.Config.Client.ID)
			q.Set("client_secret", f.Config.Client.Secret)
		}
		ex, err = f.Do(ctx, http.MethodPost, f.Config.Target+tok.Path+"?"+q.Encode(), ex.RequestHead, ex.RequestBody)
		framework.Sent(g, ex, err)
		g.Expect(ex.Status).NotTo(BeNumerically("<", 300), "credentials in the query string got a token")
	})

	r.CheckIt("TOK-030", func(ctx ginkgo.SpecContext, g Gomega) {
		if tok.Request.Scope.IsZero() || len(f.Flow.Scopes) == 0 {
			framework.NotApplicable("the flow has no scope parameter or no scopes")
		}
		name := tok.Request.Scope.Name()
		// (b) a narrower scope: the answer names it, or nothing (identical).
		// Ask for one the primary client was granted, so that a server that
		// limits the client's scopes has no reason to refuse.
		want := f.Flow.Scopes[0]
		if p, err := f.PrimaryToken(ctx); err == nil && p.HasScope {
			if granted := strings.Fields(p.Scope); len(granted) > 0 {
				want = granted[0]
			}
		}
		tr := primary()
		tr.Set = map[string]string{name: want}
		ex := issue(ctx, g, tr)
		g.Expect(ex.Status).To(Equal(http.StatusOK), "a request for scope %q", want)
		resp, err := f.Flow.ParseTokenResponse(ex.Body)
		g.Expect(err).NotTo(HaveOccurred())
		if resp.HasScope {
			g.Expect(strings.Split(resp.Scope, " ")).NotTo(ContainElement(Not(BeElementOf(want))), "asked for %q, granted %q", want, resp.Scope)
		}
		// (c) an unknown scope: invalid_scope, or a grant without it.
		tr.Set = map[string]string{name: "tollgate-unknown-scope"}
		ex = issue(ctx, g, tr)
		if ex.Status == http.StatusOK {
			resp, err := f.Flow.ParseTokenResponse(ex.Body)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(resp.HasScope).To(BeTrue(), "an unknown scope was granted without saying which scope applies (RFC 6749 §3.3 MUST)")
			g.Expect(strings.Split(resp.Scope, " ")).NotTo(ContainElement("tollgate-unknown-scope"))
			return
		}
		expectRejected(g, r, ex)
		expectErrorCode(g, ex, oautherr.InvalidScope)
	})

	r.CheckIt("TOK-031", func(ctx ginkgo.SpecContext, g Gomega) {
		tr, err := f.PrimaryToken(ctx)
		g.Expect(err).NotTo(HaveOccurred())
		if !tr.HasScope {
			framework.NotApplicable("the token response carries no scope")
		}
		g.Expect(scopeSyntax.MatchString(tr.Scope)).To(BeTrue(), "scope %q is not scope-token *( SP scope-token )", tr.Scope)
	})

	r.CheckIt("TOK-036", func(ctx ginkgo.SpecContext, g Gomega) {
		u, err := url.Parse(f.Config.Target)
		g.Expect(err).NotTo(HaveOccurred())
		if u.Scheme == "http" && f.TargetIsLocal() {
			framework.NotApplicable("a loopback target: TLS is judged on deployed servers")
		}
		g.Expect(u.Scheme).To(Equal("https"), "the token endpoint is reached over plain http")
	})

	r.CheckIt("TOK-037", func(ctx ginkgo.SpecContext, g Gomega) {
		if !f.OptedIn("TOK-037") {
			framework.NotVerified("sends 30 wrong secrets, which can lock a real client out: opt in with --opt-in TOK-037")
		}
		var first, last time.Duration
		for i := range 30 {
			ex, err := f.RequestToken(ctx, probe.TokenRequest{Client: wrongSecret()})
			if errors.Is(err, probe.ErrInconclusive) && ex != nil && ex.Status == http.StatusTooManyRequests {
				return // rate limited: protection exists
			}
			framework.Sent(g, ex, err)
			if ex.Status == http.StatusTooManyRequests {
				return
			}
			if i == 0 {
				first = ex.Elapsed
			}
			last = ex.Elapsed
		}
		g.Expect(last).To(BeNumerically(">", 2*first), "30 wrong secrets in a row met no 429 and no slow-down (the protection may be invisible from outside)")
	})

	r.CheckIt("TOK-039", func(ctx ginkgo.SpecContext, g Gomega) {
		if tok.Response.CreatedAt.IsZero() {
			framework.NotApplicable("the flow's token response has no created_at member")
		}
		ex := issue(ctx, g, primary())
		g.Expect(ex.Status).To(Equal(http.StatusOK))
		resp, err := f.Flow.ParseTokenResponse(ex.Body)
		g.Expect(err).NotTo(HaveOccurred())
		date, err := http.ParseTime(ex.Header.Get("Date"))
		if err != nil {
			date = ex.Sent
		}
		skew := time.Duration(resp.CreatedAt-date.Unix()) * time.Second
		g.Expect(skew.Abs()).To(BeNumerically("<=", f.Config.ClockSkew+time.Second), "created_at is %v off the response's Date", skew)
	})

	r.CheckIt("TOK-040", func(ctx ginkgo.SpecContext, g Gomega) {
		requireAuth(spec.ClientAuthBody)
		for _, omit := range []string{tok.Request.ClientSecret.Name(), tok.Request.ClientID.Name()} {
			tr := primary()
			tr.Auth = spec.ClientAuthBody
			tr.Omit = []string{omit}
			ex := issue(ctx, g, tr)
			expectRejected(g, r, ex)
			g.Expect(baseMediaType(ex)).To(Equal("application/json"), "the error must be JSON")
		}
	})
}

// scopeSyntax is RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), SP-separated.
var scopeSyntax = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$`)

var stackTrace = regexp.MustCompile(`goroutine \d+ \[|Traceback \(most recent call last\)|\bat java\.|\.java:\d+\)|panic: `)

func headerText(h http.Header) string {
	var b strings.Builder
	for k, vs := range h {
		b.WriteString(k + ": " + strings.Join(vs, ", ") + "\n")
	}
	return b.String()
}

func formPair(k, v string) string {
	return url.QueryEscape(k) + "=" + url.QueryEscape(v)
}

func prefix(s string) string {
	if len(s) > 6 {
		return s[:6]
	}
	return s
}

// entropyBits estimates an upper bound of a token's random bits: a UUIDv4
// has 122; otherwise the alphabet the token draws from, times its length.
func entropyBits(token string) int {
	if uuidV4.MatchString(strings.ToLower(token)) {
		return 122
	}
	var lower, upper, digit, other bool
	for i := 0; i < len(token); i++ {
		c := token[i]
		switch {
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= '0' && c <= '9':
			digit = true
		default:
			other = true
		}
	}
	alphabet := 0
	for _, n := range []struct {
		used bool
		size int
	}{{lower, 26}, {upper, 26}, {digit, 10}, {other, 4}} {
		if n.used {
			alphabet += n.size
		}
	}
	if alphabet <= 1 {
		return 0
	}
	perChar := bits.Len(uint(alphabet)) - 1 // floor(log2)
	if isHex(token) {
		perChar = 4
	}
	return perChar * len(strings.Trim(token, "=-"))
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return s != ""
}
