package framework

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate/tollgate/spec/yamlnode"
	"go.yaml.in/yaml/v3"
)

// VerdictWaived is a FAIL or WARN that a waiver expects: reported, but it
// does not fail the run.
const VerdictWaived Verdict = "WAIVED"

// waiverDate is the layout of Waiver.Expires.
const waiverDate = "2006-01-02"

// Waiver expects a check to fail or warn: until its expiry date the check's
// FAIL or WARN is reported as WAIVED, and the run fails when the check
// passes, so that a fixed server gets its waiver removed. The waivers file of
// `tollgate check --waivers` is a YAML list of them (docs/check.md).
type Waiver struct {
	Check   string `yaml:"check"`   // a catalog ID: REQUIRED
	Flow    string `yaml:"flow"`    // the flow it applies to; empty: every flow
	Reason  string `yaml:"reason"`  // why the failure is accepted: REQUIRED
	Expires string `yaml:"expires"` // YYYY-MM-DD, the last day it applies; empty: never expires

	where string // FILE:LINE, for messages; empty for waivers built in code
}

// String names the waiver in messages: "TOK-011 (flow simple) at FILE:LINE".
func (w Waiver) String() string {
	s := w.Check
	if w.Flow != "" {
		s += " (flow " + w.Flow + ")"
	}
	if w.where != "" {
		s += " at " + w.where
	}
	return s
}

// waiverKeys are the keys a waiver may have, for error messages.
const waiverKeys = "check, flow, reason, expires"

// yamlLine finds the line number yaml.v3 puts at the start of a message.
var yamlLine = regexp.MustCompile(`^line (\d+): `)

// ReadWaivers reads a waivers file: a YAML list of waivers. It is strict:
// an unknown key, a value that is not a string, a bad date, an unknown check
// ID, a missing check or reason and a duplicate waiver are errors naming the
// file, the line and the fix. An empty file holds no waivers.
func ReadWaivers(path string) ([]Waiver, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("waivers: %w (give an existing file to --waivers)", err)
	}
	at := func(line int) string { return fmt.Sprintf("waivers %s:%d", path, line) }
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = msg[len(m[0]):]
		}
		where := "waivers " + path
		if line > 0 {
			where = at(line)
		}
		return nil, fmt.Errorf("%s: not YAML: %s; write a list of waivers, see docs/check.md", where, msg)
	}
	if len(root.Content) == 0 {
		return nil, nil
	}
	list := root.Content[0]
	if list.Kind == yaml.ScalarNode && list.Tag == "!!null" {
		return nil, nil
	}
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s: want a list of waivers (- check: TOK-011 …), got %s; see docs/check.md", at(list.Line), nodeKind(list))
	}
	checks := NewChecks()
	seen := map[[2]string]string{}
	var out []Waiver
	for _, item := range list.Content {
		if item.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s: a waiver is a mapping with check, reason and optionally flow and expires, got %s", at(item.Line), nodeKind(item))
		}
		w := Waiver{where: fmt.Sprintf("%s:%d", path, item.Line)}
		fields := map[string]*string{"check": &w.Check, "flow": &w.Flow, "reason": &w.Reason, "expires": &w.Expires}
		set := map[string]bool{}
		for i := 0; i+1 < len(item.Content); i += 2 {
			k, v := item.Content[i], item.Content[i+1]
			dst, ok := fields[k.Value]
			if !ok {
				return nil, fmt.Errorf("%s: unknown key %q; fix its spelling or remove it (a waiver takes %s)", at(k.Line), k.Value, waiverKeys)
			}
			if set[k.Value] {
				return nil, fmt.Errorf("%s: key %s given twice; keep one", at(k.Line), k.Value)
			}
			set[k.Value] = true
			if v.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("%s: %s must be a single value, got %s", at(v.Line), k.Value, nodeKind(v))
			}
			if v.Tag != "!!null" {
				*dst = strings.TrimSpace(v.Value)
			}
		}
		switch {
		case w.Check == "":
			return nil, fmt.Errorf("%s: waiver without a check; add check: ID (see tollgate check --list-checks)", at(item.Line))
		case checks[w.Check].ID == "":
			return nil, fmt.Errorf("%s: check %q is not a check ID; fix its spelling (see tollgate check --list-checks)", at(lineOfKey(item, "check")), w.Check)
		case w.Reason == "":
			return nil, fmt.Errorf("%s: waiver for %s has no reason; add reason: why the failure is accepted (a ticket, an owner)", at(item.Line), w.Check)
		}
		if w.Expires != "" {
			if _, err := time.Parse(waiverDate, w.Expires); err != nil {
				return nil, fmt.Errorf("%s: expires %q is not a date; write YYYY-MM-DD, e.g. 2026-06-30", at(lineOfKey(item, "expires")), w.Expires)
			}
		}
		key := [2]string{w.Check, w.Flow}
		if prev, dup := seen[key]; dup {
			return nil, fmt.Errorf("%s: a second waiver for %s (the first is at %s); keep one", at(item.Line), Waiver{Check: w.Check, Flow: w.Flow}, prev)
		}
		seen[key] = w.where
		out = append(out, w)
	}
	return out, nil
}

