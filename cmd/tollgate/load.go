package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/load"
)

type loadFlags struct {
	targetFlags
	scenario        string
	rate            string
	rateStep        string
	stepEvery       time.Duration
	rateMax         string
	concurrency     int
	maxWorkers      int
	duration        time.Duration
	requests        uint64
	mix             string
	operations      []string
	tokensPerClient int
	tokenFile       string
	expiredFile     string
	queryFile       string
	issueRate       string
	jsonOut         string
	htmlOut         string
	quiet           bool
	sender          string
	thresholdFlags
}

func newLoadCmd(stdout, stderr io.Writer) *cobra.Command {
	var fl loadFlags
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Benchmark an auth server with a flow's token and protected operations",
		Long: `Send load to a target as a flow document describes it and judge every answer.

Scenarios: validate (default) obtains a few tokens through the flow's token
operation, then calls its protected operations with them, optionally mixed
with invalid, missing and expired tokens (--mix); issue requests tokens at
no more than --issue-rate (429 counts as rate limited, Retry-After is
honoured); mixed measures validation alone, then with issuance running;
graphql sends one fixed query (the SDL's probe query, or --query FILE,
validated against the SDL) to the target's GraphQL endpoint with the same
tokens and --mix, and judges each answer by the endpoint's signalling
(401/403, or 200 with an error code and no data where allowed).

Models: --rate 2000/s sends at that rate whatever the answers (open model,
latency measured from each request's intended send time); --concurrency 64
keeps that many requests in flight (closed model, the default). Every run
stops after --duration or --requests, whichever comes first.

The target configuration is that of tollgate check: flags > TOLLGATE_*
environment > target file (--config). Secrets come from
TOLLGATE_CLIENT_SECRET or --client-secret-file. See docs/load.md.

Exit codes: 0 every verdict right and every threshold met; 1 a wrong verdict
(e.g. a bad token accepted) or a missed threshold; 2 a configuration or
preflight error, with one line naming the fix.`,
		Example: `  TOLLGATE_CLIENT_ID=testClient TOLLGATE_CLIENT_SECRET=superSecret \
    tollgate load --target http://127.0.0.1:4455 --flow simple --duration 5s \
      --mix valid=90,invalid=5,missing=3,expired=2 --max-p99 20ms --json run.json
  tollgate load report a.json b.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLoad(cmd, fl, stdout, stderr) },
	}
	f := cmd.Flags()
	fl.register(f)
	f.StringVar(&fl.scenario, "scenario", "validate", "validate, issue, mixed or graphql")
	f.StringVar(&fl.rate, "rate", "", "open model: requests per period, e.g. 2000/s or 30/min")
	f.StringVar(&fl.rateStep, "rate-step", "", "with --rate: add this rate every --step-every, e.g. 500/s")
	f.DurationVar(&fl.stepEvery, "step-every", 0, "with --rate-step: how long each step lasts")
	f.StringVar(&fl.rateMax, "rate-max", "", "with --rate-step: the highest rate")
	f.IntVar(&fl.concurrency, "concurrency", load.DefaultConcurrency, "closed model: requests in flight")
	f.IntVar(&fl.maxWorkers, "max-workers", load.DefaultMaxWorkers, "open model: most requests in flight")
	f.DurationVar(&fl.duration, "duration", load.DefaultDuration, "how long to send")
	f.Uint64Var(&fl.requests, "requests", load.DefaultMaxRequests, "most requests to send")
	f.StringVar(&fl.mix, "mix", "", "validate: shares of valid, invalid, missing and expired tokens, e.g. valid=90,invalid=5,missing=3,expired=2")
	f.StringSliceVar(&fl.operations, "operation", nil, "validate: protected operations to call, by operationId or \"METHOD /path\" (default: the target file's operations, else all)")
	f.IntVar(&fl.tokensPerClient, "tokens-per-client", 2, "validate: tokens obtained for each configured client")
	f.StringVar(&fl.tokenFile, "token-file", "", "validate: use the valid tokens in FILE (one per line) instead of obtaining any")
	f.StringVar(&fl.expiredFile, "expired-token-file", "", "validate, graphql: tokens known to be expired (one per line), for the expired share")
	f.StringVar(&fl.queryFile, "query", "", "graphql: the query document to send (one operation), validated against the SDL (default: one built from the SDL)")
	f.StringVar(&fl.issueRate, "issue-rate", "30/min", "issue, mixed: the target's token rate ceiling (Commerce Layer documents 30/min)")
	f.StringVar(&fl.jsonOut, "json", "", "write the full report (histogram buckets included) to FILE")
	f.StringVar(&fl.htmlOut, "html", "", "write a self-contained HTML page plotting latency and throughput to FILE")
	f.BoolVar(&fl.quiet, "quiet", false, "no progress lines")
	f.StringVar(&fl.sender, "sender", "wire", "wire (a lean HTTP/1.1 client, one keep-alive connection per worker) or net/http (for HTTP/2 or unusual servers)")
	fl.registerThresholds(cmd)
	cmd.AddCommand(newLoadReportCmd(stdout))
	return cmd
}

// loadPlan is a validated load run.
type loadPlan struct {
	pacer      load.Pacer // nil: closed model
	issuePacer load.Pacer
	mix        load.Mix
	thresholds load.Thresholds
	opts       load.Options
}

func (fl loadFlags) plan(cmd *cobra.Command, cfg framework.Config) (loadPlan, error) {
	var p loadPlan
	switch fl.scenario {
	case "validate", "issue", "mixed", "graphql":
	default:
		return p, usagef("--scenario %q: use validate, issue, mixed or graphql", fl.scenario)
	}
	if fl.queryFile != "" && fl.scenario != "graphql" {
		return p, usagef("--query applies to --scenario graphql")
	}
	if fl.duration <= 0 || fl.requests == 0 {
		return p, usagef("--duration and --requests must be above 0: every run is bounded by both")
	}
	if fl.rate != "" && cmd.Flags().Changed("concurrency") {
		return p, usagef("--rate (open model) and --concurrency (closed model) exclude each other: give one")
	}
	if fl.concurrency <= 0 || fl.maxWorkers <= 0 {
		return p, usagef("--concurrency and --max-workers must be above 0")
	}
	if fl.rate != "" {
		r, err := load.ParseRate(fl.rate)
		if err != nil {
			return p, usagef("--rate: %v", err)
		}
		p.pacer = r
		if fl.rateStep != "" {
			step, err := load.ParseRate(fl.rateStep)
			if err != nil {
				return p, usagef("--rate-step: %v", err)
			}
			if fl.stepEvery <= 0 {
				return p, usagef("--rate-step needs --step-every, e.g. 2s")
			}
			sp := load.StepPacer{Start: r, Step: step, Every: fl.stepEvery}
			if fl.rateMax != "" {
				if sp.Max, err = load.ParseRate(fl.rateMax); err != nil {
					return p, usagef("--rate-max: %v", err)
				}
			}
			p.pacer = sp
		}
	} else if fl.rateStep != "" || fl.rateMax != "" {
		return p, usagef("--rate-step and --rate-max need --rate")
	}
	if fl.scenario == "issue" || fl.scenario == "mixed" {
		ceiling, err := load.ParseRate(fl.issueRate)
		if err != nil {
			return p, usagef("--issue-rate: %v", err)
		}
		p.issuePacer = ceiling
		if r, ok := p.pacer.(load.Rate); ok && fl.scenario == "issue" && r.PerSecond() < ceiling.PerSecond() {
			p.issuePacer = r
		}
	}
	if fl.mix != "" {
		if fl.scenario == "issue" {
			return p, usagef("--mix applies to validate and mixed, not to issue")
		}
		m, err := load.ParseMix(fl.mix)
		if err != nil {
			return p, usagef("--mix: %v", err)
		}
		p.mix = m
	}
	if fl.sender != "wire" && fl.sender != "net/http" {
		return p, usagef("--sender %q: use wire or net/http", fl.sender)
	}
	var err error
	if p.thresholds, err = loadThresholds(cfg); err != nil {
		return p, err
	}
	p.opts = load.Options{Duration: fl.duration, MaxRequests: fl.requests, Timeout: cfg.Timeout, Concurrency: fl.concurrency, MaxWorkers: fl.maxWorkers,
		NetHTTP: fl.sender == "net/http"}
	return p, nil
}

func runLoad(cmd *cobra.Command, fl loadFlags, stdout, stderr io.Writer) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	cfg, err := fl.resolve(cmd, stderr, fl.apply)
	if err != nil {
		return err
	}
	plan, err := fl.plan(cmd, cfg)
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
	f := framework.New(cfg, flow)
	preflightCtx, cancel := context.WithTimeout(ctx, 2*cfg.Timeout+5*time.Second)
	defer cancel()
	if err := f.Preflight(preflightCtx); err != nil {
		return usageError{fmt.Errorf("preflight: %w", err)}
	}
	report := &load.Report{Version: load.ReportVersion, Target: cfg.Target, Flow: flow.Name, Scenario: fl.scenario, Model: "closed", Started: time.Now().UTC(), Hosts: []string{hostname()}}
	if plan.pacer != nil {
		report.Model, report.Rate = "open", fl.rate
		if fl.rateStep != "" {
			report.Rate = fmt.Sprintf("%s +%s every %s", fl.rate, fl.rateStep, fl.stepEvery)
			if fl.rateMax != "" {
				report.Rate += " up to " + fl.rateMax
			}
		}
	} else {
		report.Concurrency = fl.concurrency
	}
	switch fl.scenario {
	case "issue": // always paced, under the ceiling
		report.Model, report.Rate, report.Concurrency = "open", plan.issuePacer.(load.Rate).String(), 0
	case "mixed":
		report.Notes = append(report.Notes, "issuance runs at "+plan.issuePacer.(load.Rate).String()+" (--issue-rate) beside the second half's validation")
	}
	if plan.mix != (load.Mix{}) {
		report.Mix = plan.mix.String()
	}
	if api != nil {
		note := fmt.Sprintf("protected operations from the API document %s: %d, %d skipped", api.Document, len(api.Operations), len(api.Skipped))
		for _, s := range api.Skipped {
			note += "; skipped " + s.String()
		}
		report.Notes = append(report.Notes, note)
	}
	var validate, issue *load.Scenario
	if fl.scenario == "graphql" {
		if validate, err = buildGraphQLLoad(ctx, fl, f, plan, stderr); err != nil {
			return err
		}
		report.Notes = append(report.Notes, validate.Notes...)
		if plan.mix != (load.Mix{}) {
			report.Mix = validate.Mix.String()
		}
	} else if fl.scenario != "issue" {
		ops := fl.operations
		if len(ops) == 0 {
			ops = f.Config.Operations // the target file's, or TOLLGATE_OPERATIONS
		}
		in := load.ValidateInput{F: f.Prober, Mix: plan.mix, Operations: ops, TokensPerClient: fl.tokensPerClient, RunFor: fl.duration}
		if in.Tokens, err = readTokens(fl.tokenFile, "--token-file"); err != nil {
			return err
		}
		if in.ExpiredTokens, err = readTokens(fl.expiredFile, "--expired-token-file"); err != nil {
			return err
		}
		if plan.mix[load.KindExpired] > 0 && len(in.ExpiredTokens) == 0 && !cfg.ExpiryClient.IsZero() {
			fmt.Fprintf(stderr, "tollgate load: waiting for a token of the expiry client %q to expire (at most %s)\n", cfg.ExpiryClient.ID, cfg.MaxExpiryWait)
		}
		if validate, err = load.BuildValidate(ctx, in); err != nil {
			return usageError{err}
		}
		report.Notes = append(report.Notes, validate.Notes...)
		if plan.mix != (load.Mix{}) {
			report.Mix = validate.Mix.String()
		}
	}
	if fl.scenario == "issue" || fl.scenario == "mixed" {
		if issue, err = load.BuildIssue(f.Prober); err != nil {
			return usageError{err}
		}
	}
	for _, n := range report.Notes {
		fmt.Fprintf(stderr, "tollgate load: note: %s\n", n)
	}
	progress := newProgressPrinter(stdout, fl.quiet)
	runStart := time.Now()
	switch fl.scenario {
	case "validate", "graphql":
		report.Parts = runParts(ctx, progress, runStart, part{fl.scenario, validate.Targeter, plan.pacer, plan.opts})
	case "issue":
		report.Parts = runParts(ctx, progress, runStart, part{"issue", issue.Targeter, plan.issuePacer, plan.opts})
	case "mixed":
		half := plan.opts
		half.Duration, half.MaxRequests = max(half.Duration/2, time.Millisecond), max(half.MaxRequests/2, 1)
		alone := runParts(ctx, progress, runStart, part{"validate-alone", validate.Targeter, plan.pacer, half})
		together := runParts(ctx, progress, runStart, part{"validate", validate.Targeter, plan.pacer, half}, part{"issue", issue.Targeter, plan.issuePacer, half})
		report.Parts = append(alone, together...)
	}
	progress.done()
	return finishLoad(report, plan.thresholds, fl.jsonOut, fl.htmlOut, stdout)
}

// part is one scenario part to run.
type part struct {
	name     string
	targeter load.Targeter
	pacer    load.Pacer
	opts     load.Options
}

// runParts runs parts at the same time; progress follows the first.
func runParts(ctx context.Context, progress *progressPrinter, runStart time.Time, parts ...part) []load.Part {
	out := make([]load.Part, len(parts))
	start := time.Since(runStart).Seconds()
	var wg sync.WaitGroup
	for i, p := range parts {
		opts := p.opts
		if i == 0 {
			opts.Progress = progress.printer(p.name)
		}
		wg.Go(func() {
			out[i] = load.Part{Name: p.name, Start: start, Metrics: load.NewAttacker(opts).Attack(ctx, p.targeter, p.pacer)}
		})
	}
	wg.Wait()
	return out
}

// readTokens reads one token per line; "" reads nothing.
func readTokens(path, flag string) ([]string, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("%s: %v (give a file with one token per line)", flag, err)
	}
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return nil, usagef("%s %s holds no token: write one token per line", flag, path)
	}
	return out, nil
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}

// buildGraphQLLoad builds the graphql scenario: the query from --query (or
// the SDL's probe query), validated against the SDL, and the tokens of the
// validate scenario. A query the SDL rejects, or a target without a
// GraphQL endpoint, is a configuration error (exit 2).
func buildGraphQLLoad(ctx context.Context, fl loadFlags, f *framework.Framework, plan loadPlan, stderr io.Writer) (*load.Scenario, error) {
	in := load.GraphQLInput{Endpoint: f.GraphQLEndpoint(),
		Validate: load.ValidateInput{F: f.Prober, Mix: plan.mix, TokensPerClient: fl.tokensPerClient, RunFor: fl.duration}}
	var err error
	if in.Validate.Tokens, err = readTokens(fl.tokenFile, "--token-file"); err != nil {
		return nil, err
	}
	if in.Validate.ExpiredTokens, err = readTokens(fl.expiredFile, "--expired-token-file"); err != nil {
		return nil, err
	}
	if fl.queryFile != "" {
		data, err := os.ReadFile(fl.queryFile)
		if err != nil {
			return nil, usagef("--query: %v (give a file holding one GraphQL query document)", err)
		}
		in.Query = string(data)
	}
	if plan.mix[load.KindExpired] > 0 && len(in.Validate.ExpiredTokens) == 0 && !f.Config.ExpiryClient.IsZero() {
		fmt.Fprintf(stderr, "tollgate load: waiting for a token of the expiry client %q to expire (at most %s)\n", f.Config.ExpiryClient.ID, f.Config.MaxExpiryWait)
	}
	sc, err := load.BuildGraphQL(ctx, in)
	if err != nil {
		return nil, usageError{err}
	}
	return sc, nil
}
