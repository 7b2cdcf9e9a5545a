package flowinit

import (
	"strconv"

	"go.yaml.in/yaml/v3"
)

// The document is built as yaml.v3 nodes, so that comments (the TODO(decide)
// notes, where a value came from) sit next to the keys they are about.

// field is one key of a mapping with its value and comments.
type field struct {
	key   string
	value *yaml.Node
	head  string // comment lines above the key
	line  string // comment after the value (after the key for a block value)
}

// mapping returns a block mapping of the fields whose value is not nil.
func mapping(fields ...field) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, f := range fields {
		if f.value == nil {
			continue
		}
		key := str(f.key)
		key.HeadComment = f.head
		if f.value.Kind == yaml.ScalarNode || f.value.Style == yaml.FlowStyle {
			f.value.LineComment = f.line
		} else {
			key.LineComment = f.line
		}
		n.Content = append(n.Content, key, f.value)
	}
	return n
}

// flowMapping returns a mapping written on one line, like {type: string}.
func flowMapping(fields ...field) *yaml.Node {
	n := mapping(fields...)
	n.Style = yaml.FlowStyle
	return n
}

// str returns a string scalar; the encoder quotes it when it would
// otherwise read as another type ('200').
func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// integer returns an integer scalar.
func integer(n int64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(n, 10)}
}

// strList returns a sequence of strings written on one line, like [a, b];
// nil for none, so that mapping leaves the key out.
func strList(items ...string) *yaml.Node {
	if len(items) == 0 {
		return nil
	}
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
	for _, s := range items {
		n.Content = append(n.Content, str(s))
	}
	return n
}

// sequence returns a block sequence of nodes.
func sequence(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: items}
}

// emptyList returns [].
func emptyList() *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
}

// emptyMap returns {}.
func emptyMap() *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle}
}
