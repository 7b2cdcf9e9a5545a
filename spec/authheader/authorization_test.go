package authheader_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/spec/authheader"
)

func TestParseAuthorization(t *testing.T) {
	t.Parallel()
	type P = authheader.Param
	tests := []struct {
		name string
		in   string
		want authheader.Credentials
	}{
		{name: "bearer", in: "Bearer mF_9.B5f-4.1JqM", want: authheader.Credentials{Scheme: "Bearer", Token68: "mF_9.B5f-4.1JqM"}},
		{name: "lowercase basic", in: "basic czZCaGRSa3F0MzpnWDFmQmF0M2JW", want: authheader.Credentials{Scheme: "basic", Token68: "czZCaGRSa3F0MzpnWDFmQmF0M2JW"}},
		{name: "token68 padding", in: "Basic YQ==", want: authheader.Credentials{Scheme: "Basic", Token68: "YQ=="}},
		{name: "scheme only", in: "Negotiate", want: authheader.Credentials{Scheme: "Negotiate"}},
		{name: "OWS around value", in: " \tBearer  abc \t", want: authheader.Credentials{Scheme: "Bearer", Token68: "abc"}},
		{
			name: "auth-params",
			in:   `Digest username="Mufasa", realm=testrealm, nonce="a\"b"`,
			want: authheader.Credentials{Scheme: "Digest", Params: []P{{"username", "Mufasa"}, {"realm", "testrealm"}, {"nonce", `a"b`}}},
		},
		{
			name: "empty param list elements",
			in:   `X , a=1,, b = "2" ,`,
			want: authheader.Credentials{Scheme: "X", Params: []P{{"a", "1"}, {"b", "2"}}},
		},
		{
			name: "param that looks like a scheme",
			in:   `X a=1, Bearer=2`,
			want: authheader.Credentials{Scheme: "X", Params: []P{{"a", "1"}, {"Bearer", "2"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := authheader.ParseAuthorization(tt.in)
			if err != nil {
				t.Fatalf("ParseAuthorization(%q) error: %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseAuthorization(%q)\n got %#v\nwant %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseAuthorizationErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		in         string
		wantOffset int
		wantDup    bool
	}{
		{name: "empty", in: "", wantOffset: 0},
		{name: "only OWS", in: " \t ", wantOffset: 3},
		{name: "two challenges", in: "Basic abc, Bearer def", wantOffset: 9},
		{name: "two token68", in: "Bearer abc def", wantOffset: 11},
		{name: "comma after scheme", in: "Bearer,abc", wantOffset: 6},
		{name: "tab after scheme", in: "Bearer\tabc", wantOffset: 6},
		{name: "bad token68 char", in: "Bearer ab@c", wantOffset: 9},
		{name: "duplicate param", in: `X a=1, A=2`, wantOffset: 7, wantDup: true},
		{name: "unterminated quoted-string", in: `X a="1`, wantOffset: 4},
		{name: "non-token scheme", in: `(Bearer) x`, wantOffset: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := authheader.ParseAuthorization(tt.in)
			if err == nil {
				t.Fatalf("ParseAuthorization(%q) = %#v, want error", tt.in, got)
			}
			var se *authheader.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseAuthorization(%q) error %v is not a *SyntaxError", tt.in, err)
			}
			if se.Header != authheader.HeaderAuthorization || se.Offset != tt.wantOffset {
				t.Errorf("ParseAuthorization(%q) error %q: header %q offset %d, want %q %d",
					tt.in, err, se.Header, se.Offset, authheader.HeaderAuthorization, tt.wantOffset)
			}
			if got := errors.Is(err, authheader.ErrDuplicateParam); got != tt.wantDup {
				t.Errorf("errors.Is(%q, ErrDuplicateParam) = %v, want %v", err, got, tt.wantDup)
			}
		})
	}
}

func TestCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		c         authheader.Credentials
		want      string
		param     string
		wantValue string
		wantOK    bool
	}{
		{name: "token68", c: authheader.Credentials{Scheme: "Bearer", Token68: "abc"}, want: "Bearer abc", param: "x"},
		{
			name:  "params",
			c:     authheader.Credentials{Scheme: "X", Params: []authheader.Param{{Name: "Nonce", Value: `a"\`}}},
			want:  `X Nonce="a\"\\"`,
			param: "nONCE", wantValue: `a"\`, wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.c.String()
			if s != tt.want {
				t.Errorf("String() = %q, want %q", s, tt.want)
			}
			back, err := authheader.ParseAuthorization(s)
			if err != nil || !reflect.DeepEqual(back, tt.c) {
				t.Errorf("ParseAuthorization(%q) = %#v, %v; want %#v", s, back, err, tt.c)
			}
			v, ok := tt.c.Param(tt.param)
			if v != tt.wantValue || ok != tt.wantOK {
				t.Errorf("Param(%q) = %q, %v; want %q, %v", tt.param, v, ok, tt.wantValue, tt.wantOK)
			}
		})
	}
}

var bearerTests = []struct {
	name      string
	in        string
	wantToken string
	want      authheader.BearerResult
}{
	{name: "empty", in: "", want: authheader.BearerMissing},
	{name: "only OWS", in: " \t", want: authheader.BearerMissing},
	{name: "basic scheme", in: "Basic YTpi", want: authheader.BearerMissing},
	{name: "longer scheme", in: "Bearers abc", want: authheader.BearerMissing},
	{name: "short scheme", in: "Bear abc", want: authheader.BearerMissing},
	{name: "non-token junk", in: "@@@@@@@@@@", want: authheader.BearerMissing},
	{name: "dpop scheme", in: "DPoP abc", want: authheader.BearerMissing},
	{name: "ok", in: "Bearer mF_9.B5f-4.1JqM", wantToken: "mF_9.B5f-4.1JqM", want: authheader.BearerOK},
	{name: "ok lowercase", in: "bearer abc", wantToken: "abc", want: authheader.BearerOK},
	{name: "ok uppercase", in: "BEARER abc", wantToken: "abc", want: authheader.BearerOK},
	{name: "ok all b64token chars", in: "Bearer azAZ09-._~+/==", wantToken: "azAZ09-._~+/==", want: authheader.BearerOK},
	{name: "ok several spaces", in: "Bearer    abc", wantToken: "abc", want: authheader.BearerOK},
	{name: "ok surrounding OWS", in: "\t Bearer abc= \t", wantToken: "abc=", want: authheader.BearerOK},
	{name: "bearer alone", in: "Bearer", want: authheader.BearerMalformed},
	{name: "bearer and space", in: "Bearer ", want: authheader.BearerMalformed},
	{name: "bearer and spaces", in: "  bearer    ", want: authheader.BearerMalformed},
	{name: "tab separator", in: "Bearer\tabc", want: authheader.BearerMalformed},
	{name: "comma separator", in: "Bearer,abc", want: authheader.BearerMalformed},
	{name: "extra field", in: "Bearer abc def", want: authheader.BearerMalformed},
	{name: "trailing comma", in: "Bearer abc,", want: authheader.BearerMalformed},
	{name: "auth-param form", in: `Bearer token="abc"`, want: authheader.BearerMalformed},
	{name: "only padding", in: "Bearer ==", want: authheader.BearerMalformed},
	{name: "char after padding", in: "Bearer ab=c", want: authheader.BearerMalformed},
	{name: "bad char", in: "Bearer ab*c", want: authheader.BearerMalformed},
	{name: "non-ascii", in: "Bearer ab\xc3\xa9", want: authheader.BearerMalformed},
	{name: "tab inside", in: "Bearer ab\tc", want: authheader.BearerMalformed},
}

func TestParseBearer(t *testing.T) {
	t.Parallel()
	for _, tt := range bearerTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			token, r := authheader.ParseBearer(tt.in)
			if token != tt.wantToken || r != tt.want {
				t.Errorf("ParseBearer(%q) = %q, %v; want %q, %v", tt.in, token, r, tt.wantToken, tt.want)
			}
		})
	}
}

// TestParseBearerAllocs is deliberately not parallel: testing.AllocsPerRun
// counts every allocation in the process, so it must not overlap with
// parallel tests (which only start once all sequential tests are done).
func TestParseBearerAllocs(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want authheader.BearerResult
	}{
		{name: "missing", in: "Basic YTpi", want: authheader.BearerMissing},
		{name: "malformed", in: "Bearer abc def", want: authheader.BearerMalformed},
		{name: "ok", in: " Bearer   mF_9.B5f-4.1JqM== ", want: authheader.BearerOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r authheader.BearerResult
			allocs := testing.AllocsPerRun(1000, func() { _, r = authheader.ParseBearer(tt.in) })
			if r != tt.want {
				t.Fatalf("ParseBearer(%q) = %v, want %v", tt.in, r, tt.want)
			}
			if allocs != 0 {
				t.Errorf("ParseBearer(%q) allocates %v times per call, want 0", tt.in, allocs)
			}
		})
	}
}

