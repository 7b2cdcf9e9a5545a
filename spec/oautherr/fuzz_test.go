package oautherr_test

import (
	"testing"

	"github.com/tollgate/tollgate/spec/oautherr"
)

// Seed inputs beyond these live in testdata/fuzz/FuzzParse/.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"error":"invalid_request","error_description":"missing grant_type"}`,
		`{"error":"invalid_token","error_uri":"https://example.com/e"}`,
		`{"error":null}`,
		`{}`,
		`not json`,
		`{"error":"x\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := oautherr.Parse(body)
		if err != nil {
			return
		}
		if e == nil {
			t.Fatalf("Parse(%q) = nil, nil", body)
		}
		if !oautherr.ValidCode(e.Code) {
			t.Fatalf("Parse(%q) accepted code %q", body, e.Code)
		}
		out := e.JSON()
		back, err := oautherr.Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) = %#v, but its JSON %s does not parse: %v", body, e, out, err)
		}
		if back.Code != e.Code || back.Description != e.Description || back.URI != e.URI {
			t.Fatalf("Parse(%q) = %#v, but its JSON %s parses as %#v", body, e, out, back)
		}
	})
}
