package probe_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/authheader"
	"github.com/tollgate/tollgate/suites/probe"
)

// The test client. The secret has characters that form and URL encoding
// change (space, "/", "+", "=") but JSON does not, so each encoding differs.
const (
	testClientID = "client-one"
	testSecret   = "s3cret value/+="
)

var loadFlows = sync.OnceValues(func() ([]*spec.Flow, error) {
	return spec.ReadAll(context.Background(), openapi.FS())
})

// builtinFlow returns a built-in flow by name.
func builtinFlow(t *testing.T, name string) *spec.Flow {
	t.Helper()
	flows, err := loadFlows()
	if err != nil {
		t.Fatalf("load the built-in flows: %v", err)
	}
	for _, f := range flows {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no built-in flow %q", name)
	return nil
}

// seen is one request the test server received.
type seen struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// authServer is a tiny auth server for one flow: its token endpoint checks
// one client (body credentials or Basic) and issues counted tokens at the
// flow's response pointers; everything under /api/ wants one of them as a
// Bearer token. It can answer the first token requests with 429.
type authServer struct {
	flow *spec.Flow
	srv  *httptest.Server

	mu         sync.Mutex
	tokenReqs  []seen
	issued     map[string]bool
	throttle   int    // answer this many token requests with 429 first
	retryAfter string // the Retry-After of those answers
}

func newAuthServer(t *testing.T, flow *spec.Flow) *authServer {
	t.Helper()
	s := &authServer{flow: flow, issued: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc(flow.Token.Path, s.token)
	mux.HandleFunc("/api/", s.protected)
	s.srv = httptest.NewServer(mux) // 127.0.0.1
	t.Cleanup(s.srv.Close)
	return s
}

func (s *authServer) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.tokenReqs...)
}

func (s *authServer) token(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.tokenReqs = append(s.tokenReqs, seen{r.Method, r.URL.Path, r.Header.Clone(), body})
	n := len(s.tokenReqs)
	throttled := s.throttle > 0
	if throttled {
		s.throttle--
	}
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	if throttled {
		w.Header().Set("Retry-After", s.retryAfter)
		http.Error(w, `{"error":"slow_down"}`, http.StatusTooManyRequests)
		return
	}
	id, secret, basic, err := authheader.ParseBasic(r.Header.Get("Authorization"))
	if err == nil && !basic {
		members := parseBody(r.Header.Get("Content-Type"), body)
		id, _ = members.get(s.flow.Token.Request.ClientID)
		secret, _ = members.get(s.flow.Token.Request.ClientSecret)
	}
	if err != nil || id != testClientID || secret != testSecret {
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"invalid_client"}`)
		return
	}
	tok := fmt.Sprintf("tok%04d-0123456789abcdef", n)
	s.mu.Lock()
	s.issued[tok] = true
	s.mu.Unlock()
	doc := map[string]any{}
	resp := s.flow.Token.Response
	_ = resp.AccessToken.Set(doc, tok)
	_ = resp.TokenType.Set(doc, "Bearer")
	if !resp.ExpiresIn.IsZero() {
		_ = resp.ExpiresIn.Set(doc, int(s.flow.Lifetime.Seconds()))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(doc)
}

func (s *authServer) protected(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	valid := ok && s.issued[tok]
	s.mu.Unlock()
	if !valid {
		w.Header().Set("WWW-Authenticate", `Bearer realm="test"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok":true}`)
}

// body is a decoded token request body: form values or a JSON object.
type body struct {
	form url.Values
	json map[string]any
}

func parseBody(contentType string, raw []byte) body {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == spec.FormMediaType {
		form, _ := url.ParseQuery(string(raw))
		return body{form: form}
	}
	var doc map[string]any
	_ = json.Unmarshal(raw, &doc)
	return body{json: doc}
}

// get returns the member p names: in a form, the pointer's member name.
func (b body) get(p spec.Pointer) (string, bool) {
	return b.getName(p, p.Name())
}

