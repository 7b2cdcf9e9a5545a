package mockserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/mockserver/mockservertest"
	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
)

// controlRouter routes requests to the control API's own document, to
// validate the mock's control answers against it.
func controlRouter(t *testing.T) routers.Router {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(mockserver.ControlDocument())
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("control document: %v", err)
	}
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return router
}

// control calls the control API of srv and checks the answer against the
// control document; it returns the status and the decoded body.
func control(t *testing.T, srv *mockservertest.Server, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var reqBody []byte
	if body != nil {
		var err error
		if s, ok := body.(string); ok {
			reqBody = []byte(s)
		} else if reqBody, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequestWithContext(context.Background(), method, srv.URL+path, bytes.NewReader(reqBody))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	respBody, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	vreq, err := http.NewRequestWithContext(context.Background(), method, "http://control"+path, bytes.NewReader(reqBody))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		vreq.Header.Set("Content-Type", "application/json")
	}
	router := controlRouter(t)
	route, params, err := router.FindRoute(vreq)
	if err != nil {
		t.Fatalf("%s %s: not in the control document: %v", method, path, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route},
		Status:                 resp.StatusCode, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	in.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s: answer drifts from the control document: %v\n%s", method, path, err, respBody)
	}
	var out map[string]any
	if len(respBody) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(respBody, &out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, respBody)
		}
	}
	return resp.StatusCode, out
}

// bearerStatus calls path with token and returns the status and the
// challenge's error code.
func bearerStatus(t *testing.T, srv *mockservertest.Server, path, token string) (int, string) {
	t.Helper()
	req := newRequest(t, http.MethodGet, srv.URL+path, "", "")
	req.Header.Set("Authorization", "Bearer "+token)
	ex := send(t, srv, req)
	code := ""
	if ex.status == http.StatusUnauthorized {
		code, _ = bearerChallenge(t, ex.header).Param("error")
	}
	return ex.status, code
}

// introspect asks the oauth2 flow's introspection endpoint about token.
func introspect(t *testing.T, srv *mockservertest.Server, flow, token string) map[string]any {
	t.Helper()
	f := srv.Flow(t, flow)
	if f.Introspection == nil {
		t.Fatalf("flow %s has no introspection", flow)
	}
	req := newRequest(t, http.MethodPost, srv.URL+f.Introspection.Path, "application/x-www-form-urlencoded", url.Values{"token": {token}}.Encode())
	req.SetBasicAuth(mockserver.SeedClientID, mockserver.SeedClientSecret)
	ex := send(t, srv, req)
	var out map[string]any
	if err := json.Unmarshal(ex.body, &out); err != nil {
		t.Fatalf("introspection: %v: %s", err, ex.body)
	}
	return out
}

// TestAdvancingTheClockExpiresTokens: moving the clock past a token's
// lifetime kills it on every protected route of both flows, and for
// introspection, without waiting.
func TestAdvancingTheClockExpiresTokens(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithSystemClock())
	tokens := map[string]string{}
	for _, f := range srv.Mock.Flows() {
		tokens[f.Name] = token(t, srv, f.Name, mockserver.SeedClientID, mockserver.SeedClientSecret)
		for _, op := range f.Protected() {
			if status, _ := bearerStatus(t, srv, spec.SamplePath(op.Path), tokens[f.Name]); status != http.StatusOK {
				t.Fatalf("%s %s: fresh token got %d", f.Name, op.ID, status)
			}
		}
	}
	status, clock := control(t, srv, http.MethodPost, "/_tollgate/clock/advance", map[string]string{"duration": "2h1s"})
	if status != http.StatusOK {
		t.Fatalf("advance: %d %v", status, clock)
	}
	for _, f := range srv.Mock.Flows() {
		for _, op := range f.Protected() {
			if status, code := bearerStatus(t, srv, spec.SamplePath(op.Path), tokens[f.Name]); status != http.StatusUnauthorized || code != "invalid_token" {
				t.Errorf("%s %s after the clock moved 2h: %d %q, want 401 invalid_token", f.Name, op.ID, status, code)
			}
		}
		if f.Introspection != nil {
			if got := introspect(t, srv, f.Name, tokens[f.Name]); got["active"] != false || len(got) != 1 {
				t.Errorf("%s introspection after expiry = %v, want {\"active\":false}", f.Name, got)
			}
		}
	}
	if status, clock := control(t, srv, http.MethodDelete, "/_tollgate/clock", nil); status != http.StatusOK || clock["frozen"] != false {
		t.Fatalf("DELETE clock: %d %v", status, clock)
	}
}

func TestClockSetFreezeAndValidation(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithSystemClock())
	status, got := control(t, srv, http.MethodPut, "/_tollgate/clock", map[string]any{"now": "2030-01-02T03:04:05Z", "frozen": true})
	if status != http.StatusOK || got["now"] != "2030-01-02T03:04:05Z" || got["frozen"] != true {
		t.Fatalf("PUT clock = %d %v", status, got)
	}
	if _, got = control(t, srv, http.MethodPost, "/_tollgate/clock/advance", map[string]any{"duration": "90s"}); got["now"] != "2030-01-02T03:05:35Z" {
		t.Errorf("frozen clock advanced 90s = %v", got["now"])
	}
	for _, tc := range []struct {
		name, method, path, body, field string
	}{
		{"bad time", http.MethodPut, "/_tollgate/clock", `{"now":"tomorrow"}`, "now"},
		{"unknown member", http.MethodPut, "/_tollgate/clock", `{"now":"2031-01-01T00:00:00Z","freeze":true}`, "freeze"},
		{"wrong type", http.MethodPut, "/_tollgate/clock", `{"frozen":"yes"}`, "frozen"},
		{"bad duration", http.MethodPost, "/_tollgate/clock/advance", `{"duration":"2 hours"}`, "duration"},
		{"no duration", http.MethodPost, "/_tollgate/clock/advance", `{}`, "duration"},
		{"not an object", http.MethodPost, "/_tollgate/clock/advance", `[1]`, "object"},
	} {
		status, body := control(t, srv, tc.method, tc.path, tc.body)
		desc, _ := body["error_description"].(string)
		if status != http.StatusBadRequest || body["error"] != "invalid_request" || !strings.Contains(desc, tc.field) {
			t.Errorf("%s: %d %v, want 400 invalid_request naming %s", tc.name, status, body, tc.field)
		}
	}
	if _, got = control(t, srv, http.MethodGet, "/_tollgate/clock", nil); got["now"] != "2030-01-02T03:05:35Z" || got["frozen"] != true {
		t.Errorf("refused requests changed the clock: %v", got)
	}
}

