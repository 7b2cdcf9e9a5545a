package mockserver

import (
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// This file answers introspection (__schema, __type; GraphQL spec §4.2)
// from the loaded schema.

// The values introspection resolvers pass down.
type (
	introSchema struct{}
	// introType is a named type (def), or a list or non-null wrapper (wrap).
	introType struct {
		def  *ast.Definition
		wrap *ast.Type
	}
	introField struct{ def *ast.FieldDefinition }
	// introInput is an argument or an input object's field.
	introInput struct {
		name, description string
		typ               *ast.Type
		defaultValue      *ast.Value
		directives        ast.DirectiveList
	}
	introEnum      struct{ def *ast.EnumValueDefinition }
	introDirective struct{ def *ast.DirectiveDefinition }
)

// introspectionResolvers serve __schema, __type and the introspection
// types of schema.
func introspectionResolvers(schema *ast.Schema) []fieldResolver {
	rs := []fieldResolver{
		{"Query", "__schema", "__Schema!", func(*execution, any, *ast.Field) (any, *gqlerror.Error) { return introSchema{}, nil }},
		{"Query", "__type", "__Type", func(x *execution, _ any, f *ast.Field) (any, *gqlerror.Error) {
			if def := x.e.g.Schema.Types[x.stringArg(f, "name")]; def != nil {
				return introType{def: def}, nil
			}
			return nil, nil
		}},
		{"__Schema", "description", "String", func(x *execution, _ any, _ *ast.Field) (any, *gqlerror.Error) {
			return optional(x.e.g.Schema.Description), nil
		}},
		{"__Schema", "types", "[__Type!]!", func(x *execution, _ any, _ *ast.Field) (any, *gqlerror.Error) {
			names := make([]string, 0, len(x.e.g.Schema.Types))
			for name := range x.e.g.Schema.Types {
				names = append(names, name)
			}
			sort.Strings(names)
			out := make([]any, len(names))
			for i, name := range names {
				out[i] = introType{def: x.e.g.Schema.Types[name]}
			}
			return out, nil
		}},
		{"__Schema", "directives", "[__Directive!]!", func(x *execution, _ any, _ *ast.Field) (any, *gqlerror.Error) {
			names := make([]string, 0, len(x.e.g.Schema.Directives))
			for name := range x.e.g.Schema.Directives {
				names = append(names, name)
			}
			sort.Strings(names)
			out := make([]any, len(names))
			for i, name := range names {
				out[i] = introDirective{x.e.g.Schema.Directives[name]}
			}
			return out, nil
		}},
		{"__Type", "kind", "__TypeKind!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) { return as[introType](p).kind(), nil }},
		{"__Type", "name", "String", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			if t := as[introType](p); t.def != nil {
				return t.def.Name, nil
			}
			return nil, nil
		}},
		{"__Type", "description", "String", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			if t := as[introType](p); t.def != nil {
				return optional(t.def.Description), nil
			}
			return nil, nil
		}},
		{"__Type", "specifiedByURL", "String", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			if t := as[introType](p); t.def != nil && t.def.Kind == ast.Scalar {
				return directiveArg(t.def.Directives, "specifiedBy", "url"), nil
			}
			return nil, nil
		}},
		{"__Type", "fields", "[__Field!]", func(x *execution, p any, f *ast.Field) (any, *gqlerror.Error) {
			t := as[introType](p)
			if t.def == nil || (t.def.Kind != ast.Object && t.def.Kind != ast.Interface) {
				return nil, nil
			}
			all := x.boolArg(f, "includeDeprecated")
			out := []any{}
			for _, fd := range t.def.Fields {
				if !strings.HasPrefix(fd.Name, "__") && (all || fd.Directives.ForName("deprecated") == nil) {
					out = append(out, introField{fd})
				}
			}
			return out, nil
		}},
		{"__Type", "interfaces", "[__Type!]", func(x *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			t := as[introType](p)
			if t.def == nil || (t.def.Kind != ast.Object && t.def.Kind != ast.Interface) {
				return nil, nil
			}
			out := []any{}
			for _, name := range t.def.Interfaces {
				if def := x.e.g.Schema.Types[name]; def != nil {
					out = append(out, introType{def: def})
				}
			}
			return out, nil
		}},
		{"__Type", "possibleTypes", "[__Type!]", func(x *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			t := as[introType](p)
			if t.def == nil || (t.def.Kind != ast.Interface && t.def.Kind != ast.Union) {
				return nil, nil
			}
			out := []any{}
			for _, def := range x.e.g.Schema.GetPossibleTypes(t.def) {
				out = append(out, introType{def: def})
			}
			return out, nil
		}},
		{"__Type", "enumValues", "[__EnumValue!]", func(x *execution, p any, f *ast.Field) (any, *gqlerror.Error) {
			t := as[introType](p)
			if t.def == nil || t.def.Kind != ast.Enum {
				return nil, nil
			}
			all := x.boolArg(f, "includeDeprecated")
			out := []any{}
			for _, ev := range t.def.EnumValues {
				if all || ev.Directives.ForName("deprecated") == nil {
					out = append(out, introEnum{ev})
				}
			}
			return out, nil
		}},
		{"__Type", "inputFields", "[__InputValue!]", func(x *execution, p any, f *ast.Field) (any, *gqlerror.Error) {
			t := as[introType](p)
			if t.def == nil || t.def.Kind != ast.InputObject {
				return nil, nil
			}
			all := x.boolArg(f, "includeDeprecated")
			out := []any{}
			for _, fd := range t.def.Fields {
				if all || fd.Directives.ForName("deprecated") == nil {
					out = append(out, introInput{fd.Name, fd.Description, fd.Type, fd.DefaultValue, fd.Directives})
				}
			}
			return out, nil
		}},
		{"__Type", "ofType", "__Type", func(x *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			t := as[introType](p)
			switch {
			case t.wrap == nil:
				return nil, nil
			case t.wrap.NonNull:
				inner := *t.wrap
				inner.NonNull = false
				return x.typeOf(&inner), nil
			default:
				return x.typeOf(t.wrap.Elem), nil
			}
		}},
		{"__Type", "isOneOf", "Boolean", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			if t := as[introType](p); t.def != nil && t.def.Kind == ast.InputObject {
				return t.def.Directives.ForName("oneOf") != nil, nil
			}
			return nil, nil
		}},
		{"__Field", "name", "String!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) { return as[introField](p).def.Name, nil }},
		{"__Field", "description", "String", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			return optional(as[introField](p).def.Description), nil
		}},
		{"__Field", "args", "[__InputValue!]!", func(x *execution, p any, f *ast.Field) (any, *gqlerror.Error) {
			all := x.boolArg(f, "includeDeprecated")
			out := []any{}
			for _, a := range as[introField](p).def.Arguments {
				if all || a.Directives.ForName("deprecated") == nil {
					out = append(out, introInput{a.Name, a.Description, a.Type, a.DefaultValue, a.Directives})
				}
			}
			return out, nil
		}},
		{"__Field", "type", "__Type!", func(x *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			return x.typeOf(as[introField](p).def.Type), nil
		}},
		{"__Field", "isDeprecated", "Boolean!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			return as[introField](p).def.Directives.ForName("deprecated") != nil, nil
		}},
		{"__Field", "deprecationReason", "String", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			return deprecationReason(as[introField](p).def.Directives), nil
		}},
		{"__InputValue", "name", "String!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) { return as[introInput](p).name, nil }},
		{"__InputValue", "description", "String", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			return optional(as[introInput](p).description), nil
		}},
		{"__InputValue", "type", "__Type!", func(x *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			return x.typeOf(as[introInput](p).typ), nil
		}},
		{"__InputValue", "defaultValue", "String", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			if v := as[introInput](p).defaultValue; v != nil {
				return v.String(), nil
			}
			return nil, nil
		}},
		{"__InputValue", "isDeprecated", "Boolean!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			return as[introInput](p).directives.ForName("deprecated") != nil, nil
		}},
		{"__InputValue", "deprecationReason", "String", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			return deprecationReason(as[introInput](p).directives), nil
		}},
		{"__EnumValue", "name", "String!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) { return as[introEnum](p).def.Name, nil }},
		{"__EnumValue", "description", "String", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			return optional(as[introEnum](p).def.Description), nil
		}},
		{"__EnumValue", "isDeprecated", "Boolean!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			return as[introEnum](p).def.Directives.ForName("deprecated") != nil, nil
		}},
		{"__EnumValue", "deprecationReason", "String", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			return deprecationReason(as[introEnum](p).def.Directives), nil
		}},
		{"__Directive", "name", "String!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			return as[introDirective](p).def.Name, nil
		}},
		{"__Directive", "description", "String", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			return optional(as[introDirective](p).def.Description), nil
		}},
		{"__Directive", "isRepeatable", "Boolean!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			return as[introDirective](p).def.IsRepeatable, nil
		}},
		{"__Directive", "locations", "[__DirectiveLocation!]!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			locs := as[introDirective](p).def.Locations
			out := make([]any, len(locs))
			for i, l := range locs {
				out[i] = string(l)
			}
			return out, nil
		}},
		{"__Directive", "args", "[__InputValue!]!", func(x *execution, p any, f *ast.Field) (any, *gqlerror.Error) {
			all := x.boolArg(f, "includeDeprecated")
			out := []any{}
			for _, a := range as[introDirective](p).def.Arguments {
				if all || a.Directives.ForName("deprecated") == nil {
					out = append(out, introInput{a.Name, a.Description, a.Type, a.DefaultValue, a.Directives})
				}
			}
			return out, nil
		}},
	}
	// The root types: queryType and the others, each named after its
	// operation type ("<operation>Type").
	if def := schema.Types["__Schema"]; def != nil {
		for _, fd := range def.Fields {
			op, ok := strings.CutSuffix(fd.Name, "Type")
			if !ok || fd.Type.NamedType != "__Type" {
				continue
			}
			operation := ast.Operation(op)
			rs = append(rs, fieldResolver{"__Schema", fd.Name, fd.Type.String(), func(x *execution, _ any, _ *ast.Field) (any, *gqlerror.Error) {
				if def := x.e.g.RootType(operation); def != nil {
					return introType{def: def}, nil
				}
				return nil, nil
			}})
		}
	}
	return rs
}

