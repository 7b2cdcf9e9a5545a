package probe

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// ErrGraphQLFixture marks a query the suite would send that the target's
// SDL rejects: a configuration error (GQL-010), never a server failure.
var ErrGraphQLFixture = errors.New("graphql fixture does not match the SDL")

// GraphQLSchema is a target's loaded SDL and where it came from, with the
// scope each field needs (ScopeOf).
type GraphQLSchema struct {
	Schema *ast.Schema
	Source string // the SDL file, or "introspection"
	// ScopeOf returns the scope a field definition requires ("" for
	// none), as the flow's scope directive names it.
	ScopeOf func(fd *ast.FieldDefinition) string
}

// Validate parses and validates query against the schema with gqlparser's
// default rules. An error wraps ErrGraphQLFixture and names each problem
// with its location.
func (s *GraphQLSchema) Validate(query string) error {
	_, errs := gqlparser.LoadQueryWithRules(s.Schema, query, rules.NewDefaultRules())
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("%w (%s): %s", ErrGraphQLFixture, s.Source, strings.Join(msgs, "; "))
}

// scope returns the scope fd requires, "" for none.
func (s *GraphQLSchema) scope(fd *ast.FieldDefinition) string {
	if s.ScopeOf == nil {
		return ""
	}
	return s.ScopeOf(fd)
}

// QueryField is a top-level Query field the suite can select, as text.
type QueryField struct {
	Name      string // the field's name
	Scope     string // the scope it requires; "" for none
	Selection string // the field with its arguments and sub-selection, e.g. collections { id name }
	NonNull   bool   // the field's type is non-null: an answer that serves it always carries data
}

// QueryFields returns the Query type's fields the suite can select, best
// first for a probe: no required arguments and a non-null type first (an
// answer that serves them always shows data), in SDL order otherwise.
// Introspection fields are left out.
func (s *GraphQLSchema) QueryFields() []QueryField {
	return s.fieldsOf(s.Schema.Query)
}

// MutationFields returns the Mutation type's fields, as QueryFields.
func (s *GraphQLSchema) MutationFields() []QueryField {
	return s.fieldsOf(s.Schema.Mutation)
}

func (s *GraphQLSchema) fieldsOf(def *ast.Definition) []QueryField {
	if def == nil {
		return nil
	}
	type ranked struct {
		QueryField
		rank, order int
	}
	var out []ranked
	for i, fd := range def.Fields {
		if strings.HasPrefix(fd.Name, "__") {
			continue
		}
		sel, ok := s.selectField(fd, 0)
		if !ok {
			continue
		}
		rank := 0
		if hasRequiredArgs(fd) {
			rank += 2
		}
		if !fd.Type.NonNull {
			rank++
		}
		out = append(out, ranked{QueryField{Name: fd.Name, Scope: s.scope(fd), Selection: sel, NonNull: fd.Type.NonNull}, rank, i})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].rank < out[j].rank })
	fields := make([]QueryField, len(out))
	for i, r := range out {
		fields[i] = r.QueryField
	}
	return fields
}

// hasRequiredArgs reports whether fd has a non-null argument without a default.
func hasRequiredArgs(fd *ast.FieldDefinition) bool {
	for _, a := range fd.Arguments {
		if a.Type.NonNull && a.DefaultValue == nil {
			return true
		}
	}
	return false
}

// maxSelectionDepth bounds how deep selectField descends to find leaves.
const maxSelectionDepth = 3

