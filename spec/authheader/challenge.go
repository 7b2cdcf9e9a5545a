package authheader

import "strings"

// Challenge is one challenge of a WWW-Authenticate header (RFC 9110 §11.3).
// At most one of Token68 and Params is set.
type Challenge struct {
	Scheme  string  // as sent, e.g. "Bearer"
	Token68 string  // the token68 form, if used (e.g. "Negotiate abc==")
	Params  []Param // the auth-param form, if used
}

// Param returns the value of the named auth-param (name compared without
// regard to ASCII case) and whether it was present.
func (c Challenge) Param(name string) (string, bool) { return lookupParam(c.Params, name) }

// String formats the challenge, e.g. `Bearer realm="x", error="invalid_token"`:
// the scheme, then the token68 if set, otherwise the auth-params in the
// order given with every value as a quoted-string (" and \ escaped). Names
// and the token68 are written as given, without validation; values must
// not hold control characters other than HTAB, which a quoted-string cannot
// carry (RFC 9110 §5.6.4).
func (c Challenge) String() string { return format(c.Scheme, c.Token68, c.Params) }

// ParseChallenges parses the field values of one or more WWW-Authenticate
// header lines (RFC 9110 §11.6.1) into the challenges they hold, in order.
//
// Challenges and the auth-params within a challenge are both separated by
// commas: an element after a comma is an auth-param of the current
// challenge when it starts with "token BWS =", and starts a new challenge
// otherwise. Optional whitespace and empty list elements are accepted
// (RFC 9110 §5.6.1); any other deviation from the grammar, including an
// auth-param name repeated within a challenge, is reported as a
// [*SyntaxError] giving the field value and byte offset. No values, or only
// empty ones, give no challenges and no error.
func ParseChallenges(values ...string) ([]Challenge, error) {
	var out []Challenge
	for vi, v := range values {
		p := scanner{s: v, header: HeaderWWWAuthenticate, value: vi}
		for {
			p.skipListSeparators()
			if p.eof() {
				break
			}
			scheme, token68, params, err := p.auth(true)
			if err != nil {
				return nil, err
			}
			out = append(out, Challenge{Scheme: scheme, Token68: token68, Params: params})
			p.skipOWS()
			if !p.eof() && p.s[p.i] != ',' {
				return nil, p.errorf(p.i, nil, "expected \",\" after challenge, found %s", describe(p.s, p.i))
			}
		}
	}
	return out, nil
}

// Find returns the first challenge whose scheme matches scheme without
// regard to ASCII case, and whether there was one.
func Find(challenges []Challenge, scheme string) (Challenge, bool) {
	for _, c := range challenges {
		if strings.EqualFold(c.Scheme, scheme) {
			return c, true
		}
	}
	return Challenge{}, false
}
