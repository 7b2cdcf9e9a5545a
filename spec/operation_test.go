package spec_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
)

func TestOperationAllows(t *testing.T) {
	t.Parallel()
	metricsOrBoth := [][]string{{"metrics-api"}, {"provisioning-api", "admin"}}
	tests := []struct {
		name    string
		scopes  [][]string
		granted []string
		want    bool
	}{
		{"no alternatives allow any token", nil, nil, true},
		{"no alternatives allow a token with scopes", nil, []string{"x"}, true},
		{"the one scope of the first alternative", metricsOrBoth, []string{"metrics-api"}, true},
		{"every scope of the second alternative", metricsOrBoth, []string{"admin", "provisioning-api"}, true},
		{"half of an alternative is not enough", metricsOrBoth, []string{"provisioning-api"}, false},
		{"no scope granted", metricsOrBoth, nil, false},
		{"other scopes only", metricsOrBoth, []string{"metrics", "api"}, false},
		{"an empty alternative allows any token", [][]string{{"a"}, {}}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := (spec.Operation{Scopes: tt.scopes}).Allows(tt.granted); got != tt.want {
				t.Errorf("Allows(%q) with %q = %v, want %v", tt.granted, tt.scopes, got, tt.want)
			}
		})
	}
}

// TestOperationAllowsDoesNotAllocate: the mock calls Allows per request
// on its Bearer hot path.
func TestOperationAllowsDoesNotAllocate(t *testing.T) {
	op := spec.Operation{Scopes: [][]string{{"a", "b"}, {"c"}}}
	granted := []string{"x", "c"}
	if n := testing.AllocsPerRun(100, func() { _ = op.Allows(granted) }); n != 0 {
		t.Errorf("Allows allocates %v times per call, want 0", n)
	}
}

func TestFlowProtectedNamed(t *testing.T) {
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
	tests := []struct {
		name    string
		names   []string
		want    []string // operation IDs
		wantErr string
	}{
		{name: "no names: every protected operation", want: []string{"listCollections", "getCollection"}},
		{name: "by operationId", names: []string{"getCollection"}, want: []string{"getCollection"}},
		{name: "by method and path", names: []string{"GET /api/collections"}, want: []string{"listCollections"}},
		{name: "in the document's order", names: []string{"getCollection", "listCollections"}, want: []string{"listCollections", "getCollection"}},
		{name: "an unknown name lists the known ones", names: []string{"listCollections", "GET /api/colections"}, wantErr: `operation "GET /api/colections" is not a protected operation of flow simple: name one of listCollections, getCollection`},
		{name: "the token operation is not protected", names: []string{"POST /token"}, wantErr: `"POST /token" is not a protected operation`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ops, err := simple.ProtectedNamed(tt.names)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ProtectedNamed(%q) = %v, want an error containing %q", tt.names, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ProtectedNamed(%q) = %v", tt.names, err)
			}
			var got []string
			for _, op := range ops {
				got = append(got, op.ID)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("ProtectedNamed(%q) = %v, want %v", tt.names, got, tt.want)
			}
		})
	}
}

func TestSamplePath(t *testing.T) {
	t.Parallel()
	tests := []struct{ template, want string }{
		{"/api/collections", "/api/collections"},
		{"/api/collections/{id}", "/api/collections/1"},
		{"/a/{x}/b/{y}", "/a/1/b/1"},
		{"/a/{x}{y}", "/a/11"},
		{"/a/{unclosed", "/a/{unclosed"},
		{"/a/}{x}", "/a/}{x}"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := spec.SamplePath(tt.template); got != tt.want {
			t.Errorf("SamplePath(%q) = %q, want %q", tt.template, got, tt.want)
		}
	}
}
