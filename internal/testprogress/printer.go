package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	Test       string
	Elapsed    float64
	Output     string
	ImportPath string // build-output and build-fail
}

// outputLine is one line a package printed, with the test it belongs to
// ("" for the package itself).
type outputLine struct{ test, text string }

// pkgState is a package between its start and its end.
type pkgState struct {
	started time.Time
	lines   []outputLine    // kept until the package ends: shown only if it fails
	failed  map[string]bool // the tests that failed
	// ended are the tests that passed, failed or were skipped. A test that
	// ran and never ended is the one a timeout panic, an os.Exit or a
	// crash cut short: its lines (the panic and the goroutines) explain
	// the failure, though no fail event names it.
	ended map[string]bool
}

// printer turns test2json events into progress lines. Safe for concurrent
// use: events and heartbeats come from two goroutines.
type printer struct {
	mu        sync.Mutex
	w         io.Writer
	now       func() time.Time
	lastPrint time.Time
	running   map[string]*pkgState
	passed    int
	failures  []string // failed packages, in order
}

func newPrinter(w io.Writer, now func() time.Time) *printer {
	return &printer{w: w, now: now, lastPrint: now(), running: map[string]*pkgState{}}
}

// consume reads events until r ends. A line that is not JSON (go test
// printed it itself) is passed through.
func (p *printer) consume(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil {
			p.print(string(line) + "\n")
			continue
		}
		p.handle(ev)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	return nil
}

// print writes s and notes the time; the caller holds no lock.
func (p *printer) print(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.printLocked(s)
}

func (p *printer) printLocked(s string) {
	_, _ = io.WriteString(p.w, s)
	p.lastPrint = p.now()
}

// handle takes one event.
func (p *printer) handle(ev event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev.Action {
	case "build-output":
		p.printLocked(ev.Output) // compiler errors, shown as they come
		return
	case "build-fail":
		return // the packages that needed the build fail, and say so
	}
	st := p.running[ev.Package]
	if st == nil {
		st = &pkgState{started: p.now(), failed: map[string]bool{}, ended: map[string]bool{}}
		p.running[ev.Package] = st
	}
	switch ev.Action {
	case "output":
		st.lines = append(st.lines, outputLine{test: ev.Test, text: ev.Output})
	case "fail":
		if ev.Test != "" {
			st.failed[ev.Test] = true
			st.ended[ev.Test] = true
			return
		}
		p.finish(ev, st, "FAIL")
	case "pass", "skip":
		if ev.Test != "" {
			st.ended[ev.Test] = true
			return
		}
		p.finish(ev, st, "ok  ")
	}
}

// finish prints a package's line, and when it failed all that the package
// itself, its failed tests and the tests it never saw end printed.
func (p *printer) finish(ev event, st *pkgState, verdict string) {
	delete(p.running, ev.Package)
	noTests := ev.Action == "skip" || slices.ContainsFunc(st.lines, func(l outputLine) bool {
		return l.test == "" && strings.Contains(l.text, "[no test files]")
	})
	switch {
	case verdict == "FAIL":
		p.failures = append(p.failures, ev.Package)
		var b strings.Builder
		for _, l := range st.lines {
			if l.test == "" || st.failed[l.test] || !st.ended[l.test] {
				b.WriteString(l.text)
			}
		}
		p.printLocked(fmt.Sprintf("FAIL %s %.1fs\n%s", ev.Package, ev.Elapsed, b.String()))
	case noTests:
		p.passed++
		p.printLocked(fmt.Sprintf("?    %s [no test files]\n", ev.Package))
	default:
		p.passed++
		p.printLocked(fmt.Sprintf("%s %s %.1fs\n", verdict, ev.Package, ev.Elapsed))
	}
}

// heartbeat prints the running packages when nothing was printed for
// every.
func (p *printer) heartbeat(now time.Time, every time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Sub(p.lastPrint) < every {
		return
	}
	if len(p.running) == 0 {
		p.printLocked(fmt.Sprintf("... %d packages done, building the next\n", p.passed+len(p.failures)))
		return
	}
	names := make([]string, 0, len(p.running))
	for name := range p.running {
		names = append(names, name)
	}
	// The longest-running first: that is the one being waited for.
	slices.SortFunc(names, func(a, b string) int { return p.running[a].started.Compare(p.running[b].started) })
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = fmt.Sprintf("%s (%s)", name, now.Sub(p.running[name].started).Round(time.Second))
	}
	p.printLocked(fmt.Sprintf("... %d packages done; running: %s\n", p.passed+len(p.failures), strings.Join(parts, ", ")))
}

// summary prints the count of packages and names the failed ones again.
func (p *printer) summary() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.failures) == 0 {
		p.printLocked(fmt.Sprintf("%d packages ok\n", p.passed))
		return
	}
	p.printLocked(fmt.Sprintf("%d packages ok, %d FAILED: %s\n", p.passed, len(p.failures), strings.Join(p.failures, " ")))
}

// failed reports whether a package failed.
func (p *printer) failed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.failures) > 0
}
