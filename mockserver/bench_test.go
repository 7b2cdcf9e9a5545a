package mockserver_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
)

// The route benchmarks compare the mock's protected routes with a bare
// net/http handler that writes the same answer, in the same run, and the
// request log on and off. The machine's speed and noise cancel out of the
// ratios, throughput relative to the bare route with the same
// Authorization header (bare-uuid-header ns/op ÷ uuid ns/op, bare-jwt-header
// ns/op ÷ jwt ns/op; target at least 0.95) and logged relative to quiet
// (uuid ns/op ÷ uuid-logged ns/op; target at least 0.90).
// scripts/bench-compare.sh measures the same over loopback with wrk. Every
// iteration checks for a 200, so a broken check cannot pass for a fast one.
//
// The servers use the system clock: tokens live 30 minutes (simple) and two
// hours (oauth2), far longer than any benchmark.

// benchDiscardWriter is a reusable http.ResponseWriter that keeps only the
// status: its header map is cleared, not reallocated, between requests.
type benchDiscardWriter struct {
	h      http.Header
	status int
}

func newBenchDiscardWriter() *benchDiscardWriter {
	return &benchDiscardWriter{h: make(http.Header, 8)}
}

func (w *benchDiscardWriter) Header() http.Header { return w.h }

func (w *benchDiscardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *benchDiscardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(p), nil
}

func (w *benchDiscardWriter) reset() {
	clear(w.h)
	w.status = 0
}

// benchServer builds a mock server for the built-in flows with the system clock.
func benchServer(b *testing.B, opts mockserver.Options) *mockserver.Server {
	b.Helper()
	flows, err := spec.ReadAll(context.Background(), openapi.FS())
	if err != nil {
		b.Fatal(err)
	}
	srv, err := mockserver.New(flows, opts)
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

// benchTokenRequests are the seed client's token requests, by flow.
var benchTokenRequests = map[string]struct{ path, body string }{
	"simple": {"/token", `{"clientId":"testClient","secret":"superSecret"}`},
	"oauth2": {"/oauth/token", `{"grant_type":"client_credentials","client_id":"testClient","client_secret":"superSecret"}`},
}

// benchFlow returns the served flow called name.
func benchFlow(b *testing.B, srv *mockserver.Server, name string) *spec.Flow {
	b.Helper()
	for _, f := range srv.Flows() {
		if f.Name == name {
			return f
		}
	}
	b.Fatalf("no flow %q", name)
	return nil
}

// benchIssue gets a token for the seed client from flow, through the handler.
func benchIssue(b *testing.B, srv *mockserver.Server, flow string) string {
	b.Helper()
	tr := benchTokenRequests[flow]
	req := httptest.NewRequest(http.MethodPost, tr.path, bytes.NewReader([]byte(tr.body)))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("token from %s: status %d: %s", flow, rec.Code, rec.Body)
	}
	resp, err := benchFlow(b, srv, flow).ParseTokenResponse(rec.Body.Bytes())
	if err != nil {
		b.Fatalf("token from %s: %v", flow, err)
	}
	return resp.AccessToken
}

// benchRoute is one route of BenchmarkRouteHandler and BenchmarkRouteHTTP.
type benchRoute struct {
	name  string
	srv   http.Handler
	path  string
	token string // "" for none
}

// bareHandler is what the protected routes are compared with: a plain
// net/http handler that writes the documented answer, as the mock's routes
// do once the token passed.
func bareHandler(resp spec.Response) http.Handler {
	contentType := []string{resp.ContentType}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Content-Type"] = contentType
		w.WriteHeader(resp.Status)
		_, _ = w.Write(resp.Body)
	})
}

// benchSuccess is the documented answer of a flow's GET path.
func benchSuccess(b *testing.B, srv *mockserver.Server, flow, path string) spec.Response {
	b.Helper()
	for _, op := range benchFlow(b, srv, flow).Operations {
		if op.Method == http.MethodGet && op.Path == path {
			return op.Success
		}
	}
	b.Fatalf("flow %s has no GET %s", flow, path)
	return spec.Response{}
}

