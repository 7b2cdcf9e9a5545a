package spec

import (
	"fmt"
	"slices"
	"strings"
)

// Allows reports whether a token granted these scopes may call the
// operation: it must hold every scope of at least one alternative in
// op.Scopes (OpenAPI security requirements are ORed, the scopes within one
// ANDed); an operation without alternatives allows any valid token. It
// does not allocate, so the Bearer hot path can call it per request.
func (op Operation) Allows(granted []string) bool {
	if len(op.Scopes) == 0 {
		return true
	}
	for _, need := range op.Scopes {
		if hasAll(granted, need) {
			return true
		}
	}
	return false
}

// hasAll reports whether granted holds every scope in need.
func hasAll(granted, need []string) bool {
	for _, s := range need {
		if !slices.Contains(granted, s) {
			return false
		}
	}
	return true
}

// ProtectedNamed returns the protected operations that names name (see
// Operation.Named), in the document's order, or every protected operation
// when names is empty. A name that matches no protected operation is an
// error that lists the ones there are.
func (f *Flow) ProtectedNamed(names []string) ([]Operation, error) {
	all := f.Protected()
	for _, name := range names {
		if !slices.ContainsFunc(all, func(op Operation) bool { return op.Named(name) }) {
			known := make([]string, len(all))
			for i, op := range all {
				known[i] = op.ID
			}
			of := "flow " + f.Name
			if f.OperationsDocument != "" {
				of = "the API document " + f.OperationsDocument
			}
			return nil, fmt.Errorf("spec: operation %q is not a protected operation of %s: name one of %s (operationId or \"METHOD /path\")", name, of, strings.Join(known, ", "))
		}
	}
	if len(names) == 0 {
		return all, nil
	}
	var out []Operation
	for _, op := range all {
		if slices.ContainsFunc(names, op.Named) {
			out = append(out, op)
		}
	}
	return out, nil
}

// ProbePath returns the path a probe sends to call op: its Probe path,
// else SamplePath of its template.
func (op Operation) ProbePath() string {
	if op.Probe.Path != "" {
		return op.Probe.Path
	}
	return SamplePath(op.Path)
}

// SamplePath returns a path that an OpenAPI path template matches, with
// "1" for each template variable ("/api/collections/{id}" gives
// "/api/collections/1"): what a probe or an example request sends when the
// value does not matter.
func SamplePath(template string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(template, '{')
		j := strings.IndexByte(template, '}')
		if i < 0 || j < i {
			b.WriteString(template)
			return b.String()
		}
		b.WriteString(template[:i])
		b.WriteString("1")
		template = template[j+1:]
	}
}
