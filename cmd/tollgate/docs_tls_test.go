package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Where docs/tls.md's examples put the mock and its CA; the test puts a
// free port and a file of its own in their place.
const (
	docsTLSPort   = "4455"
	docsTLSCAFile = "/tmp/tollgate-ca.pem"
)

// TestDocsTLS runs docs/tls.md's examples as written: the first sh block
// starts `tollgate serve --tls` (in the background here, as in a second
// terminal there), the others talk to it, and each text block after an sh
// block must be in that block's output.
func TestDocsTLS(t *testing.T) {
	t.Parallel()
	file := filepath.Join("..", "..", "docs", "tls.md")
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s runs its examples with %s, which is not installed", file, tool)
			}
			t.Skipf("%s is not installed (needed to run the examples of %s)", tool, file)
		}
	}
	blocks := readDocBlocks(t, file, "")
	port := freePort(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	serveLog := filepath.Join(t.TempDir(), "serve.log")
	localize := strings.NewReplacer(":"+docsTLSPort, ":"+port, docsTLSCAFile, caFile).Replace

	var script strings.Builder
	script.WriteString(docScriptPrelude(t))
	script.WriteString("trap 'kill %1 2>/dev/null || true' EXIT\n")
	var run []docBlock
	for _, b := range blocks {
		if b.lang != "sh" || b.skip {
			continue
		}
		fmt.Fprintf(&script, "echo '@@block %d@@'\n", len(run))
		text := localize(b.text)
		if len(run) == 0 { // the server: in the background, its banner once complete
			text = strings.Replace(text, "--tls ", "--addr 127.0.0.1:"+port+" --quiet --tls ", 1)
			fmt.Fprintf(&script, "%s > %q 2>&1 &\n", strings.TrimSpace(text), serveLog)
			fmt.Fprintf(&script, "for i in $(seq 200); do grep -q '^control API' %q && break; sleep 0.05; done\ncat %q\n", serveLog, serveLog)
		} else {
			script.WriteString(text)
		}
		run = append(run, b)
	}
	if len(run) < 2 {
		t.Fatalf("%s: want the serve block and blocks that use it, found %d sh blocks", file, len(run))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.WaitDelay = 5 * time.Second
	out, runErr := cmd.CombinedOutput()
	outputs := splitBlockOutputs(string(out), len(run))
	if runErr != nil {
		last := len(outputs) - 1
		t.Fatalf("%s: the sh block at line %d failed (%v); its output:\n%s", file, run[max(last, 0)].line, runErr, outputs[max(last, 0)])
	}
	unlocalize := strings.NewReplacer(":"+port, ":"+docsTLSPort, caFile, docsTLSCAFile).Replace
	for i, b := range blocks {
		if b.lang != "sh" || b.skip || i+1 >= len(blocks) || blocks[i+1].lang != "text" {
			continue
		}
		got := unlocalize(outputs[indexOf(run, b)])
		for _, want := range strings.Split(strings.TrimRight(blocks[i+1].text, "\n"), "\n") {
			if !strings.Contains(got, want) {
				t.Errorf("%s:%d: the output of the sh block at line %d lacks %q; it printed:\n%s", file, blocks[i+1].line, b.line, want, got)
			}
		}
	}
}

// freePort returns a TCP port free on loopback a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(port)
}
