package conformance

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/spec/oautherr"
	"github.com/tollgate/tollgate/suites/probe"
)

// TestTokenErrorFaultDialects: the token-endpoint checks judge the error
// member only. Members of a vendor's own, such as Commerce Layer's JSON:API
// errors array, are a conformant oddity (RFC 6749 §5.2 defines error,
// error_description and error_uri and leaves the rest of the object
// open), so a cl body is as good as an rfc6749 one, and a cl body whose
// error member is wrong is still found.
func TestTokenErrorFaultDialects(t *testing.T) {
	t.Parallel()
	header := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name      string
		body      []byte
		wantFault string // "" for none, else a piece of the fault
	}{
		{"rfc6749", oautherr.New(oautherr.InvalidClient, "wrong secret").ServerBody(oautherr.DialectRFC6749), ""},
		{"cl", oautherr.New(oautherr.InvalidClient, "wrong secret").ServerBody(oautherr.DialectCL), ""},
		{"cl as the api words it", oautherr.New(oautherr.InvalidRequest, "bad").ResourceBody(oautherr.DialectCL), ""},
		{"errors array alone", []byte(`{"errors":[{"code":"UNAUTHORIZED","title":"invalid_client","detail":"x","status":401}]}`), "no usable error member"},
		{"cl with an unregistered code", (&oautherr.Error{Code: "bad_client", Description: "x"}).ServerBody(oautherr.DialectCL), `error "bad_client"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tokenErrorFault(&probe.Exchange{Status: http.StatusUnauthorized, Header: header, Body: tt.body})
			switch {
			case tt.wantFault == "" && got != "":
				t.Errorf("tokenErrorFault(%s) = %q, want no fault", tt.body, got)
			case tt.wantFault != "" && !strings.Contains(got, tt.wantFault):
				t.Errorf("tokenErrorFault(%s) = %q, want a fault with %q", tt.body, got, tt.wantFault)
			}
		})
	}
}
