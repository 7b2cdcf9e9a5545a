package mockserver

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// This file holds the GraphQL endpoint's sample data: collections of items
// and order metrics, the same on every server, and the one piece of state
// a request can change (collection names, through renameCollection, with
// an audit log of the renames).

// sampleCollection and sampleItem are the fixed sample records.
type sampleCollection struct {
	id    string
	name  string // the name at start; renames live in sampleState
	tags  []string
	items []*sampleItem
}

type sampleItem struct {
	id, sku, name string
	price         float64
	inStock       bool
	collection    *sampleCollection
}

// sampleMetrics are the order metrics of one period.
type sampleMetrics struct {
	period  string
	orders  int
	revenue float64
}

// auditEntry records one rename.
type auditEntry struct {
	sequence                    int
	collectionID, oldName, name string
}

// maxAuditEntries bounds the audit log: older renames are forgotten.
const maxAuditEntries = 100

// maxCollectionName bounds a collection name set through renameCollection.
const maxCollectionName = 100

// sampleState is what renames change. A state is never modified once
// published: a rename publishes a new one, so a request reads one
// consistent snapshot without locking.
type sampleState struct {
	names    map[string]string // collection id -> its name after renames
	audit    []auditEntry      // oldest first, at most maxAuditEntries
	sequence int               // renames so far
}

// sampleData is the data of one GraphQL endpoint.
type sampleData struct {
	collections []*sampleCollection // in id order
	byID        map[string]*sampleCollection
	items       map[string]*sampleItem
	topItems    []*sampleItem // best sellers, best first
	metrics     map[string]sampleMetrics

	mu    sync.Mutex // serialises renames
	state atomic.Pointer[sampleState]
}

func newSampleData() *sampleData {
	d := &sampleData{byID: map[string]*sampleCollection{}, items: map[string]*sampleItem{}}
	words := []string{"Linen shirt", "Canvas tote", "Sun hat", "Beach towel", "Notebook", "Pencil case", "Backpack", "Water bottle", "Desk lamp", "Rain jacket", "Wool scarf", "Travel mug"}
	for ci, c := range []struct {
		name  string
		tags  []string
		items int
	}{
		{"Summer sale", []string{"seasonal", "sale"}, 12},
		{"Back to school", []string{"seasonal"}, 7},
		{"Clearance", []string{"sale", "final"}, 3},
	} {
		col := &sampleCollection{id: "c-" + strconv.Itoa(1001+ci), name: c.name, tags: c.tags}
		for j := range c.items {
			n := (ci+1)*100 + j + 1
			it := &sampleItem{
				id:         "i-" + strconv.Itoa(n),
				sku:        fmt.Sprintf("SKU-%05d", n*37),
				name:       words[(ci*5+j)%len(words)],
				price:      float64(5+(n*7)%60) - 0.01,
				inStock:    n%4 != 0,
				collection: col,
			}
			col.items = append(col.items, it)
			d.items[it.id] = it
		}
		d.collections = append(d.collections, col)
		d.byID[col.id] = col
	}
	for _, id := range []string{"i-203", "i-101", "i-305", "i-107", "i-112"} {
		if it := d.items[id]; it != nil {
			d.topItems = append(d.topItems, it)
		}
	}
	d.metrics = map[string]sampleMetrics{
		"DAY":   {"DAY", 42, 1234.5},
		"WEEK":  {"WEEK", 311, 9120.75},
		"MONTH": {"MONTH", 1290, 38410},
	}
	d.reset()
	return d
}

// reset forgets every rename.
func (d *sampleData) reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.state.Store(&sampleState{names: map[string]string{}})
}

// rename renames collection id and returns it; nil when there is none.
func (d *sampleData) rename(id, name string) *sampleCollection {
	c := d.byID[id]
	if c == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	old := d.state.Load()
	next := &sampleState{names: make(map[string]string, len(old.names)+1), sequence: old.sequence + 1}
	for k, v := range old.names {
		next.names[k] = v
	}
	next.names[id] = name
	keep := old.audit
	if len(keep) >= maxAuditEntries {
		keep = keep[len(keep)-maxAuditEntries+1:]
	}
	next.audit = append(append(make([]auditEntry, 0, len(keep)+1), keep...),
		auditEntry{sequence: next.sequence, collectionID: id, oldName: old.nameOf(c), name: name})
	d.state.Store(next)
	return c
}

// nameOf is a collection's name in this state.
func (s *sampleState) nameOf(c *sampleCollection) string {
	if name, ok := s.names[c.id]; ok {
		return name
	}
	return c.name
}

