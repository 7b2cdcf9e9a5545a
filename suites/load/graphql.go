package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/probe"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// GraphQLInput says how to build a graphql scenario: the validate
// scenario's tokens and mix (Validate; its Operations are not used), sent
// as one fixed query to the target's GraphQL endpoint.
type GraphQLInput struct {
	Validate ValidateInput
	// Endpoint is the target's GraphQL endpoint, resolved by Preflight
	// (framework.Framework.GraphQLEndpoint).
	Endpoint *probe.GraphQLTarget
	// Query is the document to send; "" sends the SDL's probe query
	// (probe.GraphQLFixtures.Probe). It is validated against the SDL first:
	// a mismatch wraps probe.ErrGraphQLFixture.
	Query string
	// OperationName selects the operation of a Query with several.
	OperationName string
}

// BuildGraphQL obtains the tokens as BuildValidate does and prebuilds one
// POST of the query per token and kind. Each answer is judged by the
// endpoint's signalling (ClassifyGraphQL).
func BuildGraphQL(ctx context.Context, in GraphQLInput) (*Scenario, error) {
	if in.Endpoint == nil {
		return nil, errors.New("load: graphql: the target has no GraphQL endpoint: declare x-tollgate.graphql in the flow document, or give --graphql-endpoint and --graphql-sdl")
	}
	v := in.Validate
	if v.F == nil {
		return nil, errors.New("load: graphql: no prober (GraphQLInput.Validate.F)")
	}
	query := in.Query
	if query == "" {
		query = in.Endpoint.Fixtures.Probe
	}
	if err := in.Endpoint.Schema.Validate(query); err != nil {
		return nil, fmt.Errorf("load: graphql: --query: %w", err)
	}
	if err := oneOperation(query, in.OperationName); err != nil {
		return nil, fmt.Errorf("load: graphql: --query: %w", err)
	}
	body, err := json.Marshal(probe.GraphQLRequest{Query: query, OperationName: in.OperationName})
	if err != nil {
		return nil, fmt.Errorf("load: graphql: encode the query: %w", err)
	}
	mix := v.Mix
	if mix.total() == 0 {
		mix[KindValid] = 1
	}
	sc := &Scenario{Name: "graphql"}
	if mix[KindExpired] > 0 {
		expired, note, err := expiredTokens(ctx, v)
		if err != nil {
			return nil, err
		}
		if len(expired) == 0 {
			sc.Notes = append(sc.Notes, "expired share skipped: "+note)
			mix[KindExpired] = 0
		}
		v.ExpiredTokens = expired
	}
	valid, validUntil, err := validTokens(ctx, v)
	if err != nil {
		return nil, err
	}
	sc.ValidUntil = validUntil
	if len(valid) > 0 {
		if err := endpointThere(ctx, v.F, in.Endpoint, probe.GraphQLRequest{Query: query, OperationName: in.OperationName}, valid[0].AccessToken); err != nil {
			return nil, err
		}
	}
	if mix.total() == 0 {
		return nil, errors.New("load: graphql: nothing left to send once the expired share was dropped; give the mix another kind")
	}
	sig := in.Endpoint.Signalling
	tg := &mixTargeter{schedule: mix.schedule()}
	add := func(k Kind, token string) error {
		header := http.Header{"Accept": {"application/json"}, "Content-Type": {"application/json"}}
		if k != KindMissing {
			header["Authorization"] = []string{"Bearer " + token}
		}
		t, err := newTarget(k, http.MethodPost, in.Endpoint.URL, header, body)
		if err != nil {
			return err
		}
		t.graphql = &sig
		tg.targets[k] = append(tg.targets[k], t)
		return nil
	}
	for _, tok := range valid {
		if err := add(KindValid, tok.AccessToken); err != nil {
			return nil, err
		}
		if err := add(KindInvalid, spec.TamperToken(tok.AccessToken)); err != nil {
			return nil, err
		}
	}
	if err := add(KindMissing, ""); err != nil {
		return nil, err
	}
	for _, tok := range v.ExpiredTokens {
		if err := add(KindExpired, tok); err != nil {
			return nil, err
		}
	}
	sc.Targeter, sc.Mix = tg, mix
	return sc, nil
}

