package mockserver

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/tollgate/tollgate/mockserver/tokens"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// This file executes a validated GraphQL operation against the sample
// data: a small executor over gqlparser's AST that writes the JSON result
// as it goes, in selection order, and nulls the nearest nullable parent
// when a non-null field cannot be served (GraphQL spec §6.4.4).

// resolverFunc serves one field of a parent value.
type resolverFunc func(x *execution, parent any, f *ast.Field) (any, *gqlerror.Error)

// fieldResolver is a resolver for type.field, used when the schema gives
// the field exactly fieldType. An empty typeName matches the field on any
// object type.
type fieldResolver struct {
	typeName, field, fieldType string
	resolve                    resolverFunc
}

// buildResolvers maps the schema's field definitions to their resolvers,
// once: a request looks them up by pointer.
func buildResolvers(schema *ast.Schema, table []fieldResolver) map[*ast.FieldDefinition]resolverFunc {
	out := map[*ast.FieldDefinition]resolverFunc{}
	for _, r := range table {
		for name, def := range schema.Types {
			if name != r.typeName && (r.typeName != "" || def.Kind != ast.Object) {
				continue
			}
			if fd := def.Fields.ForName(r.field); fd != nil && fd.Type.String() == r.fieldType {
				out[fd] = r.resolve
			}
		}
	}
	return out
}

// pathStep is one step of the response path: a response key, or a list
// index when name is "".
type pathStep struct {
	name  string
	index int
}

// execution is one operation being executed.
type execution struct {
	e     *graphqlEndpoint
	grant *tokens.Grant
	doc   *ast.QueryDocument
	vars  map[string]any
	state *sampleState // the sample state the operation reads

	out     []byte        // the JSON of data, written as fields resolve
	errs    gqlerror.List // field errors, in the order they arose
	left    int           // fields the operation may still resolve
	tooBig  bool          // the budget ran out: the operation is abandoned
	path    []pathStep
	visited []string // fragments spread into the selection set being collected
}

// run executes op into x.out; false when the budget ran out.
func (x *execution) run(op *ast.OperationDefinition) bool {
	root := x.e.g.RootType(op.Operation)
	if root == nil {
		return false // validation refuses an operation without a root type
	}
	start := len(x.out)
	if !x.selectionSet(root, nil, op.SelectionSet) {
		if x.tooBig {
			return false
		}
		x.out = append(x.out[:start], "null"...)
	}
	return true
}

// collected is one response key with the fields that answer it.
type collected struct {
	key    string
	fields []*ast.Field
}

// collect gathers the fields of set that apply to obj, by response key in
// first-seen order, through fragments and @skip/@include (GraphQL spec
// §6.3.2 CollectFields).
func (x *execution) collect(obj *ast.Definition, set ast.SelectionSet, out []collected) []collected {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if x.skipped(s.Directives) {
				continue
			}
			key := s.Alias
			if key == "" {
				key = s.Name
			}
			found := false
			for i := range out {
				if out[i].key == key {
					out[i].fields = append(out[i].fields, s)
					found = true
					break
				}
			}
			if !found {
				out = append(out, collected{key: key, fields: []*ast.Field{s}})
			}
		case *ast.InlineFragment:
			if x.skipped(s.Directives) || !x.applies(obj, s.TypeCondition) {
				continue
			}
			out = x.collect(obj, s.SelectionSet, out)
		case *ast.FragmentSpread:
			if x.skipped(s.Directives) || x.wasVisited(s.Name) {
				continue
			}
			x.visited = append(x.visited, s.Name)
			def := s.Definition
			if def == nil {
				def = x.doc.Fragments.ForName(s.Name)
			}
			if def == nil || !x.applies(obj, def.TypeCondition) {
				continue
			}
			out = x.collect(obj, def.SelectionSet, out)
		}
	}
	return out
}

func (x *execution) wasVisited(name string) bool {
	for _, v := range x.visited {
		if v == name {
			return true
		}
	}
	return false
}

// applies reports whether a fragment on typeCondition applies to obj.
func (x *execution) applies(obj *ast.Definition, typeCondition string) bool {
	if typeCondition == "" || typeCondition == obj.Name {
		return true
	}
	cond := x.e.g.Schema.Types[typeCondition]
	if cond == nil || (cond.Kind != ast.Interface && cond.Kind != ast.Union) {
		return false
	}
	for _, t := range x.e.g.Schema.GetPossibleTypes(cond) {
		if t == obj {
			return true
		}
	}
	return false
}

