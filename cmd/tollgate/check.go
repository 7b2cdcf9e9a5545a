package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
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
	"github.com/tollgate/tollgate/suites/load"
)

type checkFlags struct {
	targetFlags
	junitReport  string
	summaryJSON  string
	htmlReport   string
	jsonReport   string
	failOn       string
	waivers      string
	saveToken    string
	listChecks   bool
	labelFilter  string
	ginkgoOutput bool
	load         bool
	thresholdFlags
}

func newCheckCmd(stdout, stderr io.Writer) *cobra.Command {
	var fl checkFlags
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Run the conformance checks against an auth server",
		Long: `Run the conformance checks (docs/checks.md) against a target, for one flow.

Configuration precedence: flags > TOLLGATE_* environment variables > the
target file (--config, or TOLLGATE_CONFIG) > defaults. Secrets come from
TOLLGATE_CLIENT_SECRET (and _CLIENT2_, _EXPIRY_CLIENT_, _SCOPED_CLIENT_) or
from --*-secret-file; they never need to be on the command line.

With --api-spec FILE (your own OpenAPI 3.0/3.1 document), the checks probe
the operations it secures with a Bearer scheme instead of the flow
document's; the token side still comes from --flow (docs/check.md).

Against a Tollgate mock (a target that answers GET /_tollgate/clock), the
expiry checks move the target's clock through its control API instead of
waiting, and put it back; --no-control waits instead (docs/check.md).

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
	fl.register(f)
	f.StringVar(&fl.cfg.Profile, "profile", "", "rfc6749, oauth21, cl, simple or rfc9068 (rfc6749 with RFC 9068 JWTs; default: the flow document's)")
	f.IntVar(&fl.cfg.TokenBudget, "token-budget", 0, "most token requests in a run (default 100)")
	f.Float64Var(&fl.cfg.RequestRate, "request-rate", 0, "most requests per second (default unlimited)")
	f.StringVar(&fl.cfg.RevocationEndpoint, "revocation-endpoint", "", "RFC 7009 revocation endpoint, a URL or a path on the target (default: the flow document's, else RFC 8414 metadata)")
	f.StringVar(&fl.cfg.IntrospectionEndpoint, "introspection-endpoint", "", "RFC 7662 introspection endpoint, a URL or a path on the target (default: the flow document's, else RFC 8414 metadata)")
	f.StringVar(&fl.cfg.JWKSURI, "jwks-uri", "", "the JWK Set for the JWT checks, a URL or a path on the target (default: the flow document's, else the metadata's jwks_uri, else /.well-known/jwks.json)")
	f.StringVar(&fl.cfg.MetadataURL, "metadata-url", "", "the RFC 8414 or OpenID discovery metadata, a URL or a path on the target (default: the flow document's, else both well-known URLs)")
	f.StringSliceVar(&fl.cfg.Require, "require", nil, "fail, rather than N/A, when the target lacks a capability the flow document marks optional: "+strings.Join(spec.Capabilities(), ", ")+" (repeatable)")
	f.DurationVar(&fl.cfg.RevocationPropagation, "revocation-propagation", 0, "how long a revoked token may keep working, for REV-002 (default 5s)")
	f.StringArrayVar(&fl.cfg.Operations, "operation", nil, "probe only this protected operation, by operationId or \"METHOD /path\" (repeatable; default: every one the flow document secures)")
	f.StringSliceVar(&fl.cfg.OptIn, "opt-in", nil, "turn on checks that are off by default, e.g. TOK-028,TOK-029,TOK-037 (see docs/check.md)")
	f.BoolVar(&fl.cfg.NoControl, "no-control", false, "never use the target's control API (a Tollgate mock's /_tollgate/): wait out token lifetimes in real time")
	f.StringVar(&fl.cfg.StaleTokenFile, "stale-token-file", "", "a token file written by an earlier run's --save-token, for EXP-012")
	f.StringVar(&fl.saveToken, "save-token", "", "after preflight, write the primary client's token to FILE (mode 0600) for a later --stale-token-file")
	f.StringVar(&fl.junitReport, "junit-report", "", "write a JUnit XML report to FILE")
	f.StringVar(&fl.jsonReport, "json-report", "", "write the Ginkgo JSON report to FILE")
	f.StringVar(&fl.htmlReport, "html-report", "", "write a self-contained HTML page of the run to FILE: counts, each FAIL and WARN with its evidence and curl, waivers, configuration (no secrets)")
	f.StringVar(&fl.summaryJSON, "summary-json", "", "write the verdicts (id, flow, level, verdict, message) as JSON to FILE")
	f.StringVar(&fl.failOn, "fail-on", "must", "what fails the run: must or should")
	f.StringVar(&fl.waivers, "waivers", "", "YAML list of expected failures (check, flow, reason, expires); or TOLLGATE_WAIVERS")
	f.BoolVar(&fl.listChecks, "list-checks", false, "print the check catalog and exit")
	f.StringVar(&fl.labelFilter, "label-filter", "", "run only checks matching a Ginkgo label filter, e.g. 'area:token && level:MUST'")
	f.BoolVar(&fl.ginkgoOutput, "verbose", false, "also print Ginkgo's progress output")
	f.BoolVar(&fl.load, "load", false, "also run the specs labelled load: a short bounded validate run asserting the thresholds below (see docs/load.md)")
	fl.registerThresholds(cmd)
	return cmd
}

// resolveCheckConfig merges flags over TOLLGATE_* over the target file.
func resolveCheckConfig(cmd *cobra.Command, fl checkFlags, stderr io.Writer) (framework.Config, error) {
	if fl.failOn != "must" && fl.failOn != "should" {
		return framework.Config{}, usagef("--fail-on %q: use must or should", fl.failOn)
	}
	cfg, err := fl.resolve(cmd, stderr, func(set func(string, func()), cfg *framework.Config) {
		set("profile", func() { cfg.Profile = fl.cfg.Profile })
		set("token-budget", func() { cfg.TokenBudget = fl.cfg.TokenBudget })
		set("request-rate", func() { cfg.RequestRate = fl.cfg.RequestRate })
		set("revocation-endpoint", func() { cfg.RevocationEndpoint = fl.cfg.RevocationEndpoint })
		set("introspection-endpoint", func() { cfg.IntrospectionEndpoint = fl.cfg.IntrospectionEndpoint })
		set("jwks-uri", func() { cfg.JWKSURI = fl.cfg.JWKSURI })
		set("metadata-url", func() { cfg.MetadataURL = fl.cfg.MetadataURL })
		set("revocation-propagation", func() { cfg.RevocationPropagation = fl.cfg.RevocationPropagation })
		set("require", func() { cfg.Require = append([]string(nil), fl.cfg.Require...) })
		set("opt-in", func() { cfg.OptIn = append([]string(nil), fl.cfg.OptIn...) })
		set("operation", func() { cfg.Operations = append([]string(nil), fl.cfg.Operations...) })
		set("stale-token-file", func() { cfg.StaleTokenFile = fl.cfg.StaleTokenFile })
		set("no-control", func() { cfg.NoControl = fl.cfg.NoControl })
		fl.apply(set, cfg)
	})
	if err != nil {
		return cfg, err
	}
	if _, err := loadThresholds(cfg); err != nil {
		return cfg, err
	}
	if _, err := load.ParseMix(cfg.Load.Mix); err != nil {
		return cfg, usagef("load.mix: %v", err)
	}
	if cfg.Load.Rate != "" {
		if _, err := load.ParseRate(cfg.Load.Rate); err != nil {
			return cfg, usagef("load.rate: %v", err)
		}
	}
	return cfg, nil
}

// resolveFlow finds a built-in flow by name, else loads a document path.
func resolveFlow(ctx context.Context, name string) (*spec.Flow, error) {
	builtin, err := spec.ReadAll(ctx, openapi.FS())
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
	f, err := spec.ReadFile(ctx, name)
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
	flow, api, err := withAPISpec(ctx, cfg, flow)
	if err != nil {
		return err
	}
	for flag, path := range map[string]string{"--junit-report": fl.junitReport, "--json-report": fl.jsonReport, "--summary-json": fl.summaryJSON, "--html-report": fl.htmlReport} {
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
		if waivers, err = framework.ReadWaivers(waiversFile); err != nil {
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
	suiteConfig.LabelFilter = checkLabelFilter(fl.labelFilter, fl.load)
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

	// The checks put the target's clock back themselves; this covers one
	// interrupted before its cleanup ran.
	restoreCtx, cancelRestore := context.WithTimeout(context.WithoutCancel(ctx), 2*cfg.Timeout)
	if err := f.RestoreClock(restoreCtx); err != nil {
		fmt.Fprintf(stderr, "tollgate: warning: %v: reset it with DELETE %s/_tollgate/clock\n", err, cfg.Target)
	}
	cancelRestore()

	summary := framework.Summarize(report)
	summary.Expiry = f.Expiry()
	loadRan, loadFailures := loadResults(report)
	if len(summary.Results) == 0 && loadRan == 0 {
		return usagef("no check ran: the label filter %q selects none (see --list-checks)", fl.labelFilter)
	}
	summary, waiverProblems := summary.ApplyWaivers(waivers, time.Now())
	fmt.Fprintf(stdout, "tollgate check: %s, flow %s, profile %s\n", cfg.Target, flow.Name, f.Profile())
	if api != nil {
		printAPISpec(stdout, api, f.Protected())
	}
	if len(summary.Results) > 0 {
		summary.Render(stdout)
	}
	printLoadResults(stdout, report)
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
	if fl.htmlReport != "" {
		run := f.RunInfo()
		run.FailOn, run.LabelFilter, run.Expiry = fl.failOn, fl.labelFilter, summary.Expiry
		run.WaiversFile, run.Waivers, run.WaiverProblems = waiversFile, waivers, waiverProblems
		run.Failed = summary.Failed(fl.failOn) || loadFailures > 0 || len(waiverProblems) > 0
		run.Version, run.Generated = version(), time.Now()
		if err := framework.WriteHTMLReport(fl.htmlReport, summary, run); err != nil {
			return usagef("--html-report: %w", err)
		}
		fmt.Fprintf(stdout, "HTML report: %s\n", fl.htmlReport)
	}
	if summary.Failed(fl.failOn) {
		return errors.New("conformance checks failed (see above)")
	}
	if loadFailures > 0 {
		return fmt.Errorf("%d load spec(s) failed: a wrong verdict under load or a missed threshold (see above)", loadFailures)
	}
	if len(waiverProblems) > 0 {
		return fmt.Errorf("%d waiver(s) need updating in %s (see above)", len(waiverProblems), waiversFile)
	}
	return nil
}

// printAPISpec says which operations of the API document the checks
// probed, and which they skipped and why.
func printAPISpec(w io.Writer, api *spec.APISpec, probed []spec.Operation) {
	fmt.Fprintf(w, "API document %s (OpenAPI %s): %d protected operation(s) probed, %d skipped\n", api.Document, api.Version, len(probed), len(api.Skipped))
	for _, op := range probed {
		line := "  probed  " + op.Method + " " + op.ProbePath()
		if op.ID != op.Method+" "+op.Path {
			line += " (" + op.ID + ")"
		}
		if len(op.Scopes) > 0 {
			alts := make([]string, len(op.Scopes))
			for i, s := range op.Scopes {
				alts[i] = strings.Join(s, " ")
			}
			line += " scopes: " + strings.Join(alts, " | ")
		}
		fmt.Fprintln(w, line)
	}
	for _, s := range api.Skipped {
		fmt.Fprintf(w, "  skipped %s\n", s)
	}
}

// canWrite reports why a report could not be written to path, before a
// run that would otherwise end without its report; nil is fine. It creates
// nothing: a run that stops at preflight leaves no empty report behind.
func canWrite(path string) error {
	if path == "" {
		return nil
	}
	if info, err := os.Stat(path); err == nil {
		if info.IsDir() {
			return fmt.Errorf("%s is a directory", path)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0) // no O_TRUNC: an old report stays until the new one is written
		if err != nil {
			return err
		}
		return f.Close()
	}
	dir := filepath.Dir(path)
	trial, err := os.CreateTemp(dir, ".tollgate-report-*")
	if err != nil {
		// The trial file's own name means nothing to the user: name the
		// directory and the cause.
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("cannot create %s: directory %s: %w", path, dir, err)
	}
	name := trial.Name()
	if err := trial.Close(); err != nil {
		return errors.Join(err, os.Remove(name))
	}
	return os.Remove(name)
}

// checkLabelFilter leaves the load specs out unless --load or the filter
// asks for them; --load adds them to whatever the filter selects.
func checkLabelFilter(filter string, withLoad bool) string {
	switch {
	case !withLoad:
		return conformance.WithoutLoad(filter)
	case strings.TrimSpace(filter) == "":
		return ""
	default:
		return "(" + filter + ") || " + conformance.LoadLabel
	}
}

// loadSpecs returns the load specs that ran.
func loadSpecs(report types.Report) []types.SpecReport {
	var out []types.SpecReport
	for _, s := range report.SpecReports {
		if s.LeafNodeType == types.NodeTypeIt && s.State != types.SpecStateSkipped && s.State != types.SpecStatePending && slices.Contains(s.Labels(), conformance.LoadLabel) {
			out = append(out, s)
		}
	}
	return out
}

// loadResults counts the load specs that ran and those that failed.
func loadResults(report types.Report) (ran, failed int) {
	for _, s := range loadSpecs(report) {
		ran++
		if s.State.Is(types.SpecStateFailureStates) {
			failed++
		}
	}
	return ran, failed
}

// printLoadResults prints each load spec's summary and, if it failed, why.
func printLoadResults(w io.Writer, report types.Report) {
	for _, s := range loadSpecs(report) {
		verdict := "PASS"
		if s.State.Is(types.SpecStateFailureStates) {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "\n%s  %s\n", verdict, s.FullText())
		for _, e := range s.ReportEntries {
			if e.Name == conformance.LoadEntry || e.Name == "note" {
				fmt.Fprintf(w, "%s\n", strings.TrimRight(e.Value.String(), "\n"))
			}
		}
		if s.State.Is(types.SpecStateFailureStates) {
			msg, _, _ := strings.Cut(s.Failure.Message, "\n")
			fmt.Fprintf(w, "  failure: %s\n", msg)
		}
	}
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
