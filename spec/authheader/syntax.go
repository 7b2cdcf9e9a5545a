package authheader

import (
	"errors"
	"fmt"
	"strings"
)

// Header field names, as used in [SyntaxError.Header].
const (
	HeaderAuthorization   = "Authorization"
	HeaderWWWAuthenticate = "WWW-Authenticate"
)

// ErrDuplicateParam is wrapped by the [*SyntaxError] returned when an
// auth-param name occurs twice in one challenge or credentials, which
// RFC 9110 §11.2 forbids ("Each parameter name MUST only occur once").
var ErrDuplicateParam = errors.New("authheader: duplicate auth-param")

// SyntaxError reports a malformed Authorization or WWW-Authenticate value.
type SyntaxError struct {
	Header string // HeaderAuthorization or HeaderWWWAuthenticate
	Value  int    // index of the field value among those passed to ParseChallenges; 0 for Authorization
	Offset int    // byte offset of the problem within that field value
	Msg    string // what is wrong, e.g. `expected "=" after auth-param name "realm"`
	Err    error  // a sentinel such as ErrDuplicateParam, or nil
}

// Error names the header, the field value, the byte offset and the problem.
func (e *SyntaxError) Error() string {
	if e.Header == HeaderWWWAuthenticate {
		return fmt.Sprintf("authheader: malformed %s (field value %d) at offset %d: %s", e.Header, e.Value, e.Offset, e.Msg)
	}
	return fmt.Sprintf("authheader: malformed %s at offset %d: %s", e.Header, e.Offset, e.Msg)
}

// Unwrap returns the sentinel error, if any.
func (e *SyntaxError) Unwrap() error { return e.Err }

// Param is one auth-param. Name is as sent (compare it case-insensitively);
// Value is the unquoted, unescaped value.
type Param struct{ Name, Value string }

// lookupParam returns the value of the first param whose name matches name
// without regard to ASCII case.
func lookupParam(params []Param, name string) (string, bool) {
	for _, p := range params {
		if strings.EqualFold(p.Name, name) {
			return p.Value, true
		}
	}
	return "", false
}

// isTchar reports whether c is a tchar (RFC 9110 §5.6.2).
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// token68Table has a 1 at the index of every byte that may appear in a
// token68 (RFC 9110 §11.2) before its "=" padding; RFC 6750 §2.1's b64token
// is the same set: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/". A
// constant string, so the Bearer hot path pays one load per token byte and
// nothing can change it.
const token68Table = "" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x00\x00\x00\x00\x00\x00" +
	"\x00\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x00\x00\x00\x00\x01" +
	"\x00\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x00\x00\x00\x01\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"

// isToken68 reports whether c may appear in a token68 before its padding.
func isToken68(c byte) bool { return token68Table[c] != 0 }

// token68Len returns the length of the longest prefix of s made of token68
// bytes. Tokens run to a kilobyte (JWTs), so it checks eight bytes per step
// with one branch instead of eight.
func token68Len(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		b := s[i : i+8]
		if token68Table[b[0]]&token68Table[b[1]]&token68Table[b[2]]&token68Table[b[3]]&
			token68Table[b[4]]&token68Table[b[5]]&token68Table[b[6]]&token68Table[b[7]] == 0 {
			break
		}
	}
	for i < len(s) && isToken68(s[i]) {
		i++
	}
	return i
}

// isOWS reports whether c is optional whitespace (SP / HTAB, RFC 9110 §5.6.3).
func isOWS(c byte) bool { return c == ' ' || c == '\t' }

// isQdtext reports whether c may appear unescaped in a quoted-string
// (RFC 9110 §5.6.4: HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text).
func isQdtext(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || (0x23 <= c && c <= 0x5B) || (0x5D <= c && c <= 0x7E) || c >= 0x80
}

// isQuotedPair reports whether c may follow a backslash in a quoted-string
// (RFC 9110 §5.6.4: HTAB / SP / VCHAR / obs-text).
func isQuotedPair(c byte) bool {
	return c == '\t' || c == ' ' || (0x21 <= c && c <= 0x7E) || c >= 0x80
}