// TestFaultsSeenByAStandardClient: golang.org/x/oauth2/clientcredentials
// sees "503 once, then succeed" and "429 with Retry-After" as documented,
// and the captured requests are exactly those the client sent.
func TestFaultsSeenByAStandardClient(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithSystemClock())
	f := srv.Flow(t, "oauth2")
	cfg := clientcredentials.Config{ClientID: mockserver.SeedClientID, ClientSecret: mockserver.SeedClientSecret,
		TokenURL: srv.URL + f.Token.Path, AuthStyle: oauth2.AuthStyleInHeader}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client())

	if status, got := control(t, srv, http.MethodPost, "/_tollgate/faults", map[string]any{"endpoint": "token", "status": 503, "times": 1}); status != http.StatusCreated {
		t.Fatalf("add fault: %d %v", status, got)
	}
	_, err := cfg.Token(ctx)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response.StatusCode != http.StatusServiceUnavailable || re.ErrorCode != "temporarily_unavailable" {
		t.Fatalf("first token request: %v, want a 503 temporarily_unavailable RetrieveError", err)
	}
	if _, err := cfg.Token(ctx); err != nil {
		t.Fatalf("second token request: %v, want a token (the fault fired once)", err)
	}

	control(t, srv, http.MethodPost, "/_tollgate/faults", map[string]any{"endpoint": "token", "status": 429, "retry_after": 2, "times": 2})
	for i := range 2 {
		_, err := cfg.Token(ctx)
		if !errors.As(err, &re) || re.Response.StatusCode != http.StatusTooManyRequests || re.Response.Header.Get("Retry-After") != "2" {
			t.Fatalf("rate-limited request %d: %v, want 429 with Retry-After: 2", i+1, err)
		}
	}
	if _, err := cfg.Token(ctx); err != nil {
		t.Fatalf("after the 429s: %v", err)
	}
	_, faults := control(t, srv, http.MethodGet, "/_tollgate/faults", nil)
	if list, _ := faults["faults"].([]any); len(list) != 2 || list[0].(map[string]any)["fired"] != 1.0 || list[1].(map[string]any)["fired"] != 2.0 {
		t.Errorf("faults = %v, want fired 1 and 2", faults)
	}

	// A caching client: one token request for many API calls.
	control(t, srv, http.MethodPost, "/_tollgate/reset", nil)
	client := cfg.Client(ctx)
	for range 5 {
		resp, err := client.Get(srv.URL + "/api/markets")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("API call: %d", resp.StatusCode)
		}
	}
	for query, want := range map[string]float64{
		"endpoint=token": 1,
		"endpoint=token&client_id=" + mockserver.SeedClientID: 1,
		"endpoint=listMarkets":                                5,
		"flow=oauth2&client_id=" + mockserver.SeedClientID:    6,
		"client_id=nobody":                                    0,
	} {
		if _, got := control(t, srv, http.MethodGet, "/_tollgate/requests/count?"+query, nil); got["count"] != want {
			t.Errorf("count ?%s = %v, want %v", query, got["count"], want)
		}
	}
	_, listed := control(t, srv, http.MethodGet, "/_tollgate/requests?endpoint=token", nil)
	reqs, _ := listed["requests"].([]any)
	if len(reqs) != 1 {
		t.Fatalf("requests = %v", listed)
	}
	auth, _ := reqs[0].(map[string]any)["authorization"].(string)
	if auth != "Basic client="+mockserver.SeedClientID || strings.Contains(string(mustJSON(t, listed)), mockserver.SeedClientSecret) {
		t.Errorf("captured authorization %q: want the client id only, never the secret", auth)
	}
	if status, got := control(t, srv, http.MethodGet, "/_tollgate/requests/wait?endpoint=listMarkets&count=6&timeout=50ms", nil); status != http.StatusRequestTimeout || got["count"] != 5.0 {
		t.Errorf("wait for a 6th call = %d %v, want 408 with count 5", status, got)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFaultScenarios: latency, client-specific errors, resets and seeded
// probability behave as documented.
func TestFaultScenarios(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithSystemClock())
	tok := token(t, srv, "simple", mockserver.SeedClientID, mockserver.SeedClientSecret)

	control(t, srv, http.MethodPost, "/_tollgate/faults", map[string]any{"endpoint": "token", "flow": "simple", "client_id": mockserver.ShortLivedClientID, "status": 401})
	f := srv.Flow(t, "simple")
	body := `{"clientId":"` + mockserver.ShortLivedClientID + `","secret":"` + mockserver.ShortLivedClientSecret + `"}`
	ex := send(t, srv, newRequest(t, http.MethodPost, srv.URL+f.Token.Path, "application/json", body))
	if ex.status != http.StatusUnauthorized || oauthError(t, ex.body).Code != "invalid_client" || ex.header.Get("Www-Authenticate") == "" {
		t.Errorf("client-specific 401: %d %s %v", ex.status, ex.body, ex.header)
	}
	token(t, srv, "simple", mockserver.SeedClientID, mockserver.SeedClientSecret) // another client is not hit
	control(t, srv, http.MethodDelete, "/_tollgate/faults", nil)

	control(t, srv, http.MethodPost, "/_tollgate/faults", map[string]any{"endpoint": "listCollections", "latency": "150ms", "jitter": "20ms", "seed": 7})
	start := time.Now()
	if status, _ := bearerStatus(t, srv, "/api/collections", tok); status != http.StatusOK {
		t.Errorf("slow call: %d", status)
	}
	if d := time.Since(start); d < 130*time.Millisecond {
		t.Errorf("latency fault: the call took %v, want at least 130ms", d)
	}
	control(t, srv, http.MethodDelete, "/_tollgate/faults", nil)

	control(t, srv, http.MethodPost, "/_tollgate/faults", map[string]any{"endpoint": "listCollections", "after": 2, "times": 1, "reset": true})
	var results []string
	for range 4 {
		req := newRequest(t, http.MethodGet, srv.URL+"/api/collections", "", "")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := srv.Client().Do(req)
		if err != nil {
			results = append(results, "reset")
			continue
		}
		_ = resp.Body.Close()
		results = append(results, http.StatusText(resp.StatusCode))
	}
	if strings.Join(results, ",") != "OK,OK,reset,OK" {
		t.Errorf("reset on the 3rd request: got %v", results)
	}
	control(t, srv, http.MethodDelete, "/_tollgate/faults", nil)

	// Seeded probability: the same seed fires on the same requests.
	pattern := func() string {
		control(t, srv, http.MethodDelete, "/_tollgate/faults", nil)
		control(t, srv, http.MethodPost, "/_tollgate/faults", map[string]any{"endpoint": "listCollections", "probability": 0.5, "seed": 42, "status": 503})
		var b strings.Builder
		for range 20 {
			req := newRequest(t, http.MethodGet, srv.URL+"/api/collections", "", "")
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := srv.Client().Do(req) // an injected 503 is not in the flow document: no drift check
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			b.WriteString(map[bool]string{true: "x", false: "."}[resp.StatusCode == http.StatusServiceUnavailable])
		}
		return b.String()
	}
	first, second := pattern(), pattern()
	if first != second || !strings.Contains(first, "x") || !strings.Contains(first, ".") {
		t.Errorf("seeded faults: %s then %s, want the same mix twice", first, second)
	}
}

