package mockservertest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/mockserver/mockservertest"
	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/probe"
)

// do sends a request to srv and returns its status and body.
func do(t *testing.T, srv *mockservertest.Server, method, path, contentType, bearer, body string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() {
		if err := resp.Body.Close(); err != nil {
			t.Errorf("%s %s: close body: %v", method, path, err)
		}
	}()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// simpleToken gets a token for the seed client on the simple flow.
func simpleToken(t *testing.T, srv *mockservertest.Server) string {
	t.Helper()
	status, body := do(t, srv, http.MethodPost, "/token", "application/json", "",
		fmt.Sprintf(`{"clientId":%q,"secret":%q}`, mockserver.SeedClientID, mockserver.SeedClientSecret))
	if status != http.StatusOK {
		t.Fatalf("POST /token: status %d, body %s", status, body)
	}
	var resp struct {
		AccessToken string `json:"accessToken"`
		ExpiresIn   int    `json:"expiresIn"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.AccessToken == "" {
		t.Fatalf("POST /token: body %s: %v", body, err)
	}
	return resp.AccessToken
}

func TestNewServer(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Errorf("URL %q, want a loopback http URL", srv.URL)
	}
	simple := srv.Flow(t, "simple")
	if simple.Token.Path != "/token" || simple.Lifetime != 30*time.Minute {
		t.Errorf("simple flow: token path %q, lifetime %v; want /token and 30m", simple.Token.Path, simple.Lifetime)
	}
	if f := srv.Flow(t, "oauth2"); f.Token.Path != "/oauth/token" {
		t.Errorf("oauth2 flow: token path %q, want /oauth/token", f.Token.Path)
	}
	if got := srv.Mock.Clock().Now(); !got.Equal(srv.Clock.Now()) {
		t.Errorf("the mock's clock says %v, not the manual clock's %v", got, srv.Clock.Now())
	}
	if now := srv.Clock.Now(); !now.Equal(now.Truncate(time.Second)) || time.Since(now) > time.Minute || time.Since(now) < 0 {
		t.Errorf("the clock starts at %v, want the current second", now)
	}

	tok := simpleToken(t, srv)
	if status, body := do(t, srv, http.MethodGet, "/api/collections", "", tok, ""); status != http.StatusOK {
		t.Fatalf("GET /api/collections with a fresh token: status %d, body %s", status, body)
	}
	// Only the test moves the clock: 30 minutes later the token is expired.
	srv.Clock.Advance(30*time.Minute - time.Second)
	if status, body := do(t, srv, http.MethodGet, "/api/collections", "", tok, ""); status != http.StatusOK {
		t.Fatalf("GET /api/collections 1s before expiry: status %d, body %s", status, body)
	}
	srv.Clock.Advance(time.Second)
	status, body := do(t, srv, http.MethodGet, "/api/collections", "", tok, "")
	if status != http.StatusUnauthorized || !strings.Contains(string(body), "invalid_token") {
		t.Errorf("GET /api/collections after 30m: status %d, body %s, want 401 invalid_token", status, body)
	}
	// A new token works at the new time.
	if status, body := do(t, srv, http.MethodGet, "/api/collections", "", simpleToken(t, srv), ""); status != http.StatusOK {
		t.Errorf("GET /api/collections with a token issued after the advance: status %d, body %s", status, body)
	}
}

func TestNewServerOptions(t *testing.T) {
	t.Parallel()
	flows, err := spec.ReadAll(context.Background(), openapi.FS())
	if err != nil {
		t.Fatal(err)
	}
	var simple *spec.Flow
	for _, f := range flows {
		if f.Name == "simple" {
			simple = f
		}
	}
	userpass := filepath.Join("..", "..", "testdata", "flows", "userpass.yaml")

	tests := []struct {
		name      string
		options   []mockservertest.Option
		wantFlows []string
		absent    string // a token path that must answer 404
	}{
		{name: "default", wantFlows: []string{"oauth2", "simple"}, absent: "/login"},
		{name: "WithFlows", options: []mockservertest.Option{mockservertest.WithFlows(simple)}, wantFlows: []string{"simple"}, absent: "/oauth/token"},
		{name: "WithDocuments", options: []mockservertest.Option{mockservertest.WithDocuments(userpass)}, wantFlows: []string{"oauth2", "simple", "userpass"}},
		{name: "WithFlows and WithDocuments", options: []mockservertest.Option{mockservertest.WithFlows(simple), mockservertest.WithDocuments(userpass)}, wantFlows: []string{"simple", "userpass"}, absent: "/oauth/token"},
		{
			name: "WithOptions clock replaced",
			options: []mockservertest.Option{mockservertest.WithOptions(mockserver.Options{
				Clock:   mockserver.SystemClock{},
				Clients: []mockserver.Client{{ID: mockserver.SeedClientID, Secret: mockserver.SeedClientSecret, Flows: []string{"simple"}}},
			})},
			wantFlows: []string{"oauth2", "simple"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := mockservertest.NewServer(t, tt.options...)
			var got []string
			for _, f := range srv.Mock.Flows() {
				got = append(got, f.Name)
			}
			if strings.Join(got, ",") != strings.Join(tt.wantFlows, ",") {
				t.Errorf("flows %v, want %v", got, tt.wantFlows)
			}
			srv.Clock.Advance(time.Minute)
			if !srv.Mock.Clock().Now().Equal(srv.Clock.Now()) {
				t.Errorf("the mock's clock says %v, the manual clock %v: want the mock driven by it", srv.Mock.Clock().Now(), srv.Clock.Now())
			}
			if tt.absent != "" {
				if status, _ := do(t, srv, http.MethodPost, tt.absent, "application/json", "", "{}"); status != http.StatusNotFound {
					t.Errorf("POST %s: status %d, want 404", tt.absent, status)
				}
			}
			// The seed client works in every configuration here.
			tok := simpleToken(t, srv)
			srv.Clock.Advance(time.Hour)
			if status, _ := do(t, srv, http.MethodGet, "/api/collections", "", tok, ""); status != http.StatusUnauthorized {
				t.Errorf("GET /api/collections an hour later: status %d, want 401", status)
			}
		})
	}
}

// fatalTB records the first Fatalf and ends the goroutine like testing.T
// does. Embedding testing.TB supplies the interface's unexported method;
// the methods not overridden go to the real test.
type fatalTB struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.msg = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

// fatalOf runs fn in its own goroutine with a fatalTB and returns the
// message of its Fatalf, or "" when it returned normally.
func fatalOf(t *testing.T, fn func(tb testing.TB)) string {
	tb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(tb)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("timed out")
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.msg
}

func TestNewServerFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fn   func(tb testing.TB)
		want string // in the Fatalf message; "" for none
	}{
		{
			name: "bad options",
			fn: func(tb testing.TB) {
				mockservertest.NewServer(tb, mockservertest.WithOptions(mockserver.Options{MaxBodyBytes: 1}))
			},
			want: "mockservertest: mockserver: max_body_bytes 1",
		},
		{
			name: "missing document",
			fn: func(tb testing.TB) {
				mockservertest.NewServer(tb, mockservertest.WithDocuments(filepath.Join(tb.TempDir(), "absent.yaml")))
			},
			want: "absent.yaml",
		},
		{
			name: "unknown flow",
			fn:   func(tb testing.TB) { mockservertest.NewServer(tb).Flow(tb, "nope") },
			want: `mockservertest: no flow "nope"`,
		},
		{
			name: "known flow",
			fn:   func(tb testing.TB) { mockservertest.NewServer(tb).Flow(tb, "oauth2") },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := fatalOf(t, tt.fn)
			switch {
			case tt.want == "" && got != "":
				t.Errorf("Fatalf(%q), want none", got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("Fatalf(%q), want a message with %q", got, tt.want)
			}
		})
	}
}

// TestWithDocumentsReplacesByName: a document whose flow has a built-in's
// name replaces it, as `tollgate serve --document` does.
func TestWithDocumentsReplacesByName(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithDocuments(filepath.Join("..", "..", "openapi", "simple.yaml")))
	if n := len(srv.Mock.Flows()); n != 2 {
		t.Errorf("serving %d flows, want the 2 built-ins", n)
	}
}

// exampleTB stands in for the *testing.T an Example does not have: it
// keeps cleanups until close and panics on Fatalf. Other methods of
// testing.TB are not called by NewServer, Flow, TargetConfig and the
// control helpers.
type exampleTB struct {
	testing.TB
	cleanups []func()
}

func (e *exampleTB) Helper()                           {}
func (e *exampleTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (e *exampleTB) Cleanup(f func())                  { e.cleanups = append(e.cleanups, f) }
func (e *exampleTB) Errorf(format string, args ...any) { fmt.Printf("error: "+format+"\n", args...) }

func (e *exampleTB) close() {
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
}

// A conformance or load test gets a running mock and the suite's
// configuration for it in two lines, then probes it like any target.
func ExampleServer_TargetConfig() {
	tb := &exampleTB{} // in a test: t
	defer tb.close()
	srv := mockservertest.NewServer(tb, mockservertest.WithSystemClock())
	cfg := srv.TargetConfig(tb, "oauth2")
	fmt.Println("primary:", cfg.Client.ID, "| second:", cfg.Client2.ID, "| expiry:", cfg.ExpiryClient.ID, "| scoped:", cfg.ScopedClient.ID)

	ctx := context.Background()
	flow := srv.Flow(tb, "oauth2")
	p := probe.New(cfg, flow)
	if err := p.Preflight(ctx); err != nil {
		fmt.Println("preflight:", err)
		return
	}
	tr, err := p.PrimaryToken(ctx)
	if err != nil {
		fmt.Println("token:", err)
		return
	}
	ex, err := p.Call(ctx, flow.Protected()[0], "", "Bearer "+tr.AccessToken)
	if err != nil {
		fmt.Println("call:", err)
		return
	}
	fmt.Println(ex.Method, strings.TrimPrefix(ex.URL, srv.URL), ex.Status)
	// Output:
	// primary: testClient | second: encoded client | expiry: shortLivedClient | scoped: metricsClient
	// GET /api/markets 200
}

func TestWithSystemClock(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithSystemClock())
	if srv.Clock != nil {
		t.Error("Clock is set with WithSystemClock, want nil")
	}
	if tok := simpleToken(t, srv); tok == "" {
		t.Error("no token from a server on the system clock")
	}
}
