package conformance

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega" //nolint:revive // matchers read as prose in checks

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/probe"
)

// gqlAnswer is one exchange with the GraphQL endpoint, read as GraphQL.
type gqlAnswer struct {
	ex *probe.Exchange
	probe.GraphQLAnswer
}

// gqlRoute is how the GraphQL endpoint answers the probe query (a Query
// field that needs no scope, POST application/json) with the primary
// token, an unknown token and no token: the single notion of "refused"
// and "served" the GQL checks share, as routeAnswers is for REST.
type gqlRoute struct {
	t                       *probe.GraphQLTarget
	token                   string
	valid, invalid, noCreds gqlAnswer
}

// needEnforced ends a check INCONCLUSIVE when the endpoint serves data
// without any token: GQL-001 reports that once, and every subtler bypass
// would be that one.
func (r *gqlRoute) needEnforced() {
	if r.noCreds.Served() {
		framework.Inconclusive("the GraphQL endpoint %s serves data without any token (status %d): see GQL-001", r.t.URL, r.noCreds.Status)
	}
}

// needUnknownRefused ends a check INCONCLUSIVE when the endpoint serves
// data to a token nobody issued: GQL-002 reports that once.
func (r *gqlRoute) needUnknownRefused() {
	if r.invalid.Served() {
		framework.Inconclusive("the GraphQL endpoint %s serves data to a token nobody issued (status %d): see GQL-002", r.t.URL, r.invalid.Status)
	}
}

