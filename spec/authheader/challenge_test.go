package authheader_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/tollgate/tollgate/spec/authheader"
)

func TestParseChallenges(t *testing.T) {
	t.Parallel()
	type P = authheader.Param
	type C = authheader.Challenge
	tests := []struct {
		name   string
		values []string
		want   []C
	}{
		{
			name:   "bearer with realm",
			values: []string{`Bearer realm="example"`},
			want:   []C{{Scheme: "Bearer", Params: []P{{"realm", "example"}}}},
		},
		{
			name:   "rfc 6750 section 3 example",
			values: []string{`Bearer realm="example", error="invalid_token", error_description="The access token expired"`},
			want: []C{{Scheme: "Bearer", Params: []P{
				{"realm", "example"}, {"error", "invalid_token"}, {"error_description", "The access token expired"},
			}}},
		},
		{
			name:   "scheme case preserved",
			values: []string{`bEaReR realm="x"`},
			want:   []C{{Scheme: "bEaReR", Params: []P{{"realm", "x"}}}},
		},
		{
			name:   "mixed-case reordered params and token values",
			values: []string{`Bearer Error=invalid_token, REALM=api, Scope="a b"`},
			want:   []C{{Scheme: "Bearer", Params: []P{{"Error", "invalid_token"}, {"REALM", "api"}, {"Scope", "a b"}}}},
		},
		{
			name:   "two challenges in one line",
			values: []string{`Basic realm="a", Bearer realm="b", error="invalid_token"`},
			want: []C{
				{Scheme: "Basic", Params: []P{{"realm", "a"}}},
				{Scheme: "Bearer", Params: []P{{"realm", "b"}, {"error", "invalid_token"}}},
			},
		},
		{
			name:   "challenges across lines",
			values: []string{`Basic realm="a"`, `Bearer realm="b", error="invalid_token"`},
			want: []C{
				{Scheme: "Basic", Params: []P{{"realm", "a"}}},
				{Scheme: "Bearer", Params: []P{{"realm", "b"}, {"error", "invalid_token"}}},
			},
		},
		{
			name:   "bare schemes",
			values: []string{`Basic, Bearer`, `DPoP`},
			want:   []C{{Scheme: "Basic"}, {Scheme: "Bearer"}, {Scheme: "DPoP"}},
		},
		{
			name:   "bare scheme then params challenge",
			values: []string{`Negotiate, Bearer realm="r"`},
			want:   []C{{Scheme: "Negotiate"}, {Scheme: "Bearer", Params: []P{{"realm", "r"}}}},
		},
		{
			name:   "params then bare scheme",
			values: []string{`Bearer realm="r", Negotiate`},
			want:   []C{{Scheme: "Bearer", Params: []P{{"realm", "r"}}}, {Scheme: "Negotiate"}},
		},
		{
			name:   "token68 challenge",
			values: []string{`Negotiate abc==`},
			want:   []C{{Scheme: "Negotiate", Token68: "abc=="}},
		},
		{
			name:   "token68 then params challenge",
			values: []string{`Negotiate a+b/c=, Bearer realm="x"`},
			want:   []C{{Scheme: "Negotiate", Token68: "a+b/c="}, {Scheme: "Bearer", Params: []P{{"realm", "x"}}}},
		},
		{
			name:   "params then token68 challenge",
			values: []string{`Bearer realm="x", Negotiate abc==, Basic`},
			want:   []C{{Scheme: "Bearer", Params: []P{{"realm", "x"}}}, {Scheme: "Negotiate", Token68: "abc=="}, {Scheme: "Basic"}},
		},
		{
			name:   "escapes in quoted strings",
			values: []string{`Bearer realm="a \"quoted\" \\ back\slash"`},
			want:   []C{{Scheme: "Bearer", Params: []P{{"realm", `a "quoted" \ backslash`}}}},
		},
		{
			name:   "commas and equals inside quoted strings",
			values: []string{`Bearer realm="a, b=c, Basic d", error="x"`},
			want:   []C{{Scheme: "Bearer", Params: []P{{"realm", "a, b=c, Basic d"}, {"error", "x"}}}},
		},
		{
			name:   "empty quoted string",
			values: []string{`Bearer realm=""`},
			want:   []C{{Scheme: "Bearer", Params: []P{{"realm", ""}}}},
		},
		{
			name:   "obs-text and tab in quoted string",
			values: []string{"Bearer realm=\"caf\xc3\xa9\tx\""},
			want:   []C{{Scheme: "Bearer", Params: []P{{"realm", "caf\u00e9\tx"}}}},
		},
		{
			name:   "BWS around equals",
			values: []string{`Bearer realm = "x" , error	=	y`},
			want:   []C{{Scheme: "Bearer", Params: []P{{"realm", "x"}, {"error", "y"}}}},
		},
		{
			name:   "several spaces after scheme",
			values: []string{`Bearer    realm="x"`},
			want:   []C{{Scheme: "Bearer", Params: []P{{"realm", "x"}}}},
		},
		{
			name:   "empty list elements and OWS",
			values: []string{` , ,Basic realm="a" ,, , Bearer realm="b",,error=e , `},
			want: []C{
				{Scheme: "Basic", Params: []P{{"realm", "a"}}},
				{Scheme: "Bearer", Params: []P{{"realm", "b"}, {"error", "e"}}},
			},
		},
		{
			name:   "empty field values",
			values: []string{"", " ", ","},
			want:   nil,
		},
		{
			name:   "no values",
			values: nil,
			want:   nil,
		},
		{
			name:   "same param in different challenges",
			values: []string{`Basic realm="a", Bearer realm="a"`},
			want:   []C{{Scheme: "Basic", Params: []P{{"realm", "a"}}}, {Scheme: "Bearer", Params: []P{{"realm", "a"}}}},
		},
		{
			// An auth-param needs a value, so this can only be a token68.
			name:   "token68 that looks like a param without value",
			values: []string{`Bearer realm=`, `Basic realm=, Bearer`},
			want:   []C{{Scheme: "Bearer", Token68: "realm="}, {Scheme: "Basic", Token68: "realm="}, {Scheme: "Bearer"}},
		},
		{
			name:   "token68 that looks like a scheme",
			values: []string{`Basic Bearer`},
			want:   []C{{Scheme: "Basic", Token68: "Bearer"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := authheader.ParseChallenges(tt.values...)
			if err != nil {
				t.Fatalf("ParseChallenges(%q) error: %v", tt.values, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseChallenges(%q)\n got %#v\nwant %#v", tt.values, got, tt.want)
			}
		})
	}
}

func TestParseChallengesErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		values     []string
		wantValue  int
		wantOffset int
		wantDup    bool
	}{
		{name: "missing value", values: []string{`Bearer realm="a", error=`}, wantOffset: 24},
		{name: "missing value before comma", values: []string{`Bearer realm="a", error=, scope="x"`}, wantOffset: 24},
		{name: "missing first value before comma", values: []string{`Bearer realm=, error="x"`}, wantOffset: 20},
		{name: "unterminated quoted string", values: []string{`Bearer realm="abc`}, wantOffset: 13},
		{name: "backslash at end", values: []string{`Bearer realm="abc\`}, wantOffset: 13},
		{name: "control character in quoted string", values: []string{"Bearer realm=\"a\x01b\""}, wantOffset: 15},
		{name: "control character in quoted-pair", values: []string{"Bearer realm=\"a\\\x00\""}, wantOffset: 16},
		{name: "duplicate param", values: []string{`Bearer realm="a", error="x", REALM="b"`}, wantOffset: 29, wantDup: true},
		{name: "missing comma between params", values: []string{`Bearer realm="a" error="x"`}, wantOffset: 17},
		{name: "garbage after token value", values: []string{`Bearer realm=a/b`}, wantOffset: 14},
		{name: "param without scheme", values: []string{`realm="a"`}, wantOffset: 5},
		{name: "param after bare scheme", values: []string{`Basic, realm="a"`}, wantOffset: 12},
		{name: "param after token68", values: []string{`Negotiate abc, realm="a"`}, wantOffset: 20},
		{name: "quoted string where scheme expected", values: []string{`"Bearer"`}, wantOffset: 0},
		{name: "tab after scheme", values: []string{"Bearer\trealm=\"a\""}, wantOffset: 6},
		{name: "junk after scheme", values: []string{`Bearer;realm="a"`}, wantOffset: 6},
		{name: "two tokens", values: []string{`Bearer abc def`}, wantOffset: 11},
		{name: "error in second value", values: []string{`Basic realm="a"`, `Bearer realm="b`}, wantValue: 1, wantOffset: 13},
		{name: "non-token param name", values: []string{`Bearer realm="a", "x"="y"`}, wantOffset: 18},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := authheader.ParseChallenges(tt.values...)
			if err == nil {
				t.Fatalf("ParseChallenges(%q) = %#v, want error", tt.values, got)
			}
			var se *authheader.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseChallenges(%q) error %v is not a *SyntaxError", tt.values, err)
			}
			if se.Header != authheader.HeaderWWWAuthenticate || se.Value != tt.wantValue || se.Offset != tt.wantOffset {
				t.Errorf("ParseChallenges(%q) error %q: header %q value %d offset %d, want %q %d %d",
					tt.values, err, se.Header, se.Value, se.Offset, authheader.HeaderWWWAuthenticate, tt.wantValue, tt.wantOffset)
			}
			if got := errors.Is(err, authheader.ErrDuplicateParam); got != tt.wantDup {
				t.Errorf("errors.Is(%q, ErrDuplicateParam) = %v, want %v", err, got, tt.wantDup)
			}
		})
	}
}

