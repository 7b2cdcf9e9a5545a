package main

import (
	"errors"
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

// thresholdFlags are the pass marks of a run or a merged report.
type thresholdFlags struct {
	maxP99       time.Duration
	minRPS       float64
	maxErrorRate string
}

func (t *thresholdFlags) registerThresholds(cmd *cobra.Command) {
	f := cmd.Flags()
	f.DurationVar(&t.maxP99, "max-p99", 0, "fail (exit 1) when the p99 latency is above this, e.g. 20ms")
	f.Float64Var(&t.minRPS, "min-rps", 0, "fail (exit 1) when fewer requests per second were achieved")
	f.StringVar(&t.maxErrorRate, "max-error-rate", "", "fail (exit 1) when errors (5xx, timeouts, connection) exceed this share, e.g. 0.1%")
}

// apply puts the threshold flags given over the target file's load
// section (and TOLLGATE_LOAD_*), for resolve's callback.
func (t thresholdFlags) apply(set func(string, func()), cfg *framework.Config) {
	set("max-p99", func() { cfg.Load.MaxP99 = t.maxP99 })
	set("min-rps", func() { cfg.Load.MinRPS = t.minRPS })
	set("max-error-rate", func() { cfg.Load.MaxErrorRate = t.maxErrorRate })
}

// loadThresholds reads the thresholds of a resolved configuration.
func loadThresholds(cfg framework.Config) (load.Thresholds, error) {
	return thresholdFlags{maxP99: cfg.Load.MaxP99, minRPS: cfg.Load.MinRPS, maxErrorRate: cfg.Load.MaxErrorRate}.thresholds()
}

func (t thresholdFlags) thresholds() (load.Thresholds, error) {
	th := load.Thresholds{MaxP99: t.maxP99, MinRPS: t.minRPS}
	if t.maxP99 < 0 || t.minRPS < 0 {
		return th, usagef("--max-p99 and --min-rps must not be negative")
	}
	if t.maxErrorRate != "" {
		if err := th.SetMaxErrorRate(t.maxErrorRate); err != nil {
			return th, usagef("--max-error-rate: %v", err)
		}
	}
	return th, nil
}

// finishLoad judges the run, prints the summary, and writes the files
// (which carry the thresholds and the verdict).
func finishLoad(report *load.Report, th load.Thresholds, jsonOut, htmlOut string, stdout io.Writer) error {
	verdict := report.Judge(th)
	report.Render(stdout)
	if jsonOut != "" {
		if err := report.WriteFile(jsonOut); err != nil {
			return usageError{fmt.Errorf("--json: %w", err)}
		}
		fmt.Fprintf(stdout, "\nJSON report: %s\n", jsonOut)
	}
	if htmlOut != "" {
		if err := report.WriteHTMLFile(htmlOut); err != nil {
			return usageError{fmt.Errorf("--html: %w", err)}
		}
		fmt.Fprintf(stdout, "HTML plot: %s\n", htmlOut)
	}
	if verdict.Result == load.ResultFail {
		fmt.Fprintf(stdout, "\nFAIL: %s\n", strings.Join(verdict.Failures, "; "))
		return errors.New("load run failed: " + strings.Join(verdict.Failures, "; "))
	}
	fmt.Fprintln(stdout, "\nPASS")
	return nil
}

// progressPrinter writes the live progress: one line rewritten in place on
// a terminal, plain periodic lines otherwise.
type progressPrinter struct {
	w     io.Writer
	tty   bool
	quiet bool
	mu    sync.Mutex
	dirty bool
}

func newProgressPrinter(w io.Writer, quiet bool) *progressPrinter {
	return &progressPrinter{w: w, tty: isTerminal(w), quiet: quiet}
}

func (p *progressPrinter) printer(name string) func(load.Progress) {
	if p.quiet {
		return nil
	}
	return func(pr load.Progress) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.tty {
			fmt.Fprintf(p.w, "\r\033[K%-15s %s", name, pr)
			p.dirty = true
			return
		}
		fmt.Fprintf(p.w, "%-15s %s\n", name, pr)
	}
}

// done ends the in-place line.
func (p *progressPrinter) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dirty {
		fmt.Fprint(p.w, "\r\033[K")
		p.dirty = false
	}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func newLoadReportCmd(stdout io.Writer) *cobra.Command {
	var th thresholdFlags
	var jsonOut, htmlOut string
	cmd := &cobra.Command{
		Use:   "report FILE...",
		Short: "Merge and summarise load reports written with --json",
		Long: `Merge the JSON reports of runs of the same scenario against the same target
(e.g. from several machines at once) and print one summary: counts and
histogram buckets add up, rates add up, the elapsed time is the longest.
Exit codes as for tollgate load.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("%s needs at least one report file (written with tollgate load --json)", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			thresholds, err := th.thresholds()
			if err != nil {
				return err
			}
			var reports []*load.Report
			for _, a := range args {
				r, err := load.ReadReport(a)
				if err != nil {
					return usageError{err}
				}
				reports = append(reports, r)
			}
			merged, err := load.MergeReports(reports...)
			if err != nil {
				return usageError{err}
			}
			return finishLoad(merged, thresholds, jsonOut, htmlOut, stdout)
		},
	}
	cmd.Flags().StringVar(&jsonOut, "json", "", "write the merged report to FILE")
	cmd.Flags().StringVar(&htmlOut, "html", "", "write the merged plot to FILE")
	th.registerThresholds(cmd)
	return cmd
}
