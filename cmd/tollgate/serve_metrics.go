package main

import (
	"fmt"
	"io"
	"net"
	"slices"

	"github.com/spf13/pflag"

	"github.com/tollgate/tollgate/mockserver"
)

// resolveMetrics applies --metrics over metrics in the file. A bad value
// from the file is reported by mockserver.New, at its line.
func resolveMetrics(flags *pflag.FlagSet, fl serveFlags, cfg *serveConfig) error {
	if !flags.Changed("metrics") {
		return nil
	}
	if !slices.Contains([]string{mockserver.MetricsAuto, mockserver.MetricsPublic, mockserver.MetricsOff}, fl.metrics) {
		return usagef("--metrics %q: use auto, public or off", fl.metrics)
	}
	cfg.Metrics = fl.metrics
	return nil
}

// printMetrics says where the Prometheus metrics are and who may scrape them.
func printMetrics(w io.Writer, base string, addr net.Addr, opts mockserver.Options) {
	if opts.Metrics == mockserver.MetricsOff {
		fmt.Fprintf(w, "metrics: off (--metrics off)\n")
		return
	}
	fmt.Fprintf(w, "metrics: %s%s (Prometheus; docs/metrics.md)\n", base, mockserver.MetricsPath)
	switch {
	case opts.Metrics == mockserver.MetricsPublic:
		fmt.Fprintf(w, "  answers every connection (--metrics public)\n")
	case opts.ControlToken != "":
		fmt.Fprintf(w, "  loopback connections, or any with the control token\n")
	case !listensOnLoopback(addr):
		fmt.Fprintf(w, "  answers loopback connections only: --metrics public opens it to every connection\n")
	}
}