// TestFaultIDsNeverCollide: an id the server assigns skips the ids given
// explicitly, so DELETE /_tollgate/faults/{id} always names one fault.
func TestFaultIDsNeverCollide(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	for _, id := range []string{"f1", "f2", "f4"} {
		if status, got := control(t, srv, http.MethodPost, "/_tollgate/faults", map[string]any{"id": id, "endpoint": "token", "status": 503}); status != http.StatusCreated {
			t.Fatalf("fault %s: %d %v", id, status, got)
		}
	}
	seen := map[string]bool{"f1": true, "f2": true, "f4": true}
	for range 3 {
		status, got := control(t, srv, http.MethodPost, "/_tollgate/faults", map[string]any{"endpoint": "token", "status": 503})
		id, _ := got["id"].(string)
		if status != http.StatusCreated || id == "" || seen[id] {
			t.Fatalf("assigned id: %d %v (ids in force: %v)", status, got, seen)
		}
		seen[id] = true
	}
	_, list := control(t, srv, http.MethodGet, "/_tollgate/faults", nil)
	if n := len(list["faults"].([]any)); n != 6 {
		t.Errorf("%d faults in force, want 6", n)
	}
}

// TestBadControlRequestsChangeNothing: a refused control request names the
// field and leaves the state as it was.
func TestBadControlRequestsChangeNothing(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithSystemClock())
	_, before := control(t, srv, http.MethodGet, "/_tollgate/clients", nil)
	_, clockBefore := control(t, srv, http.MethodPut, "/_tollgate/clock", map[string]any{"now": "2030-01-01T00:00:00Z", "frozen": true})
	for _, tc := range []struct {
		name, method, path, body, field string
	}{
		{"fault without endpoint", http.MethodPost, "/_tollgate/faults", `{"status":503}`, "endpoint"},
		{"fault on an unknown endpoint", http.MethodPost, "/_tollgate/faults", `{"endpoint":"tokn","status":503}`, "endpoint"},
		{"fault with a bad status", http.MethodPost, "/_tollgate/faults", `{"endpoint":"token","status":99}`, "status"},
		{"fault that does nothing", http.MethodPost, "/_tollgate/faults", `{"endpoint":"token"}`, "status"},
		{"fault with a bad probability", http.MethodPost, "/_tollgate/faults", `{"endpoint":"token","status":503,"probability":2}`, "probability"},
		{"fault with an unknown member", http.MethodPost, "/_tollgate/faults", `{"endpoint":"token","status":503,"tmes":1}`, "tmes"},
		{"fault with a bad latency", http.MethodPost, "/_tollgate/faults", `{"endpoint":"token","latency":"soon"}`, "latency"},
		{"fault whose latency and jitter overflow", http.MethodPost, "/_tollgate/faults", `{"endpoint":"token","latency":"2562047h","jitter":"2562047h"}`, "latency"},
		{"fault with a long latency", http.MethodPost, "/_tollgate/faults", `{"endpoint":"token","latency":"61s"}`, "latency"},
		{"fault with a long jitter", http.MethodPost, "/_tollgate/faults", `{"endpoint":"token","latency":"1s","jitter":"2m"}`, "jitter"},
		{"fault with a huge jitter", http.MethodPost, "/_tollgate/faults", `{"endpoint":"token","status":503,"jitter":"2562047h"}`, "jitter"},
		{"clock in year 9999", http.MethodPut, "/_tollgate/clock", `{"now":"9999-01-01T00:00:00Z"}`, "now"},
		{"clock before 1970", http.MethodPut, "/_tollgate/clock", `{"now":"1969-12-31T23:59:59Z","frozen":true}`, "now"},
		{"clock without a body", http.MethodPut, "/_tollgate/clock", ``, "body is empty"},
		{"clock advanced past its range", http.MethodPost, "/_tollgate/clock/advance", `{"duration":"2000000h"}`, "duration"},
		{"clock advanced back past 1970", http.MethodPost, "/_tollgate/clock/advance", `{"duration":"-2000000h"}`, "duration"},
		{"client without secret", http.MethodPost, "/_tollgate/clients", `{"id":"x"}`, "secret"},
		{"client with an unknown scope", http.MethodPost, "/_tollgate/clients", `{"id":"x","secret":"y","scopes":["nope"]}`, "scopes"},
		{"client with a registered claim", http.MethodPost, "/_tollgate/clients", `{"id":"x","secret":"y","claims":{"sub":"z"}}`, "claims"},
		{"client on an unknown flow", http.MethodPut, "/_tollgate/clients/x", `{"secret":"y","flows":["nope"]}`, "flows"},
		{"client id differs from the path", http.MethodPut, "/_tollgate/clients/x", `{"id":"y","secret":"y"}`, "id"},
		{"token for an unknown flow", http.MethodPost, "/_tollgate/tokens", `{"flow":"nope"}`, "flow"},
		{"token with an unknown defect", http.MethodPost, "/_tollgate/tokens", `{"flow":"oauth2","defect":"rotten"}`, "defect"},
		{"JWT defect on a UUID flow", http.MethodPost, "/_tollgate/tokens", `{"flow":"simple","defect":"alg-none"}`, "defect"},
		{"token with an unknown scope", http.MethodPost, "/_tollgate/tokens", `{"flow":"oauth2","scope":"nope"}`, "scope"},
		{"rotation of a UUID flow", http.MethodPost, "/_tollgate/keys/rotate", `{"flow":"simple"}`, "flow"},
		{"count without a number", http.MethodGet, "/_tollgate/requests/wait?count=x", ``, "count"},
	} {
		var body any
		if tc.body != "" {
			body = tc.body
		}
		status, got := control(t, srv, tc.method, tc.path, body)
		desc, _ := got["error_description"].(string)
		if status != http.StatusBadRequest || !strings.Contains(desc, tc.field) {
			t.Errorf("%s: %d %v, want 400 naming %s", tc.name, status, got, tc.field)
		}
	}
	if _, clock := control(t, srv, http.MethodGet, "/_tollgate/clock", nil); !bytes.Equal(mustJSON(t, clock), mustJSON(t, clockBefore)) {
		t.Errorf("refused clock requests moved the clock: %v, was %v", clock, clockBefore)
	}
	if _, faults := control(t, srv, http.MethodGet, "/_tollgate/faults", nil); len(faults["faults"].([]any)) != 0 {
		t.Errorf("refused faults were added: %v", faults)
	}
	if _, after := control(t, srv, http.MethodGet, "/_tollgate/clients", nil); !bytes.Equal(mustJSON(t, after), mustJSON(t, before)) {
		t.Errorf("refused client requests changed the clients:\nbefore %v\nafter  %v", before, after)
	}
	if _, toks := control(t, srv, http.MethodGet, "/_tollgate/tokens", nil); len(toks["tokens"].([]any)) != 0 {
		t.Errorf("refused mint requests minted: %v", toks)
	}
}

