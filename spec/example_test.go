package spec_test

import (
	"context"
	"fmt"
	"log"

	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
)

// builtin returns a built-in flow; the examples share it.
func builtin(name string) (*spec.Flow, error) {
	flows, err := spec.ReadAll(context.Background(), openapi.FS())
	if err != nil {
		return nil, fmt.Errorf("load the built-in flows: %w", err)
	}
	for _, f := range flows {
		if f.Name == name {
			return f, nil
		}
	}
	return nil, fmt.Errorf("no built-in flow %q", name)
}

func ExampleFlow_ProtectedNamed() {
	flow, err := builtin("simple")
	if err != nil {
		log.Fatal(err)
	}
	ops, err := flow.ProtectedNamed([]string{"GET /api/collections/{id}"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ops[0].ID, spec.SamplePath(ops[0].Path))
	_, err = flow.ProtectedNamed([]string{"deleteCollection"})
	fmt.Println(err)
	// Output:
	// getCollection /api/collections/1
	// spec: operation "deleteCollection" is not a protected operation of flow simple: name one of listCollections, getCollection (operationId or "METHOD /path")
}

func ExampleOperation_Allows() {
	op := spec.Operation{Scopes: [][]string{{"metrics-api"}, {"provisioning-api", "admin"}}}
	fmt.Println(op.Allows([]string{"metrics-api"}))
	fmt.Println(op.Allows([]string{"provisioning-api"}))
	fmt.Println(op.Allows([]string{"admin", "provisioning-api"}))
	// Output:
	// true
	// false
	// true
}

func ExampleSamplePath() {
	fmt.Println(spec.SamplePath("/api/markets/{marketId}/prices/{sku}"))
	// Output: /api/markets/1/prices/1
}

func ExampleDuplicateMembers() {
	dups, err := spec.DuplicateMembers([]byte(`{"access_token":"a","token_type":"Bearer","access_token":"b"}`))
	fmt.Println(dups, err)
	// Output: [access_token] <nil>
}

func ExampleTamperToken() {
	fmt.Println(spec.TamperToken("4172bbf1-0890-41c7-b0db-477095a288b6"))
	// Output: 4172bbf1-0890-41c7-c1ec-477095a288b6
}

func ExampleAlterToken() {
	fmt.Println(spec.AlterToken("4172bbf1-0890-41c7-b0db-477095a288b6", 0))
	// Output: A172bbf1-0890-41c7-b0db-477095a288b6
}
