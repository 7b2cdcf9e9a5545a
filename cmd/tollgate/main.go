// Command tollgate tests, mocks and benchmarks OAuth 2.0 / Bearer-token auth
// servers described by flow documents (OpenAPI 3 with an x-tollgate
// extension).
//
//	tollgate serve     start the mock auth server
//	tollgate check     run the conformance checks against a server
//	tollgate init      write a starting flow document for a server
//	tollgate load      benchmark a server and judge every answer
//	tollgate ctl       control a running mock (clock, faults, requests, tokens, clients, keys)
//	tollgate version   print the version (also tollgate --version)
//
// Exit codes: 0 success, 1 a runtime failure, 2 a usage or configuration
// error (the message says what to fix).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// usageError marks an error the user fixes by changing flags or files; it
// exits with code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "tollgate: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// noArgs rejects positional arguments as a usage error (exit 2).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q (see %s --help)", cmd.CommandPath(), args[0], cmd.CommandPath())
	}
	return nil
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "tollgate",
		Short:         "Contract-test, mock and benchmark Bearer-token auth servers",
		SilenceErrors: true,
		SilenceUsage:  true,
		// --version prints the same line as `tollgate version`.
		Version: version(),
	}
	root.SetVersionTemplate("tollgate {{.Version}}\n")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see --help)", err)}
	})
	root.AddCommand(newServeCmd(stdout, stderr), newCheckCmd(stdout, stderr), newInitCmd(stdout, stderr), newLoadCmd(stdout, stderr), newCtlCmd(stdout), newVersionCmd(stdout))
	// Unknown subcommands and bad arguments are usage errors too.
	root.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usagef("unknown command %q (see tollgate --help)", args[0])
		}
		return nil
	}
	root.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	return root
}
