package framework_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/probe"
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

func TestProfile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, flow, profile, want string
	}{
		{"the document's profile by default (simple)", "simple", "", "simple"},
		{"the document's profile by default (oauth2)", "oauth2", "", "cl"},
		{"the config's profile wins", "oauth2", "rfc6749", "rfc6749"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := framework.New(framework.Config{Profile: tc.profile}, builtinFlow(t, tc.flow))
			if got := f.Profile(); got != tc.want {
				t.Errorf("Profile() = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestProtectedOperations checks the operations the checks probe, and that
// Preflight refuses a name that is not a protected operation before it
// sends anything (the target below listens nowhere).
func TestProtectedOperations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		operations []string
		want       []string // operation IDs
		wantErr    string
	}{
		{name: "default: every secured operation", want: []string{"listCollections", "getCollection"}},
		{name: "by operationId", operations: []string{"getCollection"}, want: []string{"getCollection"}},
		{name: "by method and path", operations: []string{"GET /api/collections"}, want: []string{"listCollections"}},
		{name: "unknown", operations: []string{"listCollections", "GET /api/colections"}, wantErr: `operation "GET /api/colections" is not a protected operation of flow simple: name one of listCollections, getCollection`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := framework.Config{
				Config:     probe.Config{Target: "http://127.0.0.1:1", Flow: "simple", Client: probe.Credentials{ID: "c", Secret: "s"}},
				Operations: tt.operations,
			}
			if err := cfg.Validate(); err != nil {
				t.Fatalf("Validate() = %v", err)
			}
			f := framework.New(cfg, builtinFlow(t, "simple"))
			if tt.wantErr != "" {
				err := f.Preflight(t.Context())
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Preflight() = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			var got []string
			for _, op := range f.Protected() {
				got = append(got, op.ID)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("Protected() = %v, want %v", got, tt.want)
			}
		})
	}
}
