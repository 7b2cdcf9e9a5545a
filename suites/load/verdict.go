package load

import (
	"net/http"
	"strings"

	"github.com/tollgate/tollgate/spec/authheader"
)

// Kind is what a request carries, and so what answer it should get.
type Kind uint8

// Kinds of request.
const (
	KindValid   Kind = iota // a live token: must be accepted (2xx)
	KindInvalid             // a token the server never issued: 401 invalid_token
	KindMissing             // no Authorization header: 401 with a Bearer challenge
	KindExpired             // an expired token: 401 invalid_token
	KindIssue               // a token request with good credentials: 200
	numKinds
)

// String returns the kind's name as --mix writes it.
func (k Kind) String() string {
	switch k {
	case KindValid:
		return "valid"
	case KindInvalid:
		return "invalid"
	case KindMissing:
		return "missing"
	case KindExpired:
		return "expired"
	case KindIssue:
		return "issue"
	}
	return "unknown"
}

// ParseKind reads a kind name.
func ParseKind(s string) (Kind, bool) {
	for k := range numKinds {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}

// Outcome is how a response compares with the answer it should get.
type Outcome uint8

// Outcomes. Accepted, Rejected and Wrong are wrong verdicts: any of them
// fails a run. ServerError, Timeout and Connection are errors, counted in
// the error rate. RateLimited is neither.
const (
	OutcomeCorrect     Outcome = iota // the answer the request should get
	OutcomeAccepted                   // a bad token was accepted (2xx): a security failure
	OutcomeRejected                   // a valid token or good credentials were refused (4xx)
	OutcomeWrong                      // a bad token refused the wrong way (status, challenge or error code)
	OutcomeServerError                // 5xx (on a bad token: counted apart from a correct 401)
	OutcomeRateLimited                // 429: the server's rate limit, not an error
	OutcomeTimeout                    // no answer within the timeout
	OutcomeConnection                 // the connection failed (refused, reset, closed early)
	numOutcomes
)

// String names the outcome as the JSON report does.
func (o Outcome) String() string {
	switch o {
	case OutcomeCorrect:
		return "correct"
	case OutcomeAccepted:
		return "accepted"
	case OutcomeRejected:
		return "rejected"
	case OutcomeWrong:
		return "wrong"
	case OutcomeServerError:
		return "server_error"
	case OutcomeRateLimited:
		return "rate_limited"
	case OutcomeTimeout:
		return "timeout"
	case OutcomeConnection:
		return "connection"
	}
	return "unknown"
}

// parseOutcome reads an outcome name.
func parseOutcome(s string) (Outcome, bool) {
	for o := range numOutcomes {
		if o.String() == s {
			return o, true
		}
	}
	return 0, false
}

// IsWrongVerdict reports whether the outcome is a wrong verdict.
func (o Outcome) IsWrongVerdict() bool {
	return o == OutcomeAccepted || o == OutcomeRejected || o == OutcomeWrong
}

// IsError reports whether the outcome counts as an error (by status,
// timeout or connection).
func (o Outcome) IsError() bool {
	return o == OutcomeServerError || o == OutcomeTimeout || o == OutcomeConnection
}

// Classify judges a response to a request of kind k by its status and its
// WWW-Authenticate field values (RFC 6750 §3 and §3.1).
func Classify(k Kind, status int, challenges []string) Outcome {
	switch {
	case status == http.StatusTooManyRequests:
		return OutcomeRateLimited
	case status >= 500:
		return OutcomeServerError
	case k == KindValid || k == KindIssue:
		if status >= 200 && status < 300 {
			return OutcomeCorrect
		}
		return OutcomeRejected
	case status >= 200 && status < 300:
		return OutcomeAccepted
	case status != http.StatusUnauthorized:
		return OutcomeWrong
	}
	c, ok := bearerChallenge(challenges)
	if !ok {
		return OutcomeWrong
	}
	code, hasCode := c.Param("error")
	if k == KindMissing {
		// RFC 6750 §3.1: no error code when the request had no credentials.
		if hasCode {
			return OutcomeWrong
		}
		return OutcomeCorrect
	}
	if !strings.EqualFold(code, "invalid_token") {
		return OutcomeWrong
	}
	return OutcomeCorrect
}

// bearerChallenge finds the Bearer challenge among WWW-Authenticate values.
func bearerChallenge(values []string) (authheader.Challenge, bool) {
	if len(values) == 0 {
		return authheader.Challenge{}, false
	}
	cs, err := authheader.ParseChallenges(values...)
	if err != nil {
		return authheader.Challenge{}, false
	}
	return authheader.Find(cs, "Bearer")
}
