package main

import (
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestServeControlConfig: the config file's clock, faults and
// captured_requests are in force from the start, and the banner says
// where the control API is.
func TestServeControlConfig(t *testing.T) {
	t.Parallel()
	cfg := writeFile(t, "tollgate.yaml", `
clock:
  now: 2030-01-01T00:00:00Z
  frozen: true
faults:
  - id: first-token-fails
    endpoint: token
    status: 503
    retry_after: 2
    times: 1
captured_requests: 5
`)
	p := startServe(t, "--config", cfg, "--addr", "127.0.0.1:0", "--quiet")

	status, _, body := call(t, http.MethodGet, p.base+"/_tollgate/clock", "", "", "")
	if status != http.StatusOK || string(body) != `{"now":"2030-01-01T00:00:00Z","frozen":true}` {
		t.Errorf("GET /_tollgate/clock: %d %s, want the config's frozen clock", status, body)
	}
	status, header, _ := call(t, http.MethodPost, p.base+"/token", "application/json", "", seedSimpleBody)
	if status != http.StatusServiceUnavailable || header.Get("Retry-After") != "2" {
		t.Errorf("first POST /token: %d, Retry-After %q; want the config's fault: 503, 2", status, header.Get("Retry-After"))
	}
	if status, _, body := call(t, http.MethodPost, p.base+"/token", "application/json", "", seedSimpleBody); status != http.StatusOK {
		t.Errorf("second POST /token: %d %s, want 200 (times: 1)", status, body)
	}
	for range 6 {
		call(t, http.MethodGet, p.base+"/api/collections", "", "", "")
	}
	_, _, body = call(t, http.MethodGet, p.base+"/_tollgate/requests", "", "", "")
	if m := decodeObject(t, body); m["capacity"] != float64(5) || len(m["requests"].([]any)) != 5 {
		t.Errorf("GET /_tollgate/requests: %s, want capacity 5 and 5 requests held", body)
	}
	out := waitFor(t, p.stdout, startTimeout, "control banner", func(s string) bool { return strings.Contains(s, "no token needed") })
	want := "control API: " + p.base + "/_tollgate/ (OpenAPI document: " + p.base + "/_tollgate/openapi.yaml"
	if !strings.Contains(out, want) {
		t.Errorf("banner lacks %q:\n%s", want, out)
	}
}

func TestServeControlModes(t *testing.T) {
	t.Parallel()
	const token = "s3cret-control-token-0123456789"
	tests := []struct {
		name       string
		args       []string
		bearer     string
		wantStatus int
		wantBanner string
	}{
		{name: "off", args: []string{"--control", "off"}, wantStatus: http.StatusNotFound, wantBanner: "control API: off"},
		{name: "token missing", args: []string{"--control-token", token}, wantStatus: http.StatusUnauthorized, wantBanner: "needs Authorization: Bearer <control token> (sha256:"},
		{name: "token given", args: []string{"--control-token", token}, bearer: token, wantStatus: http.StatusOK, wantBanner: "from any address"},
		{name: "config off, flag auto", args: []string{"--config", "OFF", "--control", "auto"}, wantStatus: http.StatusOK, wantBanner: "no token needed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"--addr", "127.0.0.1:0", "--quiet"}, tt.args...)
			for i, a := range args {
				if a == "OFF" {
					args[i] = writeFile(t, "tollgate.yaml", "control: \"off\"\n")
				}
			}
			p := startServe(t, args...)
			if status, _, body := call(t, http.MethodGet, p.base+"/_tollgate/clock", "", tt.bearer, ""); status != tt.wantStatus {
				t.Errorf("GET /_tollgate/clock: %d %s, want %d", status, body, tt.wantStatus)
			}
			out := waitFor(t, p.stdout, startTimeout, "control banner", func(s string) bool { return strings.Contains(s, "control API: ") && strings.HasSuffix(s, "\n") })
			if !strings.Contains(out, tt.wantBanner) {
				t.Errorf("banner lacks %q:\n%s", tt.wantBanner, out)
			}
			if strings.Contains(out, token) || strings.Contains(out, token[:8]) {
				t.Errorf("the banner shows the control token:\n%s", out)
			}
		})
	}
}

// TestServeControlTokenFromEnv cannot run in parallel: it sets the
// environment.
func TestServeControlTokenFromEnv(t *testing.T) {
	t.Setenv(controlTokenEnv, "from-the-environment")
	p := startServe(t, "--addr", "127.0.0.1:0", "--quiet")
	if status, _, _ := call(t, http.MethodGet, p.base+"/_tollgate/clock", "", "", ""); status != http.StatusUnauthorized {
		t.Errorf("GET /_tollgate/clock without the token: %d, want 401", status)
	}
	if status, _, body := call(t, http.MethodGet, p.base+"/_tollgate/clock", "", "from-the-environment", ""); status != http.StatusOK {
		t.Errorf("GET /_tollgate/clock with %s: %d %s, want 200", controlTokenEnv, status, body)
	}
}

func TestPrintControlNonLoopback(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	printControl(&b, "http://127.0.0.1:4455", &net.TCPAddr{IP: net.IPv4zero, Port: 4455}, serveConfig{}.Options)
	if !strings.Contains(b.String(), "answers loopback connections only: set --control-token or TOLLGATE_CONTROL_TOKEN") {
		t.Errorf("banner for 0.0.0.0 without a token:\n%s", b.String())
	}
}