// lineOfKey returns the line of a key of a mapping node, or the mapping's.
func lineOfKey(m *yaml.Node, key string) int {
	if k, _ := yamlnode.Lookup(m, key); k != nil {
		return k.Line
	}
	return m.Line
}

// nodeKind names what a node holds, with an article.
func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.Tag {
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "nothing"
	}
	return "a string"
}

// ApplyWaivers returns s with the waivers applied, and the problems that
// fail the run, one line each:
//
//   - a FAIL or WARN on a waived check (and flow) becomes WAIVED, its message
//     the reason followed by what the check said;
//   - a PASS on a waived check becomes a FAIL saying to remove the waiver,
//     and is a problem;
//   - a waiver whose Expires day is before today's date no longer applies,
//     and is a problem when its check ran.
//
// A flow-specific waiver wins over one for every flow. Other verdicts (N/A,
// NOT VERIFIED, INCONCLUSIVE, INFO) are left as they are: they neither
// confirm nor refute the expected failure. s is not changed.
func (s Summary) ApplyWaivers(ws []Waiver, today time.Time) (Summary, []string) {
	day := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	out := Summary{Expiry: s.Expiry, Results: append([]Result(nil), s.Results...)}
	var problems []string
	expiredSeen := map[int]bool{}
	for i, r := range out.Results {
		wi := -1
		for j, w := range ws {
			if w.Check == r.ID && (w.Flow == r.Flow || (w.Flow == "" && wi < 0)) {
				wi = j
			}
		}
		if wi < 0 {
			continue
		}
		w := ws[wi]
		if w.Expires != "" {
			exp, err := time.Parse(waiverDate, w.Expires)
			switch {
			case err != nil:
				if !expiredSeen[wi] {
					expiredSeen[wi] = true
					problems = append(problems, fmt.Sprintf("waiver for %s: expires %q is not a date; write YYYY-MM-DD", w, w.Expires))
				}
				continue
			case day.After(exp):
				if !expiredSeen[wi] {
					expiredSeen[wi] = true
					problems = append(problems, fmt.Sprintf("waiver for %s expired on %s and no longer applies (%s [%s] is %s): fix the server, or renew or remove the waiver", w, w.Expires, r.ID, r.Flow, r.Verdict))
				}
				continue
			}
		}
		switch r.Verdict {
		case VerdictFail, VerdictWarn:
			msg := fmt.Sprintf("waived (was %s): %s", r.Verdict, oneLine(w.Reason))
			if r.Message != "" {
				msg += "\n" + r.Message
			}
			out.Results[i].Verdict, out.Results[i].Message = VerdictWaived, msg
		case VerdictPass:
			msg := fmt.Sprintf("waived check now passes: remove its waiver (reason was: %s)", oneLine(w.Reason))
			out.Results[i].Verdict, out.Results[i].Message = VerdictFail, msg
			problems = append(problems, fmt.Sprintf("%s [%s]: %s; waiver %s", r.ID, r.Flow, msg, w))
		}
	}
	return out, problems
}
