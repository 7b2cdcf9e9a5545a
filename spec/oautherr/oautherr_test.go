package oautherr_test

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/spec/oautherr"
)

func TestCodeLists(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fn   func() []string
		want []string
	}{
		{
			name: "token endpoint",
			fn:   oautherr.TokenEndpointCodes,
			want: []string{"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type", "invalid_scope"},
		},
		{name: "resource", fn: oautherr.ResourceCodes, want: []string{"invalid_request", "invalid_token", "insufficient_scope"}},
		{
			name: "revocation endpoint",
			fn:   oautherr.RevocationEndpointCodes,
			want: []string{"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type", "invalid_scope", "unsupported_token_type"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.fn()
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for _, c := range got {
				if !oautherr.ValidCode(c) {
					t.Errorf("ValidCode(%q) = false", c)
				}
			}
			got[0] = "changed"
			if again := tt.fn(); again[0] == "changed" {
				t.Error("the returned slice is shared between calls")
			}
		})
	}
}

func TestDefaultStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		code string
		want int
	}{
		{name: "invalid_request", code: oautherr.InvalidRequest, want: http.StatusBadRequest},
		{name: "invalid_client", code: oautherr.InvalidClient, want: http.StatusUnauthorized},
		{name: "invalid_grant", code: oautherr.InvalidGrant, want: http.StatusBadRequest},
		{name: "unauthorized_client", code: oautherr.UnauthorizedClient, want: http.StatusBadRequest},
		{name: "unsupported_grant_type", code: oautherr.UnsupportedGrantType, want: http.StatusBadRequest},
		{name: "invalid_scope", code: oautherr.InvalidScope, want: http.StatusBadRequest},
		{name: "invalid_token", code: oautherr.InvalidToken, want: http.StatusUnauthorized},
		{name: "insufficient_scope", code: oautherr.InsufficientScope, want: http.StatusForbidden},
		{name: "unsupported_token_type", code: oautherr.UnsupportedTokenType, want: http.StatusBadRequest},
		{name: "unknown", code: "slow_down", want: http.StatusBadRequest},
		{name: "empty", code: "", want: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := oautherr.DefaultStatus(tt.code); got != tt.want {
				t.Errorf("DefaultStatus(%q) = %d, want %d", tt.code, got, tt.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		code        string
		description string
		want        oautherr.Error
		wantString  string
		wantJSON    string
	}{
		{
			name: "plain", code: oautherr.InvalidClient, description: "unknown client",
			want:       oautherr.Error{Code: "invalid_client", Description: "unknown client", Status: 401},
			wantString: "oauth2 error invalid_client: unknown client",
			wantJSON:   `{"error":"invalid_client","error_description":"unknown client"}`,
		},
		{
			name: "no description", code: oautherr.InsufficientScope,
			want:       oautherr.Error{Code: "insufficient_scope", Status: 403},
			wantString: "oauth2 error insufficient_scope",
			wantJSON:   `{"error":"insufficient_scope"}`,
		},
		{
			name: "description sanitised", code: oautherr.InvalidGrant, description: "caf\u00e9 \"x\" a\\b\n\t\xff!",
			want:       oautherr.Error{Code: "invalid_grant", Description: "caf? 'x' a/b  ?!", Status: 400},
			wantString: "oauth2 error invalid_grant: caf? 'x' a/b  ?!",
			wantJSON:   `{"error":"invalid_grant","error_description":"caf? 'x' a/b  ?!"}`,
		},
		{
			name: "quotes kept readable", code: oautherr.InvalidRequest, description: "member clientId: property \"clientId\" is missing, \u201cx\u201d \u2018y\u2019",
			want:       oautherr.Error{Code: "invalid_request", Description: "member clientId: property 'clientId' is missing, 'x' 'y'", Status: 400},
			wantString: "oauth2 error invalid_request: member clientId: property 'clientId' is missing, 'x' 'y'",
			wantJSON:   `{"error":"invalid_request","error_description":"member clientId: property 'clientId' is missing, 'x' 'y'"}`,
		},
		{
			name: "code sanitised", code: "bad\"code", description: "<&>",
			want:       oautherr.Error{Code: "bad'code", Description: "<&>", Status: 400},
			wantString: "oauth2 error bad'code: <&>",
			wantJSON:   `{"error":"bad'code","error_description":"\u003c\u0026\u003e"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := oautherr.New(tt.code, tt.description)
			if *e != tt.want {
				t.Errorf("New(%q, %q) = %#v, want %#v", tt.code, tt.description, *e, tt.want)
			}
			if got := e.Error(); got != tt.wantString {
				t.Errorf("Error() = %q, want %q", got, tt.wantString)
			}
			if got := string(e.JSON()); got != tt.wantJSON {
				t.Errorf("JSON() = %s, want %s", got, tt.wantJSON)
			}
			back, err := oautherr.Parse(e.JSON())
			if err != nil {
				t.Fatalf("Parse(JSON()) error: %v", err)
			}
			if back.Code != e.Code || back.Description != e.Description || back.URI != e.URI {
				t.Errorf("Parse(JSON()) = %#v, want %#v", back, e)
			}
		})
	}
}

func TestHTTPStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		e    *oautherr.Error
		want int
	}{
		{name: "default from code", e: &oautherr.Error{Code: oautherr.InvalidToken}, want: 401},
		{name: "explicit status", e: &oautherr.Error{Code: oautherr.InvalidClient, Status: 400}, want: 400},
		{name: "from New", e: oautherr.New(oautherr.InsufficientScope, ""), want: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.e.HTTPStatus(); got != tt.want {
				t.Errorf("HTTPStatus() = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestIs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{name: "same code", err: oautherr.New(oautherr.InvalidClient, "x"), target: oautherr.New(oautherr.InvalidClient, ""), want: true},
		{name: "wrapped", err: fmt.Errorf("token: %w", oautherr.New(oautherr.InvalidGrant, "expired")), target: oautherr.New(oautherr.InvalidGrant, ""), want: true},
		{name: "different code", err: oautherr.New(oautherr.InvalidClient, ""), target: oautherr.New(oautherr.InvalidGrant, ""), want: false},
		{name: "other error", err: errors.New("invalid_client"), target: oautherr.New(oautherr.InvalidClient, ""), want: false},
		{name: "non-oauth target", err: oautherr.New(oautherr.InvalidClient, ""), target: errors.New("x"), want: false},
		{name: "nil target", err: oautherr.New(oautherr.InvalidClient, ""), target: (*oautherr.Error)(nil), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := errors.Is(tt.err, tt.target); got != tt.want {
				t.Errorf("errors.Is(%v, %v) = %v, want %v", tt.err, tt.target, got, tt.want)
			}
		})
	}
}

func TestValidCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    string
		want bool
	}{
		{name: "registered", s: "invalid_request", want: true},
		{name: "space and punctuation", s: "a b!#[]^~", want: true},
		{name: "empty", s: "", want: false},
		{name: "double quote", s: `a"b`, want: false},
		{name: "backslash", s: `a\b`, want: false},
		{name: "control", s: "a\tb", want: false},
		{name: "del", s: "a\x7fb", want: false},
		{name: "non-ascii", s: "caf\u00e9", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := oautherr.ValidCode(tt.s); got != tt.want {
				t.Errorf("ValidCode(%q) = %v, want %v", tt.s, got, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		body      string
		want      *oautherr.Error
		wantErrs  []error // sentinels the error must match; nil for no error
		wantCount int     // number of violations
	}{
		{
			name: "full",
			body: `{"error":"invalid_request","error_description":"missing grant_type","error_uri":"https://example.com/e#1"}`,
			want: &oautherr.Error{Code: "invalid_request", Description: "missing grant_type", URI: "https://example.com/e#1"},
		},
		{
			name: "unknown members of any type ignored",
			body: " {\"x\":[1,{\"error\":2}],\"error\":\"invalid_token\",\"Error\":null,\"y\":1.5}\n",
			want: &oautherr.Error{Code: "invalid_token"},
		},
		{name: "escaped ascii", body: `{"error":"invalid_grant","error_description":"a\u0041\/b"}`, want: &oautherr.Error{Code: "invalid_grant", Description: "aA/b"}},
		{name: "not json", body: `error=invalid_request`, wantErrs: []error{oautherr.ErrNotObject}, wantCount: 1},
		{name: "empty body", body: ``, wantErrs: []error{oautherr.ErrNotObject}, wantCount: 1},
		{name: "array", body: `[{"error":"invalid_request"}]`, wantErrs: []error{oautherr.ErrNotObject}, wantCount: 1},
		{name: "string", body: `"invalid_request"`, wantErrs: []error{oautherr.ErrNotObject}, wantCount: 1},
		{name: "trailing data", body: `{"error":"invalid_request"} {}`, wantErrs: []error{oautherr.ErrNotObject}, wantCount: 1},
		{name: "missing error", body: `{"error_description":"x"}`, wantErrs: []error{oautherr.ErrMissingCode}, wantCount: 1},
		{name: "wrong case member", body: `{"Error":"invalid_request"}`, wantErrs: []error{oautherr.ErrMissingCode}, wantCount: 1},
		{name: "empty error", body: `{"error":""}`, want: &oautherr.Error{}, wantErrs: []error{oautherr.ErrMissingCode}, wantCount: 1},
		{name: "numeric error", body: `{"error":400}`, wantErrs: []error{oautherr.ErrNotString}, wantCount: 1},
		{name: "null error", body: `{"error":null}`, wantErrs: []error{oautherr.ErrNotString}, wantCount: 1},
		{
			name: "non-string description",
			body: `{"error":"invalid_request","error_description":{"en":"x"}}`,
			want: &oautherr.Error{Code: "invalid_request"}, wantErrs: []error{oautherr.ErrNotString}, wantCount: 1,
		},
		{
			name: "non-ascii description",
			body: `{"error":"invalid_request","error_description":"caf\u00e9"}`,
			want: &oautherr.Error{Code: "invalid_request", Description: "caf\u00e9"}, wantErrs: []error{oautherr.ErrInvalidChar}, wantCount: 1,
		},
		{
			name: "quote in code",
			body: `{"error":"invalid\"request"}`,
			want: &oautherr.Error{Code: `invalid"request`}, wantErrs: []error{oautherr.ErrInvalidChar}, wantCount: 1,
		},
		{
			name: "space in uri",
			body: `{"error":"invalid_request","error_uri":"https://example.com/a b"}`,
			want: &oautherr.Error{Code: "invalid_request", URI: "https://example.com/a b"}, wantErrs: []error{oautherr.ErrInvalidChar}, wantCount: 1,
		},
		{
			name: "duplicate member, last wins",
			body: `{"error":"invalid_scope","error":"invalid_grant"}`,
			want: &oautherr.Error{Code: "invalid_grant"}, wantErrs: []error{oautherr.ErrDuplicateMember}, wantCount: 1,
		},
		{
			name: "several violations",
			body: `{"error":"bad\u0000code","error_description":7,"error_uri":"a\\b"}`,
			want: &oautherr.Error{Code: "bad\x00code", URI: `a\b`}, wantErrs: []error{oautherr.ErrInvalidChar, oautherr.ErrNotString}, wantCount: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := oautherr.Parse([]byte(tt.body))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%s) = %#v, want %#v", tt.body, got, tt.want)
			}
			if tt.wantErrs == nil {
				if err != nil {
					t.Errorf("Parse(%s) error: %v", tt.body, err)
				}
				return
			}
			var pe *oautherr.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%s) error = %v, want a *ParseError", tt.body, err)
			}
			if len(pe.Violations) != tt.wantCount {
				t.Errorf("Parse(%s) violations = %q, want %d", tt.body, pe.Violations, tt.wantCount)
			}
			for _, want := range tt.wantErrs {
				if !errors.Is(err, want) {
					t.Errorf("Parse(%s) error %q does not match %q", tt.body, err, want)
				}
			}
			if !strings.HasPrefix(err.Error(), "oautherr: ") {
				t.Errorf("Parse(%s) error %q lacks the package prefix", tt.body, err)
			}
		})
	}
}

func TestParseErrorMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want string
	}{
		{name: "one", body: `{"error":""}`, want: `oautherr: missing or empty "error" member: "error" is empty`},
		{
			name: "two",
			body: `{"error":"a\"b","error_uri":1}`,
			want: `oautherr: 2 violations: character outside the RFC 6749 §5.2 set: "error" has U+0022 at byte 1 of its value; member is not a string: "error_uri" is a number`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := oautherr.Parse([]byte(tt.body))
			if err == nil || err.Error() != tt.want {
				t.Errorf("Parse(%s) error = %v, want %s", tt.body, err, tt.want)
			}
		})
	}
}
