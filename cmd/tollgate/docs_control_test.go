package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate/tollgate/mockserver/mockservertest"
)

// docsBase is the mock's URL as the documents write it; the tests put a
// fresh mock's URL in its place.
const docsBase = "http://127.0.0.1:4455"

// docBlock is a fenced block of a Markdown file.
type docBlock struct {
	lang string // the fence's info string: sh, text, yaml, ...
	text string
	line int  // of the opening fence
	skip bool // preceded by <!-- docs-test: skip ... -->
}

// readDocBlocks returns the fenced blocks of file, in order, from the
// heading section onwards up to the next heading of the same level
// (section "": the whole file).
func readDocBlocks(t *testing.T, file, section string) []docBlock {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []docBlock
	var cur *docBlock
	var body strings.Builder
	in := section == ""
	skipNext := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur != nil && strings.HasPrefix(line, "```"):
			cur.text = body.String()
			if in {
				blocks = append(blocks, *cur)
			}
			cur = nil
		case cur != nil:
			body.WriteString(line + "\n")
		case strings.HasPrefix(line, "```"):
			cur = &docBlock{lang: strings.TrimSpace(strings.TrimPrefix(line, "```")), line: n, skip: skipNext}
			body.Reset()
			skipNext = false
		case strings.HasPrefix(line, "<!-- docs-test: skip"):
			skipNext = true
		case section != "" && strings.HasPrefix(line, "#"):
			in = line == section
		}
	}
	return blocks
}

// TestHelperCLI is not a test: the documents' scripts run `tollgate` as
// this test binary with TOLLGATE_HELPER_CLI=1, which runs the command line
// in-process (no build needed) and exits with its code.
func TestHelperCLI(t *testing.T) {
	if os.Getenv("TOLLGATE_HELPER_CLI") != "1" {
		t.Skip("runs only as the documents' tollgate command")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(run(args, os.Stdout, os.Stderr))
}

// docScriptPrelude starts a documents' bash script: strict mode, and
// `tollgate` (and `go run ./cmd/tollgate`) run as this test binary's
// TestHelperCLI, so the examples need no build.
func docScriptPrelude(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return "set -euo pipefail\n" +
		fmt.Sprintf("tollgate() { TOLLGATE_HELPER_CLI=1 %q -test.run='^TestHelperCLI$' -- \"$@\"; }\n", self) +
		"go() { if [ \"$1 $2\" = 'run ./cmd/tollgate' ]; then shift 2; tollgate \"$@\"; else command go \"$@\"; fi; }\n"
}

// runDocBlocks runs the sh blocks of blocks in one bash script against a
// fresh mock, in an empty directory, and checks that every line of the
// text block after each sh block is in that block's output. It returns
// the output of each sh block it ran, in order.
func runDocBlocks(t *testing.T, file string, blocks []docBlock) []string {
	t.Helper()
	return runDocBlocksIn(t, "", file, blocks)
}

// runDocBlocksIn is runDocBlocks with the script run in dir ("": an empty
// temporary directory, where the examples write their reports).
func runDocBlocksIn(t *testing.T, dir, file string, blocks []docBlock) []string {
	t.Helper()
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s runs its examples with %s, which is not installed: install it (apt-get install %s)", file, tool, tool)
			}
			t.Skipf("%s is not installed (needed to run the examples of %s; fails under CI=true)", tool, file)
		}
	}
	srv := mockservertest.NewServer(t, mockservertest.WithSystemClock())
	var script strings.Builder
	script.WriteString(docScriptPrelude(t))
	var run []docBlock
	for _, b := range blocks {
		if b.lang == "sh" && !b.skip {
			fmt.Fprintf(&script, "echo '@@block %d@@'\n%s", len(run), strings.ReplaceAll(b.text, docsBase, srv.URL))
			run = append(run, b)
		}
	}
	if len(run) == 0 {
		t.Fatalf("%s has no sh block to run", file)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	if dir == "" {
		dir = t.TempDir()
	}
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "TOLLGATE_TARGET="+srv.URL, "TOLLGATE_CONTROL_TOKEN=", "NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost")
	runErr := cmd.Run()
	outputs := splitBlockOutputs(out.String(), len(run))
	if runErr != nil {
		last := len(outputs) - 1
		t.Fatalf("%s: the sh block at line %d failed (%v); its output:\n%s", file, run[max(last, 0)].line, runErr, outputs[max(last, 0)])
	}
	for i, b := range blocks {
		if b.lang != "sh" || b.skip || i+1 >= len(blocks) || blocks[i+1].lang != "text" {
			continue
		}
		n := indexOf(run, b)
		got := strings.ReplaceAll(outputs[n], srv.URL, docsBase)
		for _, want := range strings.Split(strings.TrimRight(blocks[i+1].text, "\n"), "\n") {
			if !strings.Contains(got, want) {
				t.Errorf("%s:%d: the output of the sh block at line %d lacks %q; it printed:\n%s", file, blocks[i+1].line, b.line, want, got)
			}
		}
	}
	return outputs
}

