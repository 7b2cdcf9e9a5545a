package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
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
	// noClientAuth is whether the target issues a token to a request that
	// carries no client authentication at all, asked once. TOK-014 owns
	// that fault; the checks of narrower client-authentication properties
	// (TOK-012, TOK-013, TOK-029, TOK-040) defer to it rather than repeat it.
	var noAuthOnce sync.Once
	var noAuth bool
	noClientAuth := func(ctx ginkgo.SpecContext, g Gomega) bool {
		noAuthOnce.Do(func() {
			if ex, err := f.RequestToken(ctx, probe.TokenRequest{Auth: "none"}); err == nil {
				noAuth = tokenIssued(f, ex)
			}
		})
		return noAuth
	}
	// deferToTOK014 ends a check whose probe got a token NOT VERIFIED when
	// the target authenticates no client at all.
	deferToTOK014 := func(ctx ginkgo.SpecContext, g Gomega, ex *probe.Exchange) {
		if tokenIssued(f, ex) && noClientAuth(ctx, g) {
			framework.NotVerified("the target issues tokens without any client authentication (TOK-014 judges that), so this narrower probe shows nothing more")
		}
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
		documented := int64(f.Flow.Lifetime.Seconds())
		short := lifetimeRounding(documented)
		g.Expect(tr.ExpiresIn).To(And(BeNumerically(">=", documented-short), BeNumerically("<=", documented)),
			"expires_in is %d; the document says %d s (a value up to %d s short is accepted: servers compute exp minus now and round down)", tr.ExpiresIn, documented, short)
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
		// Three tokens in a row, so that shared parts and sequences show.
		samples := []string{tr.AccessToken}
		for range 2 {
			next, _, err := f.Token(ctx, f.Config.Client)
			if err != nil {
				break // TOK-010 and TOK-001 judge a refused re-issue
			}
			samples = append(samples, next.AccessToken)
		}
		st := assessTokens(samples)
		why := ""
		if st.structure != "" {
			why = ": " + st.structure
		}
		if st.uuidVersion == 4 && f.Profile() == "simple" {
			// The catalog's F1: the simple flow documents UUIDv4 tokens.
			framework.Warn("tokens are random UUIDv4s, 122 random bits, short of RFC 6749 §10.10's 2^(-128) (the simple flow documents UUIDs, so a WARN)")
			return
		}
		g.Expect(st.bits).To(BeNumerically(">=", 128), "tokens %q… carry at most %d random bits%s; RFC 6749 §10.10: the chance of guessing one \"MUST be less than or equal to 2^(-128)\"", prefix(tr.AccessToken), st.bits, why)
		if st.bits < 160 {
			framework.Warn("tokens carry at most %d random bits%s; RFC 6749 §10.10: \"SHOULD be less than or equal to 2^(-160)\"", st.bits, why)
		}
	})

	r.CheckIt("TOK-012", func(ctx ginkgo.SpecContext, g Gomega) {
		ex := issue(ctx, g, probe.TokenRequest{Client: wrongSecret()})
		deferToTOK014(ctx, g, ex)
		expectRejected(g, r, ex)
		expectTokenErrorCode(g, ex, oautherr.InvalidClient)
	})

	r.CheckIt("TOK-013", func(ctx ginkgo.SpecContext, g Gomega) {
		// Each client authentication the document allows: a server can
		// mishandle an unknown client on one path only (a 500 over Basic).
		for _, method := range tok.ClientAuth {
			ex := issue(ctx, g, probe.TokenRequest{Client: framework.Credentials{ID: "tollgate-unknown-client", Secret: f.Config.Client.Secret}, Auth: method})
			deferToTOK014(ctx, g, ex)
			expectRejected(g, r, ex)
			expectTokenErrorCode(g, ex, oautherr.InvalidClient)
		}
	})

	r.CheckIt("TOK-014", func(ctx ginkgo.SpecContext, g Gomega) {
		ex := issue(ctx, g, probe.TokenRequest{Auth: "none"})
		expectRejected(g, r, ex)
		expectTokenErrorCode(g, ex, oautherr.InvalidClient, oautherr.InvalidRequest)
	})

	r.CheckIt("TOK-015", func(ctx ginkgo.SpecContext, g Gomega) {
		requireAuth(spec.ClientAuthBasic)
		ex := issue(ctx, g, probe.TokenRequest{Client: wrongSecret(), Auth: spec.ClientAuthBasic})
		if ex.Status < 300 {
			framework.NotVerified("the target accepted a wrong secret over Basic (TOK-012, or TOK-014 when it authenticates no client, judges that), so there is no failed login to inspect")
		}
		if ex.Status >= 500 {
			framework.NotVerified("the target answered %d to a failed Basic login (TOK-038 judges a 5xx)", ex.Status)
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
		expectRejected(g, r, ex)
		g.Expect(ex.Status).To(Equal(http.StatusBadRequest))
		expectTokenErrorCode(g, ex, oautherr.InvalidRequest)
	})

	r.CheckIt("TOK-022", func(ctx ginkgo.SpecContext, g Gomega) {
		requireGrantType()
		tr := primary()
		tr.Omit = []string{tok.Request.GrantType.Name()}
		ex := issue(ctx, g, tr)
		// The catalog: FAIL if a token is issued; WARN on the status or the
		// code (TOK-032 owns a body without an error member, TOK-038 a 5xx).
		g.Expect(tokenIssued(f, ex)).To(BeFalse(), "a request without grant_type got a token (status %d)", ex.Status)
		if ex.Status >= 500 {
			framework.NotVerified("the target answered %d (TOK-038 judges a 5xx)", ex.Status)
		}
		code, named := tokenErrorCode(ex)
		if ex.Status != http.StatusBadRequest || (named && code != oautherr.InvalidRequest) {
			framework.Warn("a request without grant_type was refused with %d %s, not 400 invalid_request (RFC 6749 §5.2: invalid_request \"missing a required parameter\")", ex.Status, code)
		}
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
			// Only whether a token was issued: the code is TOK-032's, the
			// status TOK-033's, a 5xx TOK-038's.
			g.Expect(tokenIssued(f, ex)).To(BeFalse(), "grant_type=%s got a token (status %d)", grant, ex.Status)
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
		ex := issue(ctx, g, tr)
		g.Expect(ex.Status).To(Equal(http.StatusOK), "an empty scope must count as omitted")
		// Treated as omitted: the answer is what a request without scope
		// gets, never an empty scope echoed back (scope = 1*scope-token).
		resp, err := f.Flow.ParseTokenResponse(ex.Body)
		if err != nil {
			framework.NotVerified("the token response does not match the flow document (TOK-001 judges that): %v", err)
		}
		if resp.HasScope {
			g.Expect(resp.Scope).NotTo(BeEmpty(), "scope= was answered with an empty scope: a parameter without a value must be treated as omitted (RFC 6749 §3.2), so the answer is the default grant, with its scope or none")
		}
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
		// Whether the request was refused; the error body is TOK-032's.
		expectRejected(g, r, ex)
		expectTokenErrorCode(g, ex, oautherr.InvalidRequest)
	})

	r.CheckIt("TOK-027", func(ctx ginkgo.SpecContext, g Gomega) {
		ex := issue(ctx, g, primary())
		g.Expect(ex.Status).To(Equal(http.StatusOK))
		dups, err := spec.DuplicateMembers(ex.Body)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(dups).To(BeEmpty(), "duplicated members")
	})

	r.CheckIt("TOK-028", func(ctx ginkgo.SpecContext, g Gomega) {
		// The token request as the document builds it, with the real
		// credentials in the body (or Basic header), under other methods.
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
			ex := issue(ctx, g, probe.TokenRequest{Client: f.Config.Client, Method: method})
			g.Expect(tokenIssued(f, ex)).To(BeFalse(), "%s issued a token (status %d): RFC 6749 §3.2 \"MUST use the HTTP POST method\"", method, ex.Status)
			if ex.Status == http.StatusMethodNotAllowed && !strings.Contains(strings.ToUpper(strings.Join(ex.Header.Values("Allow"), ",")), "POST") {
				framework.Warn("%s got 405 without POST in Allow %q (RFC 9110 §15.5.6 \"MUST generate an Allow header field in a 405 response\")", method, ex.Header.Values("Allow"))
			}
		}
		// A GET with the whole request in the query, as a browser or a
		// careless client sends it. The real secret in a URL ends up in
		// access logs, so only on loopback or when opted in.
		if !f.TargetIsLocal() && !f.OptedIn("TOK-028") {
			return
		}
		for _, ex := range tokenRequestsInQuery(ctx, g, f) {
			g.Expect(tokenIssued(f, ex)).To(BeFalse(), "GET with the token request in the query string issued a token (status %d): RFC 6749 §3.2 \"MUST use the HTTP POST method\"", ex.Status)
		}
	})

	r.CheckIt("TOK-032", func(ctx ginkgo.SpecContext, g Gomega) {
		// Errors from different code paths in most servers: a wrong
		// secret, other grant types (which some servers answer with
		// unauthorized_client, unsupported_grant_type or, wrongly,
		// access_denied) and a request without grant_type.
		probes := []struct {
			what string
			ex   *probe.Exchange
		}{{"a wrong client secret", issue(ctx, g, probe.TokenRequest{Client: wrongSecret()})}}
		if tok.GrantType != "" {
			for _, grant := range []string{"password", "authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:jwt-bearer", "tollgate_unknown_grant"} {
				tr := primary()
				tr.Set = map[string]string{tok.Request.GrantType.Name(): grant}
				probes = append(probes, struct {
					what string
					ex   *probe.Exchange
				}{"grant_type=" + grant, issue(ctx, g, tr)})
			}
			tr := primary()
			tr.Omit = []string{tok.Request.GrantType.Name()}
			probes = append(probes, struct {
				what string
				ex   *probe.Exchange
			}{"a request without grant_type", issue(ctx, g, tr)})
		}
		var faults []string
		judged := 0
		for _, p := range probes {
			if p.ex.Status < 400 || p.ex.Status >= 500 {
				continue // a token is TOK-012's, TOK-022's and TOK-023's, a 5xx TOK-038's
			}
			judged++
			if fault := tokenErrorFault(p.ex); fault != "" {
				faults = append(faults, fmt.Sprintf("%s: %d %s", p.what, p.ex.Status, fault))
			}
		}
		if judged == 0 {
			framework.NotVerified("no probe got a 4xx error to inspect: the target issued tokens or failed with a 5xx (TOK-012, TOK-023, TOK-038 judge those)")
		}
		g.Expect(faults).To(BeEmpty(), "token-endpoint errors must carry an error member with a code RFC 6749 §5.2 registers (%s)", strings.Join(oautherr.TokenEndpointCodes(), ", "))
	})

	r.CheckIt("TOK-033", func(ctx ginkgo.SpecContext, g Gomega) {
		// Only 4xx answers are judged: a token is TOK-012's and TOK-023's,
		// a 5xx TOK-038's.
		judged := 0
		ex := issue(ctx, g, probe.TokenRequest{Client: wrongSecret()})
		if ex.Status >= 400 && ex.Status < 500 {
			judged++
			g.Expect([]int{400, 401}).To(ContainElement(ex.Status), "invalid_client must use 400 or 401")
		}
		if tok.GrantType != "" {
			tr := primary()
			tr.Set = map[string]string{tok.Request.GrantType.Name(): "tollgate_unknown_grant"}
			ex = issue(ctx, g, tr)
			if ex.Status >= 400 && ex.Status < 500 {
				judged++
				if code, _ := tokenErrorCode(ex); code == oautherr.InvalidClient {
					g.Expect([]int{400, 401}).To(ContainElement(ex.Status), "invalid_client must use 400 or 401")
				} else {
					g.Expect(ex.Status).To(Equal(http.StatusBadRequest), "an error other than invalid_client must use 400 (RFC 6749 §5.2), got %d %s", ex.Status, code)
				}
			}
		}
		if judged == 0 {
			framework.NotVerified("no 4xx error to inspect: the target issued tokens or failed with a 5xx (TOK-012, TOK-023, TOK-038 judge those)")
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
		deferToTOK014(ctx, g, ex)
		g.Expect(tokenIssued(f, ex)).To(BeFalse(), "credentials in the query string got a token (status %d)", ex.Status)
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
			// Fields, not Split: the scope's syntax is TOK-031's.
			g.Expect(strings.Fields(resp.Scope)).NotTo(ContainElement(Not(BeElementOf(want))), "asked for %q, granted %q", want, resp.Scope)
		}
		// (c) an unknown scope: invalid_scope, or a grant without it.
		tr.Set = map[string]string{name: "tollgate-unknown-scope"}
		ex = issue(ctx, g, tr)
		if ex.Status == http.StatusOK {
			resp, err := f.Flow.ParseTokenResponse(ex.Body)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(resp.HasScope).To(BeTrue(), "an unknown scope was granted without saying which scope applies (RFC 6749 §3.3 MUST)")
			g.Expect(strings.Fields(resp.Scope)).NotTo(ContainElement("tollgate-unknown-scope"))
			return
		}
		expectRejected(g, r, ex)
		expectTokenErrorCode(g, ex, oautherr.InvalidScope)
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
			deferToTOK014(ctx, g, ex)
			expectRejected(g, r, ex)
			g.Expect(spec.IsJSONMediaType(baseMediaType(ex))).To(BeTrue(), "the error must be JSON, got Content-Type %q", ex.Header.Get("Content-Type"))
		}
	})
}

