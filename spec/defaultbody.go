package spec

import (
	"math"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// maxDefaultDepth bounds how deep defaultValue follows nested (possibly
// recursive) schemas.
const maxDefaultDepth = 8

// defaultValue builds the smallest value that fits schema s, for a response
// the document gives no example of: `tollgate check` never reads response
// examples, so a document written for checking need not carry them, and the
// mock then serves this instead. Per schema: its example, default or first
// enum value when it has one; else an object with its required members, an
// array of minItems items, a string ("example", or a value of its format,
// padded to minLength), a number at its minimum (else 0), false, or null.
func defaultValue(s *openapi3.Schema, depth int) any {
	if s == nil || depth > maxDefaultDepth {
		return nil
	}
	switch {
	case s.Example != nil:
		return s.Example
	case s.Default != nil:
		return s.Default
	case len(s.Enum) > 0:
		return s.Enum[0]
	case len(s.AllOf) > 0:
		merged := map[string]any{}
		for _, ref := range s.AllOf {
			if ref == nil {
				continue
			}
			v, ok := defaultValue(ref.Value, depth+1).(map[string]any)
			if !ok {
				return defaultValue(ref.Value, depth+1) // a part that is not an object decides
			}
			for k, x := range v {
				merged[k] = x
			}
		}
		return merged
	case len(s.OneOf) > 0 && s.OneOf[0] != nil:
		return defaultValue(s.OneOf[0].Value, depth+1)
	case len(s.AnyOf) > 0 && s.AnyOf[0] != nil:
		return defaultValue(s.AnyOf[0].Value, depth+1)
	}
	switch {
	case s.Type.Is("object") || (s.Type == nil && len(s.Properties) > 0):
		obj := map[string]any{}
		for _, name := range s.Required {
			if prop := s.Properties[name]; prop != nil {
				obj[name] = defaultValue(prop.Value, depth+1)
			}
		}
		return obj
	case s.Type.Is("array"):
		items := []any{}
		for i := uint64(0); i < s.MinItems && i < 16 && s.Items != nil; i++ {
			items = append(items, defaultValue(s.Items.Value, depth+1))
		}
		return items
	case s.Type.Is("string"):
		return defaultString(s)
	case s.Type.Is("integer"):
		return int64(math.Ceil(lowest(s)))
	case s.Type.Is("number"):
		return lowest(s)
	case s.Type.Is("boolean"):
		return false
	}
	return nil
}

// defaultString is a string of s's format, else "example", padded to its
// minLength and cut to its maxLength.
func defaultString(s *openapi3.Schema) string {
	v, ok := map[string]string{
		"date-time": "1970-01-01T00:00:00Z",
		"date":      "1970-01-01",
		"uuid":      "00000000-0000-4000-8000-000000000000",
		"email":     "user@example.com",
		"uri":       "https://example.com/",
		"hostname":  "example.com",
		"ipv4":      "192.0.2.1",
	}[s.Format]
	if !ok {
		v = "example"
	}
	if n := s.MinLength; uint64(len(v)) < n && n <= 1024 {
		v += strings.Repeat("x", int(n)-len(v))
	}
	if s.MaxLength != nil && uint64(len(v)) > *s.MaxLength {
		v = v[:*s.MaxLength]
	}
	return v
}

// lowest is the least value s allows (0 when it sets no lower bound), or
// one above an exclusive bound (OpenAPI 3.0's boolean, or 3.1's number).
func lowest(s *openapi3.Schema) float64 {
	switch {
	case s.ExclusiveMin.Value != nil:
		return *s.ExclusiveMin.Value + 1
	case s.Min != nil && s.ExclusiveMin.IsTrue():
		return *s.Min + 1
	case s.Min != nil:
		return *s.Min
	}
	return 0
}
