package spec

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestDefaultValueFitsItsSchema: the body the mock serves for a response
// without example is valid against the response's schema.
func TestDefaultValueFitsItsSchema(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, schema, want string
	}{
		{"required members only", `{"type":"object","required":["id"],"properties":{"id":{"type":"string"},"note":{"type":"string"}}}`, `{"id":"example"}`},
		{"nested object and array", `{"type":"object","required":["items"],"properties":{"items":{"type":"array","minItems":2,"items":{"type":"integer","minimum":3}}}}`, `{"items":[3,3]}`},
		{"example, default and enum first", `{"type":"object","required":["a","b","c"],"properties":{"a":{"type":"string","example":"x"},"b":{"type":"integer","default":7},"c":{"type":"string","enum":["on","off"]}}}`, `{"a":"x","b":7,"c":"on"}`},
		{"string formats and lengths", `{"type":"object","required":["t","u","s","m"],"properties":{"t":{"type":"string","format":"date-time"},"u":{"type":"string","format":"uuid"},"s":{"type":"string","minLength":10},"m":{"type":"string","maxLength":3}}}`, `{"m":"exa","s":"examplexxx","t":"1970-01-01T00:00:00Z","u":"00000000-0000-4000-8000-000000000000"}`},
		{"exclusive minimum", `{"type":"object","required":["n","i"],"properties":{"n":{"type":"number","minimum":1.5,"exclusiveMinimum":true},"i":{"type":"integer","minimum":0,"exclusiveMinimum":true}}}`, `{"i":1,"n":2.5}`},
		{"allOf merges objects", `{"allOf":[{"type":"object","required":["a"],"properties":{"a":{"type":"boolean"}}},{"type":"object","required":["b"],"properties":{"b":{"type":"number"}}}]}`, `{"a":false,"b":0}`},
		{"oneOf takes the first", `{"oneOf":[{"type":"string"},{"type":"integer"}]}`, `"example"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s openapi3.Schema
			if err := json.Unmarshal([]byte(tt.schema), &s); err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(context.Background()); err != nil {
				t.Fatalf("test schema is invalid: %v", err)
			}
			v := defaultValue(&s, 0)
			got, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("defaultValue = %s, want %s", got, tt.want)
			}
			var decoded any
			_ = json.Unmarshal(got, &decoded)
			if err := s.VisitJSON(decoded); err != nil {
				t.Errorf("%s does not fit its schema: %v", got, err)
			}
		})
	}
}

func TestDefaultValueStopsOnRecursion(t *testing.T) {
	t.Parallel()
	node := &openapi3.Schema{Type: &openapi3.Types{"object"}, Required: []string{"child"}}
	node.Properties = openapi3.Schemas{"child": &openapi3.SchemaRef{Value: node}}
	if _, err := json.Marshal(defaultValue(node, 0)); err != nil {
		t.Fatalf("a recursive schema: %v", err)
	}
}