// skipped reports whether @skip(if: true) or @include(if: false) drops a
// selection.
func (x *execution) skipped(dirs ast.DirectiveList) bool {
	for _, d := range dirs {
		if d.Name != "skip" && d.Name != "include" {
			continue
		}
		arg := d.Arguments.ForName("if")
		if arg == nil {
			continue
		}
		v, err := arg.Value.Value(x.vars)
		b, ok := v.(bool)
		if err != nil || !ok {
			continue
		}
		if b == (d.Name == "skip") {
			return true
		}
	}
	return false
}

// selectionSet writes the object parent of type obj, selected by set;
// false when it must be null (a non-null field failed, or the budget ran
// out). Whatever it wrote is then the caller's to discard.
func (x *execution) selectionSet(obj *ast.Definition, parent any, set ast.SelectionSet) bool {
	visited := len(x.visited)
	fields := x.collect(obj, set, nil)
	x.visited = x.visited[:visited]
	x.out = append(x.out, '{')
	for i, c := range fields {
		if i > 0 {
			x.out = append(x.out, ',')
		}
		x.out = appendJSONString(x.out, c.key)
		x.out = append(x.out, ':')
		x.path = append(x.path, pathStep{name: c.key})
		ok := x.field(obj, parent, c)
		x.path = x.path[:len(x.path)-1]
		if !ok {
			return false
		}
	}
	x.out = append(x.out, '}')
	return true
}

// field writes one response key's value; false when the parent must be null.
func (x *execution) field(obj *ast.Definition, parent any, c collected) bool {
	f := c.fields[0]
	if f.Name == "__typename" {
		x.out = appendJSONString(x.out, obj.Name)
		return true
	}
	def := obj.Fields.ForName(f.Name)
	if def == nil { // validation guarantees the field; a schema mismatch still must not panic
		x.out = append(x.out, "null"...)
		x.fail(f, "field "+f.Name+" is not defined on "+obj.Name, nil)
		return true
	}
	x.left--
	if x.left < 0 {
		x.tooBig = true
		return false
	}
	scope := x.e.g.FieldScope(def)
	if scope == "" && f.Definition != nil && f.Definition != def {
		scope = x.e.g.FieldScope(f.Definition) // declared on the interface the document selected through
	}
	if scope != "" && !x.e.guard.allows(x.grant, f, scope) {
		x.out = append(x.out, "null"...)
		x.fail(f, "the access token lacks the scope "+scope+", which "+obj.Name+"."+def.Name+" requires", x.e.forbidden)
		return !def.Type.NonNull
	}
	var v any
	var err *gqlerror.Error
	if resolve := x.e.resolvers[def]; resolve != nil {
		v, err = resolve(x, parent, f)
	} else {
		index := 0
		if so, ok := parent.(syntheticObject); ok {
			index = so.index
		}
		v = x.synthesize(def.Type, def.Name, index)
	}
	if err != nil {
		x.out = append(x.out, "null"...)
		x.fail(f, err.Message, err.Extensions)
		return !def.Type.NonNull
	}
	return x.complete(def.Type, c.fields, v)
}

// complete writes v as a value of type t (GraphQL spec §6.4.3
// CompleteValue); false when the parent must be null.
func (x *execution) complete(t *ast.Type, fields []*ast.Field, v any) bool {
	if v == nil {
		x.out = append(x.out, "null"...)
		if t.NonNull {
			x.fail(fields[0], "a non-null field resolved to null", nil)
			return false
		}
		return true
	}
	if t.Elem != nil {
		list, ok := v.([]any)
		if !ok {
			return x.complete(t, fields, nil)
		}
		start := len(x.out)
		x.out = append(x.out, '[')
		for i, el := range list {
			if i > 0 {
				x.out = append(x.out, ',')
			}
			x.path = append(x.path, pathStep{index: i})
			ok := x.complete(t.Elem, fields, el)
			x.path = x.path[:len(x.path)-1]
			if !ok {
				if x.tooBig {
					return false
				}
				x.out = append(x.out[:start], "null"...)
				return !t.NonNull
			}
		}
		x.out = append(x.out, ']')
		return true
	}
	def := x.e.g.Schema.Types[t.NamedType]
	if def == nil {
		return x.complete(t, fields, nil)
	}
	switch def.Kind {
	case ast.Scalar, ast.Enum:
		var ok bool
		if x.out, ok = appendScalar(x.out, v); !ok {
			x.fail(fields[0], "the value cannot be written as "+def.Name, nil)
			x.out = append(x.out, "null"...)
			return !t.NonNull
		}
		return true
	}
	obj := x.objectType(def, v)
	if obj == nil {
		return x.complete(t, fields, nil)
	}
	set := fields[0].SelectionSet
	if len(fields) > 1 {
		set = nil
		for _, f := range fields {
			set = append(set, f.SelectionSet...)
		}
	}
	start := len(x.out)
	if !x.selectionSet(obj, v, set) {
		if x.tooBig {
			return false
		}
		x.out = append(x.out[:start], "null"...)
		return !t.NonNull
	}
	return true
}