// GraphQLChecks defines the GQL checks for r's flow: they probe the GraphQL
// endpoint the flow document or the configuration declares, and are N/A
// when there is none.
func GraphQLChecks(r *framework.Registrar) {
	f := r.F
	send := func(ctx ginkgo.SpecContext, g Gomega, t *probe.GraphQLTarget, c probe.GraphQLCall) gqlAnswer {
		ex, err := f.GraphQL(ctx, t, c)
		framework.Sent(g, ex, err)
		return gqlAnswer{ex: ex, GraphQLAnswer: probe.ReadGraphQLAnswer(ex)}
	}
	probeOp := func(t *probe.GraphQLTarget) []probe.GraphQLRequest {
		return []probe.GraphQLRequest{{Query: t.Fixtures.Probe, OperationName: "TollgateProbe"}}
	}
	bearer := func(token string) []string { return []string{"Bearer " + token} }
	// offered returns the endpoint once the valid token's probe query shows
	// it is there: a 404 or 405 there means it is not offered, which is N/A
	// where the flow document marks GraphQL optional and nothing requires
	// it, else GQL-004's one FAIL (the other checks NOT VERIFIED).
	offered := func(ctx ginkgo.SpecContext, g Gomega, id string) (*probe.GraphQLTarget, string, gqlAnswer) {
		t := f.GraphQLEndpoint()
		if t == nil {
			framework.NotApplicable("not offered: the flow document declares no GraphQL endpoint (x-tollgate.graphql) and the configuration names none (graphql.endpoint, --graphql-endpoint)")
		}
		tr, err := f.PrimaryToken(ctx)
		framework.Sent(g, nil, err)
		valid := send(ctx, g, t, probe.GraphQLCall{Ops: probeOp(t), Auth: bearer(tr.AccessToken)})
		if valid.Status != http.StatusNotFound && valid.Status != http.StatusMethodNotAllowed {
			return t, tr.AccessToken, valid
		}
		kind := spec.CapabilityGraphQL
		optional := t.Source == probe.SourceFlowDocument && f.Flow.IsOptional(kind)
		why := requiredBecause(kind, t.Source, optional, f.Config.Requires(kind), false)
		if why == "" {
			framework.NotApplicable("not offered: %s answered %d (the flow document marks graphql optional, x-tollgate.optional; --require graphql makes its absence a FAIL)", t.URL, valid.Status)
		}
		notOffered(g, kind, id, fmt.Sprintf("the GraphQL endpoint %s (from %s) answered %d %s", t.URL, t.Source, valid.Status, http.StatusText(valid.Status)), why)
		return t, tr.AccessToken, valid
	}
	target := func(ctx ginkgo.SpecContext, g Gomega) *probe.GraphQLTarget {
		t, _, _ := offered(ctx, g, ginkgoID())
		return t
	}
	observe := func(ctx ginkgo.SpecContext, g Gomega) *gqlRoute {
		t, token, valid := offered(ctx, g, ginkgoID())
		return &gqlRoute{t: t, token: token, valid: valid,
			invalid: send(ctx, g, t, probe.GraphQLCall{Ops: probeOp(t), Auth: bearer(unknownToken)}),
			noCreds: send(ctx, g, t, probe.GraphQLCall{Ops: probeOp(t)}),
		}
	}
	// expectRefused asserts that a, the answer to the probe query with bad
	// or no credentials, serves no data and is refused as the target's
	// signalling says; when rt's own request without a token is refused
	// the same wrong way, the shape is GQL-001's to judge, not this check's.
	expectRefused := func(g Gomega, rt *gqlRoute, a gqlAnswer, what string) {
		g.Expect(a.Served()).To(BeFalse(), "%s was served data by %s (status %d): no protected data may be returned", what, rt.t.URL, a.Status)
		why := rt.t.Signalling.Refusal(a.GraphQLAnswer)
		if why != "" && rt.t.Signalling.Refusal(rt.noCreds.GraphQLAnswer) != "" && a.Status == rt.noCreds.Status {
			return // refused as a request without a token is: GQL-001 judges that shape
		}
		g.Expect(why).To(BeEmpty(), "%s was not refused as the target signals a failed authentication: it %s (error codes %v)", what, why, a.Codes())
	}

	// expectTokenRefused sends the probe query with token, a token that
	// must be refused, and judges the answer as expectRefused does. When
	// it is served and the flow's REST route accepts the token as well,
	// the fault is the server's token validation, which owner judges on
	// REST: this check ends INCONCLUSIVE, so that one fault gives one FAIL.
	expectTokenRefused := func(ctx ginkgo.SpecContext, g Gomega, rt *gqlRoute, token, what, owner string) {
		t := rt.t
		call := probe.GraphQLCall{Ops: probeOp(t), Auth: bearer(token)}
		a := send(ctx, g, t, call)
		if a.Served() && len(f.Protected()) > 0 {
			op := probedOperation(f)
			rest := observeRoute(ctx, g, f, op)
			ex, err := f.Call(ctx, op, "", "Bearer "+token)
			framework.Sent(g, ex, err)
			if rest.enforces() && rest.accepted(ex) {
				framework.Inconclusive("%s is served by the GraphQL endpoint and accepted on %s too (it %s): the server's token validation is at fault, which %s judges", what, rest.route(), rest.compare(ex), owner)
			}
			a = send(ctx, g, t, call) // the evidence is the GraphQL exchange
		}
		expectRefused(g, rt, a, what)
	}

	r.CheckIt("GQL-001", func(ctx ginkgo.SpecContext, g Gomega) {
		rt := observe(ctx, g)
		a := rt.noCreds
		g.Expect(a.Served()).To(BeFalse(), "a query without a token was served data by %s (status %d): no protected data may be returned", rt.t.URL, a.Status)
		why := rt.t.Signalling.Refusal(a.GraphQLAnswer)
		g.Expect(why).To(BeEmpty(), "a query without a token was not refused as the target signals a failed authentication: it %s (error codes %v)", why, a.Codes())
	})

	r.CheckIt("GQL-002", func(ctx ginkgo.SpecContext, g Gomega) {
		rt := observe(ctx, g)
		rt.needEnforced()
		tampered := spec.AlterToken(rt.token, 0)
		f.AddSecret(tampered)
		expectTokenRefused(ctx, g, rt, unknownToken, "a token nobody issued", "BEAR-004")
		expectTokenRefused(ctx, g, rt, tampered, "the valid token with its first character changed", "BEAR-005")
	})

	r.CheckIt("GQL-003", func(ctx ginkgo.SpecContext, g Gomega) {
		rt := observe(ctx, g)
		rt.needEnforced()
		rt.needUnknownRefused()
		token := gqlExpiredToken(ctx, g, f)
		expectTokenRefused(ctx, g, rt, token, "an expired token", "EXP-005")
	})

	r.CheckIt("GQL-004", func(ctx ginkgo.SpecContext, g Gomega) {
		rt := observe(ctx, g)
		a := rt.valid
		if !a.Served() && len(f.Protected()) > 0 && !observeRoute(ctx, g, f, probedOperation(f)).tokenWorks() {
			framework.Inconclusive("the primary token is refused on the REST route too, so the GraphQL endpoint is not to blame (BEAR-001 and BEAR-025 judge that)")
		}
		f.Cite(a.ex) // not the REST exchanges observeRoute sent
		g.Expect(a.Status).To(Equal(http.StatusOK), "the valid token's query %q got %d", rt.t.Fixtures.Probe, a.Status)
		g.Expect(a.Results).To(HaveLen(1), "the answer to the valid token's query is no GraphQL response")
		g.Expect(a.Results[0].Served()).To(BeTrue(), "the valid token's query %q got no data", rt.t.Fixtures.Probe)
		g.Expect(a.Results[0].Errors).To(BeEmpty(), "the valid token's query %q got errors", rt.t.Fixtures.Probe)
	})

	r.CheckIt("GQL-005", func(ctx ginkgo.SpecContext, g Gomega) {
		rt := observe(ctx, g)
		seen := 0
		for _, a := range []struct {
			what string
			a    gqlAnswer
		}{{"a query without a token", rt.noCreds}, {"a query with a token nobody issued", rt.invalid}} {
			if a.a.Status != http.StatusUnauthorized {
				continue
			}
			seen++
			f.Cite(a.a.ex)
			_, ok := findChallenge(g, a.a.ex, "Bearer")
			g.Expect(ok).To(BeTrue(), "%s got 401 without a Bearer challenge (RFC 9110 §11.6.1: a 401 MUST carry WWW-Authenticate); WWW-Authenticate %q", a.what, a.a.ex.Header.Values("WWW-Authenticate"))
		}
		if seen == 0 {
			framework.NotApplicable("the GraphQL endpoint answered no 401 (without a token: %d, an unknown token: %d)", rt.noCreds.Status, rt.invalid.Status)
		}
	})

	r.CheckIt("GQL-006", func(ctx ginkgo.SpecContext, g Gomega) {
		rt := observe(ctx, g)
		rt.needEnforced()
		t := rt.t
		a := send(ctx, g, t, probe.GraphQLCall{Ops: probeOp(t), Accept: probe.GraphQLResponseMediaType + ", application/json;q=0.9"})
		if a.MediaType != probe.GraphQLResponseMediaType {
			framework.Note("asked for %s, the endpoint answered %q: a legacy server, which the media type's status rules do not bind", probe.GraphQLResponseMediaType, a.MediaType)
			return
		}
		noData := !slices.ContainsFunc(a.Results, func(r probe.GraphQLResult) bool { return r.HasData })
		if noData {
			g.Expect(a.Status).To(BeNumerically(">=", 400), "a query without a token got %d with %s and no data entry (GraphQL over HTTP: without data the status MUST be 4xx or 5xx)", a.Status, probe.GraphQLResponseMediaType)
		}
	})

	r.CheckIt("GQL-007", func(ctx ginkgo.SpecContext, g Gomega) {
		// The shapes other than GQL-001's POST of the probe query: only
		// whether data was served is judged here, the signalling is GQL-001's.
		rt := observe(ctx, g)
		rt.needEnforced()
		t := rt.t
		fx := t.Fixtures
		shapes := []struct {
			what string
			call probe.GraphQLCall
		}{
			{"GET ?query=", probe.GraphQLCall{Shape: probe.ShapeGET, Ops: probeOp(t)}},
			{"POST application/graphql", probe.GraphQLCall{Shape: probe.ShapeGraphQL, Ops: probeOp(t)}},
			{"a batch of two queries", probe.GraphQLCall{Shape: probe.ShapeBatch, Ops: append(probeOp(t), probeOp(t)...)}},
			{"the field under three aliases", probe.GraphQLCall{Ops: []probe.GraphQLRequest{{Query: fx.Aliases}}}},
			{"the field through a fragment", probe.GraphQLCall{Ops: []probe.GraphQLRequest{{Query: fx.Fragment}}}},
		}
		if fx.Mutation != "" {
			shapes = append(shapes, struct {
				what string
				call probe.GraphQLCall
			}{"a mutation", probe.GraphQLCall{Ops: []probe.GraphQLRequest{{Query: fx.Mutation}}}})
		}
		// A persisted-query hash (Apollo's automatic persisted queries):
		// registered with the valid token, then sent alone without one.
		sum := sha256.Sum256([]byte(fx.Probe))
		persisted := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
		send(ctx, g, t, probe.GraphQLCall{Ops: []probe.GraphQLRequest{{Query: fx.Probe, Extensions: persisted}}, Auth: bearer(rt.token)})
		shapes = append(shapes, struct {
			what string
			call probe.GraphQLCall
		}{"a persisted-query hash", probe.GraphQLCall{Ops: []probe.GraphQLRequest{{OperationName: "TollgateProbe", Extensions: persisted}}}})
		for _, s := range shapes {
			a := send(ctx, g, t, s.call)
			g.Expect(a.Served()).To(BeFalse(), "%s without a token was served data by %s (status %d)", s.what, t.URL, a.Status)
		}
	})

	r.CheckIt("GQL-008", func(ctx ginkgo.SpecContext, g Gomega) {
		rt := observe(ctx, g)
		rt.needEnforced()
		t := rt.t
		fx := t.Fixtures
		if fx.Misspelt != "" {
			a := send(ctx, g, t, probe.GraphQLCall{Ops: []probe.GraphQLRequest{{Query: fx.Misspelt}}})
			body := string(a.ex.Body)
			g.Expect(strings.ToLower(body)).NotTo(ContainSubstring("did you mean"), "a query for the unknown field %q without a token got field suggestions", fx.MisspeltName)
			named := regexp.MustCompile(`\b` + regexp.QuoteMeta(fx.SuggestedName) + `\b`)
			g.Expect(named.MatchString(body)).To(BeFalse(), "a query for the unknown field %q without a token got an answer naming the real field %q", fx.MisspeltName, fx.SuggestedName)
		}
		a := send(ctx, g, t, probe.GraphQLCall{Ops: []probe.GraphQLRequest{{Query: fx.Introspection}}})
		g.Expect(a.Served()).To(BeFalse(), "introspection (__schema) without a token was answered with the schema (status %d)", a.Status)
		if !t.Introspection {
			a := send(ctx, g, t, probe.GraphQLCall{Ops: []probe.GraphQLRequest{{Query: fx.Introspection}}, Auth: bearer(rt.token)})
			g.Expect(a.Served()).To(BeFalse(), "introspection (__schema) with a valid token was answered with the schema, though the configuration says introspection is closed (x-tollgate.graphql.introspection: false)")
		}
	})

	r.CheckIt("GQL-009", func(ctx ginkgo.SpecContext, g Gomega) {
		t := target(ctx, g)
		if len(t.Fixtures.Scoped) == 0 {
			framework.NotApplicable("no Query field of the SDL (%s) requires a scope", t.Schema.Source)
		}
		rt := observe(ctx, g)
		rt.needEnforced()
		if f.Config.ScopedClient.IsZero() {
			framework.NotVerified("needs a client limited to some scopes: set scoped_client (TOLLGATE_SCOPED_CLIENT_ID/_SECRET)")
		}
		tr, _, err := f.Token(ctx, f.Config.ScopedClient)
		framework.Sent(g, nil, err)
		granted := strings.Fields(tr.Scope)
		var lacking []probe.ScopedQuery
		for _, sq := range t.Fixtures.Scoped {
			if !slices.Contains(granted, sq.Scope) {
				lacking = append(lacking, sq)
			}
		}
		if len(lacking) == 0 {
			framework.NotApplicable("the scoped client's token (scope %q) holds every scope the SDL's Query fields require", tr.Scope)
		}
		forbidden := t.Signalling.Forbidden
		// expectNull judges one answer: 403, or every name (a field or
		// its aliases) of result i null with a FORBIDDEN-like error.
		var sq probe.ScopedQuery
		expectNull := func(a gqlAnswer, i int, names []string, what string) {
			if a.Status == http.StatusForbidden {
				g.Expect(a.Served() && slices.ContainsFunc(names, func(n string) bool { return a.Results[i].FieldServed(n) })).To(BeFalse(), "%s: 403, yet the field needing scope %s was served", what, sq.Scope)
				return
			}
			g.Expect(len(a.Results)).To(BeNumerically(">", i), "%s: the answer (status %d) is no GraphQL response", what, a.Status)
			res := a.Results[i]
			for _, n := range names {
				g.Expect(res.FieldServed(n)).To(BeFalse(), "%s: %s, which needs scope %s, was served to a token with scope %q", what, n, sq.Scope, tr.Scope)
			}
			g.Expect(res.HasCode(forbidden)).To(BeTrue(), "%s: the field is null but no error names one of %s (error codes %v)", what, strings.Join(forbidden, ", "), a.Codes())
		}
		auth := bearer(tr.AccessToken)
		// A server that ignores scopes on its REST routes too has one
		// fault, which BEAR-017 judges there. A route that serves requests
		// without any token says nothing about scopes (BEAR-019's fault):
		// the next scoped route is asked instead.
		for _, op := range f.Protected() {
			if len(op.Scopes) == 0 || op.Allows(granted) {
				continue
			}
			ex, err := f.Call(ctx, op, "", auth...)
			framework.Sent(g, ex, err)
			if ex.Status >= 300 {
				break
			}
			open, err := f.Call(ctx, op, "")
			framework.Sent(g, open, err)
			if open.Status < 300 {
				continue
			}
			framework.Inconclusive("%s %s serves the scoped client's token (scope %q) without the scope it needs, on REST too: the server ignores scopes, which BEAR-017 judges", op.Method, op.Path, tr.Scope)
		}
		// Every field the token lacks the scope of, alone; the first one
		// also under aliases and in a batch beside an allowed query.
		for _, sq = range lacking {
			expectNull(send(ctx, g, t, probe.GraphQLCall{Ops: []probe.GraphQLRequest{{Query: sq.Query}}, Auth: auth}), 0, []string{sq.Name}, "the field "+sq.Name)
		}
		sq = lacking[0]
		expectNull(send(ctx, g, t, probe.GraphQLCall{Ops: []probe.GraphQLRequest{{Query: sq.Aliases}}, Auth: auth}), 0, probe.ScopedAliasNames(), "the field "+sq.Name+" under three aliases")
		batch := send(ctx, g, t, probe.GraphQLCall{Shape: probe.ShapeBatch, Ops: append(probeOp(t), probe.GraphQLRequest{Query: sq.Query}), Auth: auth})
		if batch.Status != http.StatusForbidden && batch.Status >= 400 && !batch.Served() {
			return // the endpoint takes no batches: nothing served
		}
		expectNull(batch, 1, []string{sq.Name}, "a batch of an allowed query and the field "+sq.Name)
	})

	r.CheckIt("GQL-010", func(ctx ginkgo.SpecContext, g Gomega) {
		// Preflight validated the same fixtures and stopped the run (exit
		// 2) on a mismatch; this records that they hold.
		t := target(ctx, g)
		for _, q := range t.Fixtures.Valid() {
			g.Expect(t.Schema.Validate(q)).To(Succeed())
		}
		if t.Fixtures.Misspelt != "" {
			g.Expect(t.Schema.Validate(t.Fixtures.Misspelt)).NotTo(Succeed(), "the misspelt query is meant to be invalid")
		}
		ginkgo.AddReportEntry("graphql-fixtures", strings.Join(t.Fixtures.Valid(), "\n"))
	})

	r.CheckIt("GQL-011", func(ctx ginkgo.SpecContext, g Gomega) {
		rt := observe(ctx, g)
		t := rt.t
		tampered := spec.AlterToken(rt.token, 0)
		a := send(ctx, g, t, probe.GraphQLCall{Ops: probeOp(t), Auth: bearer(tampered)})
		if a.Served() {
			framework.NotVerified("a tampered token was served data, so there is no refusal to inspect (GQL-002 judges that)")
		}
		g.Expect(string(a.ex.Body)+headerText(a.ex.Header)).NotTo(ContainSubstring(tampered), "the refusal of a tampered token repeats it")
		if t.Fixtures.Misspelt != "" {
			a := send(ctx, g, t, probe.GraphQLCall{Ops: []probe.GraphQLRequest{{Query: t.Fixtures.Misspelt}}, Auth: bearer(rt.token)})
			g.Expect(string(a.ex.Body)+headerText(a.ex.Header)).NotTo(ContainSubstring(rt.token), "the validation errors of a valid token's invalid query repeat the token")
		}
	})

	r.CheckIt("GQL-012", func(ctx ginkgo.SpecContext, g Gomega) {
		t := target(ctx, g)
		if t.Fixtures.Mutation == "" {
			framework.NotApplicable("the SDL (%s) defines no mutation", t.Schema.Source)
		}
		rt := observe(ctx, g)
		if !rt.valid.Served() {
			framework.Inconclusive("the valid token is served no data on the probe query (status %d), so its mutation over GET proves nothing: see GQL-004", rt.valid.Status)
		}
		a := send(ctx, g, t, probe.GraphQLCall{Shape: probe.ShapeGET, Ops: []probe.GraphQLRequest{{Query: t.Fixtures.Mutation}}, Auth: bearer(rt.token)})
		g.Expect(a.Served()).To(BeFalse(), "a mutation over GET with a valid token was executed (status %d): GET must not change state", a.Status)
		g.Expect(a.Status).To(Equal(http.StatusMethodNotAllowed), "a mutation over GET (GraphQL over HTTP: 405 SHOULD be used)")
		g.Expect(a.ex.Header.Get("Allow")).To(ContainSubstring("POST"), "a 405 without an Allow naming POST (RFC 9110 §15.5.6: MUST generate Allow)")
	})
}

