package conformance

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/onsi/gomega"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/authheader"
	"github.com/tollgate/tollgate/spec/oautherr"
	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/probe"
)

// errorOf parses an RFC 6749 / 6750 error body; problems with its shape are
// returned, not asserted, so each check decides what they mean.
func errorOf(ex *probe.Exchange) (*oautherr.Error, error) {
	return oautherr.Parse(ex.Body)
}

// expectRejected asserts a token request got no token: a 4xx without an
// access token member. A 5xx ends the check NOT VERIFIED: TOK-038 owns
// every 5xx of the token endpoint, and a crash tells nothing about the
// property the check judges.
func expectRejected(g gomega.Gomega, r *framework.Registrar, ex *probe.Exchange) {
	if ex.Status >= 500 {
		framework.NotVerified("the target answered %d, so whether it would refuse this request cannot be told (TOK-038 judges a 5xx)", ex.Status)
	}
	g.Expect(ex.Status).To(gomega.And(gomega.BeNumerically(">=", 400), gomega.BeNumerically("<", 500)),
		"want a 4xx rejection, got %d", ex.Status)
	g.Expect(tokenIssued(r.F, ex)).To(gomega.BeFalse(), "a rejected token request must not carry a token")
}

// tokenIssued reports whether a token-endpoint answer issued a token: a 2xx,
// or any answer whose JSON body carries the flow's token member.
func tokenIssued(f *framework.Framework, ex *probe.Exchange) bool {
	var doc map[string]any
	if json.Unmarshal(ex.Body, &doc) == nil {
		if v, has := f.Flow.Token.Response.AccessToken.Get(doc); has && v != nil && v != "" {
			return true
		}
	}
	return ex.Status >= 200 && ex.Status < 300
}

// expectErrorCode asserts the error body names one of the codes.
func expectErrorCode(g gomega.Gomega, ex *probe.Exchange, codes ...string) {
	e, err := errorOf(ex)
	g.Expect(e).NotTo(gomega.BeNil(), "the body is not an RFC 6749 error: %v", err)
	g.Expect(codes).To(gomega.ContainElement(e.Code), "error code")
}

// tokenErrorCode returns the error code of a token-endpoint error, and
// false when the body names none: TOK-032 owns an error body without an
// error member (an RFC 9457 problem document, say), so the checks that
// judge which code a refusal carries leave such a body to it.
func tokenErrorCode(ex *probe.Exchange) (string, bool) {
	e, _ := errorOf(ex)
	if e == nil || e.Code == "" {
		return "", false
	}
	return e.Code, true
}

// expectTokenErrorCode asserts a token-endpoint error names one of the
// codes, when it names any (see tokenErrorCode).
func expectTokenErrorCode(g gomega.Gomega, ex *probe.Exchange, codes ...string) {
	if code, ok := tokenErrorCode(ex); ok {
		g.Expect(codes).To(gomega.ContainElement(code), "error code")
	}
}

// probedOperation is the protected operation the single-route checks use:
// the first one any token of the flow may call, else the first one. With
// none the check is N/A.
func probedOperation(f *framework.Framework) spec.Operation {
	protected := f.Protected()
	for _, op := range protected {
		if len(op.Scopes) == 0 {
			return op
		}
	}
	if len(protected) == 0 {
		if len(f.Config.Operations) > 0 {
			framework.NotApplicable("none of the --operation names %s is an operation the flow document protects", strings.Join(f.Config.Operations, ", "))
		}
		framework.NotApplicable("the flow document protects no operation")
	}
	return protected[0]
}

// isErrorCode reports whether the body is an RFC 6749 error with code.
func isErrorCode(ex *probe.Exchange, code string) bool {
	e, _ := errorOf(ex)
	return e != nil && e.Code == code
}

// challenges parses every WWW-Authenticate line of a response.
func challenges(g gomega.Gomega, ex *probe.Exchange) []authheader.Challenge {
	cs, err := authheader.ParseChallenges(ex.Header.Values("WWW-Authenticate")...)
	g.Expect(err).NotTo(gomega.HaveOccurred(), "WWW-Authenticate is malformed: %q", ex.Header.Values("WWW-Authenticate"))
	return cs
}

// bearerChallenge asserts a response carries a Bearer challenge and returns it.
func bearerChallenge(g gomega.Gomega, ex *probe.Exchange) authheader.Challenge {
	c, ok := authheader.Find(challenges(g, ex), "Bearer")
	g.Expect(ok).To(gomega.BeTrue(), "no Bearer challenge in WWW-Authenticate %q", ex.Header.Values("WWW-Authenticate"))
	return c
}

// challengeOrNotVerified returns the Bearer challenge, ending the check NOT
// VERIFIED when there is none (BEAR-002 reports that).
func challengeOrNotVerified(g gomega.Gomega, ex *probe.Exchange) authheader.Challenge {
	c, ok := authheader.Find(challenges(g, ex), "Bearer")
	if !ok {
		framework.NotVerified("no Bearer challenge to inspect (status %d; BEAR-002 judges that)", ex.Status)
	}
	return c
}

// baseMediaType returns the media type of a response without parameters.
func baseMediaType(ex *probe.Exchange) string {
	mt, _, err := mime.ParseMediaType(ex.Header.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return mt
}

// cacheDirectives returns the Cache-Control directives of all field lines,
// lower case.
func cacheDirectives(h http.Header) []string {
	var out []string
	for _, line := range h.Values("Cache-Control") {
		for _, d := range strings.Split(line, ",") {
			d, _, _ = strings.Cut(strings.TrimSpace(d), "=")
			if d != "" {
				out = append(out, strings.ToLower(d))
			}
		}
	}
	return out
}

// rawMember returns the raw JSON of a top-level member.
func rawMember(body []byte, name string) (json.RawMessage, bool) {
	var doc map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil {
		return nil, false
	}
	v, ok := doc[name]
	return v, ok
}

// jwtClaims decodes the payload of a compact JWS without verifying it.
func jwtClaims(token string) (map[string]any, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var claims map[string]any
	if dec.Decode(&claims) != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return claims, true
}
