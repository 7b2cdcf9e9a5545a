package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/conformance"
	"github.com/tollgate/tollgate/suites/framework"
)

type checkFlags struct {
	config       string
	cfg          framework.Config
	clientSecret string
	secretFiles  map[string]*string
	junitReport  string
	summaryJSON  string
	jsonReport   string
	failOn       string
	waivers      string
	saveToken    string
	listChecks   bool
	labelFilter  string
	ginkgoOutput bool
}

func newCheckCmd(stdout, stderr io.Writer) *cobra.Command {
	fl := checkFlags{secretFiles: map[string]*string{}}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Run the conformance checks against an auth server",
		Long: `Run the conformance checks (docs/checks.md) against a target, for one flow.

Configuration precedence: flags > TOLLGATE_* environment variables > the
target file (--config, or TOLLGATE_CONFIG) > defaults. Secrets come from
TOLLGATE_CLIENT_SECRET (and _CLIENT2_, _EXPIRY_CLIENT_, _SCOPED_CLIENT_) or
from --*-secret-file; they never need to be on the command line.

Waivers (--waivers FILE, or TOLLGATE_WAIVERS) turn the FAIL or WARN of a
check expected to fail into WAIVED; a waived check that passes, or an expired
waiver, fails the run.

Exit codes: 0 no MUST check failed (with --fail-on should: no SHOULD either),
1 a check failed or a waiver needs updating, 2 a configuration or preflight
error.`,
		Example: `  TOLLGATE_CLIENT_ID=testClient TOLLGATE_CLIENT_SECRET=superSecret \
    tollgate check --target http://127.0.0.1:4455 --flow simple --junit-report junit.xml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fl.listChecks {
				return listChecks(stdout)
			}
			return runCheck(cmd, fl, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.config, "config", "", "target file (YAML, see docs/check.md)")
	f.StringVar(&fl.cfg.Target, "target", "", "base URL of the server under test")
	f.StringVar(&fl.cfg.Flow, "flow", "", "a built-in flow (simple, oauth2) or a path to a flow document")
	f.StringVar(&fl.cfg.Profile, "profile", "", "rfc6749, oauth21, cl or simple (default: the flow document's)")
	f.StringVar(&fl.cfg.Client.ID, "client-id", "", "primary client id (or TOLLGATE_CLIENT_ID)")
	f.StringVar(&fl.clientSecret, "client-secret", "", "primary client secret: visible in ps; prefer TOLLGATE_CLIENT_SECRET or --client-secret-file")
	for _, c := range []struct{ name, what string }{{"client", "primary"}, {"client2", "second"}, {"expiry-client", "short-lived expiry"}, {"scoped-client", "scope-limited"}} {
		fl.secretFiles[c.name] = f.String(c.name+"-secret-file", "", "file holding the "+c.what+" client's secret")
	}
	f.StringVar(&fl.cfg.Client2.ID, "client2-id", "", "a second client id, for cross-client checks")
	f.StringVar(&fl.cfg.ExpiryClient.ID, "expiry-client-id", "", "a client with short-lived tokens, for EXP-005")
	f.StringVar(&fl.cfg.ScopedClient.ID, "scoped-client-id", "", "a client limited to some scopes, for BEAR-017")
	f.StringVar(&fl.cfg.RevocationEndpoint, "revocation-endpoint", "", "RFC 7009 revocation endpoint, a URL or a path on the target (default: the flow document's, else RFC 8414 metadata)")
	f.StringVar(&fl.cfg.IntrospectionEndpoint, "introspection-endpoint", "", "RFC 7662 introspection endpoint, a URL or a path on the target (default: the flow document's, else RFC 8414 metadata)")
	f.DurationVar(&fl.cfg.RevocationPropagation, "revocation-propagation", 0, "how long a revoked token may keep working, for REV-002 (default 5s)")
	f.DurationVar(&fl.cfg.MaxExpiryWait, "max-expiry-wait", 0, "longest the expiry checks may wait (default 30s)")
	f.DurationVar(&fl.cfg.Leeway, "leeway", 0, "grace accepted after a token's exp (default 5s)")
	f.DurationVar(&fl.cfg.Timeout, "timeout", 0, "per-request timeout (default 10s)")
	f.IntVar(&fl.cfg.TokenBudget, "token-budget", 0, "most token requests in a run (default 100)")
	f.Float64Var(&fl.cfg.RequestRate, "request-rate", 0, "most requests per second (default unlimited)")
	f.BoolVar(&fl.cfg.Insecure, "insecure", false, "allow plain http to a non-loopback target")
	f.StringArrayVar(&fl.cfg.Operations, "operation", nil, "probe only this protected operation, by operationId or \"METHOD /path\" (repeatable; default: every one the flow document secures)")
	f.StringSliceVar(&fl.cfg.OptIn, "opt-in", nil, "turn on checks that are off by default, e.g. TOK-029,TOK-037 (see docs/check.md)")
	f.StringVar(&fl.cfg.StaleTokenFile, "stale-token-file", "", "a token file written by an earlier run's --save-token, for EXP-012")
	f.StringVar(&fl.saveToken, "save-token", "", "after the run, write the primary client's token to FILE (mode 0600) for a later --stale-token-file")
	f.StringVar(&fl.junitReport, "junit-report", "", "write a JUnit XML report to FILE")
	f.StringVar(&fl.jsonReport, "json-report", "", "write the Ginkgo JSON report to FILE")
	f.StringVar(&fl.summaryJSON, "summary-json", "", "write the verdicts (id, flow, level, verdict, message) as JSON to FILE")
	f.StringVar(&fl.failOn, "fail-on", "must", "what fails the run: must or should")
	f.StringVar(&fl.waivers, "waivers", "", "YAML list of expected failures (check, flow, reason, expires); or TOLLGATE_WAIVERS")
	f.BoolVar(&fl.listChecks, "list-checks", false, "print the check catalog and exit")
	f.StringVar(&fl.labelFilter, "label-filter", "", "run only checks matching a Ginkgo label filter, e.g. 'area:token && level:MUST'")
	f.BoolVar(&fl.ginkgoOutput, "verbose", false, "also print Ginkgo's progress output")
	return cmd
}

// resolveCheckConfig merges flags over TOLLGATE_* over the target file.
func resolveCheckConfig(cmd *cobra.Command, fl checkFlags, stderr io.Writer) (framework.Config, error) {
	var cfg framework.Config
	file := fl.config
	if file == "" {
		file = os.Getenv("TOLLGATE_CONFIG")
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return cfg, usagef("target file: %v (give an existing file to --config)", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, usageError{describeYAMLError("target file", "docs/check.md", file, err)}
		}
	}
	if err := cfg.ApplyEnv(os.LookupEnv); err != nil {
		return cfg, usageError{err}
	}
	flags := cmd.Flags()
	set := func(name string, apply func()) {
		if flags.Changed(name) {
			apply()
		}
	}
	set("target", func() { cfg.Target = fl.cfg.Target })
	set("flow", func() { cfg.Flow = fl.cfg.Flow })
	set("profile", func() { cfg.Profile = fl.cfg.Profile })
	set("client-id", func() { cfg.Client.ID = fl.cfg.Client.ID })
	set("client2-id", func() { cfg.Client2.ID = fl.cfg.Client2.ID })
	set("expiry-client-id", func() { cfg.ExpiryClient.ID = fl.cfg.ExpiryClient.ID })
	set("scoped-client-id", func() { cfg.ScopedClient.ID = fl.cfg.ScopedClient.ID })
	set("revocation-endpoint", func() { cfg.RevocationEndpoint = fl.cfg.RevocationEndpoint })
	set("introspection-endpoint", func() { cfg.IntrospectionEndpoint = fl.cfg.IntrospectionEndpoint })
	set("revocation-propagation", func() { cfg.RevocationPropagation = fl.cfg.RevocationPropagation })
	set("max-expiry-wait", func() { cfg.MaxExpiryWait = fl.cfg.MaxExpiryWait })
	set("leeway", func() { cfg.Leeway = fl.cfg.Leeway })
	set("timeout", func() { cfg.Timeout = fl.cfg.Timeout })
	set("token-budget", func() { cfg.TokenBudget = fl.cfg.TokenBudget })
	set("request-rate", func() { cfg.RequestRate = fl.cfg.RequestRate })
	set("insecure", func() { cfg.Insecure = fl.cfg.Insecure })
	set("opt-in", func() { cfg.OptIn = append([]string(nil), fl.cfg.OptIn...) })
	set("operation", func() { cfg.Operations = append([]string(nil), fl.cfg.Operations...) })
	set("stale-token-file", func() { cfg.StaleTokenFile = fl.cfg.StaleTokenFile })
	set("client-secret", func() {
		fmt.Fprintln(stderr, "tollgate: warning: --client-secret shows in ps and shell history; prefer TOLLGATE_CLIENT_SECRET or --client-secret-file")
		cfg.Client.Secret = fl.clientSecret
	})
	for name, dst := range map[string]*framework.Credentials{"client": &cfg.Client, "client2": &cfg.Client2, "expiry-client": &cfg.ExpiryClient, "scoped-client": &cfg.ScopedClient} {
		if flags.Changed(name + "-secret-file") {
			dst.Secret, dst.SecretFile = "", *fl.secretFiles[name]
		}
	}
	if fl.failOn != "must" && fl.failOn != "should" {
		return cfg, usagef("--fail-on %q: use must or should", fl.failOn)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usageError{err}
	}
	return cfg, nil
}

// resolveFlow finds a built-in flow by name, else loads a document path.
func resolveFlow(ctx context.Context, name string) (*spec.Flow, error) {
	builtin, err := spec.LoadAll(ctx, openapi.FS())
	if err != nil {
		return nil, fmt.Errorf("built-in flow documents: %w", err)
	}
	var names []string
	for _, f := range builtin {
		if f.Name == name {
			return f, nil
		}
		names = append(names, f.Name)
	}
	if _, statErr := os.Stat(name); statErr != nil {
		return nil, usagef("unknown flow %q: use %s, or a path to a flow document", name, strings.Join(names, ", "))
	}
	f, err := spec.LoadFile(ctx, name)
	if err != nil {
		return nil, usageError{err}
	}
	return f, nil
}

// ginkgoT is what RunSpecs needs of a testing.T.
type ginkgoT struct{ failed bool }

func (t *ginkgoT) Fail() { t.failed = true }

func runCheck(cmd *cobra.Command, fl checkFlags, stdout, stderr io.Writer) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	cfg, err := resolveCheckConfig(cmd, fl, stderr)
	if err != nil {
		return err
	}
	flow, err := resolveFlow(ctx, cfg.Flow)
	if err != nil {
		return err
	}
	for flag, path := range map[string]string{"--junit-report": fl.junitReport, "--json-report": fl.jsonReport, "--summary-json": fl.summaryJSON} {
		if err := canWrite(path); err != nil {
			return usagef("%s: %w (give a writable path)", flag, err)
		}
	}
	waiversFile := fl.waivers
	if !cmd.Flags().Changed("waivers") {
		waiversFile = os.Getenv("TOLLGATE_WAIVERS")
	}
	var waivers []framework.Waiver
	if waiversFile != "" {
		if waivers, err = framework.LoadWaivers(waiversFile); err != nil {
			return usageError{err}
		}
	}
	f := framework.New(cfg, flow)
	preflightCtx, cancel := context.WithTimeout(ctx, 2*cfg.Timeout+5*time.Second)
	defer cancel()
	if err := f.Preflight(preflightCtx); err != nil {
		return usageError{fmt.Errorf("preflight: %w", err)}
	}
	if fl.saveToken != "" { // now, so that a bad path ends the run before any check
		if err := f.SavePrimaryToken(fl.saveToken); err != nil {
			return usagef("--save-token: %w (give a writable path)", err)
		}
	}

	testing.Init()
	gomega.RegisterFailHandler(ginkgo.Fail)
	conformance.Define(f)
	var report types.Report
	ginkgo.ReportAfterSuite("tollgate summary", func(r ginkgo.Report) { report = r })

	suiteConfig, reporterConfig := types.NewDefaultSuiteConfig(), types.NewDefaultReporterConfig()
	suiteConfig.LabelFilter = fl.labelFilter
	suiteConfig.Timeout = 2 * time.Hour
	reporterConfig.Succinct = true
	reporterConfig.SilenceSkips = true
	reporterConfig.NoColor = true
	reporterConfig.JSONReport = fl.jsonReport
	if !fl.ginkgoOutput {
		restore, err := silenceStdout()
		if err == nil {
			defer restore()
		}
		ginkgo.RunSpecs(&ginkgoT{}, "Tollgate conformance: "+flow.Name, suiteConfig, reporterConfig)
		if restore != nil {
			restore()
		}
	} else {
		ginkgo.RunSpecs(&ginkgoT{}, "Tollgate conformance: "+flow.Name, suiteConfig, reporterConfig)
	}

	summary := framework.Summarize(report)
	if len(summary.Results) == 0 {
		return usagef("no check ran: the label filter %q selects none (see --list-checks)", fl.labelFilter)
	}
	summary, waiverProblems := summary.ApplyWaivers(waivers, time.Now())
	fmt.Fprintf(stdout, "tollgate check: %s, flow %s, profile %s\n", cfg.Target, flow.Name, f.Profile())
	summary.Render(stdout)
	if len(waiverProblems) > 0 {
		fmt.Fprintf(stdout, "\nwaivers (%s):\n", waiversFile)
		for _, p := range waiverProblems {
			fmt.Fprintf(stdout, "  %s\n", p)
		}
	}
	if fl.junitReport != "" {
		// Written here, not by Ginkgo, so that waivers and --fail-on
		// show in it as they do in the exit code.
		if err := framework.WriteJUnit(fl.junitReport, report, summary, fl.failOn); err != nil {
			return usagef("--junit-report: %w", err)
		}
		fmt.Fprintf(stdout, "JUnit report: %s\n", fl.junitReport)
	}
	if fl.saveToken != "" {
		fmt.Fprintf(stdout, "saved the primary token to %s: after it expires, run again with --stale-token-file %s (EXP-012)\n", fl.saveToken, fl.saveToken)
	}
	if fl.summaryJSON != "" {
		data, err := json.MarshalIndent(summary, "", "  ")
		if err != nil {
			return fmt.Errorf("summary: %w", err)
		}
		if err := os.WriteFile(fl.summaryJSON, append(data, '\n'), 0o644); err != nil {
			return usagef("--summary-json: %w", err)
		}
	}
	if summary.Failed(fl.failOn) {
		return errors.New("conformance checks failed (see above)")
	}
	if len(waiverProblems) > 0 {
		return fmt.Errorf("%d waiver(s) need updating in %s (see above)", len(waiverProblems), waiversFile)
	}
	return nil
}

// canWrite reports why a report could not be written to path, before a
// run that would otherwise end without its report; "" is fine.
func canWrite(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// listChecks prints the catalog as YAML.
func listChecks(w io.Writer) error {
	type entry struct {
		ID     string            `yaml:"id"`
		Area   string            `yaml:"area"`
		Title  string            `yaml:"title"`
		Source string            `yaml:"source"`
		Levels map[string]string `yaml:"levels"`
	}
	var out []entry
	for _, c := range framework.Catalog() {
		levels := map[string]string{}
		for _, p := range spec.Profiles() {
			levels[p] = string(c.Level(p))
		}
		out = append(out, entry{c.ID, c.Area, c.Title, c.Source, levels})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("list checks: %w", err)
	}
	return enc.Close()
}
