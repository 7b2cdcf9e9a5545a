package main

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/mockserver/mockservertest"
)

// ctlStep is one `tollgate ctl` call and what it must print.
type ctlStep struct {
	name       string
	args       []string
	wantCode   int
	wantOut    []string // each in stdout
	wantOutput string   // stdout exactly, when set
	wantErr    []string // each in the one stderr line
}

// runCtl runs the steps in order against target, each a subtest.
func runCtl(t *testing.T, target string, steps []ctlStep) {
	t.Helper()
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			args := append([]string{"ctl", "--target", target}, st.args...)
			code, stdout, stderr := runBounded(t, args...)
			if code != st.wantCode {
				t.Errorf("tollgate %s: exit %d, want %d; stderr %q", strings.Join(st.args, " "), code, st.wantCode, stderr)
			}
			if st.wantOutput != "" && stdout != st.wantOutput {
				t.Errorf("stdout %q, want %q", stdout, st.wantOutput)
			}
			for _, w := range st.wantOut {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			if st.wantCode == 0 {
				if stderr != "" {
					t.Errorf("stderr %q, want nothing", stderr)
				}
				return
			}
			if !strings.HasPrefix(stderr, "tollgate: ctl: ") || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "goroutine") {
				t.Errorf("stderr %q, want one line starting with \"tollgate: ctl: \"", stderr)
			}
			for _, w := range st.wantErr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
		})
	}
}

// TestCtlSession drives one mock through every subcommand, in order:
// each step sees what the previous ones did.
func TestCtlSession(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithSystemClock())
	runCtl(t, srv.URL, []ctlStep{
		{name: "clock set", args: []string{"clock", "set", "2030-01-01T00:00:00Z", "--frozen"}, wantOutput: "2030-01-01T00:00:00Z (frozen)\n"},
		{name: "clock", args: []string{"clock"}, wantOutput: "2030-01-01T00:00:00Z (frozen)\n"},
		{name: "clock advance", args: []string{"clock", "advance", "2h"}, wantOutput: "2030-01-01T02:00:00Z (frozen)\n"},
		{name: "clock advance back", args: []string{"clock", "advance", "--", "-1h"}, wantOutput: "2030-01-01T01:00:00Z (frozen)\n"},
		{name: "clock json", args: []string{"clock", "--json"}, wantOutput: `{"now":"2030-01-01T01:00:00Z","frozen":true}` + "\n"},
		{name: "fault add", args: []string{"fault", "add", "--endpoint", "token", "--status", "503", "--times", "1", "--retry-after", "2", "--id", "outage"},
			wantOut: []string{"ID", "outage", "token", "1 time at most", "503 Retry-After 2", "0\n"}},
		{name: "fault add every field", args: []string{"fault", "add", "--endpoint", "listCollections", "--flow", "simple", "--client-id", "testClient",
			"--after", "1", "--every", "2", "--probability", "0.5", "--seed", "7", "--latency", "1ms", "--jitter", "1ms", "--status", "429",
			"--body", `{"error":"slow_down"}`, "--id", "busy"},
			wantOut: []string{"busy", "listCollections", "simple", "testClient", "after 1, every 2, p=0.5", "+1ms ±1ms 429"}},
		{name: "fault add reset", args: []string{"fault", "add", "--endpoint", "jwks", "--reset", "--times", "1"}, wantOut: []string{"f1", "jwks", "reset"}},
		{name: "fault list", args: []string{"fault", "list"}, wantOut: []string{"outage", "busy", "f1"}},
		{name: "fault list json", args: []string{"fault", "list", "--json"}, wantOut: []string{`"id":"busy"`, `"seed":7`, `"body":{"error":"slow_down"}`}},
		{name: "fault delete", args: []string{"fault", "delete", "busy"}, wantOutput: "deleted fault busy\n"},
		{name: "fault delete unknown", args: []string{"fault", "delete", "busy"}, wantCode: 2, wantErr: []string{`no fault "busy" is in force`, "404"}},
		{name: "requests none", args: []string{"requests"}, wantOutput: "no request captured\n"},
		{name: "requests count none", args: []string{"requests", "count", "--endpoint", "token"}, wantOutput: "0\n"},
		{name: "token mint", args: []string{"token", "mint", "--flow", "simple", "--lifetime", "90s"}, wantOut: []string{"-4"}},
		{name: "token mint json", args: []string{"token", "mint", "--flow", "oauth2", "--scope", "metrics-api", "--claim", "tenant=acme", "--claim", "level=3", "--json"},
			wantOut: []string{`"token_type":"Bearer"`, `"scope":"metrics-api"`, `"expires_at":"2030-01-01T03:00:00Z"`}},
		{name: "token mint defect", args: []string{"token", "mint", "--flow", "oauth2", "--defect", "alg-none"}, wantOut: []string{"eyJ"}},
		{name: "token list", args: []string{"token", "list"}, wantOut: []string{"TOKEN", "sha256:", "simple", "jti:", "oauth2", "2030-01-01T01:01:30Z"}},
		{name: "token revoke-all", args: []string{"token", "revoke-all"}, wantOutput: "revoked 2 tokens\n"},
		{name: "token list none", args: []string{"token", "list"}, wantOutput: "no live token\n"},
		{name: "client put", args: []string{"client", "put", "reportingClient", "--secret", "reportingSecret", "--flow", "oauth2", "--scope", "metrics-api", "--token-lifetime", "10m"},
			wantOut: []string{"reportingClient", "reportingSecret", "oauth2", "metrics-api", "10m0s"}},
		{name: "client get", args: []string{"client", "get", "reportingClient", "--json"}, wantOut: []string{`"id":"reportingClient"`, `"token_lifetime":"10m0s"`}},
		{name: "client list", args: []string{"client", "list"}, wantOut: []string{"testClient", "superSecret", "all", "the flow's", "reportingClient"}},
		{name: "client put refused", args: []string{"client", "put", "bad", "--secret", "s", "--flow", "nope"}, wantCode: 2, wantErr: []string{`flows: no flow "nope"`, "400"}},
		{name: "client delete", args: []string{"client", "delete", "reportingClient"}, wantOutput: "deleted client reportingClient\n"},
		{name: "client get deleted", args: []string{"client", "get", "reportingClient"}, wantCode: 2, wantErr: []string{`no client "reportingClient"`}},
		{name: "keys rotate", args: []string{"keys", "rotate", "--flow", "oauth2"}, wantOut: []string{"FLOW", "oauth2", "2030-01-01T03:00:00Z"}}, // no live JWT: the previous key still retires a lifetime (2h) from now
		{name: "keys rotate unsigned", args: []string{"keys", "rotate", "--flow", "simple"}, wantCode: 2, wantErr: []string{"flow simple issues uuid tokens, which are not signed"}},
		{name: "clock reset", args: []string{"clock", "reset"}, wantOut: []string{"(running)"}},
		{name: "reset", args: []string{"reset"}, wantOut: []string{"reset: clock ", "(running), 0 faults in force"}},
		{name: "fault clear", args: []string{"fault", "clear"}, wantOutput: "no fault in force\n"},
	})
}