func TestBearerResultString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		r    authheader.BearerResult
		want string
	}{
		{name: "missing", r: authheader.BearerMissing, want: "missing"},
		{name: "malformed", r: authheader.BearerMalformed, want: "malformed"},
		{name: "ok", r: authheader.BearerOK, want: "ok"},
		{name: "unknown", r: 42, want: "BearerResult(42)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.r.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func BenchmarkParseBearer(b *testing.B) {
	benchmarks := []struct {
		name string
		in   string
	}{
		{name: "ok", in: "Bearer " + strings.Repeat("mF_9.B5f-4.1JqM", 3)},
		{name: "ok-jwt", in: "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJhbGljZSIsImF1ZCI6Imh0dHBzOi8vYXBpIn0.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl"},
		{name: "missing", in: "Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW"},
		{name: "malformed", in: "Bearer abc def"},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bm.in)))
			for b.Loop() {
				authheader.ParseBearer(bm.in)
			}
		})
	}
}

func TestParseBasic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		in         string
		wantID     string
		wantSecret string
		wantOK     bool
		wantErr    bool
	}{
		{name: "rfc 6749 example", in: "Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW", wantID: "s6BhdRkqt3", wantSecret: "gX1fBat3bV", wantOK: true},
		{name: "lowercase scheme and OWS", in: " basic   czZCaGRSa3F0MzpnWDFmQmF0M2JW ", wantID: "s6BhdRkqt3", wantSecret: "gX1fBat3bV", wantOK: true},
		// base64("a%3Ab+c:s%25e+cr%C3%A9t:x") - the first raw colon splits.
		{name: "form-urlencoded parts", in: "Basic " + b64("a%3Ab+c:s%25e+cr%C3%A9t:x"), wantID: "a:b c", wantSecret: "s%e cr\u00e9t:x", wantOK: true},
		{name: "empty secret", in: "Basic " + b64("client:"), wantID: "client", wantOK: true},
		{name: "empty both", in: "Basic " + b64(":"), wantOK: true},
		{name: "raw utf-8", in: "Basic " + b64("caf\u00e9:x"), wantID: "caf\u00e9", wantSecret: "x", wantOK: true},
		{name: "empty header", in: ""},
		{name: "bearer scheme", in: "Bearer abc"},
		{name: "longer scheme", in: "Basically abc"},
		{name: "garbage", in: "(((("},
		{name: "basic alone", in: "Basic", wantErr: true},
		{name: "basic with params", in: `Basic realm="x"`, wantErr: true},
		{name: "bad base64 alphabet", in: "Basic YT-i", wantErr: true},
		{name: "missing padding", in: "Basic YTpiYw", wantErr: true},
		{name: "extra field", in: "Basic YTpi x", wantErr: true},
		{name: "no colon", in: "Basic " + b64("client"), wantErr: true},
		{name: "bad percent-encoding", in: "Basic " + b64("a%zz:b"), wantErr: true},
		{name: "bad percent-encoding in secret", in: "Basic " + b64("a:b%"), wantErr: true},
		{name: "invalid utf-8 after decoding", in: "Basic " + b64("a%ff:b"), wantErr: true},
		{name: "invalid raw utf-8", in: "Basic " + b64("a:\xff"), wantErr: true},
		{name: "control character", in: "Basic " + b64("a\x00:b"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id, secret, ok, err := authheader.ParseBasic(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseBasic(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "authheader: ") {
				t.Errorf("ParseBasic(%q) error %q lacks package prefix", tt.in, err)
			}
			if id != tt.wantID || secret != tt.wantSecret || ok != tt.wantOK {
				t.Errorf("ParseBasic(%q) = %q, %q, %v; want %q, %q, %v", tt.in, id, secret, ok, tt.wantID, tt.wantSecret, tt.wantOK)
			}
		})
	}
}

func TestFormatBasic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		id     string
		secret string
		want   string
	}{
		{name: "rfc 6749 example", id: "s6BhdRkqt3", secret: "gX1fBat3bV", want: "Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW"},
		{name: "specials", id: "a:b c", secret: "p@ss+/=\u00e9", want: "Basic " + b64("a%3Ab+c:p%40ss%2B%2F%3D%C3%A9")},
		{name: "empty", want: "Basic " + b64(":")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := authheader.FormatBasic(tt.id, tt.secret)
			if got != tt.want {
				t.Errorf("FormatBasic(%q, %q) = %q, want %q", tt.id, tt.secret, got, tt.want)
			}
			id, secret, ok, err := authheader.ParseBasic(got)
			if err != nil || !ok || id != tt.id || secret != tt.secret {
				t.Errorf("ParseBasic(%q) = %q, %q, %v, %v; want %q, %q, true, nil", got, id, secret, ok, err, tt.id, tt.secret)
			}
		})
	}
}
