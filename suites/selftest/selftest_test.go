package selftest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/mockserver/mockservertest"
	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/probe"
)

// variant is one mock to check: a defect (want names the checks that must
// catch it) or a conformant variation (want is empty: it must pass).
type variant struct {
	mutation  string
	flow      string
	profile   string   // "": the flow document's
	expiry    bool     // configure the short-lived client (waited out with noControl)
	noControl bool     // --no-control: wait in real time, and configure BEAR-022's foreign token
	want      []string // check IDs that must be FAIL or WARN
	// omitOptional serves only what the source documents describe
	// (Options.OmitOptional); require is passed as --require.
	omitOptional bool
	require      []string
	// exact: a mutant FAILs no check outside want (one fault, one FAIL).
	exact bool
	// warn: the WARNs a conformant variation adds to the unchanged mock's,
	// exactly (a SHOULD the oddity departs from); nil: none.
	warn []string
	// env: more TOLLGATE_* settings for the run, as NAME=value (the
	// target's GraphQL signalling, say).
	env []string
}

// name names v's subtest: the mutation, how expiry is reached, and the
// extra settings.
func (v variant) name() string {
	name := v.mutation
	if v.noControl {
		name += "/no-control"
	}
	for _, e := range v.env {
		name += "/" + e
	}
	return name
}