// TestCtlRequests counts and waits for requests a client sent.
func TestCtlRequests(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithSystemClock())
	for range 2 {
		resp, err := srv.Client().Post(srv.URL+"/token", "application/json", strings.NewReader(seedSimpleBody))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	runCtl(t, srv.URL, []ctlStep{
		{name: "requests", args: []string{"requests", "--endpoint", "token", "--limit", "1"}, wantOut: []string{"POST", "/token", "simple", "testClient", "200"}},
		{name: "requests json", args: []string{"requests", "--flow", "simple", "--client-id", "testClient", "--json"}, wantOut: []string{`"capacity":1000`}},
		{name: "count", args: []string{"requests", "count", "--endpoint", "token", "--client-id", "testClient"}, wantOutput: "2\n"},
		{name: "wait reached", args: []string{"requests", "wait", "--endpoint", "token", "--count", "2", "--timeout", "1s"}, wantOutput: "2\n"},
		{name: "wait timed out", args: []string{"requests", "wait", "--endpoint", "token", "--count", "3", "--timeout", "50ms"}, wantCode: 1, wantErr: []string{"2 of 3 requests after 50ms", "408"}},
		{name: "wait without count", args: []string{"requests", "wait"}, wantCode: 2, wantErr: []string{"--count 0", "--count 3"}},
		{name: "bad limit", args: []string{"requests", "--limit", "0"}, wantCode: 2, wantErr: []string{"--limit 0"}},
		{name: "unknown flow", args: []string{"requests", "count", "--flow", "nope"}, wantCode: 2, wantErr: []string{`no flow "nope"`}},
	})
}