// TestClientsAtRunTime: a client added through the control API gets tokens
// at once; a removed one no longer does; reset restores the configured set.
func TestClientsAtRunTime(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithSystemClock())
	status, got := control(t, srv, http.MethodPost, "/_tollgate/clients", map[string]any{"id": "mobile", "secret": "s3", "flows": []string{"oauth2"},
		"scopes": []string{"metrics-api"}, "token_lifetime": "60s", "claims": map[string]any{"tenant": "acme"}, "audience": []string{"https://api.example"}})
	if status != http.StatusCreated {
		t.Fatalf("add client: %d %v", status, got)
	}
	if status, _ := control(t, srv, http.MethodPost, "/_tollgate/clients", map[string]any{"id": "mobile", "secret": "s3"}); status != http.StatusConflict {
		t.Errorf("adding mobile twice: %d, want 409", status)
	}
	raw := token(t, srv, "oauth2", "mobile", "s3")
	claims := jwtClaims(t, raw)
	if claims["tenant"] != "acme" || claims["scope"] != "metrics-api" || claims["exp"].(float64)-claims["iat"].(float64) != 60 {
		t.Errorf("mobile's token claims = %v", claims)
	}
	if aud, _ := claims["aud"].([]any); len(aud) != 2 || aud[0] != "oauth2" || aud[1] != "https://api.example" {
		t.Errorf("aud = %v, want the flow and the client's audience", claims["aud"])
	}
	if status, _ := control(t, srv, http.MethodDelete, "/_tollgate/clients/mobile", nil); status != http.StatusNoContent {
		t.Errorf("delete: %d", status)
	}
	f := srv.Flow(t, "oauth2")
	req := newRequest(t, http.MethodPost, srv.URL+f.Token.Path, "application/x-www-form-urlencoded", "grant_type=client_credentials")
	req.SetBasicAuth("mobile", "s3")
	if ex := send(t, srv, req); ex.status != http.StatusUnauthorized {
		t.Errorf("a removed client got %d, want 401", ex.status)
	}
	control(t, srv, http.MethodPut, "/_tollgate/clients/"+mockserver.SeedClientID, map[string]any{"secret": "rotated"})
	req = newRequest(t, http.MethodPost, srv.URL+f.Token.Path, "application/x-www-form-urlencoded", "grant_type=client_credentials")
	req.SetBasicAuth(mockserver.SeedClientID, mockserver.SeedClientSecret)
	if ex := send(t, srv, req); ex.status != http.StatusUnauthorized {
		t.Errorf("the old secret after PUT got %d, want 401", ex.status)
	}
	control(t, srv, http.MethodPost, "/_tollgate/reset", nil)
	token(t, srv, "oauth2", mockserver.SeedClientID, mockserver.SeedClientSecret)
}

func jwtClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.RS512, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := tok.UnsafeClaimsWithoutVerification(&claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// jwks fetches and parses the served JWK Set.
func jwks(t *testing.T, srv *mockservertest.Server) jose.JSONWebKeySet {
	t.Helper()
	ex := send(t, srv, newRequest(t, http.MethodGet, srv.URL+mockserver.JWKSPath, "", ""))
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(ex.body, &set); err != nil {
		t.Fatal(err)
	}
	return set
}

// TestMintedTokens: a good minted token works and verifies against the
// JWKS with a standard JOSE library; each defect is refused by the mock's
// own protected routes with RFC 6750's invalid_token.
func TestMintedTokens(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithSystemClock())
	status, good := control(t, srv, http.MethodPost, "/_tollgate/tokens", map[string]any{"flow": "oauth2", "scope": "metrics-api", "lifetime": "10m", "claims": map[string]any{"role": "admin"}})
	if status != http.StatusCreated {
		t.Fatalf("mint: %d %v", status, good)
	}
	raw := good["access_token"].(string)
	if status, _ := bearerStatus(t, srv, "/metrics/orders", raw); status != http.StatusOK {
		t.Errorf("minted token on /metrics/orders: %d", status)
	}
	if status, _ := bearerStatus(t, srv, "/provisioning/organizations", raw); status != http.StatusForbidden {
		t.Errorf("metrics-api token on a provisioning route: %d, want 403", status)
	}
	parsed, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.RS512, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var claims jwt.Claims
	var extra map[string]any
	if err := parsed.Claims(jwks(t, srv), &claims, &extra); err != nil {
		t.Fatalf("the minted token does not verify against the JWKS: %v", err)
	}
	if err := claims.ValidateWithLeeway(jwt.Expected{AnyAudience: jwt.Audience{"oauth2"}, Time: time.Now()}, 0); err != nil || extra["role"] != "admin" {
		t.Errorf("claims %+v %v: %v", claims, extra, err)
	}
	for _, flow := range []string{"simple", "oauth2"} {
		defects := mockserver.TokenDefects()
		if flow == "simple" {
			defects = []string{mockserver.DefectExpired}
		}
		path := map[string]string{"simple": "/api/collections", "oauth2": "/api/markets"}[flow]
		for _, defect := range defects {
			status, minted := control(t, srv, http.MethodPost, "/_tollgate/tokens", map[string]any{"flow": flow, "defect": defect})
			if status != http.StatusCreated {
				t.Fatalf("%s %s: %d %v", flow, defect, status, minted)
			}
			if status, code := bearerStatus(t, srv, path, minted["access_token"].(string)); status != http.StatusUnauthorized || code != "invalid_token" {
				t.Errorf("%s token with %s: %d %q, want 401 invalid_token", flow, defect, status, code)
			}
		}
	}
	_, listed := control(t, srv, http.MethodGet, "/_tollgate/tokens", nil)
	if strings.Contains(string(mustJSON(t, listed)), raw) || len(listed["tokens"].([]any)) != 1 {
		t.Errorf("live tokens = %v: want the one good token, redacted", listed)
	}
	if _, revoked := control(t, srv, http.MethodDelete, "/_tollgate/tokens", nil); revoked["revoked"] != 1.0 {
		t.Errorf("revoke all = %v", revoked)
	}
	if status, _ := bearerStatus(t, srv, "/metrics/orders", raw); status != http.StatusUnauthorized {
		t.Errorf("after DELETE /_tollgate/tokens the token got %d", status)
	}
}

// TestRotationKeepsTheOldKeyALifetime: with no live token recorded, the
// old key still verifies for the flow's longest token lifetime, since a
// token request that took it just before the rotation may not have
// recorded its token yet.
func TestRotationKeepsTheOldKeyALifetime(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	now := srv.Clock.Now()
	rotated, err := srv.Mock.RotateKeys("oauth2")
	if err != nil || len(rotated) != 1 {
		t.Fatalf("rotate: %v %v", rotated, err)
	}
	lifetime := srv.Flow(t, "oauth2").Lifetime
	if lifetime <= 0 {
		t.Fatalf("flow oauth2 has no lifetime: %v", lifetime)
	}
	if got := rotated[0].RetiresAt.Sub(now); got < lifetime {
		t.Errorf("the old key retires %v after the rotation, want at least the lifetime %v", got, lifetime)
	}
}