// objectType is the object type of a value of type def: def itself, or
// for an interface or union the made-up value's type, else its first
// possible type.
func (x *execution) objectType(def *ast.Definition, v any) *ast.Definition {
	if def.Kind == ast.Object {
		return def
	}
	possible := x.e.g.Schema.GetPossibleTypes(def)
	if so, ok := v.(syntheticObject); ok {
		if so.def.Kind == ast.Object {
			return so.def
		}
		if len(possible) > 0 {
			return possible[so.index%len(possible)]
		}
	}
	if len(possible) > 0 {
		return possible[0]
	}
	return nil
}

// fail records a field error at the current path.
func (x *execution) fail(f *ast.Field, message string, extensions map[string]any) {
	e := &gqlerror.Error{Message: message, Extensions: extensions, Path: make(ast.Path, 0, len(x.path))}
	for _, p := range x.path {
		if p.name != "" {
			e.Path = append(e.Path, ast.PathName(p.name))
		} else {
			e.Path = append(e.Path, ast.PathIndex(p.index))
		}
	}
	if f.Position != nil {
		e.Locations = []gqlerror.Location{{Line: f.Position.Line, Column: f.Position.Column}}
	}
	x.errs = append(x.errs, e)
}

// argument is the value of f's argument name: as given (variables
// substituted), else its default; nil when it has neither.
func (x *execution) argument(f *ast.Field, name string) any {
	if a := f.Arguments.ForName(name); a != nil && a.Value != nil {
		if v, err := a.Value.Value(x.vars); err == nil && v != nil {
			return v
		}
	}
	if f.Definition != nil {
		if d := f.Definition.Arguments.ForName(name); d != nil && d.DefaultValue != nil {
			if v, err := d.DefaultValue.Value(nil); err == nil {
				return v
			}
		}
	}
	return nil
}

// intArg is an Int argument, or def when it is absent or out of range.
func (x *execution) intArg(f *ast.Field, name string, def int) int {
	switch v := x.argument(f, name).(type) {
	case int:
		return v
	case int64:
		if v >= math.MinInt32 && v <= math.MaxInt32 {
			return int(v)
		}
	case float64:
		if v >= math.MinInt32 && v <= math.MaxInt32 && v == math.Trunc(v) {
			return int(v)
		}
	case json.Number:
		if n, err := strconv.ParseInt(string(v), 10, 32); err == nil {
			return int(n)
		}
	}
	return def
}

// stringArg is a String, ID or enum argument; "" when absent.
func (x *execution) stringArg(f *ast.Field, name string) string {
	switch v := x.argument(f, name).(type) {
	case string:
		return v
	case json.Number:
		return string(v) // an ID given as a number
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return ""
}

// appendScalar writes a leaf value; false for one JSON cannot carry.
func appendScalar(b []byte, v any) ([]byte, bool) {
	switch v := v.(type) {
	case string:
		return appendJSONString(b, v), true
	case int:
		return strconv.AppendInt(b, int64(v), 10), true
	case int64:
		return strconv.AppendInt(b, v, 10), true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return b, false
		}
		return strconv.AppendFloat(b, v, 'g', -1, 64), true
	case bool:
		return strconv.AppendBool(b, v), true
	}
	return b, false
}

// appendJSONString writes s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD, and <, >
// and & escaped as encoding/json does so the body is safe in HTML.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