// describe names the byte at off in s for error messages.
func describe(s string, off int) string {
	if off >= len(s) {
		return "end of value"
	}
	c := s[off]
	if 0x21 <= c && c <= 0x7E {
		return fmt.Sprintf("%q", string(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// scanner walks one header field value.
type scanner struct {
	s      string
	i      int
	header string
	value  int
}

func (p *scanner) eof() bool { return p.i >= len(p.s) }

func (p *scanner) errorf(off int, sentinel error, format string, args ...any) *SyntaxError {
	return &SyntaxError{Header: p.header, Value: p.value, Offset: off, Msg: fmt.Sprintf(format, args...), Err: sentinel}
}

func (p *scanner) skipOWS() {
	for p.i < len(p.s) && isOWS(p.s[p.i]) {
		p.i++
	}
}

// skipListSeparators skips OWS and commas: the separators and empty
// elements of an RFC 9110 §5.6.1 list.
func (p *scanner) skipListSeparators() {
	for p.i < len(p.s) && (isOWS(p.s[p.i]) || p.s[p.i] == ',') {
		p.i++
	}
}

// token scans a token at p.i and returns it ("" if there is none).
func (p *scanner) token() string {
	start := p.i
	for p.i < len(p.s) && isTchar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// token68 reports whether a token68 starts at p.i and is followed only by
// OWS up to the end of the value or, when list is true, up to a comma. If
// so it consumes the token68 (not the OWS) and returns it.
func (p *scanner) token68(list bool) (string, bool) {
	j := p.i
	for j < len(p.s) && isToken68(p.s[j]) {
		j++
	}
	if j == p.i {
		return "", false
	}
	for j < len(p.s) && p.s[j] == '=' {
		j++
	}
	k := j
	for k < len(p.s) && isOWS(p.s[k]) {
		k++
	}
	if k < len(p.s) && (!list || p.s[k] != ',') {
		return "", false
	}
	tok := p.s[p.i:j]
	p.i = j
	return tok, true
}

// quotedString scans a quoted-string starting at the DQUOTE at p.i and
// returns its unescaped content. It allocates only when the content holds a
// quoted-pair.
func (p *scanner) quotedString() (string, error) {
	open := p.i
	p.i++
	start := p.i
	escaped := false
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			v := p.s[start:p.i]
			p.i++
			if escaped {
				v = unescape(v)
			}
			return v, nil
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return "", p.errorf(open, nil, "unterminated quoted-string")
			}
			if !isQuotedPair(p.s[p.i+1]) {
				return "", p.errorf(p.i+1, nil, "invalid %s in quoted-pair", describe(p.s, p.i+1))
			}
			escaped = true
			p.i += 2
		case isQdtext(c):
			p.i++
		default:
			return "", p.errorf(p.i, nil, "invalid %s in quoted-string", describe(p.s, p.i))
		}
	}
	return "", p.errorf(open, nil, "unterminated quoted-string")
}

// unescape removes the backslashes of quoted-pairs from the already
// validated content of a quoted-string.
func unescape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// authParam scans one auth-param (RFC 9110 §11.2) at p.i.
func (p *scanner) authParam() (Param, error) {
	name := p.token()
	if name == "" {
		return Param{}, p.errorf(p.i, nil, "expected auth-param name, found %s", describe(p.s, p.i))
	}
	p.skipOWS()
	if p.eof() || p.s[p.i] != '=' {
		return Param{}, p.errorf(p.i, nil, "expected \"=\" after auth-param name %q, found %s", name, describe(p.s, p.i))
	}
	p.i++
	p.skipOWS()
	if !p.eof() && p.s[p.i] == '"' {
		v, err := p.quotedString()
		if err != nil {
			return Param{}, err
		}
		return Param{Name: name, Value: v}, nil
	}
	v := p.token()
	if v == "" {
		return Param{}, p.errorf(p.i, nil, "expected token or quoted-string as value of auth-param %q, found %s", name, describe(p.s, p.i))
	}
	return Param{Name: name, Value: v}, nil
}

// auth scans auth-scheme [ 1*SP ( token68 / #auth-param ) ] at p.i: the
// common shape of credentials and of a challenge (RFC 9110 §11.3, §11.6.2).
//
// With list set (WWW-Authenticate, a list of challenges) it stops before
// the comma that ends the challenge; an element after a comma belongs to
// the challenge when it is "token BWS =" and starts the next challenge
// otherwise. Without list (Authorization) every element after the scheme
// must be an auth-param, and auth ends only at the end of the value.
func (p *scanner) auth(list bool) (scheme, token68 string, params []Param, err error) {
	scheme = p.token()
	if scheme == "" {
		return "", "", nil, p.errorf(p.i, nil, "expected auth-scheme, found %s", describe(p.s, p.i))
	}
	if p.eof() || (list && p.s[p.i] == ',') {
		return scheme, "", nil, nil
	}
	if !isOWS(p.s[p.i]) {
		if list {
			return "", "", nil, p.errorf(p.i, nil, "expected SP or \",\" after auth-scheme %q, found %s", scheme, describe(p.s, p.i))
		}
		return "", "", nil, p.errorf(p.i, nil, "expected SP after auth-scheme %q, found %s", scheme, describe(p.s, p.i))
	}
	sep := p.i
	p.skipOWS()
	if p.eof() || (list && p.s[p.i] == ',') {
		// Trailing OWS after a bare scheme, or OWS before the list comma.
		return scheme, "", nil, nil
	}
	// The scheme and what follows are separated by 1*SP: no HTAB.
	if i := strings.IndexByte(p.s[sep:p.i], '\t'); i >= 0 {
		return "", "", nil, p.errorf(sep+i, nil, "auth-scheme %q must be followed by SP, found HTAB", scheme)
	}
	if t, ok := p.token68(list); ok {
		return scheme, t, nil, nil
	}
	for {
		if !list {
			p.skipListSeparators()
			if p.eof() {
				return scheme, "", params, nil
			}
		}
		nameOff := p.i
		prm, err := p.authParam()
		if err != nil {
			return "", "", nil, err
		}
		if _, dup := lookupParam(params, prm.Name); dup {
			return "", "", nil, p.errorf(nameOff, ErrDuplicateParam, "auth-param %q occurs more than once", prm.Name)
		}
		params = append(params, prm)
		p.skipOWS()
		if p.eof() {
			return scheme, "", params, nil
		}
		if p.s[p.i] != ',' {
			return "", "", nil, p.errorf(p.i, nil, "expected \",\" after auth-param %q, found %s", prm.Name, describe(p.s, p.i))
		}
		if !list {
			continue
		}
		end := p.i
		p.skipListSeparators()
		if p.eof() || !p.paramAhead() {
			p.i = end // leave the separator to the caller
			return scheme, "", params, nil
		}
	}
}

// paramAhead reports whether the list element at p.i is an auth-param
// (token BWS "=") rather than the start of another challenge.
func (p *scanner) paramAhead() bool {
	j := p.i
	for j < len(p.s) && isTchar(p.s[j]) {
		j++
	}
	if j == p.i {
		return false
	}
	for j < len(p.s) && isOWS(p.s[j]) {
		j++
	}
	return j < len(p.s) && p.s[j] == '='
}

// format writes scheme [ SP ( token68 / auth-param *( ", " auth-param ) ) ]
// with every auth-param value as a quoted-string.
func format(scheme, token68 string, params []Param) string {
	n := len(scheme) + 1 + len(token68)
	for _, prm := range params {
		n += len(prm.Name) + len(prm.Value) + 6
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(scheme)
	switch {
	case token68 != "":
		b.WriteByte(' ')
		b.WriteString(token68)
	case len(params) > 0:
		b.WriteByte(' ')
		for i, prm := range params {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(prm.Name)
			b.WriteString(`="`)
			for j := 0; j < len(prm.Value); j++ {
				if c := prm.Value[j]; c == '"' || c == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(prm.Value[j])
			}
			b.WriteByte('"')
		}
	}
	return b.String()
}
