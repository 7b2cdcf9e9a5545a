package mockserver_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"io/fs"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/mockserver/mockservertest"
	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
)

// optFlows compiles the built-in flow documents: oauth2 and simple, in that
// order.
func optFlows(t *testing.T) []*spec.Flow {
	t.Helper()
	flows, err := spec.ReadAll(context.Background(), openapi.FS())
	if err != nil {
		t.Fatalf("built-in documents: %v", err)
	}
	return flows
}

// optFlow returns the flow called name.
func optFlow(t *testing.T, flows []*spec.Flow, name string) *spec.Flow {
	t.Helper()
	for _, f := range flows {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no flow %q", name)
	return nil
}

// optWriteFile writes data to a new file in a temporary directory.
func optWriteFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// optECKeyFile writes a new P-256 key as PKCS#8 PEM and returns the file and
// the key.
func optECKeyFile(t *testing.T) (string, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return optWriteFile(t, "ec.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), key
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	flows := optFlows(t)
	simple := optFlow(t, flows, "simple")

	data, err := fs.ReadFile(openapi.FS(), "simple.yaml")
	if err != nil {
		t.Fatal(err)
	}
	renamed := bytes.Replace(data, []byte("flow: simple"), []byte("flow: simple2"), 1)
	if bytes.Equal(renamed, data) {
		t.Fatal(`simple.yaml no longer has "flow: simple"`)
	}
	simple2, err := spec.Compile(context.Background(), "../openapi/simple2.yaml", renamed)
	if err != nil {
		t.Fatalf("compile the renamed simple flow: %v", err)
	}
	underControl := bytes.ReplaceAll(data, []byte("/api/collections"), []byte("/_tollgate/collections"))
	if bytes.Equal(underControl, data) {
		t.Fatal(`simple.yaml no longer has "/api/collections"`)
	}
	reserved, err := spec.Compile(context.Background(), "../openapi/reserved.yaml", underControl)
	if err != nil {
		t.Fatalf("compile the simple flow with a path under /_tollgate/: %v", err)
	}

	ecKey, _ := optECKeyFile(t)
	client := func(c mockserver.Client) []mockserver.Client { return []mockserver.Client{c} }

	tests := []struct {
		name  string
		flows []*spec.Flow // nil: the built-in flows
		opts  mockserver.Options
		want  []string // in the error message
	}{
		{name: "no flows", flows: []*spec.Flow{}, want: []string{"no flows to serve"}},
		{name: "a flow twice", flows: []*spec.Flow{simple, simple}, want: []string{`flow "simple" is given twice`}},
		{
			name: "client with empty id",
			opts: mockserver.Options{Clients: client(mockserver.Client{Secret: "s"})},
			want: []string{"clients[0]", "id is empty"},
		},
		{
			name: "duplicate client ids",
			opts: mockserver.Options{Clients: []mockserver.Client{{ID: "a", Secret: "s"}, {ID: "b", Secret: "s"}, {ID: "a", Secret: "t"}}},
			want: []string{"clients[2]", `client "a" is registered twice`},
		},
		{
			name: "empty secret",
			opts: mockserver.Options{Clients: client(mockserver.Client{ID: "a"})},
			want: []string{"clients[0] (a)", "secret is empty", "confidential"},
		},
		{
			name: "client scope not in its flows",
			opts: mockserver.Options{Clients: client(mockserver.Client{ID: "a", Secret: "s", Scopes: []string{"metrics-api"}, Flows: []string{"simple"}})},
			want: []string{"clients[0] (a)", `scope "metrics-api" is not defined by the client's flows`},
		},
		{
			name: "client scope in no flow",
			opts: mockserver.Options{Clients: client(mockserver.Client{ID: "a", Secret: "s", Scopes: []string{"nope"}})},
			want: []string{`scope "nope" is not defined`},
		},
		{
			name: "client flows name an unknown flow",
			opts: mockserver.Options{Clients: client(mockserver.Client{ID: "a", Secret: "s", Flows: []string{"nope"}})},
			want: []string{"clients[0] (a)", `no flow "nope"`, "serving oauth2, simple"},
		},
		{
			name: "client lifetime not whole seconds",
			opts: mockserver.Options{Clients: client(mockserver.Client{ID: "a", Secret: "s", TokenLifetime: 500 * time.Millisecond})},
			want: []string{"clients[0] (a): token_lifetime", "not a whole number of seconds", "90s"},
		},
		{
			name: "override for an unknown flow",
			opts: mockserver.Options{Flows: map[string]mockserver.FlowOptions{"nope": {TokenFormat: "uuid"}}},
			want: []string{"flows.nope: no such flow", "serving oauth2, simple"},
		},
		{
			name: "bad token format",
			opts: mockserver.Options{Flows: map[string]mockserver.FlowOptions{"simple": {TokenFormat: "base64"}}},
			want: []string{"flows.simple.token_format", `"base64"`, "use uuid, opaque or jwt"},
		},
		{
			name: "lifetime not whole seconds",
			opts: mockserver.Options{Flows: map[string]mockserver.FlowOptions{"simple": {TokenLifetime: 1500 * time.Millisecond}}},
			want: []string{"flows.simple.token_lifetime", "1.5s", "whole number of seconds", "90s or 30m"},
		},
		{
			name: "lifetime under a second",
			opts: mockserver.Options{Flows: map[string]mockserver.FlowOptions{"simple": {TokenLifetime: time.Millisecond}}},
			want: []string{"flows.simple.token_lifetime", "at least 1s"},
		},
		{
			name: "negative lifetime",
			opts: mockserver.Options{Flows: map[string]mockserver.FlowOptions{"oauth2": {TokenLifetime: -time.Minute}}},
			want: []string{"flows.oauth2.token_lifetime", "at least 1s"},
		},
		{
			name: "bad algorithm",
			opts: mockserver.Options{Flows: map[string]mockserver.FlowOptions{"oauth2": {Algorithm: "HS256"}}},
			want: []string{"flows.oauth2.algorithm", `unsupported "HS256"`, "RS256", "ES256"},
		},
		{
			name: "issuer not http(s)",
			opts: mockserver.Options{Issuer: "ftp://auth.example"},
			want: []string{`issuer "ftp://auth.example"`, "http(s) URL"},
		},
		{
			name: "issuer without scheme",
			opts: mockserver.Options{Issuer: "auth.example"},
			want: []string{"http(s) URL"},
		},
		{
			name: "max_body_bytes too small",
			opts: mockserver.Options{MaxBodyBytes: 10},
			want: []string{"max_body_bytes 10", "at least 256"},
		},
		{
			name: "max_body_bytes negative",
			opts: mockserver.Options{MaxBodyBytes: -1},
			want: []string{"max_body_bytes -1", "at least 256"},
		},
		{
			name: "max_tokens negative",
			opts: mockserver.Options{MaxTokens: -5},
			want: []string{"max_tokens -5", "positive bound"},
		},
		{
			name: "sweep_interval too short",
			opts: mockserver.Options{SweepInterval: time.Microsecond},
			want: []string{"sweep_interval 1µs", "at least 1ms"},
		},
		{
			name: "signing key file missing",
			opts: mockserver.Options{SigningKeyFile: filepath.Join(t.TempDir(), "absent.pem")},
			want: []string{"signing_key_file", "absent.pem", "no such file"},
		},
		{
			name: "signing key file garbage",
			opts: mockserver.Options{SigningKeyFile: optWriteFile(t, "garbage.pem", []byte("not a key\n"))},
			want: []string{"signing_key_file", "garbage.pem", "not PEM", "BEGIN PRIVATE KEY"},
		},
		{
			name: "signing key does not fit the algorithm",
			opts: mockserver.Options{SigningKeyFile: ecKey},
			want: []string{"flow oauth2", "RS512", "ES256"},
		},
		{
			name:  "two flows claim one path",
			flows: []*spec.Flow{simple, simple2},
			want:  []string{"simple.issueToken", "simple2.issueToken", `"/token"`, "separate servers or change a path"},
		},
		{
			name:  "a flow path under the control prefix",
			flows: []*spec.Flow{reserved},
			want:  []string{"simple.listCollections", "/_tollgate/collections", "reserves for its health and control endpoints"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fl := tt.flows
			if fl == nil {
				fl = flows
			}
			srv, err := mockserver.New(fl, tt.opts)
			if err == nil {
				t.Fatalf("New accepted %+v (server %v)", tt.opts, srv != nil)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "mockserver: ") {
				t.Errorf("error %q does not start with \"mockserver: \"", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}

// optDo sends a request to srv and returns its status and body.
func optDo(t *testing.T, srv *mockservertest.Server, method, path, contentType, bearer, body string) (int, []byte) {
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

// optJSON decodes a JSON object.
func optJSON(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	return m
}

// optJWTPart decodes one base64url part of a JWT.
func optJWTPart(t *testing.T, jwt string, i int) []byte {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a compact JWS", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("JWT part %d: %v", i, err)
	}
	return b
}

func TestAcceptAnyClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		accept     bool
		flow       string
		id, secret string
		wantStatus int
	}{
		{name: "simple: unknown client accepted", accept: true, flow: "simple", id: "anyone", secret: "anything", wantStatus: http.StatusOK},
		{name: "simple: wrong secret accepted", accept: true, flow: "simple", id: "testClient", secret: "wrong", wantStatus: http.StatusOK},
		{name: "oauth2: unknown client accepted", accept: true, flow: "oauth2", id: "anyone", secret: "anything", wantStatus: http.StatusOK},
		{name: "simple: unknown client refused by default", accept: false, flow: "simple", id: "anyone", secret: "anything", wantStatus: http.StatusBadRequest},
		{name: "oauth2: wrong secret refused by default", accept: false, flow: "oauth2", id: "testClient", secret: "wrong", wantStatus: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{AcceptAnyClient: tt.accept}))
			var path, body, field, protected string
			switch tt.flow {
			case "simple":
				path, field, protected = "/token", "accessToken", "/api/collections"
				b, _ := json.Marshal(map[string]string{"clientId": tt.id, "secret": tt.secret})
				body = string(b)
			case "oauth2":
				path, field, protected = "/oauth/token", "access_token", "/api/markets"
				b, _ := json.Marshal(map[string]string{"grant_type": "client_credentials", "client_id": tt.id, "client_secret": tt.secret})
				body = string(b)
			}
			status, resp := optDo(t, srv, http.MethodPost, path, "application/json", "", body)
			if status != tt.wantStatus {
				t.Fatalf("POST %s as %s: status %d, body %s, want %d", path, tt.id, status, resp, tt.wantStatus)
			}
			if status != http.StatusOK {
				if e := optJSON(t, resp); e["error"] != "invalid_client" {
					t.Errorf("POST %s as %s: body %s, want error invalid_client", path, tt.id, resp)
				}
				return
			}
			tok, _ := optJSON(t, resp)[field].(string)
			if tok == "" {
				t.Fatalf("POST %s: body %s has no %s", path, resp, field)
			}
			if status, resp := optDo(t, srv, http.MethodGet, protected, "", tok, ""); status != http.StatusOK {
				t.Errorf("GET %s with the token: status %d, body %s", protected, status, resp)
			}
			if tt.flow == "oauth2" {
				claims := optJSON(t, optJWTPart(t, tok, 1))
				if claims["client_id"] != tt.id || claims["sub"] != tt.id {
					t.Errorf("JWT claims %v, want client_id and sub %q", claims, tt.id)
				}
			}
		})
	}
}

var opaqueToken = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

func TestFlowOverrideOpaque90s(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{
		Flows: map[string]mockserver.FlowOptions{"simple": {TokenFormat: "opaque", TokenLifetime: 90 * time.Second}},
	}))
	status, body := optDo(t, srv, http.MethodPost, "/token", "application/json", "", `{"clientId":"testClient","secret":"superSecret"}`)
	if status != http.StatusOK {
		t.Fatalf("POST /token: status %d, body %s", status, body)
	}
	resp := optJSON(t, body)
	tok, _ := resp["accessToken"].(string)
	if len(tok) != 43 || !opaqueToken.MatchString(tok) {
		t.Errorf("accessToken %q: want 43 base64url characters (256 bits)", tok)
	}
	if resp["expiresIn"] != float64(90) {
		t.Errorf("expiresIn %v, want 90", resp["expiresIn"])
	}

	// expiresIn is the real lifetime: valid 1 s before, expired at 90 s.
	srv.Clock.Advance(89 * time.Second)
	if status, body := optDo(t, srv, http.MethodGet, "/api/collections", "", tok, ""); status != http.StatusOK {
		t.Errorf("after 89s: status %d, body %s, want 200", status, body)
	}
	srv.Clock.Advance(time.Second)
	status, body = optDo(t, srv, http.MethodGet, "/api/collections", "", tok, "")
	if status != http.StatusUnauthorized || optJSON(t, body)["error"] != "invalid_token" {
		t.Errorf("after 90s: status %d, body %s, want 401 invalid_token", status, body)
	}

	// The override is per flow: oauth2 keeps its document's settings.
	status, body = optDo(t, srv, http.MethodPost, "/oauth/token", "application/json", "",
		`{"grant_type":"client_credentials","client_id":"testClient","client_secret":"superSecret"}`)
	if status != http.StatusOK {
		t.Fatalf("POST /oauth/token: status %d, body %s", status, body)
	}
	if resp := optJSON(t, body); resp["expires_in"] != float64(7200) || strings.Count(resp["access_token"].(string), ".") != 2 {
		t.Errorf("oauth2 token %s, want a JWT expiring in 7200", body)
	}
}

