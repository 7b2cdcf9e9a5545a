package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/mockserver/mockservertest"
	"github.com/tollgate/tollgate/suites/load"
	"github.com/tollgate/tollgate/suites/probe"
)

// loadMock starts a mock (loopback) and writes a token of its short-lived
// client for flow, expired by moving the mock's clock past its life.
func loadMock(t *testing.T, flow string, mutations ...string) (url, expiredFile string) {
	t.Helper()
	tollgateBin(t)
	srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{Mutations: mutations}))
	cfg := probe.Config{Target: srv.URL, Flow: flow, Client: probe.Credentials{ID: mockserver.ShortLivedClientID, Secret: mockserver.ShortLivedClientSecret}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	tr, _, err := probe.New(cfg, srv.Flow(t, flow)).Token(context.Background(), cfg.Client)
	if err != nil {
		t.Fatal(err)
	}
	srv.Clock.Advance(mockserver.ShortLivedLifetime + time.Minute)
	expiredFile = filepath.Join(t.TempDir(), "expired.txt")
	if err := os.WriteFile(expiredFile, []byte(tr.AccessToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv.URL, expiredFile
}

const testMix = "valid=90,invalid=5,missing=3,expired=2"

func TestLoadAgainstMock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		flow      string
		mutations []string
		args      []string
		env       []string
		wantCode  int
		want      []string
		part      string // the report part judged; "" for validate
	}{
		{name: "simple flow, closed model, mixed tokens: every verdict right", flow: "simple", args: []string{"--concurrency", "8"}, want: []string{"verdicts:     all 400 answers as expected", "p99.9", "PASS"}},
		{name: "oauth2 flow, open model, mixed tokens: every verdict right", flow: "oauth2", args: []string{"--rate", "400/s"}, want: []string{"achieved of 400.0/s asked", "PASS"}},
		{name: "simple flow through net/http: every verdict right", flow: "simple", args: []string{"--sender", "net/http"}, want: []string{"verdicts:     all 400 answers as expected", "PASS"}},
		{name: "a mock accepting any Bearer token fails the run", flow: "simple", mutations: []string{"accept-any-bearer"}, wantCode: 1, want: []string{"WRONG VERDICTS", "ACCEPTED", "SECURITY FAILURE", "FAIL: "}},
		{name: "simple flow, GraphQL scenario: every verdict right", flow: "simple", args: []string{"--scenario", "graphql"}, part: "graphql", want: []string{"scenario graphql", "verdicts:     all 400 answers as expected", "PASS"}},
		{name: "oauth2 GraphQL endpoint serving data without a token fails the run", flow: "oauth2", mutations: []string{"graphql-data-without-token"}, args: []string{"--scenario", "graphql"}, part: "graphql", wantCode: 1, want: []string{"ACCEPTED", "FAIL: "}},
		{name: "a missed threshold fails the run", flow: "oauth2", args: []string{"--min-rps", "1e9"}, wantCode: 1, want: []string{"below --min-rps", "FAIL: "}},
		{name: "a threshold from the environment fails the run", flow: "simple", env: []string{"TOLLGATE_LOAD_MAX_P99=1us"}, wantCode: 1, want: []string{"above --max-p99 1µs", "FAIL: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url, expired := loadMock(t, tt.flow, tt.mutations...)
			out := filepath.Join(t.TempDir(), "run.json")
			args := append([]string{"load", "--target", url, "--flow", tt.flow, "--duration", "2s", "--requests", "400",
				"--mix", testMix, "--expired-token-file", expired, "--json", out}, tt.args...)
			r := runTollgate(t, append(append([]string(nil), seedEnv...), tt.env...), args...)
			if r.code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.wantCode, r.stdout, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			rep, err := load.ReadReport(out)
			if err != nil {
				t.Fatal(err)
			}
			part := tt.part
			if part == "" {
				part = "validate"
			}
			m := rep.Part(part)
			if m == nil || m.Requests == 0 || m.Requests > 400 {
				t.Fatalf("report: %+v, want 1..400 requests in a %s part", rep.Parts, part)
			}
			for _, k := range []load.Kind{load.KindInvalid, load.KindMissing, load.KindExpired} {
				if m.Count(func(got load.Kind, _ load.Outcome) bool { return got == k }) == 0 {
					t.Errorf("no %s request was sent", k)
				}
			}
			if wrong := m.WrongVerdicts(); (wrong > 0) != (len(tt.mutations) > 0) {
				t.Errorf("wrong verdicts = %d with mutations %q", wrong, tt.mutations)
			}
		})
	}
}