// endpointThere sends the query once with a valid token: an endpoint that
// answers 404 or 405 is not there (a wrong --graphql-endpoint or
// x-tollgate.graphql.path), which is a configuration error, not a run of
// wrong verdicts.
func endpointThere(ctx context.Context, p *probe.Prober, t *probe.GraphQLTarget, op probe.GraphQLRequest, token string) error {
	ex, err := p.GraphQL(ctx, t, probe.GraphQLCall{Ops: []probe.GraphQLRequest{op}, Auth: []string{"Bearer " + token}})
	if err != nil {
		return fmt.Errorf("load: graphql: the query with a valid token: %w", err)
	}
	if ex.Status == http.StatusNotFound || ex.Status == http.StatusMethodNotAllowed {
		return fmt.Errorf("load: graphql: %s answered %d %s to the query with a valid token: no GraphQL endpoint there; fix --graphql-endpoint (or x-tollgate.graphql.path)", t.URL, ex.Status, http.StatusText(ex.Status))
	}
	return nil
}

// oneOperation checks that query, already validated, names the operation
// to run: one operation, or the one operationName names. A server answers
// a document of several operations without operationName with 400
// (GraphQL spec, GetOperation), which would count every request of the
// run as a wrong verdict.
func oneOperation(query, operationName string) error {
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return fmt.Errorf("parse the query: %w", err)
	}
	if operationName != "" {
		if doc.Operations.ForName(operationName) == nil {
			return fmt.Errorf("the document has no operation %q", operationName)
		}
		return nil
	}
	if len(doc.Operations) > 1 {
		names := make([]string, len(doc.Operations))
		for i, op := range doc.Operations {
			names[i] = op.Name
		}
		return fmt.Errorf("the document has %d operations (%s): keep only the one to send", len(names), strings.Join(names, ", "))
	}
	return nil
}

// ClassifyGraphQL judges an answer from a GraphQL endpoint to a request of
// kind k by the endpoint's signalling (shared catalog §3.1): a valid token
// must get 200 with data and no errors; a request without a valid token
// must get no data, and a refusal the signalling allows: 403, 401 judged
// as Classify judges it (a Bearer challenge, RFC 6750 §3.1), or, where
// sig allows the legacy shape, 200 with an error code of sig.Codes.
func ClassifyGraphQL(k Kind, status int, challenges []string, body []byte, sig probe.GraphQLSignalling) Outcome {
	switch {
	case status == http.StatusTooManyRequests:
		return OutcomeRateLimited
	case status >= 500:
		return OutcomeServerError
	}
	a := probe.ReadGraphQLBody(status, body)
	if k == KindValid {
		switch {
		case status >= 200 && status < 300 && len(a.Results) == 1 && a.Results[0].Served() && len(a.Results[0].Errors) == 0:
			return OutcomeCorrect
		case a.Served():
			return OutcomeWrong // data, but with errors or a wrong status
		default:
			return OutcomeRejected
		}
	}
	switch {
	case a.Served():
		return OutcomeAccepted
	case status == http.StatusUnauthorized:
		return Classify(k, status, challenges)
	case sig.Refusal(a) == "":
		return OutcomeCorrect // 403, or the legacy 200 the signalling allows
	default:
		return OutcomeWrong
	}
}

// graphqlVerdict is the last GraphQL answer a worker judged: a server
// answers the same query the same way, so judging repeats a comparison,
// not a JSON parse.
type graphqlVerdict struct {
	judged     bool
	kind       Kind
	status     int
	body       []byte
	challenges []byte
	outcome    Outcome
}

// classifyGraphQL is ClassifyGraphQL for the wire sender, remembering the
// last answer judged.
func (w *worker) classifyGraphQL(k Kind, status int, challenges, body []byte, sig *probe.GraphQLSignalling) Outcome {
	last := &w.lastGraphQL
	if last.judged && k == last.kind && status == last.status && bytes.Equal(body, last.body) && bytes.Equal(challenges, last.challenges) {
		return last.outcome
	}
	var values []string
	for _, v := range bytes.Split(bytes.TrimSuffix(challenges, []byte("\n")), []byte("\n")) {
		if len(v) > 0 {
			values = append(values, string(v))
		}
	}
	last.judged, last.kind, last.status = true, k, status
	last.body = append(last.body[:0], body...)
	last.challenges = append(last.challenges[:0], challenges...)
	last.outcome = ClassifyGraphQL(k, status, values, body, *sig)
	return last.outcome
}
