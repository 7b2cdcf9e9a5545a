package probe_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/probe"
)

// TestCallSendsTheProbeRequest: Call sends a flow document's operation to
// its sample path without a body, and an API document's operation (one
// with a Probe request) to its probe path with its query, headers, body
// and media type.
func TestCallSendsTheProbeRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                        string
		op                          spec.Operation
		wantMethod, wantURI, wantCT string
		wantTenant, wantBody        string
	}{
		{
			name:       "a flow document's operation: sample path, no body",
			op:         spec.Operation{ID: "getCollection", Method: http.MethodGet, Path: "/api/collections/{id}"},
			wantMethod: http.MethodGet, wantURI: "/api/collections/1?q=1",
		},
		{
			name: "an API document's operation: probe path, body and media type",
			op: spec.Operation{ID: "createItem", Method: http.MethodPost, Path: "/items/{kind}",
				Probe: spec.ProbeRequest{Path: "/v2/items/a%20b", Query: "page=2", Header: http.Header{"X-Tenant": {"acme"}},
					ContentType: "application/json", Body: []byte(`{"name":"widget"}`)}},
			wantMethod: http.MethodPost, wantURI: "/v2/items/a%20b?page=2&q=1", wantTenant: "acme", wantCT: "application/json", wantBody: `{"name":"widget"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var got struct{ method, uri, ct, auth, tenant, body string }
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				mu.Lock()
				defer mu.Unlock()
				got.method, got.uri, got.ct, got.auth, got.tenant, got.body = r.Method, r.RequestURI, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), r.Header.Get("X-Tenant"), string(body)
				w.WriteHeader(http.StatusNoContent)
			}))
			t.Cleanup(srv.Close)
			cfg := probe.Config{Target: srv.URL, Flow: "simple", Client: probe.Credentials{ID: "c", Secret: "s"}}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			p := probe.New(cfg, builtinFlow(t, "simple"))
			if _, err := p.Call(t.Context(), tt.op, "q=1", "Bearer t"); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if got.method != tt.wantMethod || got.uri != tt.wantURI || got.ct != tt.wantCT || got.tenant != tt.wantTenant || got.body != tt.wantBody || got.auth != "Bearer t" {
				t.Errorf("sent %s %s (Content-Type %q, X-Tenant %q, Authorization %q) %q; want %s %s (%q, %q, \"Bearer t\") %q",
					got.method, got.uri, got.ct, got.tenant, got.auth, got.body, tt.wantMethod, tt.wantURI, tt.wantCT, tt.wantTenant, tt.wantBody)
			}
		})
	}
}