// TestRevokeAllTokensWhileIssuing: a JWT issued while every token is being
// revoked is either revoked or still listed, so that the next revocation of
// every token reaches it; none stays valid unlisted.
func TestRevokeAllTokensWhileIssuing(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	var (
		mu     sync.Mutex
		minted []string
		wg     sync.WaitGroup
		stop   = make(chan struct{})
	)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				tok, err := srv.Mock.Mint(mockserver.MintRequest{Flow: "oauth2"}, "")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				minted = append(minted, tok.AccessToken)
				mu.Unlock()
			}
		}()
	}
	for n := 0; n < 300; {
		srv.Mock.RevokeAllTokens()
		mu.Lock()
		n = len(minted)
		mu.Unlock()
	}
	close(stop)
	wg.Wait()
	srv.Mock.RevokeAllTokens()
	valid := 0
	for _, tok := range minted {
		if status, _ := bearerStatus(t, srv, "/metrics/orders", tok); status == http.StatusOK {
			valid++
		}
	}
	if valid > 0 {
		t.Errorf("%d of %d tokens still valid after every token was revoked", valid, len(minted))
	}
}

// TestKeyRotation: a token signed before a rotation works until it
// expires, the JWKS holds both keys meanwhile, new tokens carry the new kid.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithSystemClock())
	before := token(t, srv, "oauth2", mockserver.SeedClientID, mockserver.SeedClientSecret)
	oldKid := jwks(t, srv).Keys[0].KeyID
	status, rotated := control(t, srv, http.MethodPost, "/_tollgate/keys/rotate", nil)
	if status != http.StatusOK {
		t.Fatalf("rotate: %d %v", status, rotated)
	}
	after := token(t, srv, "oauth2", mockserver.SeedClientID, mockserver.SeedClientSecret)
	parsedAfter, _ := jwt.ParseSigned(after, []jose.SignatureAlgorithm{jose.RS256, jose.RS512, jose.ES256, jose.EdDSA})
	newKid := parsedAfter.Headers[0].KeyID
	if newKid == oldKid || newKid == "" {
		t.Fatalf("new tokens carry kid %q, the old key was %q", newKid, oldKid)
	}
	set := jwks(t, srv)
	if len(set.Key(oldKid)) != 1 || len(set.Key(newKid)) != 1 {
		t.Errorf("JWKS after rotation holds %d keys, want both %s and %s", len(set.Keys), oldKid, newKid)
	}
	for name, tok := range map[string]string{"before": before, "after": after} {
		if status, _ := bearerStatus(t, srv, "/api/markets", tok); status != http.StatusOK {
			t.Errorf("token from %s the rotation: %d", name, status)
		}
	}
	control(t, srv, http.MethodPost, "/_tollgate/clock/advance", map[string]string{"duration": "2h1s"})
	if set := jwks(t, srv); len(set.Keys) != 1 || set.Keys[0].KeyID != newKid {
		t.Errorf("JWKS once the old key's tokens expired: %d keys", len(set.Keys))
	}
}

// TestControlSafety: on a non-loopback listener the control API needs the
// control token; "off" removes it; pages of other origins are refused.
func TestControlSafety(t *testing.T) {
	t.Parallel()
	remote := func(h http.Handler, method, path, auth, origin string) int {
		req := httptest.NewRequest(method, "http://mock.example"+path, nil)
		req = req.WithContext(context.WithValue(req.Context(), http.LocalAddrContextKey, &fakeAddr{"192.0.2.10:4455"}))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	open := mockservertest.NewServer(t)
	if got := remote(open.Mock, http.MethodGet, "/_tollgate/clock", "", ""); got != http.StatusForbidden {
		t.Errorf("non-loopback call without a control token: %d, want 403", got)
	}
	if got := remote(open.Mock, http.MethodPost, "/_tollgate/reset", "", ""); got != http.StatusForbidden {
		t.Errorf("non-loopback reset: %d, want 403", got)
	}
	guarded := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{ControlToken: "c0ntrol"}))
	for auth, want := range map[string]int{"": 401, "Bearer wrong": 401, "Bearer c0ntrol": 200} {
		if got := remote(guarded.Mock, http.MethodGet, "/_tollgate/clock", auth, ""); got != want {
			t.Errorf("with control token, Authorization %q: %d, want %d", auth, got, want)
		}
	}
	if got := remote(guarded.Mock, http.MethodGet, "/_tollgate/clock", "Bearer c0ntrol", "http://evil.example"); got != http.StatusForbidden {
		t.Errorf("a page of another origin: %d, want 403", got)
	}
	off := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{Control: mockserver.ControlOff}))
	resp, err := off.Client().Get(off.URL + "/_tollgate/clients")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("control off: %d, want 404", resp.StatusCode)
	}
}

// TestControlRefusesOtherHostNamesWithoutAToken: without a control token,
// a loopback connection must also name a loopback host, so that a page
// whose DNS name was re-pointed at 127.0.0.1 (DNS rebinding) cannot use the
// control API; with a token any Host goes.
func TestControlRefusesOtherHostNamesWithoutAToken(t *testing.T) {
	t.Parallel()
	call := func(h http.Handler, host, auth string) (int, string) {
		req := httptest.NewRequest(http.MethodGet, "http://placeholder/_tollgate/clock", nil)
		req.Host = host
		req = req.WithContext(context.WithValue(req.Context(), http.LocalAddrContextKey, &fakeAddr{"127.0.0.1:4455"}))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	open := mockservertest.NewServer(t)
	guarded := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{ControlToken: "c0ntrol"}))
	for _, tc := range []struct {
		host        string
		open, token int
	}{
		{"localhost", 200, 200},
		{"localhost:8484", 200, 200},
		{"LOCALHOST:8484", 200, 200},
		{"127.0.0.1", 200, 200},
		{"127.0.0.1:8484", 200, 200},
		{"127.1.2.3:80", 200, 200},
		{"[::1]:8484", 200, 200},
		{"[::1]", 200, 200},
		{"attacker.example", 403, 200},
		{"attacker.example:8484", 403, 200},
		{"localhost.attacker.example:8484", 403, 200},
		{"127.0.0.1.attacker.example", 403, 200},
		{"10.0.0.5:8484", 403, 200},
		{"", 403, 200},
	} {
		if got, body := call(open.Mock, tc.host, ""); got != tc.open {
			t.Errorf("no control token, Host %q: %d, want %d: %s", tc.host, got, tc.open, body)
		} else if got == http.StatusForbidden && !strings.Contains(body, "Host") {
			t.Errorf("no control token, Host %q: the refusal does not name the Host: %s", tc.host, body)
		}
		if got, body := call(guarded.Mock, tc.host, "Bearer c0ntrol"); got != tc.token {
			t.Errorf("control token, Host %q: %d, want %d: %s", tc.host, got, tc.token, body)
		}
	}
}