// kind is the __TypeKind of t.
func (t introType) kind() string {
	switch {
	case t.wrap != nil && t.wrap.NonNull:
		return "NON_NULL"
	case t.wrap != nil:
		return "LIST"
	case t.def == nil:
		return "SCALAR"
	}
	switch t.def.Kind {
	case ast.Object:
		return "OBJECT"
	case ast.Interface:
		return "INTERFACE"
	case ast.Union:
		return "UNION"
	case ast.Enum:
		return "ENUM"
	case ast.InputObject:
		return "INPUT_OBJECT"
	default:
		return "SCALAR"
	}
}

// typeOf is the __Type of a type reference.
func (x *execution) typeOf(t *ast.Type) any {
	if t == nil {
		return nil
	}
	if t.NonNull || t.Elem != nil {
		return introType{wrap: t}
	}
	if def := x.e.g.Schema.Types[t.NamedType]; def != nil {
		return introType{def: def}
	}
	return nil
}

// boolArg is a Boolean argument; false when absent.
func (x *execution) boolArg(f *ast.Field, name string) bool {
	b, _ := x.argument(f, name).(bool)
	return b
}

// optional is s, or null when it is empty.
func optional(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// directiveArg is the string argument arg of directive name; null when
// there is none.
func directiveArg(dirs ast.DirectiveList, name, arg string) any {
	d := dirs.ForName(name)
	if d == nil {
		return nil
	}
	if a := d.Arguments.ForName(arg); a != nil && a.Value != nil {
		return a.Value.Raw
	}
	return nil
}

// deprecationReason is the reason of @deprecated; null when not deprecated.
func deprecationReason(dirs ast.DirectiveList) any {
	d := dirs.ForName("deprecated")
	if d == nil {
		return nil
	}
	if a := d.Arguments.ForName("reason"); a != nil && a.Value != nil {
		return a.Value.Raw
	}
	return "No longer supported"
}
