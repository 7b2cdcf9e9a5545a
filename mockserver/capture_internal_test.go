package mockserver

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCaptureHoldsLongValuesShort: the ring holds a long path cut short
// with its length, and a long Authorization only redacted, with the
// fingerprint of the whole token; short values are held as sent.
func TestCaptureHoldsLongValuesShort(t *testing.T) {
	t.Parallel()
	longToken := strings.Repeat("t", 64<<10)
	longPath := "/api/" + strings.Repeat("é", 40<<10)
	for _, tc := range []struct {
		name, path, auth     string
		wantPath, wantAuth   string
		maxPathLen, maxAuthL int
	}{
		{"short", "/api/collections", "Bearer abc", "/api/collections", redactAuthorization("Bearer abc"), 0, 0},
		{"long", longPath, "Bearer " + longToken, "", redactAuthorization("Bearer " + longToken), maxCapturedValue + 32, 64},
	} {
		c := newRequestCapture(4)
		h := c.wrap(endpoint{kind: endpointJWKS}, nil, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
		req := httptest.NewRequest(http.MethodGet, "http://localhost/", nil)
		req.URL.Path = tc.path
		req.Header.Set("Authorization", tc.auth)
		h.ServeHTTP(httptest.NewRecorder(), req)
		held := c.ring[0]
		if tc.maxPathLen > 0 && (len(held.path) > tc.maxPathLen || !strings.HasSuffix(held.path, "bytes)") || !strings.HasPrefix(tc.path, strings.Split(held.path, "...")[0])) {
			t.Errorf("%s: held path of %d bytes: %.60q...", tc.name, len(held.path), held.path)
		}
		if tc.maxAuthL > 0 && len(held.auth) > tc.maxAuthL {
			t.Errorf("%s: held Authorization of %d bytes", tc.name, len(held.auth))
		}
		recs := c.list(RequestFilter{}, 0)
		if len(recs) != 1 {
			t.Fatalf("%s: %d records", tc.name, len(recs))
		}
		if tc.wantPath != "" && recs[0].Path != tc.wantPath {
			t.Errorf("%s: path %q, want %q", tc.name, recs[0].Path, tc.wantPath)
		}
		if recs[0].Authorization != tc.wantAuth {
			t.Errorf("%s: Authorization %q, want %q", tc.name, recs[0].Authorization, tc.wantAuth)
		}
	}
}