func TestSigningKeyFileES256(t *testing.T) {
	t.Parallel()
	keyFile, key := optECKeyFile(t)
	srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{
		SigningKeyFile: keyFile,
		Flows:          map[string]mockserver.FlowOptions{"oauth2": {Algorithm: "ES256"}},
	}))

	status, body := optDo(t, srv, http.MethodPost, "/oauth/token", "application/vnd.api+json", "",
		`{"grant_type":"client_credentials","client_id":"testClient","client_secret":"superSecret"}`)
	if status != http.StatusOK {
		t.Fatalf("POST /oauth/token: status %d, body %s", status, body)
	}
	tok, _ := optJSON(t, body)["access_token"].(string)
	header := optJSON(t, optJWTPart(t, tok, 0))
	if header["alg"] != "ES256" {
		t.Errorf("JWT header %v, want alg ES256", header)
	}

	// Signed with the key from the file: verify with its public half.
	sig := optJWTPart(t, tok, 2)
	if len(sig) != 64 {
		t.Fatalf("ES256 signature of %d bytes, want 64", len(sig))
	}
	digest := sha256.Sum256([]byte(tok[:strings.LastIndex(tok, ".")]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(&key.PublicKey, digest[:], r, s) {
		t.Error("the JWT signature does not verify with the key of signing_key_file")
	}
	if status, body := optDo(t, srv, http.MethodGet, "/api/markets", "", tok, ""); status != http.StatusOK {
		t.Errorf("GET /api/markets with the ES256 token: status %d, body %s", status, body)
	}

	// The JWKS publishes the file's public key.
	status, body = optDo(t, srv, http.MethodGet, mockserver.JWKSPath, "", "", "")
	if status != http.StatusOK {
		t.Fatalf("GET %s: status %d, body %s", mockserver.JWKSPath, status, body)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("JWKS %s: %v", body, err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("JWKS has %d keys, want 1: %s", len(set.Keys), body)
	}
	jwk := set.Keys[0]
	point, err := key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	wantX := base64.RawURLEncoding.EncodeToString(point[1:33])
	wantY := base64.RawURLEncoding.EncodeToString(point[33:])
	if jwk["kty"] != "EC" || jwk["crv"] != "P-256" || jwk["alg"] != "ES256" || jwk["x"] != wantX || jwk["y"] != wantY {
		t.Errorf("JWK %v, want kty EC, crv P-256, alg ES256 and the file's public key", jwk)
	}
	if jwk["kid"] != header["kid"] {
		t.Errorf("JWK kid %v, JWT kid %v: want equal", jwk["kid"], header["kid"])
	}
	if _, private := jwk["d"]; private {
		t.Error("the JWKS publishes the private key")
	}
}