func mutants() []variant {
	return []variant{
		{mutation: "no-cache-control", flow: "oauth2", want: []string{"TOK-003", "TOK-005"}},
		{mutation: "text-plain-token", flow: "oauth2", want: []string{"TOK-002"}},
		{mutation: "token-type-mac", flow: "oauth2", want: []string{"TOK-006"}},
		{mutation: "expires-in-string", flow: "oauth2", want: []string{"TOK-007"}},
		{mutation: "expires-in-wrong", flow: "oauth2", want: []string{"TOK-008", "EXP-008"}},
		{mutation: "expires-in-milliseconds", flow: "simple", want: []string{"TOK-008", "EXP-003"}}, // 1800 s in ms is under a year: EXP-002 cannot tell
		{mutation: "no-expires-in", flow: "simple", want: []string{"EXP-001", "TOK-001"}},
		{mutation: "duplicate-member", flow: "oauth2", want: []string{"TOK-027"}},
		{mutation: "refresh-token", flow: "oauth2", want: []string{"TOK-034"}},
		{mutation: "token-with-space", flow: "simple", want: []string{"TOK-009"}},
		{mutation: "repeat-token", flow: "simple", want: []string{"TOK-010"}},
		{mutation: "token-on-get", flow: "simple", want: []string{"TOK-028"}, exact: true},
		{mutation: "errors-without-code", flow: "oauth2", want: []string{"TOK-032"}, exact: true},
		{mutation: "errors-as-500", flow: "oauth2", want: []string{"TOK-038"}, exact: true},
		{mutation: "echo-secret", flow: "oauth2", want: []string{"TOK-035"}},
		{mutation: "ignore-secret", flow: "simple", want: []string{"TOK-012"}},
		{mutation: "basic-no-form-decode", flow: "oauth2", profile: "rfc6749", want: []string{"TOK-017"}},
		{mutation: "credentials-in-query", flow: "oauth2", want: []string{"TOK-029"}},
		{mutation: "grant-more-scope", flow: "oauth2", want: []string{"TOK-030"}},
		{mutation: "scope-trailing-space", flow: "oauth2", want: []string{"TOK-031"}, exact: true},
		{mutation: "token-response-other-names", flow: "simple", want: []string{"TOK-001"}, exact: true},
		{mutation: "sequential-tokens", flow: "simple", want: []string{"TOK-011"}, exact: true},
		{mutation: "empty-scope-echoed", flow: "oauth2", want: []string{"TOK-025"}, exact: true},
		{mutation: "token-500-unknown-basic-client", flow: "oauth2", want: []string{"TOK-038"}, exact: true},
		{mutation: "token-on-get-query-credentials", flow: "oauth2", want: []string{"TOK-028"}, exact: true},
		{mutation: "token-error-access-denied", flow: "oauth2", want: []string{"TOK-032"}, exact: true},
		// The expiry mutants are caught with the seed client alone when the
		// checks move the mock's clock, and with the short-lived client
		// when they wait (the twins with noControl keep that path tested).
		{mutation: "expiry-slides", flow: "simple", want: []string{"EXP-010"}},
		{mutation: "expiry-slides", flow: "simple", expiry: true, noControl: true, want: []string{"EXP-010"}},
		{mutation: "reissue-cached-token", flow: "simple", want: []string{"EXP-011"}},
		{mutation: "reissue-cached-token", flow: "simple", expiry: true, noControl: true, want: []string{"EXP-011"}},
		{mutation: "accept-other-flow-tokens", flow: "simple", want: []string{"BEAR-022"}},                  // a minted token of another flow
		{mutation: "accept-other-flow-tokens", flow: "simple", noControl: true, want: []string{"BEAR-022"}}, // TOLLGATE_FOREIGN_TOKEN
		{mutation: "accept-unknown-client", flow: "simple", want: []string{"TOK-013"}},
		{mutation: "accept-no-client-auth", flow: "oauth2", want: []string{"TOK-014"}, exact: true},
		{mutation: "basic-401-without-challenge", flow: "oauth2", want: []string{"TOK-015"}},
		{mutation: "reject-basic", flow: "oauth2", profile: "rfc6749", want: []string{"TOK-016", "TOK-019", "META-003"}}, // the metadata still advertises client_secret_basic
		{mutation: "reject-json", flow: "oauth2", want: []string{"TOK-020"}},
		{mutation: "allow-two-auth-methods", flow: "oauth2", want: []string{"TOK-021"}},
		{mutation: "ignore-missing-grant-type", flow: "oauth2", want: []string{"TOK-022"}, exact: true},
		{mutation: "accept-any-grant-type", flow: "oauth2", want: []string{"TOK-023"}},
		{mutation: "reject-unknown-params", flow: "simple", want: []string{"TOK-024"}},
		{mutation: "empty-scope-invalid", flow: "oauth2", want: []string{"TOK-025"}, exact: true},
		{mutation: "allow-repeated-params", flow: "oauth2", want: []string{"TOK-026"}},
		{mutation: "accept-any-bearer", flow: "simple", want: []string{"BEAR-004"}, exact: true}, // the refusal checks (bearer, JWT, expiry): INCONCLUSIVE, see BEAR-004
		{mutation: "accept-expired", flow: "simple", want: []string{"EXP-005", "EXP-012"}},
		{mutation: "accept-expired-behind-403", flow: "simple", want: []string{"EXP-005"}}, // "refused" is "answered unlike the live token", not ">= 400"
		{mutation: "accept-expired", flow: "simple", expiry: true, noControl: true, want: []string{"EXP-005"}},
		{mutation: "ignore-scope", flow: "oauth2", want: []string{"BEAR-017"}},
		{mutation: "case-sensitive-scheme", flow: "simple", want: []string{"BEAR-006"}, exact: true},
		{mutation: "accept-any-scheme", flow: "simple", want: []string{"BEAR-007"}, exact: true},
		{mutation: "accept-query-token", flow: "simple", want: []string{"BEAR-011"}, exact: true},
		{mutation: "empty-bearer-500", flow: "simple", want: []string{"BEAR-008"}},
		{mutation: "single-space-only", flow: "simple", want: []string{"BEAR-010"}, exact: true},
		{mutation: "401-without-challenge", flow: "simple", want: []string{"BEAR-002"}, exact: true},
		{mutation: "bare-challenge", flow: "simple", want: []string{"BEAR-016"}},
		{mutation: "error-code-without-credentials", flow: "simple", want: []string{"BEAR-003"}},
		{mutation: "invalid-token-403", flow: "simple", want: []string{"BEAR-004", "BEAR-018"}, exact: true},
		{mutation: "no-auth-on-route", flow: "simple", want: []string{"BEAR-019"}, exact: true},             // the others that need enforcement: INCONCLUSIVE
		{mutation: "insufficient-scope-401", flow: "oauth2", want: []string{"BEAR-017"}, exact: true},       // a WARN at SHOULD: 403 is RFC 6750 §3.1's SHOULD
		{mutation: "valid-token-403-no-challenge", flow: "simple", want: []string{"BEAR-017"}, exact: true}, // RFC 6750 §3: a refused token gets a challenge
		{mutation: "forget-token-after-forgery", flow: "oauth2", want: []string{"BEAR-025"}, exact: true},   // the checks after the first forgery: INCONCLUSIVE
		{mutation: "reflect-token", flow: "simple", want: []string{"BEAR-021"}},
		{mutation: "expired-without-error-code", flow: "simple", want: []string{"EXP-006"}},
		{mutation: "expired-without-error-code", flow: "simple", expiry: true, noControl: true, want: []string{"EXP-006"}},
		{mutation: "jwt-accept-alg-none", flow: "oauth2", want: []string{"JWT-004"}, exact: true},
		{mutation: "jwt-ignore-signature", flow: "oauth2", want: []string{"JWT-005", "JWT-007", "BEAR-005"}},
		{mutation: "jwt-hmac-public-key", flow: "oauth2", want: []string{"JWT-006"}},
		{mutation: "jwt-trust-embedded-jwk", flow: "oauth2", want: []string{"JWT-007"}},
		{mutation: "jwt-skip-unknown-kid", flow: "oauth2", want: []string{"JWT-008"}, exact: true},
		{mutation: "jwt-accept-null-signature", flow: "oauth2", want: []string{"JWT-010"}},
		{mutation: "jwt-accept-hs256-empty-key", flow: "oauth2", want: []string{"JWT-010"}},
		{mutation: "jwt-alg-none-blocklist", flow: "oauth2", want: []string{"JWT-010"}},
		{mutation: "jwt-kid-file-path", flow: "oauth2", want: []string{"JWT-011"}},
		{mutation: "jwt-kid-sql-injection", flow: "oauth2", want: []string{"JWT-011"}},
		{mutation: "jwt-trust-jku", flow: "oauth2", want: []string{"JWT-012"}},
		{mutation: "jwt-fetch-jku", flow: "oauth2", want: []string{"JWT-012"}},                                    // a WARN: fetched, not trusted
		{mutation: "jwt-typ-jwt", flow: "oauth2", profile: "rfc9068", want: []string{"JWT-002"}, exact: true},     // INFO outside rfc9068
		{mutation: "jwt-missing-jti", flow: "oauth2", profile: "rfc9068", want: []string{"JWT-003"}, exact: true}, // INFO outside rfc9068
		{mutation: "jwt-no-kid-two-keys", flow: "oauth2", want: []string{"JWT-009"}, exact: true},                 // a WARN
		{mutation: "jwks-wrong-key", flow: "oauth2", want: []string{"JWT-001"}},
		{mutation: "metadata-wrong-issuer", flow: "oauth2", want: []string{"META-002"}},
		{mutation: "openid-discovery-wrong-issuer", flow: "oauth2", want: []string{"META-002"}},
		{mutation: "metadata-wrong-token-endpoint", flow: "oauth2", want: []string{"META-003"}},
		{mutation: "revoke-204", flow: "oauth2", want: []string{"REV-001"}},
		{mutation: "revoke-unknown-token-400", flow: "simple", want: []string{"REV-003"}},
		{mutation: "revoke-noop", flow: "simple", want: []string{"REV-002"}},
		{mutation: "revoke-without-auth", flow: "oauth2", want: []string{"REV-004"}},
		{mutation: "revoke-other-clients-token", flow: "simple", want: []string{"REV-005"}},
		{mutation: "revoke-refuses-client", flow: "oauth2", want: []string{"REV-001"}, exact: true},
		{mutation: "jwt-revocation-ignored-by-cache", flow: "oauth2", want: []string{"REV-002"}},
		{mutation: "introspect-without-auth", flow: "oauth2", want: []string{"INTRO-001"}},
		{mutation: "introspect-dead-active", flow: "oauth2", want: []string{"INTRO-003"}},
		{mutation: "introspect-inactive-leaks-claims", flow: "oauth2", want: []string{"INTRO-003"}},    // a WARN: the RFC's SHOULD NOT
		{mutation: "introspection-advertised-not-served", flow: "oauth2", want: []string{"INTRO-002"}}, // optional in the document, but the metadata advertises it
		// The GraphQL endpoint's defects: each caught by its GQL check alone.
		{mutation: "graphql-data-without-token", flow: "simple", want: []string{"GQL-001"}, exact: true}, // the checks that need enforcement: INCONCLUSIVE, see GQL-001
		{mutation: "graphql-auth-only-on-post", flow: "oauth2", want: []string{"GQL-007"}, exact: true},
		{mutation: "graphql-batch-skips-auth", flow: "simple", want: []string{"GQL-007"}, exact: true},
		{mutation: "graphql-ignore-field-scope", flow: "oauth2", want: []string{"GQL-009"}, exact: true},
		{mutation: "graphql-alias-skips-scope", flow: "oauth2", want: []string{"GQL-009"}, exact: true},
		{mutation: "graphql-error-echoes-token", flow: "oauth2", want: []string{"GQL-011"}, exact: true},
		{mutation: "graphql-accept-expired", flow: "simple", want: []string{"GQL-003"}, exact: true},              // the REST routes refuse the token: not EXP-005's
		{mutation: "graphql-introspection-without-token", flow: "simple", want: []string{"GQL-008"}, exact: true}, // a WARN
		// The legacy shape where the target configuration does not allow it.
		{mutation: "graphql-legacy-signalling", flow: "oauth2", want: []string{"GQL-001"}, exact: true},
	}
}