func (b body) getName(p spec.Pointer, name string) (string, bool) {
	if b.form != nil {
		if !b.form.Has(name) {
			return "", false
		}
		return b.form.Get(name), true
	}
	var v any
	var ok bool
	if p.IsZero() {
		v, ok = b.json[name]
	} else {
		v, ok = p.Get(b.json)
	}
	if !ok {
		return "", false
	}
	s, _ := v.(string)
	return s, true
}

// newProber returns a validated Prober for a test server of the named
// built-in flow, with the test client as the primary client.
func newProber(t *testing.T, flowName string, mutate func(*probe.Config)) (*probe.Prober, *authServer) {
	t.Helper()
	flow := builtinFlow(t, flowName)
	s := newAuthServer(t, flow)
	cfg := probe.Config{
		Target: s.srv.URL,
		Flow:   flow.Name,
		Client: probe.Credentials{ID: testClientID, Secret: testSecret},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	return probe.New(cfg, flow), s
}

var testClient = probe.Credentials{ID: testClientID, Secret: testSecret}

func TestRequestToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		flow            string
		req             probe.TokenRequest
		wantMethod      string
		wantContentType string
		wantBasic       bool // Basic credentials in Authorization
		wantBodyCreds   bool // client id and secret at the flow's request pointers
		wantGrantType   bool // grant_type at its pointer
		wantMembers     map[string]string
		wantAbsent      []string
		wantRaw         string // the exact body, when set
		wantHeader      http.Header
	}{
		{
			name:            "simple: JSON with the credentials at the document's pointers",
			flow:            "simple",
			req:             probe.TokenRequest{Client: testClient},
			wantMethod:      http.MethodPost,
			wantContentType: "application/json",
			wantBodyCreds:   true,
		},
		{
			name:            "oauth2: the default is a form with HTTP Basic",
			flow:            "oauth2",
			req:             probe.TokenRequest{Client: testClient},
			wantMethod:      http.MethodPost,
			wantContentType: spec.FormMediaType,
			wantBasic:       true,
			wantGrantType:   true,
			wantAbsent:      []string{"client_id", "client_secret"},
		},
		{
			name:            "oauth2: body authentication defaults to the first JSON media type",
			flow:            "oauth2",
			req:             probe.TokenRequest{Client: testClient, Auth: spec.ClientAuthBody},
			wantMethod:      http.MethodPost,
			wantContentType: "application/json",
			wantBodyCreds:   true,
			wantGrantType:   true,
		},
		{
			name:            "oauth2: body authentication in a form",
			flow:            "oauth2",
			req:             probe.TokenRequest{Client: testClient, Auth: spec.ClientAuthBody, MediaType: spec.FormMediaType},
			wantMethod:      http.MethodPost,
			wantContentType: spec.FormMediaType,
			wantBodyCreds:   true,
			wantGrantType:   true,
		},
		{
			name:            "oauth2: Basic with an explicit JSON media type",
			flow:            "oauth2",
			req:             probe.TokenRequest{Client: testClient, Auth: spec.ClientAuthBasic, MediaType: "application/json"},
			wantMethod:      http.MethodPost,
			wantContentType: "application/json",
			wantBasic:       true,
			wantGrantType:   true,
			wantAbsent:      []string{"client_id", "client_secret"},
		},
		{
			name:            "oauth2: auth none sends no credentials",
			flow:            "oauth2",
			req:             probe.TokenRequest{Client: testClient, Auth: "none"},
			wantMethod:      http.MethodPost,
			wantContentType: "application/json",
			wantGrantType:   true,
			wantAbsent:      []string{"client_id", "client_secret"},
		},
		{
			name:            "Set adds a member and replaces one",
			flow:            "simple",
			req:             probe.TokenRequest{Client: testClient, Set: map[string]string{"extra": "x", "secret": "other"}},
			wantMethod:      http.MethodPost,
			wantContentType: "application/json",
			wantMembers:     map[string]string{"extra": "x", "secret": "other", "clientId": testClientID},
		},
		{
			name:            "Set in a form",
			flow:            "oauth2",
			req:             probe.TokenRequest{Client: testClient, Set: map[string]string{"scope": "a b", "grant_type": "password"}},
			wantMethod:      http.MethodPost,
			wantContentType: spec.FormMediaType,
			wantBasic:       true,
			wantMembers:     map[string]string{"scope": "a b", "grant_type": "password"},
		},
		{
			name:            "Omit leaves members out",
			flow:            "oauth2",
			req:             probe.TokenRequest{Client: testClient, Auth: spec.ClientAuthBody, MediaType: "application/vnd.api+json", Omit: []string{"grant_type", "client_secret"}},
			wantMethod:      http.MethodPost,
			wantContentType: "application/vnd.api+json",
			wantMembers:     map[string]string{"client_id": testClientID},
			wantAbsent:      []string{"grant_type", "client_secret"},
		},
		{
			name:            "RawBody is sent as is, with the default media type",
			flow:            "simple",
			req:             probe.TokenRequest{Client: testClient, RawBody: []byte(`{"clientId":`)},
			wantMethod:      http.MethodPost,
			wantContentType: "application/json",
			wantRaw:         `{"clientId":`,
		},
		{
			name:            "an empty RawBody sends no body",
			flow:            "simple",
			req:             probe.TokenRequest{Client: testClient, RawBody: []byte{}},
			wantMethod:      http.MethodPost,
			wantContentType: "application/json",
			wantRaw:         "",
		},
		{
			name:            "RawBody with Basic still sends Basic",
			flow:            "oauth2",
			req:             probe.TokenRequest{Client: testClient, RawBody: []byte("grant_type=client_credentials&grant_type=client_credentials")},
			wantMethod:      http.MethodPost,
			wantContentType: spec.FormMediaType,
			wantBasic:       true,
			wantRaw:         "grant_type=client_credentials&grant_type=client_credentials",
		},
		{
			name:            "Method replaces POST",
			flow:            "simple",
			req:             probe.TokenRequest{Client: testClient, Method: http.MethodPut},
			wantMethod:      http.MethodPut,
			wantContentType: "application/json",
			wantBodyCreds:   true,
		},
		{
			name:            "Header adds headers, and its Content-Type wins",
			flow:            "simple",
			req:             probe.TokenRequest{Client: testClient, Header: http.Header{"Content-Type": {"text/plain"}, "X-Probe": {"1"}}},
			wantMethod:      http.MethodPost,
			wantContentType: "text/plain",
			wantHeader:      http.Header{"X-Probe": {"1"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, s := newProber(t, tc.flow, nil)
			ex, err := f.RequestToken(t.Context(), tc.req)
			if err != nil {
				t.Fatalf("RequestToken() = %v", err)
			}
			reqs := s.requests()
			if len(reqs) != 1 {
				t.Fatalf("the server saw %d token requests, want 1", len(reqs))
			}
			got := reqs[0]
			tok := f.Flow.Token
			if got.Method != tc.wantMethod || got.Path != tok.Path {
				t.Errorf("request line = %s %s, want %s %s", got.Method, got.Path, tc.wantMethod, tok.Path)
			}
			if ct := got.Header.Get("Content-Type"); ct != tc.wantContentType {
				t.Errorf("Content-Type = %q, want %q", ct, tc.wantContentType)
			}
			if a := got.Header.Get("Accept"); a != "application/json" {
				t.Errorf("Accept = %q, want application/json", a)
			}
			for k := range tc.wantHeader {
				if got.Header.Get(k) != tc.wantHeader.Get(k) {
					t.Errorf("header %s = %q, want %q", k, got.Header.Get(k), tc.wantHeader.Get(k))
				}
			}
			// The exchange records what was sent.
			if ex.Method != got.Method || ex.URL != f.Config.Target+tok.Path || string(ex.RequestBody) != string(got.Body) {
				t.Errorf("exchange = %s %s %q, want %s %s %q", ex.Method, ex.URL, ex.RequestBody, got.Method, f.Config.Target+tok.Path, got.Body)
			}

			id, secret, basic, err := authheader.ParseBasic(got.Header.Get("Authorization"))
			if err != nil {
				t.Fatalf("Authorization %q: %v", got.Header.Get("Authorization"), err)
			}
			if basic != tc.wantBasic {
				t.Errorf("Basic credentials sent = %v, want %v (Authorization %q)", basic, tc.wantBasic, got.Header.Get("Authorization"))
			}
			if basic && (id != testClientID || secret != testSecret) {
				t.Errorf("Basic credentials = %q:%q, want %q:%q", id, secret, testClientID, testSecret)
			}
			if !tc.wantBasic && got.Header.Get("Authorization") != "" {
				t.Errorf("Authorization = %q, want none", got.Header.Get("Authorization"))
			}

			if tc.wantRaw != "" || tc.req.RawBody != nil {
				if string(got.Body) != tc.wantRaw {
					t.Errorf("body = %q, want %q", got.Body, tc.wantRaw)
				}
				return
			}
			b := parseBody(tc.wantContentType, got.Body)
			if b.form == nil && b.json == nil {
				t.Fatalf("body %q is neither a form nor a JSON object", got.Body)
			}
			if tc.wantBodyCreds {
				if v, ok := b.get(tok.Request.ClientID); !ok || v != testClientID {
					t.Errorf("client id at %s = %q, %v; want %q (body %s)", tok.Request.ClientID, v, ok, testClientID, got.Body)
				}
				if v, ok := b.get(tok.Request.ClientSecret); !ok || v != testSecret {
					t.Errorf("client secret at %s = %q, %v; want %q (body %s)", tok.Request.ClientSecret, v, ok, testSecret, got.Body)
				}
			}
			if tc.wantGrantType {
				if v, ok := b.get(tok.Request.GrantType); !ok || v != tok.GrantType {
					t.Errorf("grant type at %s = %q, %v; want %q (body %s)", tok.Request.GrantType, v, ok, tok.GrantType, got.Body)
				}
			}
			for name, want := range tc.wantMembers {
				if v, ok := b.getName(spec.Pointer{}, name); !ok || v != want {
					t.Errorf("member %s = %q, %v; want %q (body %s)", name, v, ok, want, got.Body)
				}
			}
			for _, name := range tc.wantAbsent {
				if _, ok := b.getName(spec.Pointer{}, name); ok {
					t.Errorf("member %s is present, want it absent (body %s)", name, got.Body)
				}
			}
		})
	}
}