type fakeAddr struct{ s string }

func (a *fakeAddr) Network() string { return "tcp" }
func (a *fakeAddr) String() string  { return a.s }

// TestControlUnderLoad: control calls racing token and API requests (run
// with -race).
func TestControlUnderLoad(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithSystemClock())
	tok := token(t, srv, "simple", mockserver.SeedClientID, mockserver.SeedClientSecret)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				switch w {
				case 0:
					control(t, srv, http.MethodPost, "/_tollgate/faults", map[string]any{"endpoint": "listCollections", "latency": "1ms", "times": 1})
					control(t, srv, http.MethodPost, "/_tollgate/clock/advance", map[string]string{"duration": "1s"})
				case 1:
					control(t, srv, http.MethodPut, "/_tollgate/clients/c"+string(rune('a'+i%5)), map[string]any{"secret": "s"})
					control(t, srv, http.MethodGet, "/_tollgate/requests?limit=5", nil)
				default:
					bearerStatus(t, srv, "/api/collections", tok)
					token(t, srv, "oauth2", mockserver.SeedClientID, mockserver.SeedClientSecret)
				}
			}
		}()
	}
	wg.Wait()
	if status, _ := control(t, srv, http.MethodPost, "/_tollgate/reset", nil); status != http.StatusOK {
		t.Errorf("reset: %d", status)
	}
}

// TestClientFaultLeavesTheBodyWhole: to match a fault's client_id, the
// fault table reads the body ahead of the token endpoint; the endpoint must
// still get all of it, up to its own limit, and a body over that limit
// still gets 413.
func TestClientFaultLeavesTheBodyWhole(t *testing.T) {
	t.Parallel()
	const limit = 2 << 20
	srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{MaxBodyBytes: limit}))
	control(t, srv, http.MethodPost, "/_tollgate/faults", map[string]any{"endpoint": "token", "client_id": "someone-else", "status": 503})
	f := srv.Flow(t, "simple")
	post := func(padding int) int {
		body := `{"clientId":"` + mockserver.SeedClientID + `","secret":"` + mockserver.SeedClientSecret + `","padding":"` + strings.Repeat("x", padding) + `"}`
		// No Content-Length: the size shows only while reading.
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+f.Token.Path, io.MultiReader(strings.NewReader(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(3 << 19); got != http.StatusOK {
		t.Errorf("a 1.5 MiB token request under a 2 MiB limit: %d, want 200", got)
	}
	if got := post(limit); got != http.StatusRequestEntityTooLarge {
		t.Errorf("a token request over the limit: %d, want 413", got)
	}
}

// TestIssuerOriginsAreBounded: without a configured issuer, every JWT the
// mock issues names an origin it accepts; past the bound of origins a token
// request is refused instead of issuing a token that never validates, and
// a control reset forgets the origins.
func TestIssuerOriginsAreBounded(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	f := srv.Flow(t, "oauth2")
	issue := func(host string) (int, string) {
		doc := map[string]any{}
		mustSet(t, f.Token.Request.ClientID, doc, mockserver.SeedClientID)
		mustSet(t, f.Token.Request.ClientSecret, doc, mockserver.SeedClientSecret)
		mustSet(t, f.Token.Request.GrantType, doc, f.Token.GrantType)
		body, _ := json.Marshal(doc)
		req := newRequest(t, http.MethodPost, srv.URL+f.Token.Path, jsonMediaType(f), string(body))
		req.Host = host
		ex := send(t, srv, req)
		if ex.status != http.StatusOK {
			return ex.status, oauthError(t, ex.body).Code
		}
		tr, err := f.ParseTokenResponse(ex.body)
		if err != nil {
			t.Fatal(err)
		}
		return ex.status, tr.AccessToken
	}
	var tokens []string
	for i := range 40 {
		status, got := issue(fmt.Sprintf("name%d.test", i))
		if status == http.StatusOK {
			tokens = append(tokens, got)
			continue
		}
		if status != http.StatusBadRequest || got != "invalid_request" || i == 0 {
			t.Fatalf("token under origin %d: %d %s, want 200 or, past the bound, 400 invalid_request", i, status, got)
		}
	}
	if len(tokens) == 40 {
		t.Fatal("40 origins: every token request succeeded, though the mock accepts a bounded set of issuers")
	}
	for i, tok := range tokens {
		if status, _ := bearerStatus(t, srv, "/api/markets", tok); status != http.StatusOK {
			t.Errorf("token %d, issued under a noted origin: %d, want 200", i, status)
		}
	}
	control(t, srv, http.MethodPost, "/_tollgate/reset", nil)
	status, tok := issue("name39.test")
	if status != http.StatusOK {
		t.Fatalf("after a reset, a token under a new origin: %d %s", status, tok)
	}
	if status, _ := bearerStatus(t, srv, "/api/markets", tok); status != http.StatusOK {
		t.Errorf("after a reset, the token under a new origin: %d, want 200", status)
	}
}

// TestClockOutOfRangeInGo: the Go API and the config file refuse the clock
// settings the control API refuses, and leave the clock alone.
func TestClockOutOfRangeInGo(t *testing.T) {
	t.Parallel()
	far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	srv := mockservertest.NewServer(t)
	before := srv.Mock.ClockSetting()
	if err := srv.Mock.SetClock(mockserver.ClockSetting{Now: far}); err == nil || !strings.Contains(err.Error(), "9999") {
		t.Errorf("SetClock(9999): %v, want an error naming the time", err)
	}
	if err := srv.Mock.AdvanceClock(-100 * 365 * 24 * time.Hour); err == nil {
		t.Error("AdvanceClock to before 1970: no error")
	}
	if after := srv.Mock.ClockSetting(); !after.Now.Equal(before.Now) {
		t.Errorf("refused settings moved the clock from %v to %v", before.Now, after.Now)
	}
	flows, err := spec.ReadAll(context.Background(), openapi.FS())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mockserver.New(flows, mockserver.Options{StartClock: &mockserver.ClockSetting{Now: far}}); err == nil || !strings.Contains(err.Error(), "clock") {
		t.Errorf("a configured clock in 9999: %v, want an error naming the clock", err)
	}
}

// TestIntrospectionIatIsTheIssueTime: an opaque token's introspected iat is
// when it was issued, even after its client's lifetime changed.
func TestIntrospectionIatIsTheIssueTime(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{
		Flows: map[string]mockserver.FlowOptions{"oauth2": {TokenFormat: "opaque"}}}))
	issuedAt := srv.Clock.Now().Truncate(time.Second)
	tok := token(t, srv, "oauth2", mockserver.SeedClientID, mockserver.SeedClientSecret)
	srv.AdvanceClock(10 * time.Minute)
	if status, got := control(t, srv, http.MethodPut, "/_tollgate/clients/"+mockserver.SeedClientID,
		map[string]any{"secret": mockserver.SeedClientSecret, "token_lifetime": "5h"}); status != http.StatusOK {
		t.Fatalf("lengthen the client's lifetime: %d %v", status, got)
	}
	got := introspect(t, srv, "oauth2", tok)
	if got["active"] != true {
		t.Fatalf("introspection: %v", got)
	}
	if iat, _ := got["iat"].(float64); int64(iat) != issuedAt.Unix() {
		t.Errorf("iat %v, want the issue time %d", got["iat"], issuedAt.Unix())
	}
}