func TestLoadReportMergesRuns(t *testing.T) {
	t.Parallel()
	url, _ := loadMock(t, "simple")
	dir := t.TempDir()
	var total uint64
	for _, name := range []string{"a.json", "b.json"} {
		r := runTollgate(t, seedEnv, "load", "--target", url, "--flow", "simple", "--requests", "150", "--concurrency", "4", "--quiet", "--json", filepath.Join(dir, name))
		if r.code != 0 {
			t.Fatalf("exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		rep, err := load.ReadReport(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		total += rep.Part("validate").Requests
	}
	merged := filepath.Join(dir, "merged.json")
	r := runTollgate(t, nil, "load", "report", filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json"), "--json", merged, "--html", filepath.Join(dir, "plot.html"))
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	rep, err := load.ReadReport(merged)
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Part("validate")
	if total != 300 || m.Requests != total || m.Latency.TotalCount() != int64(total) {
		t.Errorf("merged %d requests (%d in the histogram), want the sum %d (= 300)", m.Requests, m.Latency.TotalCount(), total)
	}
	if !strings.Contains(r.stdout, "2 runs merged") {
		t.Errorf("summary does not say it merged 2 runs:\n%s", r.stdout)
	}
	if page, err := os.ReadFile(filepath.Join(dir, "plot.html")); err != nil || !strings.Contains(string(page), "<svg") {
		t.Errorf("no plot written (%v)", err)
	}
}

func TestLoadExitTwo(t *testing.T) {
	t.Parallel()
	mockTarget := checkMock(t)
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(mockserver.SeedClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"load", "--target", mockTarget, "--flow", "simple", "--requests", "10"}
	badQuery := filepath.Join(t.TempDir(), "bad.graphql")
	if err := os.WriteFile(badQuery, []byte("{ nosuchfield }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{name: "no target", env: seedEnv, args: []string{"load", "--flow", "simple"}, want: []string{"no target", "--target"}},
		{name: "no client", args: base, want: []string{"no client", "TOLLGATE_CLIENT_ID"}},
		{name: "plain http to another host", env: seedEnv, args: []string{"load", "--target", "http://example.com", "--flow", "simple"}, want: []string{"non-loopback", "https"}},
		{name: "a bad rate", env: seedEnv, args: append(base, "--rate", "fast"), want: []string{"--rate", "2000/s"}},
		{name: "rate and concurrency together", env: seedEnv, args: append(base, "--rate", "10/s", "--concurrency", "3"), want: []string{"exclude each other"}},
		{name: "a bad mix", env: seedEnv, args: append(base, "--mix", "valid=9,forged=1"), want: []string{"--mix", "valid=90"}},
		{name: "an unknown scenario", env: seedEnv, args: append(base, "--scenario", "soak"), want: []string{"validate, issue, mixed or graphql"}},
		{name: "a GraphQL query the SDL rejects", env: seedEnv, args: append(base, "--scenario", "graphql", "--query", badQuery), want: []string{"--query", "graphql fixture does not match the SDL", "nosuchfield"}},
		{name: "a missing GraphQL query file", env: seedEnv, args: append(base, "--scenario", "graphql", "--query", "/nonexistent/q.graphql"), want: []string{"--query", "/nonexistent/q.graphql"}},
		{name: "--query outside the graphql scenario", env: seedEnv, args: append(base, "--query", badQuery), want: []string{"--query applies to --scenario graphql"}},
		{name: "an unknown sender", env: seedEnv, args: append(base, "--sender", "curl"), want: []string{"wire or net/http"}},
		{name: "an unbounded run", env: seedEnv, args: append(base, "--duration", "0s"), want: []string{"bounded"}},
		{name: "a bad error rate", env: seedEnv, args: append(base, "--max-error-rate", "lots"), want: []string{"--max-error-rate", "0.1%"}},
		{name: "an unknown operation", env: seedEnv, args: append(base, "--operation", "nope"), want: []string{"is not a protected operation", "listCollections"}},
		{name: "a missing token file", env: seedEnv, args: append(base, "--token-file", "/nonexistent/tokens"), want: []string{"--token-file"}},
		{name: "a wrong secret fails preflight", env: []string{"TOLLGATE_CLIENT_ID=" + mockserver.SeedClientID, "TOLLGATE_CLIENT_SECRET=wrong"}, args: base, want: []string{"preflight", "TOLLGATE_CLIENT_SECRET"}},
		{name: "a report that does not exist", args: []string{"load", "report", "/nonexistent/a.json"}, want: []string{"load: report"}},
		{name: "report without files", args: []string{"load", "report"}, want: []string{"at least one report"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runTollgate(t, tt.env, tt.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			oneStderrLine(t, r.stderr, tt.want...)
		})
	}
	t.Run("the secret comes from a file, never the command line", func(t *testing.T) {
		t.Parallel()
		r := runTollgate(t, nil, append(base, "--client-id", mockserver.SeedClientID, "--client-secret-file", secretFile, "--quiet")...)
		if r.code != 0 || strings.Contains(r.stdout+r.stderr, mockserver.SeedClientSecret) {
			t.Fatalf("exit %d, or the secret was printed:\n%s\n%s", r.code, r.stdout, r.stderr)
		}
	})
}

func TestCheckLoadSpecs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		mutations []string
		args      []string
		wantCode  int
		want      []string
		wantNot   []string
	}{
		{name: "the load spec passes against the mock", args: []string{"--label-filter", "load", "--max-p99", "10s", "--max-error-rate", "0%"},
			want: []string{"PASS  flow simple load a short validate run", "verdicts:     all 2000 answers as expected"}},
		{name: "--load adds the load spec to the selected checks", args: []string{"--label-filter", "TOK-001", "--load"},
			want: []string{"TOK-001", "PASS  flow simple load a short validate run"}},
		{name: "without --load the load spec does not run", args: []string{"--label-filter", "TOK-001"},
			want: []string{"TOK-001"}, wantNot: []string{"short validate run"}},
		{name: "a missed threshold fails the load spec", args: []string{"--label-filter", "load", "--min-rps", "1e9"}, wantCode: 1,
			want: []string{"FAIL  flow simple load", "thresholds missed: throughput"}},
		{name: "an accepted bad token under load fails the load spec", mutations: []string{"accept-any-bearer"}, args: []string{"--label-filter", "load"}, wantCode: 1,
			want: []string{"FAIL  flow simple load", "wrong verdict(s) under load", "SECURITY FAILURE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url, _ := loadMock(t, "simple", tt.mutations...)
			r := runTollgate(t, seedEnv, append([]string{"check", "--target", url, "--flow", "simple"}, tt.args...)...)
			if r.code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.wantCode, r.stdout, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(r.stdout, w) {
					t.Errorf("stdout has %q:\n%s", w, r.stdout)
				}
			}
		})
	}
}