// benchLogger is the request log of `tollgate serve`: slog's text handler
// over a LogBuffer, into a file (a terminal or a pipe costs more per write;
// /dev/null less).
func benchLogger(b *testing.B) *slog.Logger {
	b.Helper()
	f, err := os.Create(filepath.Join(b.TempDir(), "requests.log"))
	if err != nil {
		b.Fatal(err)
	}
	buf := mockserver.NewLogBuffer(f, 0, 0)
	b.Cleanup(func() {
		if err := errors.Join(buf.Close(), f.Close()); err != nil {
			b.Error(err)
		}
	})
	return slog.New(slog.NewTextHandler(buf, nil))
}

// benchRoutes builds the servers and tokens of the route benchmarks: the
// bare route (without a header, and with each token's header, which costs
// time to send and parse whatever the route does with it), and the mock's
// protected routes, quiet and with the request log, and with the metrics
// (on by default) and without. The opaque route needs a
// server configured for opaque simple tokens.
func benchRoutes(b *testing.B) []benchRoute {
	b.Helper()
	def := benchServer(b, mockserver.Options{})
	logged := benchServer(b, mockserver.Options{Logger: benchLogger(b)})
	noMetrics := benchServer(b, mockserver.Options{Metrics: mockserver.MetricsOff})
	opaque := benchServer(b, mockserver.Options{Flows: map[string]mockserver.FlowOptions{"simple": {TokenFormat: spec.FormatOpaque}}})
	bareSimple := bareHandler(benchSuccess(b, def, "simple", "/api/collections"))
	bareOAuth2 := bareHandler(benchSuccess(b, def, "oauth2", "/api/markets"))
	uuid, jwt := benchIssue(b, def, "simple"), benchIssue(b, def, "oauth2")
	uuidLogged, jwtLogged := benchIssue(b, logged, "simple"), benchIssue(b, logged, "oauth2")
	uuidNoMetrics, jwtNoMetrics := benchIssue(b, noMetrics, "simple"), benchIssue(b, noMetrics, "oauth2")
	return []benchRoute{
		{name: "bare", srv: bareSimple, path: "/api/collections"},
		{name: "bare-uuid-header", srv: bareSimple, path: "/api/collections", token: uuid},
		{name: "uuid", srv: def, path: "/api/collections", token: uuid},
		{name: "uuid-logged", srv: logged, path: "/api/collections", token: uuidLogged},
		{name: "uuid-nometrics", srv: noMetrics, path: "/api/collections", token: uuidNoMetrics},
		{name: "opaque", srv: opaque, path: "/api/collections", token: benchIssue(b, opaque, "simple")},
		{name: "bare-jwt-header", srv: bareOAuth2, path: "/api/markets", token: jwt},
		{name: "jwt", srv: def, path: "/api/markets", token: jwt},
		{name: "jwt-logged", srv: logged, path: "/api/markets", token: jwtLogged},
		{name: "jwt-nometrics", srv: noMetrics, path: "/api/markets", token: jwtNoMetrics},
	}
}

// BenchmarkRouteHandler measures the handler alone: ServeHTTP with one
// reused request and a reused, discarding ResponseWriter.
func BenchmarkRouteHandler(b *testing.B) {
	for _, rt := range benchRoutes(b) {
		b.Run(rt.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, rt.path, nil)
			if rt.token != "" {
				req.Header.Set("Authorization", "Bearer "+rt.token)
			}
			w := newBenchDiscardWriter()
			rt.srv.ServeHTTP(w, req) // warms the JWT verification cache
			if w.status != http.StatusOK {
				b.Fatalf("GET %s: status %d", rt.path, w.status)
			}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				rt.srv.ServeHTTP(w, req)
				if w.status != http.StatusOK {
					b.Fatalf("GET %s: status %d", rt.path, w.status)
				}
			}
		})
	}
}

