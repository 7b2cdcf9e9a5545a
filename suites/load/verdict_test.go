package load

import (
	"net/http"
	"testing"
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
