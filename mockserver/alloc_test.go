package mockserver

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
)

// allocWriter is a reusable http.ResponseWriter that keeps only the status;
// its header map is cleared, not reallocated, between requests.
type allocWriter struct {
	h      http.Header
	status int
}

func (w *allocWriter) Header() http.Header { return w.h }

func (w *allocWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *allocWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(p), nil
}

func (w *allocWriter) reset() {
	clear(w.h)
	w.status = 0
}

// allocOK is the next handler behind the Bearer middleware: it only answers 200.
var allocOK = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })

// bearerCase is the Bearer middleware of one protected operation, with the
// request to send it and the status it must answer.
type bearerCase struct {
	name   string
	h      http.Handler
	req    *http.Request
	w      *allocWriter
	status int
}

// serve sends the case's request once and reports a wrong status.
func (c *bearerCase) serve() bool {
	c.w.reset()
	c.h.ServeHTTP(c.w, c.req)
	return c.w.status == c.status
}

// builtinServer is a Server over the built-in flows with opts, for the
// package's own tests.
func builtinServer(tb testing.TB, opts Options) *Server {
	tb.Helper()
	flows, err := spec.ReadAll(context.Background(), openapi.FS())
	if err != nil {
		tb.Fatal(err)
	}
	s, err := New(flows, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// bearerCases builds servers with the built-in flows and the system clock
// (tokens outlive any test), issues a token per format, and returns the
// middleware of /api/collections (simple: uuid, opaque) and /api/markets
// (oauth2: jwt) with the requests for hits and misses. Each case has been
// served once, which warms the JWT verification cache.
func bearerCases(tb testing.TB) []*bearerCase {
	tb.Helper()
	flows, err := spec.ReadAll(context.Background(), openapi.FS())
	if err != nil {
		tb.Fatal(err)
	}
	def, err := New(flows, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	opaque, err := New(flows, Options{Flows: map[string]FlowOptions{"simple": {TokenFormat: spec.FormatOpaque}}})
	if err != nil {
		tb.Fatal(err)
	}
	newCase := func(name string, s *Server, flow, path, auth string, status int) *bearerCase {
		tb.Helper()
		var fr *flowRuntime
		for _, f := range s.flows {
			if f.flow.Name == flow {
				fr = f
			}
		}
		if fr == nil {
			tb.Fatalf("no flow %q", flow)
		}
		for _, op := range fr.flow.Operations {
			if op.Method == http.MethodGet && op.Path == path && op.Protected {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				if auth != "" {
					req.Header.Set("Authorization", auth)
				}
				c := &bearerCase{name: name, h: s.bearer(fr, op)(allocOK), req: req, w: &allocWriter{h: make(http.Header, 8)}, status: status}
				if !c.serve() {
					tb.Fatalf("%s: GET %s: status %d, want %d", name, path, c.w.status, status)
				}
				return c
			}
		}
		tb.Fatalf("flow %s has no protected GET %s", flow, path)
		return nil
	}
	return []*bearerCase{
		newCase("uuid", def, "simple", "/api/collections", "Bearer "+allocIssue(tb, def, "simple"), http.StatusOK),
		newCase("opaque", opaque, "simple", "/api/collections", "Bearer "+allocIssue(tb, opaque, "simple"), http.StatusOK),
		newCase("jwt", def, "oauth2", "/api/markets", "Bearer "+allocIssue(tb, def, "oauth2"), http.StatusOK),
		newCase("missing", def, "simple", "/api/collections", "", http.StatusUnauthorized),
		newCase("invalid", def, "simple", "/api/collections", "Bearer 00000000-0000-4000-8000-000000000000", http.StatusUnauthorized),
	}
}

// allocIssue gets a token for the seed client from flow, through the handler.
func allocIssue(tb testing.TB, s *Server, flow string) string {
	tb.Helper()
	var fr *flowRuntime
	for _, f := range s.flows {
		if f.flow.Name == flow {
			fr = f
		}
	}
	if fr == nil {
		tb.Fatalf("no flow %q", flow)
	}
	doc := map[string]any{}
	for _, f := range []struct {
		p spec.Pointer
		v string
	}{
		{fr.flow.Token.Request.ClientID, SeedClientID},
		{fr.flow.Token.Request.ClientSecret, SeedClientSecret},
		{fr.flow.Token.Request.GrantType, fr.flow.Token.GrantType},
	} {
		if !f.p.IsZero() && f.v != "" {
			if err := f.p.Set(doc, f.v); err != nil {
				tb.Fatal(err)
			}
		}
	}
	body, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, fr.flow.Token.Path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		tb.Fatalf("token from %s: status %d: %s", flow, rec.Code, rec.Body)
	}
	tr, err := fr.flow.ParseTokenResponse(rec.Body.Bytes())
	if err != nil {
		tb.Fatalf("token from %s: %v", flow, err)
	}
	return tr.AccessToken
}

// TestBearerHitAllocatesNothing checks that the Bearer middleware lets a
// valid token through without allocating, for UUID and opaque tokens (store
// lookup) and for a JWT whose verification is cached. It is deliberately not
// parallel: testing.AllocsPerRun counts allocations process-wide.
func TestBearerHitAllocatesNothing(t *testing.T) {
	for _, c := range bearerCases(t)[:3] {
		t.Run(c.name, func(t *testing.T) {
			ok := true
			allocs := testing.AllocsPerRun(200, func() { ok = c.serve() && ok })
			if !ok {
				t.Fatalf("status %d, want %d", c.w.status, c.status)
			}
			if allocs != 0 {
				t.Errorf("a Bearer hit allocates %v times per request, want 0", allocs)
			}
		})
	}
}

// BenchmarkBearer measures the Bearer middleware alone (the next handler
// only writes 200): hits for each token format, the JWT with verification
// cached, and two misses, no credentials and an unknown UUID.
func BenchmarkBearer(b *testing.B) {
	for _, c := range bearerCases(b) {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !c.serve() {
					b.Fatalf("status %d, want %d", c.w.status, c.status)
				}
			}
		})
	}
}

