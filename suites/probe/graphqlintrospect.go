package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// introspectionQuery asks for what an SDL holds: types with their fields,
// arguments, input fields, enum values, interfaces and union members.
// Directives on fields are not part of introspection, so a schema read
// this way names no scopes.
const introspectionQuery = `query TollgateSchema {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types {
      kind name
      fields(includeDeprecated: true) { name args { name type { ...T } defaultValue } type { ...T } }
      inputFields { name type { ...T } defaultValue }
      interfaces { name }
      enumValues(includeDeprecated: true) { name }
      possibleTypes { name }
    }
  }
}
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } }`

type introType struct {
	Kind   string     `json:"kind"`
	Name   string     `json:"name"`
	OfType *introType `json:"ofType"`
}

func (t *introType) sdl() string {
	switch {
	case t == nil:
		return "String"
	case t.Kind == "NON_NULL":
		return t.OfType.sdl() + "!"
	case t.Kind == "LIST":
		return "[" + t.OfType.sdl() + "]"
	default:
		return t.Name
	}
}

type introInput struct {
	Name         string    `json:"name"`
	Type         introType `json:"type"`
	DefaultValue *string   `json:"defaultValue"`
}

func (i introInput) sdl() string {
	s := i.Name + ": " + i.Type.sdl()
	if i.DefaultValue != nil {
		s += " = " + *i.DefaultValue
	}
	return s
}

// introspectSDL reads the endpoint's schema by introspection with token and
// writes it as SDL.
func (p *Prober) introspectSDL(ctx context.Context, endpoint, token string) (string, error) {
	t := &GraphQLTarget{URL: endpoint}
	ex, err := p.GraphQL(ctx, t, GraphQLCall{Ops: []GraphQLRequest{{Query: introspectionQuery}}, Auth: []string{"Bearer " + token}})
	if err != nil {
		return "", fmt.Errorf("graphql sdl introspection: %w", err)
	}
	var doc struct {
		Data *struct {
			Schema struct {
				QueryType, MutationType, SubscriptionType *struct{ Name string }
				Types                                     []struct {
					Kind   string
					Name   string
					Fields []struct {
						Name string
						Args []introInput
						Type introType
					}
					InputFields   []introInput
					Interfaces    []struct{ Name string }
					EnumValues    []struct{ Name string }
					PossibleTypes []struct{ Name string }
				}
			} `json:"__schema"`
		}
	}
	if ex.Status != http.StatusOK || json.Unmarshal(ex.Body, &doc) != nil || doc.Data == nil || doc.Data.Schema.QueryType == nil {
		return "", fmt.Errorf("graphql sdl introspection: %s answered %d without a schema: give the SDL as a file (graphql.sdl, --graphql-sdl)", endpoint, ex.Status)
	}
	s := doc.Data.Schema
	var b strings.Builder
	b.WriteString("schema { query: " + s.QueryType.Name)
	if s.MutationType != nil {
		b.WriteString(" mutation: " + s.MutationType.Name)
	}
	if s.SubscriptionType != nil {
		b.WriteString(" subscription: " + s.SubscriptionType.Name)
	}
	b.WriteString(" }\n")
	builtin := map[string]bool{"String": true, "Int": true, "Float": true, "Boolean": true, "ID": true}
	sort.Slice(s.Types, func(i, j int) bool { return s.Types[i].Name < s.Types[j].Name })
	for _, ty := range s.Types {
		if strings.HasPrefix(ty.Name, "__") || builtin[ty.Name] {
			continue
		}
		switch ty.Kind {
		case "SCALAR":
			fmt.Fprintf(&b, "scalar %s\n", ty.Name)
		case "OBJECT", "INTERFACE":
			kw := map[string]string{"OBJECT": "type", "INTERFACE": "interface"}[ty.Kind]
			fmt.Fprintf(&b, "%s %s", kw, ty.Name)
			if len(ty.Interfaces) > 0 {
				var names []string
				for _, i := range ty.Interfaces {
					names = append(names, i.Name)
				}
				b.WriteString(" implements " + strings.Join(names, " & "))
			}
			b.WriteString(" {\n")
			for _, f := range ty.Fields {
				b.WriteString("  " + f.Name)
				if len(f.Args) > 0 {
					var args []string
					for _, a := range f.Args {
						args = append(args, a.sdl())
					}
					b.WriteString("(" + strings.Join(args, ", ") + ")")
				}
				b.WriteString(": " + f.Type.sdl() + "\n")
			}
			b.WriteString("}\n")
		case "INPUT_OBJECT":
			fmt.Fprintf(&b, "input %s {\n", ty.Name)
			for _, f := range ty.InputFields {
				b.WriteString("  " + f.sdl() + "\n")
			}
			b.WriteString("}\n")
		case "ENUM":
			var vals []string
			for _, v := range ty.EnumValues {
				vals = append(vals, v.Name)
			}
			fmt.Fprintf(&b, "enum %s { %s }\n", ty.Name, strings.Join(vals, " "))
		case "UNION":
			var names []string
			for _, m := range ty.PossibleTypes {
				names = append(names, m.Name)
			}
			fmt.Fprintf(&b, "union %s = %s\n", ty.Name, strings.Join(names, " | "))
		}
	}
	return b.String(), nil
}