// TestFaultFiredIsReadOnly: a fault as GET /_tollgate/faults lists it can
// be posted back; its fired count is ignored.
func TestFaultFiredIsReadOnly(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	status, got := control(t, srv, http.MethodPost, "/_tollgate/faults", map[string]any{"endpoint": "token", "status": 503, "fired": 7})
	if status != http.StatusCreated || got["fired"] != float64(0) {
		t.Errorf("a fault posted with fired 7: %d %v, want 201 with fired 0", status, got)
	}
}

// TestControlMethodAndPathErrors: a method a control path does not take
// gets 405 with Allow, and a path the control API lacks gets 404, both as
// the JSON error every other control answer uses.
func TestControlMethodAndPathErrors(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodPatch, "/_tollgate/clock", http.StatusMethodNotAllowed, "GET, HEAD, PUT, DELETE"},
		{http.MethodPost, "/_tollgate/requests", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodGet, "/_tollgate/reset", http.StatusMethodNotAllowed, "POST"},
		{http.MethodPost, "/_tollgate/clients/someone", http.StatusMethodNotAllowed, "GET, HEAD, PUT, DELETE"},
		{http.MethodGet, "/_tollgate/nothing-here", http.StatusNotFound, ""},
	} {
		req := newRequest(t, tc.method, srv.URL+tc.path, "", "")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if resp.StatusCode != tc.status || resp.Header.Get("Allow") != tc.allow ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || json.Unmarshal(body, &e) != nil || e.Error == "" {
			t.Errorf("%s %s: %d Allow %q %s %s, want %d Allow %q with a JSON error", tc.method, tc.path, resp.StatusCode,
				resp.Header.Get("Allow"), resp.Header.Get("Content-Type"), body, tc.status, tc.allow)
		}
	}
}

// TestLiveTokensLimit: LiveTokens lists at most limit tokens, however they
// spread over the stores.
func TestLiveTokensLimit(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	for range 3 {
		srv.Mint(t, mockserver.MintRequest{Flow: "simple"})
		srv.Mint(t, mockserver.MintRequest{Flow: "oauth2"})
	}
	for limit := 1; limit <= 7; limit++ {
		if got := len(srv.Mock.LiveTokens(limit)); got != min(limit, 6) {
			t.Errorf("LiveTokens(%d): %d tokens, want %d", limit, got, min(limit, 6))
		}
	}
}

// TestLatencyFaultClientHungUp: a request whose client hung up during a
// latency fault is captured with 499, not as answered.
func TestLatencyFaultClientHungUp(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t)
	control(t, srv, http.MethodPost, "/_tollgate/faults", map[string]any{"endpoint": "jwks", "latency": "30s"})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+mockserver.JWKSPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := srv.Client().Do(req); err == nil {
		_ = resp.Body.Close()
		t.Fatalf("the slow request was answered: %d", resp.StatusCode)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if _, err := srv.Mock.WaitRequests(wctx, mockserver.RequestFilter{Endpoint: "jwks"}, 1); err != nil {
		t.Fatal(err)
	}
	recs := srv.Mock.Requests(mockserver.RequestFilter{Endpoint: "jwks"})
	if len(recs) != 1 || recs[0].Status != mockserver.StatusClientClosedRequest {
		t.Errorf("captured %+v, want one request with status 499", recs)
	}
}
