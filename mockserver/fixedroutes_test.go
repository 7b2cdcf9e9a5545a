package mockserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/mockserver/mockservertest"
)

// TestFixedRoutesAnswerOtherMethods405: the mock's own GET routes answer
// another method with 405 and Allow (RFC 9110 §15.5.6), not with the 404
// "no operation … has this path" of a path nothing serves; GET still works.
func TestFixedRoutesAnswerOtherMethods405(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	for _, path := range []string{mockserver.HealthPath, mockserver.MetricsPath, mockserver.JWKSPath, mockserver.MetadataPath} {
		for _, method := range []string{http.MethodPost, http.MethodDelete, http.MethodGet} {
			t.Run(method+" "+path, func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer func() { _ = resp.Body.Close() }()
				body, err := io.ReadAll(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				if method == http.MethodGet {
					if resp.StatusCode != http.StatusOK {
						t.Errorf("status %d, want 200: %s", resp.StatusCode, body)
					}
					return
				}
				if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
					t.Errorf("status %d, Allow %q; want 405 with Allow: GET, HEAD: %s", resp.StatusCode, resp.Header.Get("Allow"), body)
				}
				var e struct{ Error string }
				if err := json.Unmarshal(body, &e); err != nil || e.Error != "method_not_allowed" {
					t.Errorf("body %s: want the JSON error method_not_allowed", body)
				}
			})
		}
	}
}