// TestMetricsAddNoAllocation checks that counting and timing a request
// allocates nothing: a whole server (routing, capture, faults, metrics)
// answers a valid token and a refused one with as many allocations as the
// same server with the metrics off. Not parallel, as AllocsPerRun.
func TestMetricsAddNoAllocation(t *testing.T) {
	on, off := builtinServer(t, Options{}), builtinServer(t, Options{Metrics: MetricsOff})
	for _, c := range []struct {
		name, auth string
		status     int
	}{
		{"valid", "valid", http.StatusOK},
		{"missing", "", http.StatusUnauthorized},
		{"unknown", "Bearer 00000000-0000-4000-8000-000000000000", http.StatusUnauthorized},
	} {
		t.Run(c.name, func(t *testing.T) {
			allocs := map[string]float64{}
			for name, s := range map[string]*Server{"on": on, "off": off} {
				req := httptest.NewRequest(http.MethodGet, "/api/collections", nil)
				switch c.auth {
				case "":
				case "valid":
					req.Header.Set("Authorization", "Bearer "+allocIssue(t, s, "simple"))
				default:
					req.Header.Set("Authorization", c.auth)
				}
				w := &allocWriter{h: make(http.Header, 8)}
				ok := true
				serve := func() {
					w.reset()
					s.ServeHTTP(w, req)
					ok = ok && w.status == c.status
				}
				serve()
				allocs[name] = testing.AllocsPerRun(200, serve)
				if !ok {
					t.Fatalf("metrics %s: status %d, want %d", name, w.status, c.status)
				}
			}
			if allocs["on"] > allocs["off"] {
				t.Errorf("with metrics a request allocates %v times, without %v: counting should allocate nothing", allocs["on"], allocs["off"])
			}
		})
	}
}
