package mockserver_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/mockserver/mockservertest"
)

// TestDebugRoutesAnswerJSON: with Debug on, an unknown path under /debug/
// and a method the debug endpoints do not take get the mock's JSON error
// (404, 405 with Allow), not net/http's plain text; pprof's symbol lookup
// takes POST as go tool pprof sends it.
func TestDebugRoutesAnswerJSON(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{Debug: true}))
	for _, tc := range []struct {
		method, path string
		status       int
		errCode      string
	}{
		{http.MethodGet, "/debug/nope", http.StatusNotFound, "not_found"},
		{http.MethodPost, "/debug/vars", http.StatusMethodNotAllowed, "method_not_allowed"},
		{http.MethodDelete, "/debug/pprof/", http.StatusMethodNotAllowed, "method_not_allowed"},
		{http.MethodPost, "/debug/pprof/profile", http.StatusMethodNotAllowed, "method_not_allowed"},
		{http.MethodPost, "/debug/pprof/symbol", http.StatusOK, ""},
	} {
		status, body := metricsDo(t, srv, tc.method, tc.path, "text/plain", "", "0x1")
		if status != tc.status {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, status, body, tc.status)
			continue
		}
		if tc.errCode == "" {
			continue
		}
		var e struct{ Error string }
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error != tc.errCode {
			t.Errorf("%s %s: body %q, want the JSON error %s", tc.method, tc.path, body, tc.errCode)
		}
	}
}
