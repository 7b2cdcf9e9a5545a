package mockserver_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/mockserver/mockservertest"
)

func TestCORS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		origins    []string
		origin     string
		wantAllow  string
		wantStatus int // of the preflight
	}{
		{"any origin by default", nil, "http://localhost:3000", "http://localhost:3000", http.StatusNoContent},
		{"a listed origin", []string{"http://localhost:3000"}, "http://localhost:3000", "http://localhost:3000", http.StatusNoContent},
		{"an unlisted origin", []string{"http://localhost:3000"}, "http://evil.example", "", http.StatusMethodNotAllowed},
		{"CORS off", []string{}, "http://localhost:3000", "", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{CORSOrigins: tt.origins}))
			pre := newRequest(t, http.MethodOptions, srv.URL+"/api/collections", "", "")
			pre.Header.Set("Origin", tt.origin)
			pre.Header.Set("Access-Control-Request-Method", "GET")
			pre.Header.Set("Access-Control-Request-Headers", "authorization")
			ex := send(t, srv, pre)
			if ex.status != tt.wantStatus || ex.header.Get("Access-Control-Allow-Origin") != tt.wantAllow {
				t.Fatalf("preflight: %d, Allow-Origin %q; want %d, %q", ex.status, ex.header.Get("Access-Control-Allow-Origin"), tt.wantStatus, tt.wantAllow)
			}
			checkCredentialsAllowed(t, "preflight", ex.header, tt.wantAllow != "")
			if tt.wantAllow != "" && !strings.Contains(strings.ToLower(ex.header.Get("Access-Control-Allow-Headers")), "authorization") {
				t.Errorf("preflight Allow-Headers = %q, want authorization", ex.header.Get("Access-Control-Allow-Headers"))
			}
			get := newRequest(t, http.MethodGet, srv.URL+"/api/collections", "", "")
			get.Header.Set("Origin", tt.origin)
			ex = send(t, srv, get)
			if ex.status != http.StatusUnauthorized || ex.header.Get("Access-Control-Allow-Origin") != tt.wantAllow {
				t.Errorf("GET: %d, Allow-Origin %q; want 401, %q", ex.status, ex.header.Get("Access-Control-Allow-Origin"), tt.wantAllow)
			}
			checkCredentialsAllowed(t, "GET", ex.header, tt.wantAllow != "")
			if tt.wantAllow != "" && !strings.Contains(ex.header.Get("Access-Control-Expose-Headers"), "WWW-Authenticate") {
				t.Errorf("Expose-Headers = %q, want WWW-Authenticate so a page can read the challenge", ex.header.Get("Access-Control-Expose-Headers"))
			}
		})
	}
}

// checkCredentialsAllowed checks the headers a browser needs to hand a
// credentialed ("include") response to the page: Allow-Credentials true
// with the echoed origin, never "*" (Fetch standard, CORS check). A
// refused origin gets neither.
func checkCredentialsAllowed(t *testing.T, what string, h http.Header, allowed bool) {
	t.Helper()
	got := h.Values("Access-Control-Allow-Credentials")
	switch {
	case allowed && (len(got) != 1 || got[0] != "true"):
		t.Errorf("%s: Access-Control-Allow-Credentials = %q, want exactly \"true\" for credentials mode", what, got)
	case !allowed && len(got) != 0:
		t.Errorf("%s: Access-Control-Allow-Credentials = %q for a refused origin, want none", what, got)
	}
	if h.Get("Access-Control-Allow-Origin") == "*" {
		t.Errorf("%s: Access-Control-Allow-Origin is \"*\", which a browser refuses with credentials", what)
	}
}

// TestLargeBodyIsRefusedAtOnce: a body declared or found larger than the
// limit gets 413 at once, not after the server has drained it.
func TestLargeBodyIsRefusedAtOnce(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	for _, tt := range []struct {
		name          string
		contentLength int
		send          int
	}{
		{"declared too large", 200000, 70000},
		{"chunked and too large", -1, 70000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			conn, err := net.DialTimeout("tcp", strings.TrimPrefix(srv.URL, "http://"), 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = conn.Close() }()
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			head := "POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
			if tt.contentLength >= 0 {
				head += fmt.Sprintf("Content-Length: %d\r\n\r\n", tt.contentLength)
			} else {
				head += "Transfer-Encoding: chunked\r\n\r\n" + fmt.Sprintf("%x\r\n", tt.send)
			}
			go func() { _, _ = conn.Write([]byte(head + strings.Repeat("x", tt.send))) }()
			start := time.Now()
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no response: %v", err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge || time.Since(start) > 3*time.Second {
				t.Errorf("status %d after %v, want 413 at once", resp.StatusCode, time.Since(start))
			}
		})
	}
}

func TestClientScopesAndLifetimeLimits(t *testing.T) {
	t.Parallel()
	flows := mockservertest.NewServer(t).Mock.Flows()
	for _, tt := range []struct {
		name   string
		client mockserver.Client
		want   string
	}{
		{"empty scope list", mockserver.Client{ID: "a", Secret: "b", Scopes: []string{}}, "scopes is empty"},
		{"lifetime over a year", mockserver.Client{ID: "a", Secret: "b", TokenLifetime: 400 * 24 * time.Hour}, "longer than"},
	} {
		_, err := mockserver.New(flows, mockserver.Options{Clients: []mockserver.Client{tt.client}})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := mockserver.New(flows, mockserver.Options{CORSOrigins: []string{"localhost:3000"}}); err == nil || !strings.Contains(err.Error(), "cors_origins") {
		t.Errorf("bad origin: err = %v", err)
	}
}
