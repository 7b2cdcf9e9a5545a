package spec

import (
	"fmt"

	"github.com/go-openapi/jsonpointer"
)

// Pointer is a parsed RFC 6901 JSON Pointer naming a member of a token
// request or response body. The zero Pointer names nothing: IsZero reports it.
type Pointer struct {
	raw    string
	tokens []string
}

// ParsePointer parses a JSON Pointer such as "/access_token". The empty
// string and "/" alone are rejected: a field is always named.
func ParsePointer(s string) (Pointer, error) {
	p, err := jsonpointer.New(s)
	if err != nil {
		return Pointer{}, fmt.Errorf("%q is not a JSON Pointer (write it like \"/access_token\"): %w", s, err)
	}
	tokens := p.DecodedTokens()
	if len(tokens) == 0 {
		return Pointer{}, fmt.Errorf("%q names the whole body; name a member, like \"/access_token\"", s)
	}
	for _, t := range tokens {
		if t == "" {
			return Pointer{}, fmt.Errorf("%q has an empty member name", s)
		}
	}
	return Pointer{raw: s, tokens: tokens}, nil
}

// String returns the pointer as written.
func (p Pointer) String() string { return p.raw }

// IsZero reports whether p names nothing (the field is not used by the flow).
func (p Pointer) IsZero() bool { return len(p.tokens) == 0 }

// Tokens returns the decoded reference tokens; the caller must not modify them.
func (p Pointer) Tokens() []string { return p.tokens }

// Name returns the last reference token: the member name itself.
func (p Pointer) Name() string {
	if p.IsZero() {
		return ""
	}
	return p.tokens[len(p.tokens)-1]
}

// Get returns the value p names inside a decoded JSON document (objects as
// map[string]any). It reports false when any step is missing or p is zero.
func (p Pointer) Get(doc any) (any, bool) {
	if p.IsZero() {
		return nil, false
	}
	node := doc
	for _, t := range p.tokens {
		m, ok := node.(map[string]any)
		if !ok {
			return nil, false
		}
		if node, ok = m[t]; !ok {
			return nil, false
		}
	}
	return node, true
}

// Set stores v at p inside doc, creating intermediate objects as needed. It
// fails when an intermediate member exists and is not an object.
func (p Pointer) Set(doc map[string]any, v any) error {
	if p.IsZero() {
		return fmt.Errorf("set on an empty pointer")
	}
	node := doc
	for _, t := range p.tokens[:len(p.tokens)-1] {
		next, ok := node[t]
		if !ok {
			child := map[string]any{}
			node[t] = child
			node = child
			continue
		}
		child, ok := next.(map[string]any)
		if !ok {
			return fmt.Errorf("set %s: member %q is not an object", p.raw, t)
		}
		node = child
	}
	node[p.tokens[len(p.tokens)-1]] = v
	return nil
}