func indexOf(run []docBlock, b docBlock) int {
	for i, r := range run {
		if r.line == b.line {
			return i
		}
	}
	return -1
}

// splitBlockOutputs cuts the script's output at the block markers.
func splitBlockOutputs(out string, n int) []string {
	var outputs []string
	for i := range n {
		marker := fmt.Sprintf("@@block %d@@\n", i)
		start := strings.Index(out, marker)
		if start < 0 {
			break
		}
		rest := out[start+len(marker):]
		if end := strings.Index(rest, fmt.Sprintf("@@block %d@@\n", i+1)); end >= 0 {
			rest = rest[:end]
		}
		outputs = append(outputs, rest)
	}
	if len(outputs) == 0 {
		outputs = []string{out}
	}
	return outputs
}

// TestDocsControl runs docs/control.md's examples as written.
func TestDocsControl(t *testing.T) {
	t.Parallel()
	file := filepath.Join("..", "..", "docs", "control.md")
	runDocBlocks(t, file, readDocBlocks(t, file, ""))
}

// TestReadmeMockServer runs the README's "The mock server" examples: the
// token requests into TOKEN, then the protected calls, as pasted.
func TestReadmeMockServer(t *testing.T) {
	t.Parallel()
	file := filepath.Join("..", "..", "README.md")
	runDocBlocks(t, file, readDocBlocks(t, file, "## The mock server"))
}

// TestReadmeControl runs the README's "Control the mock" examples.
func TestReadmeControl(t *testing.T) {
	t.Parallel()
	file := filepath.Join("..", "..", "README.md")
	runDocBlocks(t, file, readDocBlocks(t, file, "## Control the mock"))
}

// TestReadmeCheckAndLoad runs the README's `tollgate check` and `tollgate
// load` examples in order, as written (the load example uses the clients
// the check example exported): with the mock's default clients, the only
// check left NOT VERIFIED is the opt-in TOK-037, and the load run has its
// expired share.
func TestReadmeCheckAndLoad(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("the load example runs 5 s after waiting 6 s for an expired token")
	}
	file := filepath.Join("..", "..", "README.md")
	blocks := append(readDocBlocks(t, file, "## Checking a server: `tollgate check`"), readDocBlocks(t, file, "## Load testing: `tollgate load`")...)
	outputs := runDocBlocks(t, file, blocks)
	if len(outputs) != 2 {
		t.Fatalf("%s: %d sh blocks ran in the check and load sections, want 2", file, len(outputs))
	}
	for _, line := range strings.Split(outputs[0], "\n") {
		if strings.Contains(line, "NOT VERIFIED") && !strings.Contains(line, "TOK-037") && !strings.Contains(line, "checks:") {
			t.Errorf("%s: the check example leaves a check NOT VERIFIED besides the opt-in TOK-037: %s", file, line)
		}
	}
	if strings.Contains(outputs[1], "skipped") || !strings.Contains(outputs[1], "expired ") {
		t.Errorf("%s: the load example has no expired share:\n%s", file, outputs[1])
	}
}
