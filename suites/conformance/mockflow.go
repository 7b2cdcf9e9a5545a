package conformance

import (
	"context"

	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/probe"
)

// mockFlowNames are the names a Tollgate mock's control API may know the
// run's flow by, in the order to try them: the flow document's own, then
// each built-in flow of another name served at the same token endpoint. A
// document written for the mock under a name of its own (by hand, or by
// tollgate init, which names the flow after its file) describes that
// built-in flow: minting for "another built-in flow" must not pick it.
func mockFlowNames(ctx context.Context, f *framework.Framework) []string {
	names := []string{f.Flow.Name}
	builtin, err := spec.ReadAll(ctx, openapi.FS())
	if err != nil {
		return names
	}
	for _, b := range builtin {
		if b.Name != f.Flow.Name && b.Token.Path == f.Flow.Token.Path {
			names = append(names, b.Name)
		}
	}
	return names
}

// mintForFlow mints a token of the run's flow through the target's control
// API, under the first of mockFlowNames the target takes; the error is the
// one for the document's own name. It returns the names tried.
func mintForFlow(ctx context.Context, f *framework.Framework, ctl *probe.Control, req probe.MintRequest) (probe.MintedToken, []string, error) {
	names := mockFlowNames(ctx, f)
	var first error
	for _, name := range names {
		req.Flow = name
		t, err := ctl.Mint(ctx, req)
		if err == nil {
			return t, names, nil
		}
		if first == nil {
			first = err
		}
	}
	return probe.MintedToken{}, names, first
}
