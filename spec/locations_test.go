package spec_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/spec"
)

// TestLocations: x-tollgate.jwksUri and x-tollgate.metadataUrl are read
// as given when they are URLs or paths, and refused with the key, the line
// and the fix otherwise.
func TestLocations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, insert string
		drop               string // a line removed from the document first
		wantJWKS, wantMeta string
		wantErr            []string // empty: Compile succeeds
	}{
		{name: "paths", file: "oauth2.yaml", insert: "  jwksUri: /oauth/jwks\n  metadataUrl: /.well-known/openid-configuration\n",
			wantJWKS: "/oauth/jwks", wantMeta: "/.well-known/openid-configuration"},
		{name: "absolute URLs", file: "oauth2.yaml", insert: "  jwksUri: https://keys.example/jwks.json\n  metadataUrl: https://auth.example/.well-known/oauth-authorization-server/tenant\n",
			wantJWKS: "https://keys.example/jwks.json", wantMeta: "https://auth.example/.well-known/oauth-authorization-server/tenant"},
		{name: "metadata on an opaque flow", file: "simple.yaml", insert: "  metadataUrl: /meta\n", wantMeta: "/meta"},
		{name: "jwks on an opaque flow", file: "simple.yaml", insert: "  jwksUri: /jwks\n", wantErr: []string{"x-tollgate.jwksUri", "only jwt"}},
		// check does not need the format: a document that leaves it out
		// says nothing against a JWK Set.
		{name: "jwks on a flow of no declared format", file: "simple.yaml", insert: "  jwksUri: /jwks\n", drop: "    format: uuid\n", wantJWKS: "/jwks"},
		{name: "relative path", file: "oauth2.yaml", insert: "  jwksUri: oauth/jwks\n", wantErr: []string{"bad.yaml:12", "x-tollgate.jwksUri", "neither an http(s) URL nor a path", "/oauth/jwks"}},
		{name: "other scheme", file: "oauth2.yaml", insert: "  metadataUrl: ftp://auth.example/meta\n", wantErr: []string{"x-tollgate.metadataUrl", "neither an http(s) URL nor a path"}},
		{name: "no scheme", file: "oauth2.yaml", insert: "  metadataUrl: //auth.example/meta\n", wantErr: []string{"x-tollgate.metadataUrl", "without a scheme"}},
		{name: "fragment", file: "oauth2.yaml", insert: "  jwksUri: /jwks#keys\n", wantErr: []string{"x-tollgate.jwksUri", "fragment"}},
		{name: "no host", file: "oauth2.yaml", insert: "  jwksUri: https:///jwks\n", wantErr: []string{"x-tollgate.jwksUri", "no host"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base, err := os.ReadFile("../openapi/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			doc := strings.Replace(string(base), "x-tollgate:\n", "x-tollgate:\n"+tt.insert, 1)
			if tt.drop != "" {
				if !strings.Contains(doc, tt.drop) {
					t.Fatalf("test is stale: %s has no %q", tt.file, tt.drop)
				}
				doc = strings.Replace(doc, tt.drop, "", 1)
			}
			f, err := spec.Compile(context.Background(), "../openapi/bad.yaml", []byte(doc))
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatal("Compile succeeded, want an error")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				var re *spec.ReadError
				if !errors.As(err, &re) {
					t.Errorf("error %T is not a *spec.ReadError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.JWKSURI != tt.wantJWKS || f.MetadataURL != tt.wantMeta {
				t.Errorf("JWKSURI, MetadataURL = %q, %q; want %q, %q", f.JWKSURI, f.MetadataURL, tt.wantJWKS, tt.wantMeta)
			}
		})
	}
}