func TestRequestTokenBudget(t *testing.T) {
	t.Parallel()
	f, s := newProber(t, "simple", func(c *probe.Config) { c.TokenBudget = 2 })
	ctx := t.Context()
	if _, err := f.RequestToken(ctx, probe.TokenRequest{Client: testClient}); err != nil {
		t.Fatalf("first token request: %v", err)
	}
	if _, _, err := f.Token(ctx, testClient); err != nil { // Token counts too
		t.Fatalf("second token request: %v", err)
	}
	ex, err := f.RequestToken(ctx, probe.TokenRequest{Client: testClient})
	if !errors.Is(err, probe.ErrInconclusive) {
		t.Fatalf("third token request: err = %v, want one wrapping ErrInconclusive", err)
	}
	if !strings.Contains(err.Error(), "--token-budget") {
		t.Errorf("error %q does not name --token-budget", err)
	}
	if ex != nil {
		t.Errorf("exchange = %+v, want nil: nothing was sent", ex)
	}
	if _, _, err := f.Token(ctx, testClient); !errors.Is(err, probe.ErrInconclusive) {
		t.Errorf("Token past the budget: err = %v, want ErrInconclusive", err)
	}
	if n := len(s.requests()); n != 2 {
		t.Errorf("the server saw %d token requests, want 2", n)
	}
}

func TestDoRetriesTooManyRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		throttle         int
		retryAfter       string
		wantStatus       int
		wantInconclusive bool
		wantRequests     int
	}{
		{name: "a 429 with Retry-After 0 is retried, then succeeds", throttle: 1, retryAfter: "0", wantStatus: http.StatusOK, wantRequests: 2},
		{name: "two 429s are retried, then succeeds", throttle: 2, retryAfter: "0", wantStatus: http.StatusOK, wantRequests: 3},
		{name: "three 429s are inconclusive", throttle: 3, retryAfter: "0", wantStatus: http.StatusTooManyRequests, wantInconclusive: true, wantRequests: 3},
		{name: "a Retry-After over 30 s is inconclusive at once", throttle: 1, retryAfter: "31", wantStatus: http.StatusTooManyRequests, wantInconclusive: true, wantRequests: 1},
		{name: "a Retry-After date in the past is retried at once", throttle: 1, retryAfter: "Mon, 01 Jan 2001 00:00:00 GMT", wantStatus: http.StatusOK, wantRequests: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// One token of budget: a retried request counts once.
			f, s := newProber(t, "simple", func(c *probe.Config) { c.TokenBudget = 1 })
			s.throttle, s.retryAfter = tc.throttle, tc.retryAfter
			ex, err := f.RequestToken(t.Context(), probe.TokenRequest{Client: testClient})
			if tc.wantInconclusive {
				if !errors.Is(err, probe.ErrInconclusive) {
					t.Fatalf("err = %v, want one wrapping ErrInconclusive", err)
				}
				if !strings.Contains(err.Error(), "429") {
					t.Errorf("error %q does not say 429", err)
				}
			} else if err != nil {
				t.Fatalf("err = %v, want none", err)
			}
			if ex == nil || ex.Status != tc.wantStatus {
				t.Fatalf("exchange = %+v, want status %d", ex, tc.wantStatus)
			}
			if n := len(s.requests()); n != tc.wantRequests {
				t.Errorf("the server saw %d requests, want %d", n, tc.wantRequests)
			}
			if last := f.TakeLast(); last != ex {
				t.Errorf("TakeLast() = %p, want the returned exchange %p", last, ex)
			}
			if f.TakeLast() != nil {
				t.Error("TakeLast() twice returned an exchange, want nil: it forgets")
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	const tok = "tok0001-0123456789abcdef"
	tests := []struct {
		name string
		in   string
		want string
		bug  string // the bug this case once caught: a regression guard
	}{
		{name: "text without secrets is unchanged", in: "nothing to hide", want: "nothing to hide"},
		{name: "the secret", in: "secret=" + testSecret + ".", want: "secret=[REDACTED]."},
		{name: "every occurrence", in: testSecret + testSecret, want: "[REDACTED][REDACTED]"},
		{name: "the secret URL-encoded", in: "client_secret=" + url.QueryEscape(testSecret), want: "client_secret=[REDACTED]"},
		{name: "a second client's secret", in: "x other-secret-2 y", want: "x [REDACTED] y"},
		{name: "an added token", in: "Bearer " + tok, want: "Bearer [REDACTED]"},
		{name: "a longer secret before its prefix", in: "abcd-longer-token", want: "[REDACTED]"},
		{name: "a secret shorter than four characters is left alone", in: "xyz", want: "xyz"},
		{
			name: "the client's Basic credentials",
			in:   "Authorization: " + authheader.FormatBasic(testClientID, testSecret),
			want: "Authorization: Basic [REDACTED]",
			bug:  "probe.go Redact only replaces FormatBasic(\"\", secret), which never occurs when the client id is not empty",
		},
		{
			name: "the secret JSON-escaped",
			in:   `{"secret":` + jsonString(`a<b>&c"d\e`) + `}`,
			want: `{"secret":"[REDACTED]"}`,
			bug:  "probe.go Redact does not replace the JSON string encoding of a secret (json.Marshal escapes < > & \" \\)",
		},
	}
	f, _ := newProber(t, "simple", func(c *probe.Config) {
		c.Client2 = probe.Credentials{ID: "two", Secret: "other-secret-2"}
		c.ScopedClient = probe.Credentials{ID: "three", Secret: `a<b>&c"d\e`}
	})
	f.AddSecret(tok)
	f.AddSecret("abcd")
	f.AddSecret("abcd-longer-token")
	f.AddSecret("xyz")
	f.AddSecret("")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := f.Redact(tc.in); got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func jsonString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestEvidence: evidence and curl lines never show a secret, a token or an
// Authorization value, in any encoding.
func TestEvidence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		flow string
		send func(context.Context, *probe.Prober) (*probe.Exchange, error)
		bug  string // the bug this case once caught: a regression guard
	}{
		{
			name: "a JSON token request with body credentials",
			flow: "simple",
			send: func(ctx context.Context, f *probe.Prober) (*probe.Exchange, error) {
				_, ex, err := f.Token(ctx, testClient)
				return ex, err
			},
		},
		{
			name: "a form token request with body credentials",
			flow: "oauth2",
			send: func(ctx context.Context, f *probe.Prober) (*probe.Exchange, error) {
				ex, err := f.RequestToken(ctx, probe.TokenRequest{Client: testClient, Auth: spec.ClientAuthBody, MediaType: spec.FormMediaType})
				if err == nil {
					// RequestToken does not register the token it got (see the
					// skipped case below); Token-issued ones are.
					tr, perr := f.Flow.ParseTokenResponse(ex.Body)
					if perr != nil {
						return nil, perr
					}
					f.AddSecret(tr.AccessToken)
				}
				return ex, err
			},
		},
		{
			name: "a token issued by RequestToken",
			flow: "simple",
			send: func(ctx context.Context, f *probe.Prober) (*probe.Exchange, error) {
				return f.RequestToken(ctx, probe.TokenRequest{Client: testClient})
			},
			bug: "probe.go RequestToken never adds the access token of a 200 answer to the redaction list, so every TOK check's evidence shows a live token",
		},
		{
			name: "a token request with Basic",
			flow: "oauth2",
			send: func(ctx context.Context, f *probe.Prober) (*probe.Exchange, error) {
				_, ex, err := f.Token(ctx, testClient)
				return ex, err
			},
			bug: "probe.go Curl copies the Authorization header into the curl line and Redact misses Basic credentials",
		},
		{
			name: "a Bearer call",
			flow: "simple",
			send: func(ctx context.Context, f *probe.Prober) (*probe.Exchange, error) {
				tr, err := f.PrimaryToken(ctx)
				if err != nil {
					return nil, err
				}
				return f.Call(ctx, f.Flow.Protected()[0], "", "Bearer "+tr.AccessToken)
			},
		},
		{
			name: "a Bearer call with two Authorization headers",
			flow: "oauth2",
			send: func(ctx context.Context, f *probe.Prober) (*probe.Exchange, error) {
				tr, err := f.PrimaryToken(ctx)
				if err != nil {
					return nil, err
				}
				return f.Call(ctx, f.Flow.Protected()[0], "", "Bearer "+tr.AccessToken, "bearer "+tr.AccessToken)
			},
		},
		{
			name: "a Bearer call with the token in the query too",
			flow: "oauth2",
			send: func(ctx context.Context, f *probe.Prober) (*probe.Exchange, error) {
				tr, err := f.PrimaryToken(ctx)
				if err != nil {
					return nil, err
				}
				return f.Call(ctx, f.Flow.Protected()[0], "access_token="+tr.AccessToken, "Bearer "+tr.AccessToken)
			},
			bug: "probe.go Evidence writes the request line's URL unredacted, so a token or secret in the query shows",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, s := newProber(t, tc.flow, nil)
			ex, err := tc.send(t.Context(), f)
			if err != nil {
				t.Fatal(err)
			}
			ev := f.Evidence(ex)
			if !strings.HasPrefix(ev, "> "+ex.Method+" "+f.Redact(ex.URL)+"\n") {
				t.Errorf("evidence does not start with the request line:\n%s", ev)
			}
			if !strings.Contains(ev, fmt.Sprintf("< %d ", ex.Status)) {
				t.Errorf("evidence does not show status %d:\n%s", ex.Status, ev)
			}
			lines := strings.Split(ev, "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, "repeat: curl ") {
				t.Errorf("last evidence line = %q, want the repeat: curl line", last)
			}
			forbidden := []string{testSecret, url.QueryEscape(testSecret), base64.StdEncoding.EncodeToString([]byte(testClientID + ":" + url.QueryEscape(testSecret)))}
			for _, a := range ex.RequestHead.Values("Authorization") {
				_, cred, _ := strings.Cut(a, " ")
				forbidden = append(forbidden, a, cred)
			}
			s.mu.Lock()
			for tok := range s.issued {
				forbidden = append(forbidden, tok)
			}
			s.mu.Unlock()
			for _, bad := range forbidden {
				if bad != "" && strings.Contains(ev, bad) {
					t.Errorf("evidence shows %q:\n%s", bad, ev)
				}
			}
			if !strings.Contains(ev, "[REDACTED]") {
				t.Errorf("evidence redacts nothing:\n%s", ev)
			}
		})
	}
}