// selectField writes fd as a selection: its required arguments filled with
// sample literals, and for an object type its leaf fields (or, when it has
// none, one nested object field). false when fd cannot be selected within
// the depth bound (an argument type without a literal, say).
func (s *GraphQLSchema) selectField(fd *ast.FieldDefinition, depth int) (string, bool) {
	var b strings.Builder
	b.WriteString(fd.Name)
	var args []string
	for _, a := range fd.Arguments {
		if !a.Type.NonNull || a.DefaultValue != nil {
			continue
		}
		lit, ok := s.literal(a.Type, 0)
		if !ok {
			return "", false
		}
		args = append(args, a.Name+": "+lit)
	}
	if len(args) > 0 {
		b.WriteString("(" + strings.Join(args, ", ") + ")")
	}
	def := s.Schema.Types[fd.Type.Name()]
	if def == nil {
		return "", false
	}
	switch def.Kind {
	case ast.Scalar, ast.Enum:
		return b.String(), true
	case ast.Union, ast.Interface:
		b.WriteString(" { __typename }")
		return b.String(), true
	case ast.Object:
	default:
		return "", false
	}
	var leaves, nested []string
	for _, sub := range def.Fields {
		if strings.HasPrefix(sub.Name, "__") || hasRequiredArgs(sub) {
			continue
		}
		subDef := s.Schema.Types[sub.Type.Name()]
		if subDef == nil {
			continue
		}
		if subDef.Kind == ast.Scalar || subDef.Kind == ast.Enum {
			leaves = append(leaves, sub.Name)
			continue
		}
		if depth+1 < maxSelectionDepth && s.scope(sub) == "" {
			if sel, ok := s.selectField(sub, depth+1); ok {
				nested = append(nested, sel)
			}
		}
	}
	switch {
	case len(leaves) > 0:
		b.WriteString(" { " + strings.Join(leaves, " ") + " }")
	case len(nested) > 0:
		b.WriteString(" { " + nested[0] + " }")
	default:
		b.WriteString(" { __typename }")
	}
	return b.String(), true
}

// literal returns a sample GraphQL literal of type t.
func (s *GraphQLSchema) literal(t *ast.Type, depth int) (string, bool) {
	if t.Elem != nil {
		inner, ok := s.literal(t.Elem, depth)
		return "[" + inner + "]", ok
	}
	switch t.NamedType {
	case "String":
		return strconv.Quote("tollgate"), true
	case "ID":
		return strconv.Quote("1"), true
	case "Int":
		return "1", true
	case "Float":
		return "1.5", true
	case "Boolean":
		return "true", true
	}
	def := s.Schema.Types[t.NamedType]
	if def == nil || depth > maxSelectionDepth {
		return "", false
	}
	switch def.Kind {
	case ast.Enum:
		if len(def.EnumValues) == 0 {
			return "", false
		}
		return def.EnumValues[0].Name, true
	case ast.InputObject:
		var members []string
		for _, f := range def.Fields {
			if !f.Type.NonNull || f.DefaultValue != nil {
				continue
			}
			lit, ok := s.literal(f.Type, depth+1)
			if !ok {
				return "", false
			}
			members = append(members, f.Name+": "+lit)
		}
		return "{" + strings.Join(members, ", ") + "}", true
	case ast.Scalar:
		return strconv.Quote("tollgate"), true // a custom scalar: a string is the usual input form
	}
	return "", false
}

// MisspeltField returns a Query field name and a misspelling of it that is
// no field of the Query type and contains no field's name: a query for it
// is invalid, and a server that suggests the real one names it.
func (s *GraphQLSchema) MisspeltField() (real, misspelt string, ok bool) {
	q := s.Schema.Query
	if q == nil {
		return "", "", false
	}
	var names []string
	for _, fd := range q.Fields {
		if !strings.HasPrefix(fd.Name, "__") {
			names = append(names, fd.Name)
		}
	}
	for _, name := range names {
		if len(name) < 4 {
			continue
		}
		// Drop one letter from the middle: one edit away, so suggestion
		// engines (Levenshtein within a third of the length) offer it.
		cand := name[:len(name)/2] + name[len(name)/2+1:]
		clash := slices.ContainsFunc(names, func(n string) bool { return strings.Contains(cand, n) })
		if !clash {
			return name, cand, true
		}
	}
	return "", "", false
}

