package authheader

// Credentials is a parsed Authorization header value (RFC 9110 §11.6.2).
// At most one of Token68 and Params is set.
type Credentials struct {
	Scheme  string  // as sent, e.g. "Bearer", "basic"
	Token68 string  // the token68 form, if used
	Params  []Param // the auth-param form, if used
}

// ParseAuthorization parses an Authorization header value:
//
//	credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//
// OWS around the whole value and empty auth-param list elements are
// tolerated; anything else that does not match the grammar, including a
// repeated auth-param name, is reported as a [*SyntaxError].
func ParseAuthorization(v string) (Credentials, error) {
	p := scanner{s: v, header: HeaderAuthorization}
	p.skipOWS()
	if p.eof() {
		return Credentials{}, p.errorf(p.i, nil, "empty value")
	}
	scheme, token68, params, err := p.auth(false)
	if err != nil {
		return Credentials{}, err
	}
	p.skipOWS()
	if !p.eof() {
		return Credentials{}, p.errorf(p.i, nil, "unexpected %s after credentials", describe(p.s, p.i))
	}
	return Credentials{Scheme: scheme, Token68: token68, Params: params}, nil
}

// Param returns the value of the named auth-param (name compared without
// regard to ASCII case) and whether it was present.
func (c Credentials) Param(name string) (string, bool) { return lookupParam(c.Params, name) }

// String formats the credentials as an Authorization header value: the
// scheme, then the token68 if set, otherwise the auth-params in order with
// every value as a quoted-string (" and \ escaped). Names and the token68
// are written as given, without validation.
func (c Credentials) String() string { return format(c.Scheme, c.Token68, c.Params) }