func TestEvidenceOfTransportError(t *testing.T) {
	t.Parallel()
	f, _ := newProber(t, "simple", nil)
	ex := &probe.Exchange{Method: http.MethodGet, URL: "http://127.0.0.1:1/", Err: errors.New("connection refused")}
	ev := f.Evidence(ex)
	if !strings.Contains(ev, "< (no response: connection refused)") {
		t.Errorf("evidence does not show the transport error:\n%s", ev)
	}
	if f.Evidence(nil) != "" {
		t.Error("Evidence(nil) is not empty")
	}
}

func TestCurl(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ex   probe.Exchange
		want []string // substrings of the curl line
		bug  string   // the bug this case once caught: a regression guard
	}{
		{
			name: "a GET without headers",
			ex:   probe.Exchange{Method: http.MethodGet, URL: "http://127.0.0.1:4455/api/collections"},
			want: []string{"curl -si -X GET 'http://127.0.0.1:4455/api/collections'"},
		},
		{
			name: "headers sorted, each repeated value kept",
			ex: probe.Exchange{Method: http.MethodGet, URL: "http://h/x", RequestHead: http.Header{
				"X-B": {"2"}, "Accept": {"application/json"}, "X-A": {"1", "1b"},
			}},
			want: []string{"-H 'Accept: application/json' -H 'X-A: 1' -H 'X-A: 1b' -H 'X-B: 2'"},
		},
		{
			name: "a body is sent with --data-binary",
			ex:   probe.Exchange{Method: http.MethodPost, URL: "http://h/token", RequestBody: []byte(`{"a":"b"}`)},
			want: []string{`--data-binary '{"a":"b"}'`},
		},
		{
			name: "single quotes are escaped for the shell",
			ex:   probe.Exchange{Method: http.MethodPost, URL: "http://h/it's", RequestBody: []byte("a'b")},
			want: []string{`'http://h/it'\''s'`, `--data-binary 'a'\''b'`},
		},
		{
			name: "secrets are redacted",
			ex:   probe.Exchange{Method: http.MethodPost, URL: "http://h/token", RequestBody: []byte("client_secret=" + url.QueryEscape(testSecret))},
			want: []string{"--data-binary 'client_secret=[REDACTED]'"},
		},
		{
			name: "a body with a line break stays on one line",
			ex:   probe.Exchange{Method: http.MethodPost, URL: "http://h/token", RequestBody: []byte("a=1\r\nb=2")},
			bug:  "probe.go shellQuote keeps CR and LF, so Curl's output spans lines; quote them as $'…\\r\\n…'",
		},
	}
	f, _ := newProber(t, "simple", nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := f.Curl(&tc.ex)
			if !strings.HasPrefix(got, "curl ") {
				t.Errorf("Curl() = %q, want it to start with curl", got)
			}
			if strings.ContainsAny(got, "\r\n") {
				t.Errorf("Curl() = %q, want a single line", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("Curl() = %q, want it to contain %q", got, w)
				}
			}
		})
	}
}

