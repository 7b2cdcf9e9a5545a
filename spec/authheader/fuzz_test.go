package authheader_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/spec/authheader"
)

// Seed inputs beyond these live in testdata/fuzz/<FuzzName>/.

func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		"Bearer mF_9.B5f-4.1JqM",
		"Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW",
		`Digest username="Mufasa", realm=x, nonce="a\"b"`,
		"Negotiate",
		`X , a=1,, b = "2" ,`,
		"Bearer abc, Basic def",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c, err := authheader.ParseAuthorization(v)
		if err != nil {
			return
		}
		if c.Scheme == "" || (c.Token68 != "" && c.Params != nil) {
			t.Fatalf("ParseAuthorization(%q) = %#v: no scheme, or both token68 and params", v, c)
		}
		s := c.String()
		back, err := authheader.ParseAuthorization(s)
		if err != nil {
			t.Fatalf("ParseAuthorization(%q) = %#v, but its String %q does not parse: %v", v, c, s, err)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("ParseAuthorization(%q) = %#v, but its String %q parses as %#v", v, c, s, back)
		}
		// ParseBearer must agree with the general parser.
		token, r := authheader.ParseBearer(v)
		switch {
		case !strings.EqualFold(c.Scheme, "Bearer"):
			if r != authheader.BearerMissing {
				t.Fatalf("ParseBearer(%q) = %v, want missing for scheme %q", v, r, c.Scheme)
			}
		case c.Token68 != "":
			if r != authheader.BearerOK || token != c.Token68 {
				t.Fatalf("ParseBearer(%q) = %q, %v; want %q, ok", v, token, r, c.Token68)
			}
		default:
			if r != authheader.BearerMalformed {
				t.Fatalf("ParseBearer(%q) = %v, want malformed", v, r)
			}
		}
	})
}

func FuzzParseBearer(f *testing.F) {
	for _, tt := range bearerTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, v string) {
		token, r := authheader.ParseBearer(v)
		switch r {
		case authheader.BearerOK:
			if token == "" || !strings.Contains(v, token) {
				t.Fatalf("ParseBearer(%q) token %q is not a non-empty substring of the input", v, token)
			}
			body := strings.TrimRight(token, "=")
			if body == "" {
				t.Fatalf("ParseBearer(%q) token %q is only padding", v, token)
			}
			for i := 0; i < len(body); i++ {
				if !isB64token(body[i]) {
					t.Fatalf("ParseBearer(%q) token %q has non-b64token byte %q", v, token, body[i])
				}
			}
			// The token is the whole value, bar scheme, separator and OWS.
			rest := strings.Trim(v, " \t")
			if !strings.HasSuffix(rest, " "+token) || !strings.EqualFold(strings.TrimRight(rest[:len(rest)-len(token)], " "), "Bearer") {
				t.Fatalf("ParseBearer(%q) = %q, ok: input is not Bearer 1*SP token", v, token)
			}
		case authheader.BearerMissing, authheader.BearerMalformed:
			if token != "" {
				t.Fatalf("ParseBearer(%q) = %q, %v: token must be empty", v, token, r)
			}
			if r == authheader.BearerMalformed && !strings.HasPrefix(strings.ToLower(strings.TrimLeft(v, " \t")), "bearer") {
				t.Fatalf("ParseBearer(%q) = malformed, but the scheme is not Bearer", v)
			}
		default:
			t.Fatalf("ParseBearer(%q) returned unknown result %v", v, r)
		}
	})
}

func isB64token(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/", c) >= 0
}

func FuzzParseBasic(f *testing.F) {
	for _, s := range []string{
		"Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW",
		"Basic " + b64("a%3Ab+c:s%25e+cr%C3%A9t:x"),
		"Basic " + b64("a%zz:b"),
		"basic   YTpi ",
		"Basic",
		"Bearer abc",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		id, secret, ok, err := authheader.ParseBasic(v)
		if err != nil {
			if ok || id != "" || secret != "" {
				t.Fatalf("ParseBasic(%q) = %q, %q, %v with error %v", v, id, secret, ok, err)
			}
			return
		}
		if !ok {
			if id != "" || secret != "" {
				t.Fatalf("ParseBasic(%q) = %q, %q, false", v, id, secret)
			}
			return
		}
		s := authheader.FormatBasic(id, secret)
		id2, secret2, ok2, err := authheader.ParseBasic(s)
		if err != nil || !ok2 || id2 != id || secret2 != secret {
			t.Fatalf("ParseBasic(%q) = %q, %q; FormatBasic gives %q which parses as %q, %q, %v, %v", v, id, secret, s, id2, secret2, ok2, err)
		}
	})
}

func FuzzParseChallenges(f *testing.F) {
	for _, s := range []string{
		`Basic realm="a", Bearer realm="b", error="invalid_token"`,
		`Bearer realm="a \"q\" \\", error=invalid_token`,
		`Negotiate abc==, Basic, Bearer realm="x,y"`,
		` , ,Basic realm="a" ,, , Bearer realm="b",,error=e , `,
		`Bearer realm="a", REALM="b"`,
		`Bearer realm=`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		cs, err := authheader.ParseChallenges(v)
		if err != nil {
			return
		}
		for _, c := range cs {
			if c.Scheme == "" || (c.Token68 != "" && c.Params != nil) {
				t.Fatalf("ParseChallenges(%q) gave %#v: no scheme, or both token68 and params", v, c)
			}
			s := c.String()
			back, err := authheader.ParseChallenges(s)
			if err != nil {
				t.Fatalf("ParseChallenges(%q) gave %#v, but its String %q does not parse: %v", v, c, s, err)
			}
			if len(back) != 1 || !reflect.DeepEqual(back[0], c) {
				t.Fatalf("ParseChallenges(%q) gave %#v, but its String %q parses as %#v", v, c, s, back)
			}
		}
		// All challenges formatted into one field value parse back the same.
		parts := make([]string, len(cs))
		for i, c := range cs {
			parts[i] = c.String()
		}
		joined := strings.Join(parts, ", ")
		back, err := authheader.ParseChallenges(joined)
		if err != nil {
			t.Fatalf("ParseChallenges(%q) = %#v, but %q does not parse: %v", v, cs, joined, err)
		}
		if !reflect.DeepEqual(back, cs) {
			t.Fatalf("ParseChallenges(%q) = %#v, but %q parses as %#v", v, cs, joined, back)
		}
	})
}