func variations() []variant {
	var out []variant
	for _, m := range []string{"lowercase-token-type", "charset-parameters", "split-cache-control", "reordered-challenge", "extra-members", "invalid-client-400", "rate-limit", "revocation-delay", "revoke-empty-body", "jwt-refuse-key-urls", "openid-discovery-only", "expires-in-rounded-down", "problem-json-400-with-error", "jwt-no-kid-one-key"} {
		for _, flow := range []string{"simple", "oauth2"} {
			out = append(out, variant{mutation: m, flow: flow, expiry: true})
		}
	}
	// Real servers' oddities in answering tokens: a valid token refused by
	// design with 403 (zitadel's userinfo), bad tokens answered 400 (as
	// go-oauth2's example route, but with the challenge): only the SHOULD
	// of the 401 warns.
	for _, flow := range []string{"simple", "oauth2"} {
		out = append(out,
			variant{mutation: "valid-token-403", flow: flow, expiry: true},
			variant{mutation: "invalid-token-400", flow: flow, expiry: true, warn: []string{"BEAR-004"}})
	}
	// The legacy "200 + errors + data: null" GraphQL signalling, where the
	// target configuration allows it.
	for _, flow := range []string{"simple", "oauth2"} {
		out = append(out, variant{mutation: "graphql-legacy-signalling", flow: flow, expiry: true, env: []string{"TOLLGATE_GRAPHQL_SIGNALLING=errors200"}})
	}
	// The waiting path, against the baseline the clock-moving runs set.
	for _, m := range []string{"rate-limit", "revocation-delay"} {
		out = append(out, variant{mutation: m, flow: "oauth2", expiry: true, noControl: true})
	}
	return out
}

