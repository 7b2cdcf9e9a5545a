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
	const page = "http://localhost:3000"
	tests := []struct {
		name            string
		origins         []string
		credentials     bool // Options.CORSAllowCredentials
		origin          string
		wantAllow       string
		wantCredentials bool
		wantStatus      int // of the preflight
	}{
		{"any origin by default", nil, false, page, page, false, http.StatusNoContent},
		{"a listed origin", []string{page}, false, page, page, false, http.StatusNoContent},
		{"a listed origin with credentials", []string{page, "http://localhost:5173"}, true, page, page, true, http.StatusNoContent},
		{"an unlisted origin", []string{page}, false, "http://evil.example", "", false, http.StatusMethodNotAllowed},
		{"an unlisted origin with credentials", []string{page}, true, "http://evil.example", "", false, http.StatusMethodNotAllowed},
		{"CORS off", []string{}, false, page, "", false, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{CORSOrigins: tt.origins, CORSAllowCredentials: tt.credentials}))
			pre := newRequest(t, http.MethodOptions, srv.URL+"/api/collections", "", "")
			pre.Header.Set("Origin", tt.origin)
			pre.Header.Set("Access-Control-Request-Method", "GET")
			pre.Header.Set("Access-Control-Request-Headers", "authorization")
			ex := send(t, srv, pre)
			if ex.status != tt.wantStatus || ex.header.Get("Access-Control-Allow-Origin") != tt.wantAllow {
				t.Fatalf("preflight: %d, Allow-Origin %q; want %d, %q", ex.status, ex.header.Get("Access-Control-Allow-Origin"), tt.wantStatus, tt.wantAllow)
			}
			checkCredentials(t, "preflight", ex.header, tt.wantCredentials)
			if tt.wantAllow != "" && !strings.Contains(strings.ToLower(ex.header.Get("Access-Control-Allow-Headers")), "authorization") {
				t.Errorf("preflight Allow-Headers = %q, want authorization", ex.header.Get("Access-Control-Allow-Headers"))
			}
			get := newRequest(t, http.MethodGet, srv.URL+"/api/collections", "", "")
			get.Header.Set("Origin", tt.origin)
			ex = send(t, srv, get)
			if ex.status != http.StatusUnauthorized || ex.header.Get("Access-Control-Allow-Origin") != tt.wantAllow {
				t.Errorf("GET: %d, Allow-Origin %q; want 401, %q", ex.status, ex.header.Get("Access-Control-Allow-Origin"), tt.wantAllow)
			}
			checkCredentials(t, "GET", ex.header, tt.wantCredentials)
			if tt.wantAllow != "" && !strings.Contains(ex.header.Get("Access-Control-Expose-Headers"), "WWW-Authenticate") {
				t.Errorf("Expose-Headers = %q, want WWW-Authenticate so a page can read the challenge", ex.header.Get("Access-Control-Expose-Headers"))
			}
		})
	}
}

// checkCredentials checks the headers a browser needs to hand a
// credentialed ("include") response to the page: Allow-Credentials true
// with the echoed origin, never "*" (Fetch standard, CORS check). Without
// credentials, or for a refused origin, there is no Allow-Credentials.
func checkCredentials(t *testing.T, what string, h http.Header, want bool) {
	t.Helper()
	got := h.Values("Access-Control-Allow-Credentials")
	switch {
	case want && (len(got) != 1 || got[0] != "true"):
		t.Errorf("%s: Access-Control-Allow-Credentials = %q, want exactly \"true\" for credentials mode", what, got)
	case !want && len(got) != 0:
		t.Errorf("%s: Access-Control-Allow-Credentials = %q, want none", what, got)
	}
	if h.Get("Access-Control-Allow-Origin") == "*" {
		t.Errorf("%s: Access-Control-Allow-Origin is \"*\", want the origin echoed", what)
	}
}

// TestCORSCredentialsNeedListedOrigins: credentials with any origin or
// with CORS off are refused when the server is made, with a message that
// says what to write instead.
func TestCORSCredentialsNeedListedOrigins(t *testing.T) {
	t.Parallel()
	flows := mockservertest.NewServer(t).Mock.Flows()
	for _, tt := range []struct {
		name    string
		origins []string
		want    string // in the error; "" for none
	}{
		{"any origin by default", nil, "cors_allow_credentials: not with any origin"},
		{"any origin listed", []string{"http://localhost:3000", "*"}, "cors_allow_credentials: not with any origin"},
		{"CORS off", []string{}, "cors_allow_credentials: CORS is off"},
		{"listed origins", []string{"http://localhost:3000"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, err := mockserver.New(flows, mockserver.Options{CORSOrigins: tt.origins, CORSAllowCredentials: true})
			if err == nil {
				t.Cleanup(func() { _ = srv.Close() })
			}
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("err = %v, want none", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "cors_origins: [http://localhost:3000]") || strings.Contains(err.Error(), "\n")):
				t.Fatalf("err = %v, want one line with %q and an example of listed origins", err, tt.want)
			}
		})
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
