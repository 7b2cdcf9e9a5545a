package spec

import (
	"fmt"
	"strings"
)

// ReadError reports a problem with a flow document: which document, where in
// it (a YAML line when known, and a dotted path such as
// "x-tollgate.token.format"), and what is wrong.
type ReadError struct {
	Document string // the document's name, e.g. "openapi/simple.yaml"
	Line     int    // 1-based line of the problem; 0 when unknown
	Path     string // where in the document; empty for the document as a whole
	Err      error
}

// Error formats "spec: DOCUMENT[:LINE][: PATH]: problem".
func (e *ReadError) Error() string {
	var b strings.Builder
	b.WriteString("spec: ")
	b.WriteString(e.Document)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Path != "" {
		b.WriteString(": ")
		b.WriteString(e.Path)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying problem.
func (e *ReadError) Unwrap() error { return e.Err }