// BenchmarkRouteHTTP measures whole requests over loopback HTTP/1.1 with
// keep-alive connections, from GOMAXPROCS client goroutines.
func BenchmarkRouteHTTP(b *testing.B) {
	for _, rt := range benchRoutes(b) {
		b.Run(rt.name, func(b *testing.B) {
			ts := httptest.NewServer(rt.srv) // 127.0.0.1
			defer ts.Close()
			transport := &http.Transport{
				MaxIdleConns:        1024,
				MaxIdleConnsPerHost: 1024,
				DisableCompression:  true,
			}
			defer transport.CloseIdleConnections()
			client := &http.Client{Transport: transport}
			newReq := func() (*http.Request, error) {
				req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, ts.URL+rt.path, nil)
				if err == nil && rt.token != "" {
					req.Header.Set("Authorization", "Bearer "+rt.token)
				}
				return req, err
			}
			// One request first: it warms the JWT verification cache and fails
			// fast on a setup mistake.
			req, err := newReq()
			if err != nil {
				b.Fatal(err)
			}
			if status, err := benchDo(client, req); err != nil || status != http.StatusOK {
				b.Fatalf("GET %s: status %d, error %v", rt.path, status, err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				req, err := newReq()
				if err != nil {
					b.Error(err)
					return
				}
				for pb.Next() {
					// b.Fatal may only be called from the benchmark's own
					// goroutine: report and stop this one instead.
					if status, err := benchDo(client, req); err != nil || status != http.StatusOK {
						b.Errorf("GET %s: status %d, error %v", rt.path, status, err)
						return
					}
				}
			})
		})
	}
}

// benchDo sends req, drains and closes the body so the connection is reused,
// and returns the status.
func benchDo(client *http.Client, req *http.Request) (int, error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	return resp.StatusCode, err
}

// BenchmarkIssue measures token issuance through the handler: request
// parsing, client authentication, minting (UUID, 256 random bits, or an
// RS256 signature), storing and the JSON answer.
func BenchmarkIssue(b *testing.B) {
	def := benchServer(b, mockserver.Options{})
	opaque := benchServer(b, mockserver.Options{Flows: map[string]mockserver.FlowOptions{"simple": {TokenFormat: spec.FormatOpaque}}})
	for _, bm := range []struct {
		name, flow string
		srv        *mockserver.Server
	}{
		{"uuid", "simple", def},
		{"opaque", "simple", opaque},
		{"jwt", "oauth2", def},
	} {
		b.Run(bm.name, func(b *testing.B) {
			tr := benchTokenRequests[bm.flow]
			data := []byte(tr.body)
			body := bytes.NewReader(data)
			rc := io.NopCloser(body)
			req := httptest.NewRequest(http.MethodPost, tr.path, nil)
			req.Header.Set("Content-Type", "application/json")
			w := newBenchDiscardWriter()
			b.ReportAllocs()
			for b.Loop() {
				// The handler replaces req.Body: put the rewound body back.
				body.Reset(data)
				req.Body = rc
				req.ContentLength = int64(len(data))
				w.reset()
				bm.srv.ServeHTTP(w, req)
				if w.status != http.StatusOK {
					b.Fatalf("POST %s: status %d", tr.path, w.status)
				}
			}
		})
	}
}

