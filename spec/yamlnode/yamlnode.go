// Package yamlnode finds keys in a parsed YAML document (go.yaml.in/yaml/v3
// nodes), so that errors in flow documents, target files and server
// configs can name the line at fault. Use it where a decoded struct has
// lost the positions; it is one lookup rule for all of them.
package yamlnode

import "go.yaml.in/yaml/v3"

// Lookup returns the key and value nodes of key in the mapping n, or in the
// mapping a document node n holds; both are nil when there is none, or
// when n is nil or not a mapping. A repeated key gives its first
// occurrence.
func Lookup(n *yaml.Node, key string) (keyNode, value *yaml.Node) {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}

// Value returns the value node of key in the mapping n (see Lookup), or nil.
func Value(n *yaml.Node, key string) *yaml.Node {
	_, v := Lookup(n, key)
	return v
}
