// Command testprogress runs `go test -json` with the arguments it is given
// and prints what a person waiting for `make test` wants to see: one line
// per finished package (ok, FAIL, or no tests), the full output of every
// failed test and of every build failure, and, whenever nothing was printed
// for a while, a heartbeat naming the packages still running and for how
// long. It exits with go test's exit status.
//
//	go run ./internal/testprogress -- -race -count=1 ./...
//
// The plain `go test` prints nothing for a package until it ends, so a
// package that runs for minutes (the selftest) looks like a hang.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main with its streams; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("testprogress", flag.ContinueOnError)
	fs.SetOutput(stderr)
	every := fs.Duration("heartbeat", 20*time.Second, "print the running packages when nothing was printed for this long")
	goCmd := fs.String("go", "go", "the go command")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: testprogress [-heartbeat 20s] [-go go] -- GO_TEST_ARGS...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *every <= 0 {
		fmt.Fprintf(stderr, "testprogress: -heartbeat %v: give a positive duration, e.g. 20s\n", *every)
		return 2
	}
	// No deadline of its own: go test has -timeout, and an interrupt
	// reaches it directly (see below).
	cmd := exec.CommandContext(context.Background(), *goCmd, append([]string{"test", "-json"}, fs.Args()...)...)
	cmd.Stderr = stderr // build errors of go vet, flags go test refuses
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintf(stderr, "testprogress: %v\n", err)
		return 2
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "testprogress: start %s test: %v\n", *goCmd, err)
		return 2
	}
	// An interrupt reaches go test through the terminal's process group;
	// this process waits for it to end rather than dying first.
	signal.Ignore(os.Interrupt, syscall.SIGTERM)

	p := newPrinter(stdout, time.Now)
	ticker := time.NewTicker(*every / 4)
	defer ticker.Stop()
	done := make(chan error, 1)
	go func() { done <- p.consume(out) }()
	var readErr error
loop:
	for {
		select {
		case readErr = <-done:
			break loop
		case now := <-ticker.C:
			p.heartbeat(now, *every)
		}
	}
	waitErr := cmd.Wait()
	p.summary()
	if readErr != nil {
		fmt.Fprintf(stderr, "testprogress: reading go test -json: %v\n", readErr)
	}
	var exit *exec.ExitError
	switch {
	case errors.As(waitErr, &exit):
		if code := exit.ExitCode(); code > 0 {
			return code
		}
		return 1 // killed by a signal
	case waitErr != nil:
		fmt.Fprintf(stderr, "testprogress: %s test: %v\n", *goCmd, waitErr)
		return 2
	case readErr != nil || p.failed():
		return 1
	}
	return 0
}
