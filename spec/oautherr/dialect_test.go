package oautherr_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/tollgate/tollgate/spec/oautherr"
)

func TestServerBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		e       *oautherr.Error
		dialect string
		want    string
	}{
		{
			name: "rfc6749 is JSON()", e: oautherr.New(oautherr.InvalidClient, "wrong secret"), dialect: oautherr.DialectRFC6749,
			want: `{"error":"invalid_client","error_description":"wrong secret"}`,
		},
		{
			name: "unknown dialect is JSON()", e: oautherr.New(oautherr.InvalidScope, "x"), dialect: "other",
			want: `{"error":"invalid_scope","error_description":"x"}`,
		},
		{
			name: "cl wrong client", e: oautherr.New(oautherr.InvalidClient, "wrong secret"), dialect: oautherr.DialectCL,
			want: `{"error":"invalid_client","error_description":"wrong secret","errors":[{"code":"UNAUTHORIZED","title":"invalid_client","detail":"wrong secret","status":401}]}`,
		},
		{
			name: "cl invalid_client answered 400", e: &oautherr.Error{Code: oautherr.InvalidClient, Description: "d", Status: http.StatusBadRequest}, dialect: oautherr.DialectCL,
			want: `{"error":"invalid_client","error_description":"d","errors":[{"code":"BAD_REQUEST","title":"invalid_client","detail":"d","status":400}]}`,
		},
		{
			name: "cl revocation by another client", e: &oautherr.Error{Code: oautherr.UnauthorizedClient, Description: "not yours", Status: http.StatusForbidden}, dialect: oautherr.DialectCL,
			want: `{"error":"unauthorized_client","error_description":"not yours","errors":[{"code":"FORBIDDEN","title":"unauthorized_client","detail":"not yours","status":403}]}`,
		},
		{
			name: "cl body too large", e: &oautherr.Error{Code: oautherr.InvalidRequest, Description: "too big", Status: http.StatusRequestEntityTooLarge}, dialect: oautherr.DialectCL,
			want: `{"error":"invalid_request","error_description":"too big","errors":[{"code":"REQUEST_ENTITY_TOO_LARGE","title":"invalid_request","detail":"too big","status":413}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.e.ServerBody(tt.dialect)
			if string(got) != tt.want {
				t.Errorf("ServerBody(%q) = %s, want %s", tt.dialect, got, tt.want)
			}
			back, err := oautherr.Parse(got)
			if err != nil || back.Code != tt.e.Code || back.Description != tt.e.Description {
				t.Errorf("Parse(ServerBody) = %#v, %v; want the RFC members back and no violation", back, err)
			}
		})
	}
}

func TestResourceBody(t *testing.T) {
	t.Parallel()
	noCredentials := &oautherr.Error{Description: "send a token"}
	tests := []struct {
		name    string
		e       *oautherr.Error
		dialect string
		want    string
	}{
		{name: "rfc6749 invalid_token", e: oautherr.New(oautherr.InvalidToken, "expired"), dialect: oautherr.DialectRFC6749,
			want: `{"error":"invalid_token","error_description":"expired"}`},
		{name: "rfc6749 no credentials", e: noCredentials, dialect: oautherr.DialectRFC6749,
			want: `{"error_description":"send a token"}`},
		{name: "rfc6749 nothing to say", e: &oautherr.Error{}, dialect: oautherr.DialectRFC6749, want: `{}`},
		{name: "cl invalid_token", e: oautherr.New(oautherr.InvalidToken, "expired"), dialect: oautherr.DialectCL,
			want: `{"error":"invalid_token","error_description":"expired","errors":[{"title":"Invalid token","detail":"expired","code":"INVALID_TOKEN","status":"401"}]}`},
		{name: "cl insufficient_scope", e: oautherr.New(oautherr.InsufficientScope, "needs x"), dialect: oautherr.DialectCL,
			want: `{"error":"insufficient_scope","error_description":"needs x","errors":[{"title":"Forbidden","detail":"needs x","code":"FORBIDDEN","status":"403"}]}`},
		{name: "cl malformed header", e: oautherr.New(oautherr.InvalidRequest, "bad header"), dialect: oautherr.DialectCL,
			want: `{"error":"invalid_request","error_description":"bad header","errors":[{"title":"Bad Request","detail":"bad header","code":"BAD_REQUEST","status":"400"}]}`},
		{name: "cl no credentials has no error member", e: noCredentials, dialect: oautherr.DialectCL,
			want: `{"error_description":"send a token","errors":[{"title":"Unauthorized","detail":"send a token","code":"UNAUTHORIZED","status":"401"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.e.ResourceBody(tt.dialect)
			if string(got) != tt.want {
				t.Errorf("ResourceBody(%q) = %s, want %s", tt.dialect, got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("ResourceBody(%q) is not JSON: %s", tt.dialect, got)
			}
		})
	}
}

func TestResourceMediaType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dialect, accept, want string
	}{
		{oautherr.DialectCL, "application/vnd.api+json", "application/vnd.api+json"},
		{oautherr.DialectCL, "application/json, Application/VND.API+JSON;q=0.5", "application/vnd.api+json"},
		{oautherr.DialectCL, "application/json", "application/json"},
		{oautherr.DialectCL, "", "application/json"},
		{oautherr.DialectRFC6749, "application/vnd.api+json", "application/json"},
	}
	for _, tt := range tests {
		if got := oautherr.ResourceMediaType(tt.dialect, tt.accept); got != tt.want {
			t.Errorf("ResourceMediaType(%q, %q) = %q, want %q", tt.dialect, tt.accept, got, tt.want)
		}
	}
}
