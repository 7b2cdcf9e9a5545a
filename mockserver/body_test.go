package mockserver

import (
	"testing"

	"github.com/tollgate/tollgate/spec"
)

func TestParseTokenBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		mediaType string
		body      string
		wantErr   bool
		wantKeys  int
	}{
		{"form", spec.FormMediaType, "grant_type=client_credentials&scope=a+b", false, 2},
		{"form with an empty value", spec.FormMediaType, "scope=", false, 1},
		{"form repeats a parameter", spec.FormMediaType, "a=1&a=2", true, 0},
		{"form with a bad escape", spec.FormMediaType, "a=%zz", true, 0},
		{"form with a semicolon", spec.FormMediaType, "a=1;b=2", true, 0},
		{"JSON object", "application/json", `{"a":"1","n":{"b":2}}`, false, 2},
		{"JSON with spaces around", "application/vnd.api+json", " \n{}\n ", false, 0},
		{"JSON empty", "application/json", "  ", true, 0},
		{"JSON array", "application/json", `[]`, true, 0},
		{"JSON scalar", "application/json", `"x"`, true, 0},
		{"JSON truncated", "application/json", `{"a":`, true, 0},
		{"JSON trailing object", "application/json", `{}{}`, true, 0},
		{"JSON trailing garbage", "application/json", `{} x`, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := parseTokenBody(tt.mediaType, []byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && len(doc) != tt.wantKeys {
				t.Errorf("doc = %v, want %d members", doc, tt.wantKeys)
			}
		})
	}
}

// FuzzParseTokenBody: never panics; a parsed form holds only strings.
func FuzzParseTokenBody(f *testing.F) {
	f.Add(true, []byte("grant_type=client_credentials&client_id=a&client_secret=b"))
	f.Add(false, []byte(`{"grant_type":"client_credentials","client_id":"a","client_secret":"b"}`))
	f.Add(false, []byte(`{"clientId":"testClient","secret":"superSecret"}`))
	f.Add(true, []byte("a=%zz&a=1"))
	f.Add(false, []byte(`[[[[[[[[[[`))
	f.Fuzz(func(t *testing.T, isForm bool, body []byte) {
		mediaType := "application/json"
		if isForm {
			mediaType = spec.FormMediaType
		}
		doc, err := parseTokenBody(mediaType, body)
		if err != nil {
			return
		}
		if doc == nil {
			t.Fatal("nil document without an error")
		}
		if isForm {
			for k, v := range doc {
				if _, ok := v.(string); !ok {
					t.Errorf("form member %q = %T", k, v)
				}
			}
		}
	})
}