// TestEveryMutationIsExercised: each mutation of the mock is in mutants()
// (a defect some check must catch) or in variations() (conformant, and so
// area "variation"), and nothing else is listed.
func TestEveryMutationIsExercised(t *testing.T) {
	t.Parallel()
	listed := map[string]bool{}
	for _, v := range mutants() {
		if len(v.want) == 0 {
			t.Errorf("mutant %s names no check that must catch it", v.mutation)
		}
		listed[v.mutation] = true
	}
	variation := map[string]bool{}
	for _, v := range variations() {
		variation[v.mutation] = true
	}
	for _, m := range mockserver.Mutations() {
		switch {
		case m.Area == "variation" && !variation[m.Name]:
			t.Errorf("variation %s is not in variations()", m.Name)
		case m.Area != "variation" && !listed[m.Name]:
			t.Errorf("mutation %s is not in mutants(): which check catches it?", m.Name)
		}
		delete(listed, m.Name)
		delete(variation, m.Name)
	}
	for name := range listed {
		t.Errorf("mutants() lists %s, which the mock does not know", name)
	}
	for name := range variation {
		t.Errorf("variations() lists %s, which the mock does not know", name)
	}
}

// TestSuiteStrengthListsEveryMutation: docs/suite-strength.md, the
// published account of the selftest, has a row for every mutation of the
// mock, mutant or variation.
func TestSuiteStrengthListsEveryMutation(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "suite-strength.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mockserver.Mutations() {
		if !strings.Contains(string(data), "| `"+m.Name+"`") {
			t.Errorf("docs/suite-strength.md has no row for %s (%s)", m.Name, m.Area)
		}
	}
}

