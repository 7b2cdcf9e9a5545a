package load

import (
	"net/http"
	"testing"

	"github.com/tollgate/tollgate/suites/probe"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	const (
		bare    = `Bearer realm="tollgate"`
		invalid = `Bearer realm="tollgate", error="invalid_token", error_description="unknown token"`
	)
	tests := []struct {
		name       string
		kind       Kind
		status     int
		challenges []string
		want       Outcome
	}{
		{"a valid token accepted is correct", KindValid, http.StatusOK, nil, OutcomeCorrect},
		{"a valid token refused is a rejection", KindValid, http.StatusUnauthorized, []string{invalid}, OutcomeRejected},
		{"a valid token forbidden is a rejection", KindValid, http.StatusForbidden, nil, OutcomeRejected},
		{"a 5xx on a valid token is a server error", KindValid, http.StatusBadGateway, nil, OutcomeServerError},
		{"a 429 is rate limiting", KindValid, http.StatusTooManyRequests, nil, OutcomeRateLimited},
		{"an invalid token accepted is a security failure", KindInvalid, http.StatusOK, nil, OutcomeAccepted},
		{"an invalid token with 401 invalid_token is correct", KindInvalid, http.StatusUnauthorized, []string{invalid}, OutcomeCorrect},
		{"an invalid token with a bare challenge is wrong", KindInvalid, http.StatusUnauthorized, []string{bare}, OutcomeWrong},
		{"an invalid token with 401 and no challenge is wrong", KindInvalid, http.StatusUnauthorized, nil, OutcomeWrong},
		{"an invalid token with 403 is wrong", KindInvalid, http.StatusForbidden, []string{invalid}, OutcomeWrong},
		{"a 500 on an invalid token is a server error, not a 401", KindInvalid, http.StatusInternalServerError, nil, OutcomeServerError},
		{"an expired token accepted is a security failure", KindExpired, http.StatusNoContent, nil, OutcomeAccepted},
		{"an expired token with 401 invalid_token is correct", KindExpired, http.StatusUnauthorized, []string{`Basic realm="x"`, `bearer error="INVALID_TOKEN"`}, OutcomeCorrect},
		{"a missing token with a bare Bearer challenge is correct", KindMissing, http.StatusUnauthorized, []string{bare}, OutcomeCorrect},
		{"a missing token with an error code is wrong", KindMissing, http.StatusUnauthorized, []string{invalid}, OutcomeWrong},
		{"a missing token with only a Basic challenge is wrong", KindMissing, http.StatusUnauthorized, []string{`Basic realm="x"`}, OutcomeWrong},
		{"a missing token with an unparsable challenge is wrong", KindMissing, http.StatusUnauthorized, []string{`Bearer realm="x`}, OutcomeWrong},
		{"a missing token accepted is a security failure", KindMissing, http.StatusOK, nil, OutcomeAccepted},
		{"an issued token is correct", KindIssue, http.StatusOK, nil, OutcomeCorrect},
		{"refused good credentials are a rejection", KindIssue, http.StatusUnauthorized, nil, OutcomeRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Classify(tt.kind, tt.status, tt.challenges); got != tt.want {
				t.Errorf("Classify(%s, %d, %q) = %s, want %s", tt.kind, tt.status, tt.challenges, got, tt.want)
			}
		})
	}
}

func TestOutcomeGroups(t *testing.T) {
	t.Parallel()
	for o := Outcome(0); o < numOutcomes; o++ {
		if o.IsWrongVerdict() && o.IsError() {
			t.Errorf("%s is both a wrong verdict and an error", o)
		}
	}
	for _, o := range []Outcome{OutcomeAccepted, OutcomeRejected, OutcomeWrong} {
		if !o.IsWrongVerdict() {
			t.Errorf("%s is not a wrong verdict", o)
		}
	}
	if OutcomeRateLimited.IsError() || OutcomeRateLimited.IsWrongVerdict() {
		t.Error("rate limiting counts as an error or a wrong verdict")
	}
}

func TestClassifyGraphQL(t *testing.T) {
	t.Parallel()
	const (
		data    = `{"data":{"collections":[{"id":"c-1"}]}}`
		unauth  = `{"data":null,"errors":[{"message":"no","extensions":{"code":"UNAUTHENTICATED"}}]}`
		bare    = `Bearer realm="tollgate"`
		invalid = `Bearer realm="tollgate", error="invalid_token"`
	)
	strict := probe.GraphQLSignalling{Codes: []string{"UNAUTHENTICATED"}}
	legacy := probe.GraphQLSignalling{Errors200: true, Codes: []string{"UNAUTHENTICATED"}}
	tests := []struct {
		name       string
		kind       Kind
		status     int
		challenges []string
		body       string
		sig        probe.GraphQLSignalling
		want       Outcome
	}{
		{"a valid token served data is correct", KindValid, 200, nil, data, strict, OutcomeCorrect},
		{"a valid token served data with errors is wrong", KindValid, 200, nil, `{"data":{"a":1},"errors":[{"message":"x"}]}`, strict, OutcomeWrong},
		{"a valid token refused is a rejection", KindValid, 401, []string{invalid}, unauth, strict, OutcomeRejected},
		{"a valid token answered 200 without data is a rejection", KindValid, 200, nil, unauth, legacy, OutcomeRejected},
		{"an invalid token served data is accepted", KindInvalid, 200, nil, data, legacy, OutcomeAccepted},
		{"an invalid token served data under a 401 is accepted", KindInvalid, 401, []string{invalid}, data, strict, OutcomeAccepted},
		{"an invalid token with 401 invalid_token is correct", KindInvalid, 401, []string{invalid}, unauth, strict, OutcomeCorrect},
		{"an invalid token with 401 and no challenge is wrong", KindInvalid, 401, nil, unauth, strict, OutcomeWrong},
		{"a missing token with 403 is correct", KindMissing, 403, nil, `{"errors":[{"message":"no"}]}`, strict, OutcomeCorrect},
		{"a missing token with 401 and a bare challenge is correct", KindMissing, 401, []string{bare}, unauth, strict, OutcomeCorrect},
		{"the legacy 200 where allowed is correct", KindExpired, 200, nil, unauth, legacy, OutcomeCorrect},
		{"the legacy 200 where not allowed is wrong", KindExpired, 200, nil, unauth, strict, OutcomeWrong},
		{"a legacy 200 with another code is wrong", KindMissing, 200, nil, `{"data":null,"errors":[{"message":"x","extensions":{"code":"BAD_USER_INPUT"}}]}`, legacy, OutcomeWrong},
		{"a 400 is wrong", KindMissing, 400, nil, `{"errors":[{"message":"x"}]}`, strict, OutcomeWrong},
		{"a 500 is a server error", KindInvalid, 500, nil, `{"errors":[{"message":"x"}]}`, legacy, OutcomeServerError},
		{"a 429 is rate limiting", KindValid, 429, nil, "", strict, OutcomeRateLimited},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := ClassifyGraphQL(tc.kind, tc.status, tc.challenges, []byte(tc.body), tc.sig); got != tc.want {
				t.Errorf("ClassifyGraphQL = %s, want %s", got, tc.want)
			}
		})
	}
}