// tokenRequestsInQuery sends the primary client's token request as GETs
// with its parameters in the query string: once with every credential
// there, once with HTTP Basic and the rest in the query (where the flow
// takes Basic). It returns the exchanges.
func tokenRequestsInQuery(ctx ginkgo.SpecContext, g Gomega, f *framework.Framework) []*probe.Exchange {
	tok := f.Flow.Token
	params := url.Values{}
	if tok.GrantType != "" {
		params.Set(tok.Request.GrantType.Name(), tok.GrantType)
	}
	header := http.Header{"Accept": {"application/json"}}
	var out []*probe.Exchange
	send := func(q url.Values, h http.Header) {
		ex, err := f.Do(ctx, http.MethodGet, f.Config.Target+tok.Path+"?"+q.Encode(), h, nil)
		out = append(out, framework.Sent(g, ex, err))
	}
	if !tok.Request.ClientID.IsZero() && tok.AcceptsClientAuth(spec.ClientAuthBody) {
		q := url.Values{}
		for k, v := range params {
			q[k] = v
		}
		q.Set(tok.Request.ClientID.Name(), f.Config.Client.ID)
		if !tok.Request.ClientSecret.IsZero() {
			q.Set(tok.Request.ClientSecret.Name(), f.Config.Client.Secret)
		}
		send(q, header)
	}
	if tok.AcceptsClientAuth(spec.ClientAuthBasic) {
		h := header.Clone()
		h.Set("Authorization", authheader.FormatBasic(f.Config.Client.ID, f.Config.Client.Secret))
		send(params, h)
	}
	return out
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

// tokenErrorFault says what is wrong with a token-endpoint error body, in
// words (never a Go value): "" when it is an RFC 6749 §5.2 error with a
// registered code.
func tokenErrorFault(ex *probe.Exchange) string {
	e, err := errorOf(ex)
	switch {
	case e == nil && err != nil:
		return fmt.Sprintf("with no usable error member (%s; Content-Type %q)", strings.TrimPrefix(err.Error(), "oautherr: "), ex.Header.Get("Content-Type"))
	case e == nil:
		return fmt.Sprintf("with no error member (Content-Type %q)", ex.Header.Get("Content-Type"))
	case e.Code == "access_denied":
		return "access_denied, an authorization-endpoint code (RFC 6749 §4.1.2.1), not one of the token endpoint's (§5.2)"
	case !slices.Contains(oautherr.TokenEndpointCodes(), e.Code):
		return fmt.Sprintf("error %q, not a code RFC 6749 §5.2 registers", e.Code)
	case err != nil:
		return fmt.Sprintf("error %q, but: %s", e.Code, strings.TrimPrefix(err.Error(), "oautherr: "))
	}
	return ""
}

// TokenRunChecks defines the TOK checks that judge every exchange the run
// had with the token endpoint, whichever check sent it: define them after
// all others (Define does).
func TokenRunChecks(r *framework.Registrar) {
	f := r.F
	tok := f.Flow.Token

	r.CheckIt("TOK-031", func(ctx ginkgo.SpecContext, g Gomega) {
		if _, err := f.PrimaryToken(ctx); err != nil {
			framework.NotVerified("no token response to judge: %v", err)
		}
		var faults []string
		seen := 0
		for _, ex := range f.TokenExchanges() {
			if ex.Status != http.StatusOK || requestSetsEmpty(ex, tok.Request.Scope) {
				continue // TOK-025 judges the answer to scope=
			}
			resp, err := f.Flow.ParseTokenResponse(ex.Body)
			if err != nil || !resp.HasScope {
				continue
			}
			seen++
			if !scopeSyntax.MatchString(resp.Scope) {
				faults = append(faults, fmt.Sprintf("%q (to %s %s)", resp.Scope, ex.Method, requestSummary(ex)))
			}
		}
		if seen == 0 {
			framework.NotApplicable("no token response of the run carried a scope")
		}
		g.Expect(faults).To(BeEmpty(), "%d of the run's %d token responses with a scope have one that is not scope-token *( SP scope-token ) (RFC 6749 §3.3)", len(faults), seen)
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
		// The answers, and a request that got none, are in the run's
		// record of token-endpoint exchanges judged below.
		for _, body := range bodies {
			_, _ = f.RequestToken(ctx, probe.TokenRequest{Client: f.Config.Client, MediaType: mt, RawBody: body})
		}
		_, _ = f.RequestToken(ctx, probe.TokenRequest{Client: f.Config.Client, MediaType: "text/plain"})
		// Every exchange the run had with the token endpoint, these and
		// every other check's: none may be a 5xx or go unanswered.
		var faults []string
		var first *probe.Exchange
		for _, ex := range f.TokenExchanges() {
			var fault string
			switch {
			case timedOut(ex.Err):
				fault = fmt.Sprintf("no answer in time (%v)", ex.Err)
			case ex.Status >= 500:
				fault = fmt.Sprintf("%d", ex.Status)
			default:
				continue
			}
			if first == nil {
				first = ex
			}
			faults = append(faults, fmt.Sprintf("%s %s: %s", ex.Method, requestSummary(ex), fault))
		}
		if first != nil {
			g.Expect(faults).To(BeEmpty(), "token-endpoint requests of this run got a 5xx or no answer; the first:\n%s", f.Evidence(first))
		}
	})
}

// timedOut reports whether a request got no answer in time (the client's
// timeout), as opposed to a refused connection or a cancelled run.
func timedOut(err error) bool {
	var te interface{ Timeout() bool }
	return err != nil && !errors.Is(err, context.Canceled) && errors.As(err, &te) && te.Timeout()
}

// requestSummary describes a recorded token request in a few words for a
// message: its client authentication and its body's shape, never a secret.
func requestSummary(ex *probe.Exchange) string {
	var parts []string
	if a := ex.RequestHead.Get("Authorization"); a != "" {
		scheme, _, _ := strings.Cut(a, " ")
		parts = append(parts, scheme+" authentication")
	}
	if u, err := url.Parse(ex.URL); err == nil && u.RawQuery != "" {
		parts = append(parts, "a query string")
	}
	if mt := ex.RequestHead.Get("Content-Type"); mt != "" && len(ex.RequestBody) > 0 {
		parts = append(parts, fmt.Sprintf("a %d-byte %s body", len(ex.RequestBody), mt))
	}
	if len(parts) == 0 {
		return "with no credentials and no body"
	}
	return "with " + strings.Join(parts, ", ")
}