// sampleResolvers are the resolvers of the sample schema's fields, by type
// and field, each with the field type it serves: a schema whose field has
// another type gets the generic resolver instead, so the data always fits
// the schema.
func sampleResolvers() []fieldResolver {
	return []fieldResolver{
		{"Query", "collections", "[Collection!]!", func(x *execution, _ any, f *ast.Field) (any, *gqlerror.Error) {
			return firstOf(x.e.data.collections, max(x.intArg(f, "first", 10), 0)), nil
		}},
		{"Query", "collection", "Collection", func(x *execution, _ any, f *ast.Field) (any, *gqlerror.Error) {
			if c := x.e.data.byID[x.stringArg(f, "id")]; c != nil {
				return c, nil
			}
			return nil, nil
		}},
		{"Query", "item", "Item", func(x *execution, _ any, f *ast.Field) (any, *gqlerror.Error) {
			if it := x.e.data.items[x.stringArg(f, "id")]; it != nil {
				return it, nil
			}
			return nil, nil
		}},
		{"Query", "metrics", "Metrics", func(x *execution, _ any, f *ast.Field) (any, *gqlerror.Error) {
			m, ok := x.e.data.metrics[x.stringArg(f, "period")]
			if !ok {
				m = x.e.data.metrics["DAY"]
			}
			return m, nil
		}},
		{"Query", "auditLog", "[AuditEntry!]", func(x *execution, _ any, f *ast.Field) (any, *gqlerror.Error) {
			audit := x.state.audit
			n := min(max(x.intArg(f, "first", 10), 0), len(audit))
			out := make([]any, 0, n)
			for i := len(audit) - 1; i >= 0 && len(out) < n; i-- {
				out = append(out, audit[i])
			}
			return out, nil
		}},
		// renameCollection sits on the schema's root type for writes, whatever its name.
		{"", "renameCollection", "Collection", func(x *execution, _ any, f *ast.Field) (any, *gqlerror.Error) {
			name := x.stringArg(f, "name")
			if name == "" || len(name) > maxCollectionName {
				return nil, gqlerror.Errorf("name must be 1 to %d bytes long", maxCollectionName)
			}
			c := x.e.data.rename(x.stringArg(f, "id"), name)
			if c == nil {
				return nil, nil
			}
			x.state = x.e.data.state.Load() // later fields see the rename
			return c, nil
		}},
		{"Collection", "id", "ID!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			return as[*sampleCollection](p).id, nil
		}},
		{"Collection", "name", "String!", func(x *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			return x.state.nameOf(as[*sampleCollection](p)), nil
		}},
		{"Collection", "itemCount", "Int!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			return len(as[*sampleCollection](p).items), nil
		}},
		{"Collection", "tags", "[String!]!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			return firstOf(as[*sampleCollection](p).tags, -1), nil
		}},
		{"Collection", "items", "[Item!]!", func(x *execution, p any, f *ast.Field) (any, *gqlerror.Error) {
			return firstOf(as[*sampleCollection](p).items, max(x.intArg(f, "first", 10), 0)), nil
		}},
		{"Item", "id", "ID!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) { return as[*sampleItem](p).id, nil }},
		{"Item", "sku", "String!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) { return as[*sampleItem](p).sku, nil }},
		{"Item", "name", "String!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) { return as[*sampleItem](p).name, nil }},
		{"Item", "price", "Float!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) { return as[*sampleItem](p).price, nil }},
		{"Item", "inStock", "Boolean!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) { return as[*sampleItem](p).inStock, nil }},
		{"Item", "collection", "Collection!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			return as[*sampleItem](p).collection, nil
		}},
		{"Metrics", "period", "Period!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			return as[sampleMetrics](p).period, nil
		}},
		{"Metrics", "orders", "Int!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			return as[sampleMetrics](p).orders, nil
		}},
		{"Metrics", "revenue", "Float!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			return as[sampleMetrics](p).revenue, nil
		}},
		{"Metrics", "topItems", "[Item!]!", func(x *execution, _ any, f *ast.Field) (any, *gqlerror.Error) {
			return firstOf(x.e.data.topItems, max(x.intArg(f, "first", 3), 0)), nil
		}},
		{"AuditEntry", "sequence", "Int!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) { return as[auditEntry](p).sequence, nil }},
		{"AuditEntry", "collectionId", "ID!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) {
			return as[auditEntry](p).collectionID, nil
		}},
		{"AuditEntry", "oldName", "String!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) { return as[auditEntry](p).oldName, nil }},
		{"AuditEntry", "newName", "String!", func(_ *execution, p any, _ *ast.Field) (any, *gqlerror.Error) { return as[auditEntry](p).name, nil }},
	}
}

// as converts a parent value to the type its resolver expects. The
// resolver table pairs each resolver with the parent type it was written
// for, and a field of another schema never gets it, so the assertion
// holds; were it to fail, the zero value serves rather than a panic.
func as[T any](v any) T {
	t, _ := v.(T)
	return t
}

// firstOf returns up to n elements of list (all when n < 0) as a []any.
func firstOf[T any](list []T, n int) []any {
	if n < 0 || n > len(list) {
		n = len(list)
	}
	out := make([]any, n)
	for i := range n {
		out[i] = list[i]
	}
	return out
}

// syntheticObject is a value of an object, interface or union type the
// sample data does not know: its fields are made up from their types.
type syntheticObject struct {
	def   *ast.Definition
	index int // its position in a list, from 0; makes ids distinct
}

// syntheticListLength is how many elements a made-up list has.
const syntheticListLength = 2

// synthesize makes up a value of type t for a field the sample data does
// not know, deterministically: ids "<field>-<n>", strings "<field> <n>",
// numbers n, true, an enum's first value, lists of two.
func (x *execution) synthesize(t *ast.Type, field string, index int) any {
	if t.Elem != nil {
		out := make([]any, syntheticListLength)
		for i := range out {
			out[i] = x.synthesize(t.Elem, field, i)
		}
		return out
	}
	def := x.e.g.Schema.Types[t.NamedType]
	if def == nil {
		return nil
	}
	switch def.Kind {
	case ast.Object, ast.Interface, ast.Union:
		return syntheticObject{def: def, index: index}
	case ast.Enum:
		if len(def.EnumValues) == 0 {
			return nil
		}
		return def.EnumValues[0].Name
	}
	switch def.Name {
	case "ID":
		return field + "-" + strconv.Itoa(index+1)
	case "Int":
		return index + 1
	case "Float":
		return float64(index) + 1.5
	case "Boolean":
		return true
	default:
		return field + " " + strconv.Itoa(index+1)
	}
}
