package authheader

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// ParseBasic decodes HTTP Basic client credentials (RFC 7617) as an OAuth
// 2.0 token endpoint must read them (RFC 6749 §2.3.1): the token68 is
// standard, padded base64 of user-id ":" password, and the client id and
// secret are each application/x-www-form-urlencoded (RFC 6749 Appendix B;
// url.QueryUnescape semantics: "+" is SP, %XX a byte) before that.
//
// ok is false and err nil when v is empty or its scheme is not Basic
// (compared without regard to case). When the scheme is Basic, err reports
// anything malformed: a value that is not "Basic" 1*SP token68, bad base64,
// control characters in the decoded string (RFC 7617 §2), no colon, bad
// percent-encoding, or a client id or secret that is not valid UTF-8 once
// decoded.
func ParseBasic(v string) (clientID, secret string, ok bool, err error) {
	p := scanner{s: v}
	p.skipOWS()
	if !strings.EqualFold(p.token(), "Basic") {
		return "", "", false, nil
	}
	c, err := ParseAuthorization(v)
	if err != nil {
		return "", "", false, err // a *SyntaxError, which names the header
	}
	if c.Token68 == "" {
		return "", "", false, fmt.Errorf("authheader: basic credentials: expected token68 after scheme %q", c.Scheme)
	}
	raw, err := base64.StdEncoding.DecodeString(c.Token68)
	if err != nil {
		return "", "", false, fmt.Errorf("authheader: basic credentials: %w", err)
	}
	for i, b := range raw {
		if b < 0x20 || b == 0x7F {
			return "", "", false, fmt.Errorf("authheader: basic credentials: control character 0x%02x at decoded byte %d", b, i)
		}
	}
	user, pass, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", false, fmt.Errorf("authheader: basic credentials: no colon between user-id and password")
	}
	if clientID, err = formDecode("client id", user); err != nil {
		return "", "", false, err
	}
	if secret, err = formDecode("client secret", pass); err != nil {
		return "", "", false, err
	}
	return clientID, secret, true, nil
}

func formDecode(what, s string) (string, error) {
	d, err := url.QueryUnescape(s)
	if err != nil {
		return "", fmt.Errorf("authheader: basic credentials: %s: %w", what, err)
	}
	if !utf8.ValidString(d) {
		return "", fmt.Errorf("authheader: basic credentials: %s is not valid UTF-8", what)
	}
	return d, nil
}

// FormatBasic is the inverse of [ParseBasic], for clients: it
// form-urlencodes the client id and secret (url.QueryEscape), joins them
// with ":" and returns "Basic " followed by their standard base64 encoding.
func FormatBasic(clientID, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID)+":"+url.QueryEscape(secret)))
}
