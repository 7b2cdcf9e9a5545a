package yamlnode_test

import (
	"fmt"
	"log"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate/tollgate/spec/yamlnode"
)

const doc = `flows:
  simple:
    lifetime: 30m
clients:
  - id: a
`

func parse(t *testing.T, s string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(s), &n); err != nil {
		t.Fatal(err)
	}
	return &n
}

func TestLookup(t *testing.T) {
	t.Parallel()
	root := parse(t, doc)
	tests := []struct {
		name     string
		n        *yaml.Node
		key      string
		wantLine int // of the key; 0: not found
		wantKind yaml.Kind
	}{
		{"a key of the document's mapping", root, "clients", 4, yaml.SequenceNode},
		{"a key of a mapping node", root.Content[0], "flows", 1, yaml.MappingNode},
		{"a nested key", yamlnode.Value(root, "flows"), "simple", 2, yaml.MappingNode},
		{"a missing key", root, "nope", 0, 0},
		{"a sequence has no keys", yamlnode.Value(root, "clients"), "id", 0, 0},
		{"nil", nil, "flows", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, v := yamlnode.Lookup(tt.n, tt.key)
			if tt.wantLine == 0 {
				if k != nil || v != nil {
					t.Fatalf("Lookup(%q) = %v, %v, want nothing", tt.key, k, v)
				}
				return
			}
			if k == nil || v == nil {
				t.Fatalf("Lookup(%q) found nothing", tt.key)
			}
			if k.Line != tt.wantLine || v.Kind != tt.wantKind {
				t.Errorf("Lookup(%q) = key on line %d, value kind %v; want line %d, kind %v", tt.key, k.Line, v.Kind, tt.wantLine, tt.wantKind)
			}
		})
	}
}

func ExampleLookup() {
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
		log.Fatal(err)
	}
	key, value := yamlnode.Lookup(yamlnode.Value(&root, "flows"), "simple")
	fmt.Println(key.Line, yamlnode.Value(value, "lifetime").Value)
	// Output: 2 30m
}
