package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// stream is a `go test -json` run of three packages: one passes, one has
// no tests, one fails in a subtest beside a passing test.
const stream = `{"Action":"start","Package":"example.com/a"}
{"Action":"start","Package":"example.com/slow"}
{"Action":"run","Package":"example.com/a","Test":"TestOK"}
{"Action":"output","Package":"example.com/a","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"output","Package":"example.com/a","Test":"TestOK","Output":"--- PASS: TestOK (0.00s)\n"}
{"Action":"pass","Package":"example.com/a","Test":"TestOK","Elapsed":0}
{"Action":"output","Package":"example.com/a","Output":"ok  \texample.com/a\t0.5s\n"}
{"Action":"pass","Package":"example.com/a","Elapsed":0.5}
{"Action":"start","Package":"example.com/none"}
{"Action":"output","Package":"example.com/none","Output":"?   \texample.com/none\t[no test files]\n"}
{"Action":"skip","Package":"example.com/none","Elapsed":0}
{"Action":"run","Package":"example.com/slow","Test":"TestPasses"}
{"Action":"output","Package":"example.com/slow","Test":"TestPasses","Output":"    noise from a passing test\n"}
{"Action":"pass","Package":"example.com/slow","Test":"TestPasses","Elapsed":0}
{"Action":"run","Package":"example.com/slow","Test":"TestBroken"}
{"Action":"output","Package":"example.com/slow","Test":"TestBroken","Output":"=== RUN   TestBroken\n"}
{"Action":"output","Package":"example.com/slow","Test":"TestBroken/case","Output":"    broken_test.go:12: got 2, want 3\n"}
{"Action":"fail","Package":"example.com/slow","Test":"TestBroken/case","Elapsed":0}
{"Action":"output","Package":"example.com/slow","Test":"TestBroken","Output":"--- FAIL: TestBroken (0.00s)\n"}
{"Action":"fail","Package":"example.com/slow","Test":"TestBroken","Elapsed":0}
{"Action":"output","Package":"example.com/slow","Output":"FAIL\n"}
{"Action":"fail","Package":"example.com/slow","Elapsed":95.25}
`

func TestPrinterLinesAndFailures(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	p := newPrinter(&out, time.Now)
	if err := p.consume(strings.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	p.summary()
	got := out.String()
	for _, want := range []string{
		"ok   example.com/a 0.5s\n",
		"?    example.com/none [no test files]\n",
		"FAIL example.com/slow 95.2s\n=== RUN   TestBroken\n    broken_test.go:12: got 2, want 3\n--- FAIL: TestBroken (0.00s)\nFAIL\n",
		"2 packages ok, 1 FAILED: example.com/slow\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "noise from a passing test") || strings.Contains(got, "=== RUN   TestOK") {
		t.Errorf("output shows what passing tests printed:\n%s", got)
	}
	if !p.failed() {
		t.Error("failed() = false after a failed package")
	}
}

// TestPrinterHeartbeat: silence of the heartbeat interval brings one line
// naming the running packages, longest-running first; a recent print none.
func TestPrinterHeartbeat(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	var out bytes.Buffer
	p := newPrinter(&out, clock)
	p.handle(event{Action: "start", Package: "example.com/slow"})
	now = now.Add(5 * time.Second)
	p.handle(event{Action: "start", Package: "example.com/quick"})
	now = now.Add(10 * time.Second)
	p.heartbeat(now, 20*time.Second)
	if out.Len() != 0 {
		t.Fatalf("heartbeat after 15 s of silence (interval 20 s): %q", out.String())
	}
	now = now.Add(10 * time.Second)
	p.heartbeat(now, 20*time.Second)
	want := "... 0 packages done; running: example.com/slow (25s), example.com/quick (20s)\n"
	if out.String() != want {
		t.Fatalf("heartbeat = %q, want %q", out.String(), want)
	}
	p.heartbeat(now.Add(time.Second), 20*time.Second)
	if out.String() != want {
		t.Errorf("a second heartbeat right after the first: %q", out.String())
	}
}

// TestRunExitStatus runs the command against a stand-in go command that
// prints the stream and exits 1: the failure shows and the status is 1.
func TestRunExitStatus(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in go command is a shell script")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "stream.json"), []byte(stream), 0o600); err != nil {
		t.Fatal(err)
	}
	fakeGo := filepath.Join(dir, "go")
	script := "#!/bin/sh\n[ \"$1 $2 $3\" = 'test -json -race' ] || { echo \"unexpected arguments: $*\" >&2; exit 9; }\ncat '" + filepath.Join(dir, "stream.json") + "'\nexit 1\n"
	if err := os.WriteFile(fakeGo, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"-go", fakeGo, "--", "-race", "./..."}, &stdout, &stderr)
	if code != 1 {
		t.Errorf("exit status %d, want 1; stderr: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "FAIL example.com/slow") || !strings.Contains(stdout.String(), "got 2, want 3") {
		t.Errorf("stdout lacks the failure:\n%s", stdout.String())
	}
	if code := run([]string{"-heartbeat", "0s"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "positive duration") {
		t.Errorf("-heartbeat 0s: status %d, stderr %q", code, stderr.String())
	}
}

// TestPrinterShowsTestsCutShort: a package that fails because a test never
// ended (a -timeout panic, os.Exit in a test) shows that test's lines,
// though go test sends no fail event for it; a passing test's stay hidden.
func TestPrinterShowsTestsCutShort(t *testing.T) {
	t.Parallel()
	const cutShort = `{"Action":"start","Package":"example.com/hang"}
{"Action":"run","Package":"example.com/hang","Test":"TestQuick"}
{"Action":"output","Package":"example.com/hang","Test":"TestQuick","Output":"    noise from a passing test\n"}
{"Action":"pass","Package":"example.com/hang","Test":"TestQuick","Elapsed":0}
{"Action":"run","Package":"example.com/hang","Test":"TestSlow"}
{"Action":"output","Package":"example.com/hang","Test":"TestSlow","Output":"=== RUN   TestSlow\n"}
{"Action":"output","Package":"example.com/hang","Test":"TestSlow","Output":"panic: test timed out after 1s\n"}
{"Action":"output","Package":"example.com/hang","Test":"TestSlow","Output":"\t\tTestSlow (1s)\n"}
{"Action":"output","Package":"example.com/hang","Output":"FAIL\texample.com/hang\t1.006s\n"}
{"Action":"fail","Package":"example.com/hang","Elapsed":1.006}
`
	var out bytes.Buffer
	p := newPrinter(&out, time.Now)
	if err := p.consume(strings.NewReader(cutShort)); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if want := "FAIL example.com/hang 1.0s\n=== RUN   TestSlow\npanic: test timed out after 1s\n\t\tTestSlow (1s)\nFAIL\texample.com/hang\t1.006s\n"; !strings.Contains(got, want) {
		t.Errorf("output lacks %q:\n%s", want, got)
	}
	if strings.Contains(got, "noise from a passing test") {
		t.Errorf("output shows what a passing test printed:\n%s", got)
	}
}