// GraphQLFixtures are the queries the suite sends to a GraphQL endpoint,
// built from its SDL and validated against it (GQL-010).
type GraphQLFixtures struct {
	// Probe selects ProbeField, a Query field that needs no scope (else
	// the first one): what a valid token must be served.
	Probe      string
	ProbeField QueryField
	// Aliases selects ProbeField three times under aliases (a1, a2, a3);
	// Fragment selects it through a named fragment.
	Aliases, Fragment string
	// Mutation calls the first Mutation field; "" when the SDL has none.
	Mutation string
	// Introspection asks for the schema (__schema).
	Introspection string
	// Misspelt queries MisspeltName, one letter off the real field
	// SuggestedName: invalid by design, for the disclosure check.
	Misspelt, MisspeltName, SuggestedName string
	// Scoped are the Query fields that need a scope, each with its
	// queries: alone, and three times under aliases.
	Scoped []ScopedQuery
}

// ScopedQuery is a Query field that needs a scope, with the queries that
// select it.
type ScopedQuery struct {
	QueryField
	Query   string // the field alone
	Aliases string // the field under the aliases s1, s2, s3
}

// AliasNames are the aliases of GraphQLFixtures.Aliases.
func AliasNames() []string { return []string{"a1", "a2", "a3"} }

// ScopedAliasNames are the aliases of ScopedQuery.Aliases.
func ScopedAliasNames() []string { return []string{"s1", "s2", "s3"} }

// BuildGraphQLFixtures builds the fixtures from s and validates each one.
func BuildGraphQLFixtures(s *GraphQLSchema) (GraphQLFixtures, error) {
	var fx GraphQLFixtures
	fields := s.QueryFields()
	if len(fields) == 0 {
		return fx, fmt.Errorf("%w (%s): the Query type has no field the suite can select", ErrGraphQLFixture, s.Source)
	}
	fx.ProbeField = fields[0]
	for _, f := range fields {
		if f.Scope == "" {
			fx.ProbeField = f
			break
		}
	}
	sel := fx.ProbeField.Selection
	fx.Probe = "query TollgateProbe { " + sel + " }"
	var aliased []string
	for _, a := range AliasNames() {
		aliased = append(aliased, a+": "+sel)
	}
	fx.Aliases = "query TollgateAliases { " + strings.Join(aliased, " ") + " }"
	fx.Fragment = "query TollgateFragment { ...TollgateFields } fragment TollgateFields on Query { " + sel + " }"
	if muts := s.MutationFields(); len(muts) > 0 {
		fx.Mutation = "mutation TollgateMutation { " + muts[0].Selection + " }"
	}
	fx.Introspection = "query TollgateIntrospection { __schema { queryType { name } types { name } } }"
	for _, f := range fields {
		if f.Scope == "" {
			continue
		}
		var aliased []string
		for _, a := range ScopedAliasNames() {
			aliased = append(aliased, a+": "+f.Selection)
		}
		fx.Scoped = append(fx.Scoped, ScopedQuery{QueryField: f,
			Query:   "query TollgateScoped { " + f.Selection + " }",
			Aliases: "query TollgateScopedAliases { " + strings.Join(aliased, " ") + " }"})
	}
	for _, q := range fx.Valid() {
		if err := s.Validate(q); err != nil {
			return fx, err
		}
	}
	real, misspelt, ok := s.MisspeltField()
	if ok {
		fx.Misspelt, fx.MisspeltName, fx.SuggestedName = "query TollgateMisspelt { "+misspelt+" }", misspelt, real
		if s.Validate(fx.Misspelt) == nil {
			return fx, fmt.Errorf("%w (%s): the misspelt query %q, meant to be invalid, validates", ErrGraphQLFixture, s.Source, fx.Misspelt)
		}
	}
	return fx, nil
}

// Valid returns every fixture that must validate against the SDL.
func (fx GraphQLFixtures) Valid() []string {
	out := []string{fx.Probe, fx.Aliases, fx.Fragment, fx.Introspection}
	if fx.Mutation != "" {
		out = append(out, fx.Mutation)
	}
	for _, sq := range fx.Scoped {
		out = append(out, sq.Query, sq.Aliases)
	}
	return out
}
