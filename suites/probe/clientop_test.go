package probe_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/authheader"
	"github.com/tollgate/tollgate/suites/probe"
)

// TestCallClientOperation pins the shape of revocation and introspection requests:
// the flow document's pointers and media types when it declares the
// endpoint, RFC 7009 §2.1's form otherwise.
func TestCallClientOperation(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = seen{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
		mu.Unlock()
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	client := probe.Credentials{ID: testClientID, Secret: testSecret}
	oauth2, simple := builtinFlow(t, "oauth2"), builtinFlow(t, "simple")
	tests := []struct {
		name       string
		flow       *spec.Flow
		ep         probe.ClientOperationEndpoint
		auth       string
		wantType   string
		wantBasic  bool
		wantFields map[string]string // every member of the body
	}{
		{"declared, Basic with a form", oauth2, probe.ClientOperationEndpoint{Op: oauth2.Revocation}, spec.ClientAuthBasic,
			spec.FormMediaType, true, map[string]string{"token": "tok", "token_type_hint": "access_token"}},
		{"declared, default auth is the flow's first", oauth2, probe.ClientOperationEndpoint{Op: oauth2.Introspection}, "",
			spec.FormMediaType, true, map[string]string{"token": "tok", "token_type_hint": "access_token"}},
		{"declared, body credentials in JSON", oauth2, probe.ClientOperationEndpoint{Op: oauth2.Revocation}, spec.ClientAuthBody,
			"application/json", false, map[string]string{"token": "tok", "token_type_hint": "access_token", "client_id": testClientID, "client_secret": testSecret}},
		{"declared, the flow's own member names, no hint pointer", simple, probe.ClientOperationEndpoint{Op: simple.Revocation}, "",
			"application/json", false, map[string]string{"token": "tok", "clientId": testClientID, "secret": testSecret}},
		{"declared, no client authentication: the first JSON type", oauth2, probe.ClientOperationEndpoint{Op: oauth2.Introspection}, "none",
			"application/json", false, map[string]string{"token": "tok", "token_type_hint": "access_token"}},
		{"from metadata, client_secret_post", oauth2, probe.ClientOperationEndpoint{AuthMethods: []string{"client_secret_post"}}, "",
			spec.FormMediaType, false, map[string]string{"token": "tok", "token_type_hint": "access_token", "client_id": testClientID, "client_secret": testSecret}},
		{"from metadata, nothing advertised: the token endpoint's methods", oauth2, probe.ClientOperationEndpoint{}, "",
			spec.FormMediaType, true, map[string]string{"token": "tok", "token_type_hint": "access_token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := probe.Config{Target: srv.URL, Flow: tt.flow.Name, Client: client, TokenBudget: 1}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			f := probe.New(cfg, tt.flow)
			tt.ep.URL = srv.URL + "/action"
			for range 2 { // never counted against the token budget of 1
				ex, err := f.CallClientOperation(context.Background(), &tt.ep, probe.ClientOperationRequest{Client: client, Auth: tt.auth, Token: "tok", Hint: "access_token"})
				if err != nil || ex.Status != http.StatusOK {
					t.Fatalf("TokenAction: %v %v", ex, err)
				}
			}
			mu.Lock() // the subtests run one at a time; the lock orders reads after the handler's write
			defer mu.Unlock()
			if got.Method != http.MethodPost || got.Path != "/action" || got.Header.Get("Content-Type") != tt.wantType {
				t.Errorf("%s %s Content-Type %q, want POST /action %s", got.Method, got.Path, got.Header.Get("Content-Type"), tt.wantType)
			}
			id, secret, basic, _ := authheader.ParseBasic(got.Header.Get("Authorization"))
			if basic != tt.wantBasic || (basic && (id != testClientID || secret != testSecret)) {
				t.Errorf("Authorization %q, want Basic: %v", got.Header.Get("Authorization"), tt.wantBasic)
			}
			b := parseBody(got.Header.Get("Content-Type"), got.Body)
			if len(b.form)+len(b.json) != len(tt.wantFields) {
				t.Errorf("body %s, want exactly %v", got.Body, tt.wantFields)
			}
			for name, want := range tt.wantFields {
				p, _ := spec.ParsePointer("/" + url.PathEscape(name))
				if v, ok := b.get(p); !ok || v != want {
					t.Errorf("body member %s = %q (present %v), want %q; body %s", name, v, ok, want, got.Body)
				}
			}
		})
	}
}