func TestPreflight(t *testing.T) {
	t.Parallel()
	closed := func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		return "http://" + addr
	}
	tests := []struct {
		name    string
		flow    string
		mutate  func(*testing.T, *probe.Config)
		wantErr []string
	}{
		{
			name:    "a closed port is unreachable",
			flow:    "simple",
			mutate:  func(t *testing.T, c *probe.Config) { c.Target = closed(t) },
			wantErr: []string{"unreachable", "--target"},
		},
		{
			name:    "a wrong secret names the client variables",
			flow:    "simple",
			mutate:  func(_ *testing.T, c *probe.Config) { c.Client.Secret = "wrong-secret" },
			wantErr: []string{"TOLLGATE_CLIENT_ID", `client "client-one"`, "status 401"},
		},
		{
			name:    "a wrong secret sent with Basic names the client variables",
			flow:    "oauth2",
			mutate:  func(_ *testing.T, c *probe.Config) { c.Client.Secret = "wrong-secret" },
			wantErr: []string{"TOLLGATE_CLIENT_ID", "/oauth/token"},
		},
		{name: "a working setup passes", flow: "simple"},
		{name: "a working oauth2 setup passes", flow: "oauth2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, s := newProber(t, tc.flow, func(c *probe.Config) {
				if tc.mutate != nil {
					tc.mutate(t, c)
				}
			})
			err := f.Preflight(t.Context())
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Preflight() = %v, want none", err)
				}
				if n := len(s.requests()); n != 1 {
					t.Fatalf("preflight made %d token requests, want 1", n)
				}
				// The token is stored: PrimaryToken issues no other.
				tr, err := f.PrimaryToken(t.Context())
				if err != nil {
					t.Fatalf("PrimaryToken() = %v", err)
				}
				if tr.AccessToken == "" {
					t.Error("PrimaryToken() returned no access token")
				}
				if n := len(s.requests()); n != 1 {
					t.Errorf("PrimaryToken after Preflight made %d token requests in all, want 1", n)
				}
				if got := f.Redact(tr.AccessToken); got != "[REDACTED]" {
					t.Errorf("the primary token is not redacted: %q", got)
				}
				// Forgotten, it is asked for again, once.
				f.ForgetPrimaryToken()
				again, err := f.PrimaryToken(t.Context())
				if err != nil {
					t.Fatalf("PrimaryToken() after ForgetPrimaryToken = %v", err)
				}
				if _, err := f.PrimaryToken(t.Context()); err != nil {
					t.Fatalf("PrimaryToken() = %v", err)
				}
				if n := len(s.requests()); n != 2 {
					t.Errorf("PrimaryToken twice after ForgetPrimaryToken made %d token requests in all, want 2", n)
				}
				if tc.flow == "simple" && again.AccessToken == tr.AccessToken {
					t.Error("the primary token after ForgetPrimaryToken is the forgotten one")
				}
				return
			}
			if err == nil {
				t.Fatalf("Preflight() = nil, want an error containing %q", tc.wantErr)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Preflight() = %q, want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "wrong-secret") {
				t.Errorf("Preflight() = %q shows the secret", err)
			}
		})
	}
}

func TestPrimaryTokenIssuesOnce(t *testing.T) {
	t.Parallel()
	f, s := newProber(t, "oauth2", nil)
	first, err := f.PrimaryToken(t.Context())
	if err != nil {
		t.Fatalf("PrimaryToken() = %v", err)
	}
	for range 3 {
		again, err := f.PrimaryToken(t.Context())
		if err != nil {
			t.Fatalf("PrimaryToken() = %v", err)
		}
		if again.AccessToken != first.AccessToken {
			t.Errorf("PrimaryToken() = %q, then %q: want the same token", first.AccessToken, again.AccessToken)
		}
	}
	if n := len(s.requests()); n != 1 {
		t.Errorf("the server saw %d token requests, want 1", n)
	}
	ex, err := f.Call(t.Context(), f.Flow.Protected()[0], "", "Bearer "+first.AccessToken)
	if err != nil || ex.Status != http.StatusOK {
		t.Errorf("Call with the primary token = %v, %v; want 200", ex, err)
	}
}