// tollgateBinary builds cmd/tollgate once for the whole test.
func tollgateBinary(t *testing.T) string {
	t.Helper()
	return buildOnce(t)
}

var buildOnce = func() func(t *testing.T) string {
	var once sync.Once
	var path string
	var err error
	return func(t *testing.T) string {
		once.Do(func() {
			dir, mkErr := os.MkdirTemp("", "tollgate-selftest")
			if mkErr != nil {
				err = mkErr
				return
			}
			path = filepath.Join(dir, "tollgate")
			out, buildErr := exec.Command("go", "build", "-o", path, "../../cmd/tollgate").CombinedOutput()
			if buildErr != nil {
				err = fmt.Errorf("go build: %w\n%s", buildErr, out)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return path
	}
}()

// result is one `tollgate check` run.
type result struct {
	exit     int
	verdicts map[string]framework.Verdict // by check ID
	messages map[string]string            // by check ID: why, for anything but PASS
	output   string
}

// check starts the mock with v's mutation and runs `tollgate check` at it.
func check(t *testing.T, v variant) result {
	t.Helper()
	var muts []string
	if v.mutation != "" {
		muts = []string{v.mutation}
	}
	// 127.0.0.1, the system clock: tokens really expire when the run waits,
	// and the control API moves the clock when it does not.
	srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{Mutations: muts, OmitOptional: v.omitOptional}), mockservertest.WithSystemClock())
	target := srv.TargetConfig(t, v.flow)

	summary := filepath.Join(t.TempDir(), "summary.json")
	args := []string{"check", "--target", srv.URL, "--flow", v.flow, "--fail-on", "should", "--summary-json", summary, "--max-expiry-wait", "20s", "--leeway", "3s"}
	if v.profile != "" {
		args = append(args, "--profile", v.profile)
	}
	if v.noControl {
		args = append(args, "--no-control")
	}
	for _, c := range v.require {
		args = append(args, "--require", c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tollgateBinary(t), args...)
	cmd.Env = os.Environ()
	clients := []struct {
		env string
		c   probe.Credentials
	}{
		{"TOLLGATE_CLIENT", target.Client},
		{"TOLLGATE_SCOPED_CLIENT", target.ScopedClient},
		// A second client for REV-005 (and TOK-017 where Basic works).
		{"TOLLGATE_CLIENT2", target.Client2},
	}
	if v.expiry {
		clients = append(clients, struct {
			env string
			c   probe.Credentials
		}{"TOLLGATE_EXPIRY_CLIENT", target.ExpiryClient})
	}
	for _, cl := range clients {
		if !cl.c.IsZero() {
			cmd.Env = append(cmd.Env, cl.env+"_ID="+cl.c.ID, cl.env+"_SECRET="+cl.c.Secret)
		}
	}
	// BEAR-022: with the control API the check mints its token; without,
	// a live token of the other flow, another audience, when the (mutated)
	// mock issues one.
	var foreign string
	if v.noControl {
		foreign = foreignToken(t, srv, v.flow)
	}
	if foreign != "" {
		cmd.Env = append(cmd.Env, "TOLLGATE_FOREIGN_TOKEN="+foreign)
	}
	cmd.Env = append(cmd.Env, v.env...)
	out, err := cmd.CombinedOutput()
	// Whatever fails, the output never shows a secret or a live token.
	leaks := []string{mockserver.SeedClientSecret, mockserver.ScopedClientSecret}
	if len(foreign) >= 20 { // a real token, not a mutant's placeholder such as "duplicate"
		leaks = append(leaks, foreign)
	}
	for _, secret := range leaks {
		if strings.Contains(string(out), secret) {
			t.Errorf("the output shows a secret or token (%.8s…)", secret)
		}
	}
	// Whatever the checks found, the mock's clock is back: running, and now.
	if off := time.Until(srv.Mock.Clock().Now()).Abs(); off > 2*time.Second {
		t.Errorf("after tollgate check the mock's clock is %v off ours: it was not put back", off)
	}
	res := result{output: string(out), verdicts: map[string]framework.Verdict{}, messages: map[string]string{}}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		res.exit = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("tollgate check: %v\n%s", err, out)
	}
	data, err := os.ReadFile(summary)
	if err != nil {
		t.Fatalf("no summary (exit %d): %v\n%s", res.exit, err, out)
	}
	var s framework.Summary
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Results {
		res.verdicts[r.ID] = r.Verdict
		res.messages[r.ID] = r.Message
	}
	return res
}

// foreignToken returns a token the mock srv issued to the seed
// client for a flow other than flow, or "" when a mutation stops it
// (reject-json on the simple flow): BEAR-022 is then NOT VERIFIED.
func foreignToken(t *testing.T, srv *mockservertest.Server, flow string) string {
	t.Helper()
	for _, f := range srv.Mock.Flows() {
		if f.Name == flow {
			continue
		}
		cfg := srv.TargetConfig(t, f.Name)
		tr, _, err := probe.New(cfg, f).Token(t.Context(), cfg.Client)
		if err != nil {
			t.Logf("no %s token for BEAR-022: %v", f.Name, err)
			return ""
		}
		return tr.AccessToken
	}
	t.Fatalf("no flow but %s to issue a foreign token", flow)
	return ""
}

// TestMutantsAreCaught: every defect fails the run, and the checks named
// for it are among the FAILs and WARNs.
func TestMutantsAreCaught(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs tollgate check once per mutant")
	}
	for _, v := range mutants() {
		t.Run(v.name(), func(t *testing.T) {
			t.Parallel()
			limit(t)
			res := check(t, v)
			for _, why := range missed(v, res) {
				t.Error(why)
			}
			if v.exact {
				if extra := outside(res.verdicts, framework.VerdictFail, v.want); len(extra) > 0 {
					t.Errorf("one fault, one FAIL: also FAIL %s", strings.Join(extra, ", "))
				}
			}
			if t.Failed() {
				t.Logf("tollgate check output:\n%s", res.output)
			}
		})
	}
}