func TestChallengeString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    authheader.Challenge
		want string
	}{
		{name: "scheme only", c: authheader.Challenge{Scheme: "Basic"}, want: "Basic"},
		{
			name: "params in order",
			c: authheader.Challenge{Scheme: "Bearer", Params: []authheader.Param{
				{Name: "realm", Value: "x"}, {Name: "error", Value: "invalid_token"},
			}},
			want: `Bearer realm="x", error="invalid_token"`,
		},
		{
			name: "escapes",
			c:    authheader.Challenge{Scheme: "Bearer", Params: []authheader.Param{{Name: "realm", Value: `a"b\c`}}},
			want: `Bearer realm="a\"b\\c"`,
		},
		{name: "empty value", c: authheader.Challenge{Scheme: "Bearer", Params: []authheader.Param{{Name: "realm"}}}, want: `Bearer realm=""`},
		{name: "token68", c: authheader.Challenge{Scheme: "Negotiate", Token68: "abc=="}, want: "Negotiate abc=="},
		{
			name: "token68 wins over params",
			c:    authheader.Challenge{Scheme: "Negotiate", Token68: "abc", Params: []authheader.Param{{Name: "a", Value: "b"}}},
			want: "Negotiate abc",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.c.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestChallengeRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    authheader.Challenge
	}{
		{name: "scheme only", c: authheader.Challenge{Scheme: "Basic"}},
		{name: "token68", c: authheader.Challenge{Scheme: "Negotiate", Token68: "a-b.c_d~e+f/g=="}},
		{name: "rfc 6750", c: authheader.Challenge{Scheme: "Bearer", Params: []authheader.Param{
			{Name: "realm", Value: "example"}, {Name: "error", Value: "insufficient_scope"}, {Name: "scope", Value: "read write"},
		}}},
		{name: "specials", c: authheader.Challenge{Scheme: "X-Custom", Params: []authheader.Param{
			{Name: "a", Value: `"quoted", \back\ = Basic x`}, {Name: "b", Value: ""}, {Name: "c", Value: "caf\u00e9\t!"},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.c.String()
			got, err := authheader.ParseChallenges(s)
			if err != nil {
				t.Fatalf("ParseChallenges(%q) error: %v", s, err)
			}
			if len(got) != 1 || !reflect.DeepEqual(got[0], tt.c) {
				t.Errorf("ParseChallenges(%q) = %#v, want [%#v]", s, got, tt.c)
			}
			// Several challenges joined into one field value also round-trip.
			joined := s + ", " + s
			got, err = authheader.ParseChallenges(joined)
			if err != nil {
				t.Fatalf("ParseChallenges(%q) error: %v", joined, err)
			}
			if len(got) != 2 || !reflect.DeepEqual(got[0], tt.c) || !reflect.DeepEqual(got[1], tt.c) {
				t.Errorf("ParseChallenges(%q) = %#v, want two of %#v", joined, got, tt.c)
			}
		})
	}
}

func TestChallengeParamAndFind(t *testing.T) {
	t.Parallel()
	cs, err := authheader.ParseChallenges(`Basic realm="a", bearer REALM="b", error=invalid_token`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		scheme    string
		param     string
		wantFound bool
		want      string
		wantOK    bool
	}{
		{name: "find exact", scheme: "Basic", param: "realm", wantFound: true, want: "a", wantOK: true},
		{name: "find case-insensitive", scheme: "BEARER", param: "Realm", wantFound: true, want: "b", wantOK: true},
		{name: "param by other case", scheme: "Bearer", param: "ERROR", wantFound: true, want: "invalid_token", wantOK: true},
		{name: "absent param", scheme: "Bearer", param: "scope", wantFound: true},
		{name: "absent scheme", scheme: "DPoP", param: "realm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, found := authheader.Find(cs, tt.scheme)
			if found != tt.wantFound {
				t.Fatalf("Find(%q) found = %v, want %v", tt.scheme, found, tt.wantFound)
			}
			got, ok := c.Param(tt.param)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Param(%q) = %q, %v; want %q, %v", tt.param, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestSyntaxErrorMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  func() error
		want string
	}{
		{
			name: "www-authenticate",
			err:  func() error { _, err := authheader.ParseChallenges(`Basic`, `Bearer realm=x, error=`); return err },
			want: `authheader: malformed WWW-Authenticate (field value 1) at offset 22: expected token or quoted-string as value of auth-param "error", found end of value`,
		},
		{
			name: "authorization",
			err:  func() error { _, err := authheader.ParseAuthorization("Bearer a b"); return err },
			want: `authheader: malformed Authorization at offset 9: expected "=" after auth-param name "a", found "b"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.err()
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %s", err, tt.want)
			}
		})
	}
}