// BenchmarkRouteWire measures the same routes as BenchmarkRouteHTTP with a
// wire-level client, as wrk does: each goroutine keeps one connection,
// writes a request serialized once, and reads the answer by its status line
// and Content-Length. The Go client's per-request work (header encoding and
// validation, response parsing) is left out, so the ratios show what the
// server spends, including net/http's own reading of a long Authorization
// header (compare jwt with baseline-jwt-header).
func BenchmarkRouteWire(b *testing.B) {
	for _, rt := range benchRoutes(b) {
		b.Run(rt.name, func(b *testing.B) {
			ts := httptest.NewServer(rt.srv) // 127.0.0.1
			defer ts.Close()
			raw := "GET " + rt.path + " HTTP/1.1\r\nHost: " + ts.Listener.Addr().String() + "\r\nAccept: application/json\r\n"
			if rt.token != "" {
				raw += "Authorization: Bearer " + rt.token + "\r\n"
			}
			request := []byte(raw + "\r\n")
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				conn, err := net.Dial("tcp", ts.Listener.Addr().String())
				if err != nil {
					b.Error(err)
					return
				}
				defer func() {
					if err := conn.Close(); err != nil {
						b.Error(err)
					}
				}()
				r := bufio.NewReaderSize(conn, 16<<10)
				for pb.Next() {
					if _, err := conn.Write(request); err != nil {
						b.Error(err)
						return
					}
					if status, err := readWireResponse(r); err != nil || status != http.StatusOK {
						b.Errorf("GET %s: status %d, error %v", rt.path, status, err)
						return
					}
				}
			})
		})
	}
}

// readWireResponse reads one HTTP/1.1 response with a Content-Length body
// from r and returns its status; the body is discarded.
func readWireResponse(r *bufio.Reader) (int, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, fmt.Errorf("status line: %w", err)
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, fmt.Errorf("status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("status line %q: %w", line, err)
	}
	length := -1
	for {
		line, err = r.ReadSlice('\n')
		if err != nil {
			return 0, fmt.Errorf("header: %w", err)
		}
		if len(line) <= 2 { // the blank line
			break
		}
		if name, value, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(name, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return 0, fmt.Errorf("Content-Length %q: %w", value, err)
			}
		}
	}
	if length < 0 {
		return 0, fmt.Errorf("no Content-Length: the wire client reads only such answers")
	}
	if _, err := r.Discard(length); err != nil {
		return 0, fmt.Errorf("body: %w", err)
	}
	return status, nil
}

// BenchmarkMetricsOverhead measures what the metrics cost a protected
// route through the handler: the same request to a server with metrics on
// and to one with them off, in alternating batches of 64 (so that the
// machine's other load falls on both alike). It reports each side's
// ns/request and their ratio, off ÷ on (throughput with metrics relative
// to without: 1 means free).
func BenchmarkMetricsOverhead(b *testing.B) {
	on := benchServer(b, mockserver.Options{})
	off := benchServer(b, mockserver.Options{Metrics: mockserver.MetricsOff})
	for _, rt := range []struct{ name, flow, path string }{{"uuid", "simple", "/api/collections"}, {"jwt", "oauth2", "/api/markets"}} {
		b.Run(rt.name, func(b *testing.B) {
			type side struct {
				srv *mockserver.Server
				req *http.Request
				w   *benchDiscardWriter
				ns  time.Duration
			}
			sides := [2]*side{{srv: on}, {srv: off}}
			for _, s := range sides {
				s.req = httptest.NewRequest(http.MethodGet, rt.path, nil)
				s.req.Header.Set("Authorization", "Bearer "+benchIssue(b, s.srv, rt.flow))
				s.w = newBenchDiscardWriter()
				s.srv.ServeHTTP(s.w, s.req) // warms the JWT verification cache
			}
			const batch = 64
			b.ReportAllocs()
			for b.Loop() {
				for _, s := range sides {
					start := time.Now()
					for range batch {
						s.w.reset()
						s.srv.ServeHTTP(s.w, s.req)
					}
					s.ns += time.Since(start)
					if s.w.status != http.StatusOK {
						b.Fatalf("GET %s: status %d", rt.path, s.w.status)
					}
				}
			}
			n := float64(b.N * batch)
			b.ReportMetric(float64(sides[0].ns)/n, "on-ns/req")
			b.ReportMetric(float64(sides[1].ns)/n, "off-ns/req")
			b.ReportMetric(float64(sides[1].ns)/float64(sides[0].ns), "off/on")
		})
	}
}
