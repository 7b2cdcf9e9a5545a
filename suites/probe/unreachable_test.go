package probe_test

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/suites/probe"
)

// TestUnreachableErrorNamesTheFix: each way a first request can fail gets
// the fix its cause calls for, after the innermost cause.
func TestUnreachableErrorNamesTheFix(t *testing.T) {
	t.Parallel()
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})
	tlsSrv := httptest.NewUnstartedServer(ok)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	plainSrv := httptest.NewServer(ok)
	t.Cleanup(plainSrv.Close)
	stuck := make(chan struct{})
	slowSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stuck:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slowSrv.Close)
	t.Cleanup(func() { close(stuck) })
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String()
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}

	wrongName := tlsSrv.Client()
	wrongName.Transport.(*http.Transport).TLSClientConfig.ServerName = "wrong.test"
	for _, tc := range []struct {
		name, url string
		client    *http.Client
		want      []string
	}{
		{"untrusted CA", tlsSrv.URL, &http.Client{}, []string{"x509: certificate signed by unknown authority", "SSL_CERT_FILE"}},
		{"other name", tlsSrv.URL, wrongName, []string{"wrong.test", "--tls-name"}},
		{"plain HTTP behind https", "https://" + strings.TrimPrefix(plainSrv.URL, "http://"), &http.Client{}, []string{"plain HTTP", "http://"}},
		{"nothing listening", closedURL, &http.Client{}, []string{"refused", "start it or fix --target"}},
		{"no answer in time", slowSrv.URL, &http.Client{Timeout: 50 * time.Millisecond}, []string{"Client.Timeout", "raise --timeout"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, tc.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := tc.client.Do(req)
			if err == nil {
				_ = resp.Body.Close()
				t.Fatalf("GET %s answered %s", tc.url, resp.Status)
			}
			got := probe.UnreachableError(tc.url, err).Error()
			if !strings.HasPrefix(got, "target "+tc.url+" is unreachable (") {
				t.Errorf("error %q does not begin with the target", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("error %q lacks %q", got, w)
				}
			}
		})
	}
}
