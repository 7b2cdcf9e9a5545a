package load

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// rawServer answers every request on a connection with the bytes of
// answer, as a server would write them, then reads the next request.
func rawServer(t *testing.T, answer string, closeAfter bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = c.Close() }()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_ = req.Body.Close()
					if _, err := c.Write([]byte(answer)); err != nil || closeAfter {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/api"
}

func TestWireSenderParsesFraming(t *testing.T) {
	t.Parallel()
	const bearer = `Bearer realm="x", error="invalid_token"`
	tests := []struct {
		name       string
		answer     string
		closeAfter bool
		kind       Kind
		want       Outcome
		wantStatus int
	}{
		{"content-length body", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, KindValid, OutcomeCorrect, 200},
		{"chunked body with trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n3\r\nabc\r\n0\r\nX-Trailer: y\r\n\r\n", false, KindValid, OutcomeCorrect, 200},
		{"a 401 with the challenge on two lines", "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\nwww-authenticate: " + bearer + "\r\nContent-Length: 0\r\n\r\n", false, KindInvalid, OutcomeCorrect, 401},
		{"a 401 without a challenge", "HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\nno", false, KindMissing, OutcomeWrong, 401},
		{"an interim 100 before the answer", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", false, KindValid, OutcomeCorrect, 204},
		{"a body ended by closing the connection", "HTTP/1.0 200 OK\r\n\r\nuntil close", true, KindValid, OutcomeCorrect, 200},
		{"Connection: close", "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", true, KindInvalid, OutcomeServerError, 503},
		{"a header longer than the read buffer", "HTTP/1.1 401 Unauthorized\r\nX-Long: " + strings.Repeat("a", 40<<10) + "\r\nWWW-Authenticate: Bearer realm=\"x\"\r\nContent-Length: 0\r\n\r\n", false, KindMissing, OutcomeCorrect, 401},
		{"a garbled status line", "HTTX/1.1 200 OK\r\n\r\n", true, KindValid, OutcomeConnection, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := rawServer(t, tt.answer, tt.closeAfter)
			m := NewAttacker(Options{MaxRequests: 5, Concurrency: 1, Timeout: 2 * time.Second}).Attack(context.Background(), staticTargeter(t, url, tt.kind), nil)
			if got := m.Outcomes[tt.kind][tt.want]; got != 5 {
				t.Errorf("%s = %d of 5 (outcomes %v)", tt.want, got, m.Outcomes[tt.kind])
			}
			if tt.wantStatus != 0 && m.Statuses[tt.wantStatus] != 5 {
				t.Errorf("statuses %v, want 5×%d", m.Statuses, tt.wantStatus)
			}
		})
	}
}

// TestWireSenderReusesConnections: one connection per worker for the whole
// run, and a server closing an idle connection costs a retry, not an error.
func TestWireSenderReusesConnections(t *testing.T) {
	t.Parallel()
	var conns, served atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if served.Add(1)%50 == 0 {
			w.Header().Set("Connection", "close")
		}
		fmt.Fprint(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	m := NewAttacker(Options{MaxRequests: 400, Concurrency: 4}).Attack(context.Background(), staticTargeter(t, srv.URL, KindValid), nil)
	if m.Requests != 400 || m.Errors() != 0 {
		t.Fatalf("requests %d, errors %d: want 400 and none", m.Requests, m.Errors())
	}
	// 4 workers, and a new connection after each of the 8 closes.
	if got := conns.Load(); got > 4+8 {
		t.Errorf("%d connections for 400 requests over 4 workers", got)
	}
}

func TestWireSenderTLS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") }))
	t.Cleanup(srv.Close)
	tlsConf := srv.Client().Transport.(*http.Transport).TLSClientConfig
	m := NewAttacker(Options{MaxRequests: 20, Concurrency: 2, TLSConfig: tlsConf}).Attack(context.Background(), staticTargeter(t, srv.URL, KindValid), nil)
	if m.Outcomes[KindValid][OutcomeCorrect] != 20 {
		t.Errorf("outcomes %v, want 20 correct over TLS", m.Outcomes[KindValid])
	}
	m = NewAttacker(Options{MaxRequests: 3, Concurrency: 1}).Attack(context.Background(), staticTargeter(t, srv.URL, KindValid), nil)
	if m.Outcomes[KindValid][OutcomeConnection] != 3 {
		t.Errorf("outcomes %v: a certificate nobody trusts must fail the connection", m.Outcomes[KindValid])
	}
}

// TestSendersAgree: the wire sender and net/http judge the same answers
// the same way.
func TestSendersAgree(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		switch n.Add(1) % 4 {
		case 0:
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
		case 1:
			w.WriteHeader(http.StatusOK)
		case 2:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			w.(http.Flusher).Flush() // chunked
			fmt.Fprint(w, "late body")
		}
	}))
	t.Cleanup(srv.Close)
	var got [2]*Metrics
	for i, netHTTP := range []bool{false, true} {
		n.Store(0)
		got[i] = NewAttacker(Options{MaxRequests: 200, Concurrency: 1, NetHTTP: netHTTP}).Attack(context.Background(), staticTargeter(t, srv.URL, KindInvalid), nil)
	}
	if got[0].Outcomes != got[1].Outcomes {
		t.Errorf("wire sender %v, net/http %v", got[0].Outcomes[KindInvalid], got[1].Outcomes[KindInvalid])
	}
	if got[0].Outcomes[KindInvalid][OutcomeCorrect] != 50 || got[0].Outcomes[KindInvalid][OutcomeAccepted] != 100 {
		t.Errorf("outcomes %v, want 50 correct and 100 accepted", got[0].Outcomes[KindInvalid])
	}
}
