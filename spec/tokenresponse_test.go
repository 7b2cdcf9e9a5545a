package spec_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
)

func oauth2Flow(tb testing.TB) *spec.Flow {
	tb.Helper()
	f, err := spec.Read(context.Background(), openapi.FS(), "oauth2.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func TestParseTokenResponse(t *testing.T) {
	t.Parallel()
	f := oauth2Flow(t)
	tests := []struct {
		name    string
		body    string
		want    spec.TokenResponse
		wantErr string
	}{
		{"full", `{"access_token":"a.b.c","token_type":"Bearer","expires_in":7200,"scope":"x y","created_at":5}`,
			spec.TokenResponse{AccessToken: "a.b.c", TokenType: "Bearer", ExpiresIn: 7200, Scope: "x y", HasScope: true, CreatedAt: 5}, ""},
		{"lower-case type, extra members", `{"access_token":"t","token_type":"bearer","expires_in":1,"extra":{"a":1}}`,
			spec.TokenResponse{AccessToken: "t", TokenType: "bearer", ExpiresIn: 1}, ""},
		{"lifetime as a numeric string", `{"access_token":"t","token_type":"Bearer","expires_in":"3600"}`,
			spec.TokenResponse{AccessToken: "t", TokenType: "Bearer", ExpiresIn: 3600}, ""},
		{"lifetime as 3600.0", `{"access_token":"t","token_type":"Bearer","expires_in":3600.0}`,
			spec.TokenResponse{AccessToken: "t", TokenType: "Bearer", ExpiresIn: 3600}, ""},
		{"no lifetime", `{"access_token":"t","token_type":"Bearer"}`, spec.TokenResponse{AccessToken: "t", TokenType: "Bearer"}, ""},
		{"no token", `{"token_type":"Bearer"}`, spec.TokenResponse{}, "no /access_token member"},
		{"empty token", `{"access_token":"","token_type":"Bearer"}`, spec.TokenResponse{}, "not a non-empty string"},
		{"numeric token", `{"access_token":5,"token_type":"Bearer"}`, spec.TokenResponse{}, "not a non-empty string"},
		{"no type", `{"access_token":"t"}`, spec.TokenResponse{}, "no /token_type member"},
		{"fractional lifetime", `{"access_token":"t","token_type":"Bearer","expires_in":1.5}`, spec.TokenResponse{}, "not an integer"},
		{"negative lifetime", `{"access_token":"t","token_type":"Bearer","expires_in":-1}`, spec.TokenResponse{}, "negative"},
		{"boolean lifetime", `{"access_token":"t","token_type":"Bearer","expires_in":true}`, spec.TokenResponse{}, "not a number"},
		{"numeric scope", `{"access_token":"t","token_type":"Bearer","scope":1}`, spec.TokenResponse{}, "not a string"},
		{"not JSON", `access_token=t`, spec.TokenResponse{}, "not JSON"},
		{"array", `["t"]`, spec.TokenResponse{}, "not a JSON object"},
		{"trailing data", `{"access_token":"t","token_type":"Bearer"}{}`, spec.TokenResponse{}, "after the JSON value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := f.ParseTokenResponse([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Raw) != tt.body {
				t.Errorf("Raw = %q, want the body", got.Raw)
			}
			got.Raw, tt.want.Raw = nil, nil
			if got.AccessToken != tt.want.AccessToken || got.TokenType != tt.want.TokenType || got.ExpiresIn != tt.want.ExpiresIn ||
				got.Scope != tt.want.Scope || got.HasScope != tt.want.HasScope || got.CreatedAt != tt.want.CreatedAt {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// FuzzParseTokenResponse: never panics, and a success yields a non-empty
// token and type and a non-negative lifetime.
func FuzzParseTokenResponse(f *testing.F) {
	flow := oauth2Flow(f)
	for _, seed := range []string{
		`{"access_token":"a","token_type":"Bearer","expires_in":7200,"scope":"x","created_at":1}`,
		`{"access_token":"a","token_type":"Bearer","expires_in":"12"}`,
		`{"access_token":"a","token_type":"Bearer","expires_in":1e3}`,
		`{"access_token":{"nested":true}}`,
		`[]`, `null`, `{"access_token":"\ud800","token_type":"x"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		tr, err := flow.ParseTokenResponse(body)
		if err != nil {
			return
		}
		if tr.AccessToken == "" || tr.TokenType == "" || tr.ExpiresIn < 0 || tr.CreatedAt < 0 {
			t.Errorf("accepted %q as %+v", body, tr)
		}
	})
}

func TestPointer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		name    string
		wantErr bool
	}{
		{"/access_token", "access_token", false},
		{"/data/attributes/token", "token", false},
		{"/a~1b", "a/b", false},
		{"/a~0b", "a~b", false},
		{"", "", true},
		{"access_token", "", true},
		{"/", "", true},
		{"/a//b", "", true},
	}
	for _, tt := range tests {
		p, err := spec.ParsePointer(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParsePointer(%q) err = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && (p.Name() != tt.name || p.String() != tt.in) {
			t.Errorf("ParsePointer(%q) = name %q string %q", tt.in, p.Name(), p.String())
		}
	}
	p, _ := spec.ParsePointer("/data/attributes/token")
	doc := map[string]any{}
	if err := p.Set(doc, "t"); err != nil {
		t.Fatal(err)
	}
	if v, ok := p.Get(doc); !ok || v != "t" {
		t.Errorf("Get after Set = %v, %v", v, ok)
	}
	if err := p.Set(map[string]any{"data": "scalar"}, "t"); err == nil {
		t.Error("Set through a scalar succeeded")
	}
}