// gqlExpiredToken is GQL-003's expired token: a saved token past its
// lifetime, else one the target's control API mints expired, else the
// expiry client's token waited out within --max-expiry-wait; else the
// check ends NOT VERIFIED naming the remedy.
func gqlExpiredToken(ctx ginkgo.SpecContext, g Gomega, f *framework.Framework) string {
	if saved, ok := f.StaleToken(); ok && saved.ExpiresIn > 0 && time.Since(saved.IssuedAt) > time.Duration(saved.ExpiresIn)*time.Second+f.Config.Leeway {
		return saved.Token
	}
	if ctl := f.Control(); ctl != nil {
		if t, err := ctl.Mint(ctx, probe.MintRequest{Flow: f.Flow.Name, ClientID: f.Config.Client.ID, Defect: "expired"}); err == nil {
			f.AddSecret(t.AccessToken)
			ginkgo.AddReportEntry("expired-token", "minted expired through the target's control API")
			return t.AccessToken
		}
	}
	if f.Config.ExpiryClient.IsZero() {
		framework.NotVerified("needs an expired token: configure an expiry client with short-lived tokens (TOLLGATE_EXPIRY_CLIENT_ID), or a stale token file (--stale-token-file)")
	}
	tr, ex, err := f.Token(ctx, f.Config.ExpiryClient)
	framework.Sent(g, ex, err)
	wait := time.Until(ex.Sent.Add(time.Duration(tr.ExpiresIn)*time.Second + f.Config.Leeway + time.Second))
	if tr.ExpiresIn <= 0 || wait > f.Config.MaxExpiryWait {
		framework.NotVerified("the expiry client's token lives %ds, more than --max-expiry-wait %s allows to wait out", tr.ExpiresIn, f.Config.MaxExpiryWait)
	}
	select {
	case <-ctx.Done():
		framework.Inconclusive("stopped while waiting for the expiry client's token to expire")
	case <-time.After(wait):
	}
	return tr.AccessToken
}

// ginkgoID is the ID of the check running now, from its spec's text.
func ginkgoID() string {
	id, _, _ := strings.Cut(ginkgo.CurrentSpecReport().LeafNodeText, " ")
	return id
}