// TestConformantVariationsPass: answers that differ from the mock's usual
// ones but that the RFCs allow fail no check and warn no more than the
// unchanged mock does.
func TestConformantVariationsPass(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs tollgate check once per variation")
	}
	baseline := map[string]map[string]framework.Verdict{}
	var mu sync.Mutex
	t.Run("baseline", func(t *testing.T) {
		for _, flow := range []string{"simple", "oauth2"} {
			t.Run(flow, func(t *testing.T) {
				t.Parallel()
				limit(t)
				res := check(t, variant{flow: flow, expiry: true})
				mu.Lock()
				baseline[flow] = res.verdicts
				mu.Unlock()
				for id, v := range res.verdicts {
					if v == framework.VerdictFail {
						t.Errorf("the correct mock fails %s", id)
					}
				}
			})
		}
	})
	for _, v := range variations() {
		t.Run(v.name()+"/"+v.flow, func(t *testing.T) {
			t.Parallel()
			limit(t)
			res := check(t, v)
			var extra []string
			warned := map[string]bool{}
			for id, got := range res.verdicts {
				switch {
				case got == framework.VerdictWarn && slices.Contains(v.warn, id):
					warned[id] = true
				case (got == framework.VerdictFail || got == framework.VerdictWarn) && baseline[v.flow][id] != got:
					extra = append(extra, fmt.Sprintf("%s %s", id, got))
				}
			}
			sort.Strings(extra)
			if len(extra) > 0 {
				t.Errorf("false positives on a conformant server: %s\n%s", strings.Join(extra, ", "), res.output)
			}
			for _, id := range v.warn {
				if !warned[id] {
					t.Errorf("%s: %s, want WARN", id, res.verdicts[id])
				}
			}
		})
	}
}

