package main

import (
	"fmt"
	"io"
	"net"
	"slices"

	"github.com/spf13/pflag"

	"github.com/tollgate/tollgate/mockserver"
)

// This file: the mock's own endpoints in the start-up banner, and
// --metrics.

// resolveMetrics applies --metrics over metrics in the file (a bad value
// from the file is reported by mockserver.New, at its line), and --debug
// over debug.
func resolveMetrics(flags *pflag.FlagSet, fl serveFlags, cfg *serveConfig) error {
	if flags.Changed("debug") {
		cfg.Debug = fl.debug
	}
	if !flags.Changed("metrics") {
		return nil
	}
	if !slices.Contains([]string{mockserver.MetricsAuto, mockserver.MetricsPublic, mockserver.MetricsOff}, fl.metrics) {
		return usagef("--metrics %q: use auto, public or off", fl.metrics)
	}
	cfg.Metrics = fl.metrics
	return nil
}

// printMetrics says where the Prometheus metrics (and the profiles, with
// --debug) are and who may read them.
func printMetrics(w io.Writer, base string, addr net.Addr, opts mockserver.Options) {
	if opts.Debug {
		defer fmt.Fprintf(w, "debug: %s%spprof/ and %s%svars (as the control API: loopback, or with the control token)\n", base, mockserver.DebugPrefix, base, mockserver.DebugPrefix)
	}
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

// printEndpoints lists the mock's own endpoints besides the flows': the
// health check, and the keys and the metadata when it serves them.
func printEndpoints(w io.Writer, base string, srv *mockserver.Server) {
	fmt.Fprintf(w, "\nendpoints:\n  health:   %s%s\n", base, mockserver.HealthPath)
	if srv.ServesJWKS() {
		fmt.Fprintf(w, "  JWKS:     %s%s\n", base, mockserver.JWKSPath)
	}
	if srv.ServesMetadata() {
		fmt.Fprintf(w, "  metadata: %s%s (RFC 8414)\n", base, mockserver.MetadataPath)
	}
}