func TestCtlErrors(t *testing.T) {
	t.Parallel()
	srv := mockservertest.NewServer(t, mockservertest.WithSystemClock())
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unreachable := "http://" + closed.Addr().String()
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "boom", http.StatusBadGateway)
	}))
	t.Cleanup(failing.Close)
	tokenMock := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{ControlToken: "ctl-secret"}))
	off := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{Control: mockserver.ControlOff}))

	runCtl(t, srv.URL, []ctlStep{
		{name: "bad duration", args: []string{"clock", "advance", "soon"}, wantCode: 2, wantErr: []string{`"soon" is not a duration`, "90s"}},
		{name: "bad time", args: []string{"clock", "set", "tomorrow"}, wantCode: 2, wantErr: []string{`"tomorrow" is not an RFC 3339 time`}},
		{name: "missing argument", args: []string{"clock", "advance"}, wantCode: 2, wantErr: []string{"takes one duration, got 0"}},
		{name: "unknown subcommand", args: []string{"bogus"}, wantCode: 2, wantErr: []string{`unknown command "bogus" for tollgate ctl`}},
		{name: "unknown nested subcommand", args: []string{"fault", "bogus"}, wantCode: 2, wantErr: []string{`unknown command "bogus" for tollgate ctl fault`}},
		{name: "unknown flag", args: []string{"clock", "--nope"}, wantCode: 2, wantErr: []string{"unknown flag: --nope"}},
		{name: "bad flag value", args: []string{"token", "mint", "--lifetime", "long"}, wantCode: 2, wantErr: []string{`"long"`, "--lifetime"}},
		{name: "4xx answer", args: []string{"fault", "add", "--endpoint", "token", "--status", "99"}, wantCode: 2, wantErr: []string{"status: 99 is not an HTTP status", "400 invalid_request"}},
		{name: "4xx server-side duration", args: []string{"fault", "add", "--endpoint", "token", "--latency", "2x"}, wantCode: 2, wantErr: []string{"latency", `"2x" is not a duration`}},
		{name: "body not JSON", args: []string{"fault", "add", "--endpoint", "token", "--status", "503", "--body", "{oops"}, wantCode: 2, wantErr: []string{"--body", "not JSON"}},
		{name: "bad claim", args: []string{"token", "mint", "--flow", "oauth2", "--claim", "tenant"}, wantCode: 2, wantErr: []string{"NAME=VALUE"}},
		{name: "client without secret", args: []string{"client", "put", "x"}, wantCode: 2, wantErr: []string{"--secret is required"}},
	})
	runCtl(t, unreachable, []ctlStep{
		{name: "unreachable", args: []string{"clock"}, wantCode: 1, wantErr: []string{"cannot reach " + unreachable, "is `tollgate serve` running at " + unreachable + "? set --target or TOLLGATE_TARGET"}},
	})
	untrusted := httptest.NewUnstartedServer(http.NotFoundHandler())
	untrusted.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	untrusted.StartTLS()
	t.Cleanup(untrusted.Close)
	runCtl(t, untrusted.URL, []ctlStep{
		{name: "untrusted certificate", args: []string{"clock"}, wantCode: 1, wantErr: []string{"cannot reach " + untrusted.URL, "unknown authority", "SSL_CERT_FILE"}},
	})
	runCtl(t, "localhost:4455", []ctlStep{
		{name: "target not a URL", args: []string{"clock"}, wantCode: 2, wantErr: []string{`target "localhost:4455" is not an http(s) URL`}},
	})
	runCtl(t, failing.URL, []ctlStep{
		{name: "5xx answer", args: []string{"reset"}, wantCode: 1, wantErr: []string{"boom", "502"}},
	})
	runCtl(t, tokenMock.URL, []ctlStep{
		{name: "no control token", args: []string{"clock"}, wantCode: 2, wantErr: []string{"TOLLGATE_CONTROL_TOKEN", "401"}},
		{name: "control token", args: []string{"clock", "--control-token", "ctl-secret"}, wantOut: []string{"(running)"}},
	})
	runCtl(t, off.URL, []ctlStep{
		{name: "control off", args: []string{"clock"}, wantCode: 2, wantErr: []string{"no control API at " + off.URL + "/_tollgate/"}},
	})
}

// TestCtlEnvironment reads the target and the token from the environment;
// it cannot run in parallel.
func TestCtlEnvironment(t *testing.T) {
	srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{ControlToken: "env-secret"}))
	t.Setenv("TOLLGATE_TARGET", srv.URL)
	t.Setenv(controlTokenEnv, "env-secret")
	code, stdout, stderr := runBounded(t, "ctl", "clock", "set", "2031-02-03T04:05:06Z", "--frozen")
	if code != 0 || stdout != "2031-02-03T04:05:06Z (frozen)\n" {
		t.Errorf("exit %d, stdout %q, stderr %q; want the clock set through TOLLGATE_TARGET with TOLLGATE_CONTROL_TOKEN", code, stdout, stderr)
	}
}