// TestSourceDocumentServers: a server that implements a flow's source
// document exactly, without the endpoints the document marks optional,
// passes (no FAIL; the WARNs of the unchanged mock, such as EXP-003's on
// oauth2's 7200 s tokens, remain), with their checks N/A ("not offered");
// with --require for the missing capability, one check fails and says why.
func TestSourceDocumentServers(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs tollgate check once per case")
	}
	tests := []struct {
		v        variant
		notOffer []string // checks that must be N/A, "not offered"
		fail     string   // the one check that must FAIL; "" for none
		message  []string // what its message must say
	}{
		{v: variant{flow: "simple", omitOptional: true, expiry: true},
			notOffer: append([]string{"REV-001", "REV-002", "REV-003", "REV-004", "REV-005"}, gqlChecks()...)},
		{v: variant{flow: "oauth2", omitOptional: true, expiry: true},
			notOffer: append([]string{"INTRO-001", "INTRO-002", "INTRO-003"}, gqlChecks()...)},
		{v: variant{flow: "oauth2", omitOptional: true, require: []string{"graphql"}},
			fail: "GQL-004", message: []string{"graphql is required", "--require graphql", "/api/graphql", "answered 404", "does not offer it"}},
		{v: variant{flow: "simple", omitOptional: true, require: []string{"revocation"}},
			fail: "REV-001", message: []string{"revocation is required", "--require revocation", "/token/revoke", "answered 404", "does not offer it"}},
	}
	for _, tt := range tests {
		name := tt.v.flow + "/require=" + strings.Join(tt.v.require, ",")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			limit(t)
			res := check(t, tt.v)
			if tt.fail != "" && res.exit != 1 {
				t.Errorf("exit %d, want 1 (a check failed)", res.exit)
			}
			for id, got := range res.verdicts {
				if got == framework.VerdictFail && id != tt.fail {
					t.Errorf("%s: FAIL on a server that implements the source document: %s", id, res.messages[id])
				}
			}
			for _, id := range tt.notOffer {
				if got, msg := res.verdicts[id], res.messages[id]; got != framework.VerdictNA || !strings.Contains(msg, "not offered") {
					t.Errorf("%s: %s %q, want N/A, not offered", id, got, msg)
				}
			}
			if tt.fail != "" {
				if got := res.verdicts[tt.fail]; got != framework.VerdictFail {
					t.Errorf("%s: %s, want FAIL", tt.fail, got)
				}
				for _, w := range tt.message {
					if !strings.Contains(res.messages[tt.fail], w) {
						t.Errorf("%s's message %q lacks %q", tt.fail, res.messages[tt.fail], w)
					}
				}
			}
			if t.Failed() {
				t.Logf("tollgate check output:\n%s", res.output)
			}
		})
	}
}

// outside returns, sorted, the checks with verdict v that want does not name.
func outside(verdicts map[string]framework.Verdict, v framework.Verdict, want []string) []string {
	var out []string
	for id, got := range verdicts {
		if got == v && !slices.Contains(want, id) {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// limit bounds how many checks run at once: each is a process sending
// requests to its own mock, and the machine may have two cores.
func limit(t *testing.T) {
	t.Helper()
	slots <- struct{}{}
	t.Cleanup(func() { <-slots })
}

var slots = make(chan struct{}, max(4, runtime.NumCPU()))

// gqlChecks are the IDs of the GQL checks.
func gqlChecks() []string {
	var out []string
	for _, c := range framework.Catalog() {
		if c.Area == framework.AreaGraphQL {
			out = append(out, c.ID)
		}
	}
	return out
}
