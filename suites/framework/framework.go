package framework

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/probe"
)

// Framework is what the conformance checks run through: a probe.Prober
// (transport, token requests, evidence) for one target and one flow, and
// the conformance side of the configuration (profile, opt-ins, operations
// to probe). It is safe for concurrent use.
type Framework struct {
	*probe.Prober
	Config Config // the whole configuration; Prober.Config is its probe part

	mu        sync.Mutex
	control   *probe.Control       // the target's control API; nil: none, or NoControl
	graphql   *probe.GraphQLTarget // the target's GraphQL endpoint; nil: none declared
	atStart   probe.ClockSnapshot  // the target's clock as Preflight found it
	noControl string               // why there is no control API, for the report
}

// New returns a Framework for cfg (already validated) and flow.
func New(cfg Config, flow *spec.Flow) *Framework {
	return &Framework{Prober: probe.New(cfg.Config, flow), Config: cfg}
}

// OptedIn reports whether a check that is off by default was switched on.
func (f *Framework) OptedIn(id string) bool { return slices.Contains(f.Config.OptIn, id) }

// Protected returns the protected operations the checks probe: those
// Config.Operations names, in the document's order, or every operation the
// flow document secures. Preflight has refused names that match none.
func (f *Framework) Protected() []spec.Operation {
	ops, err := f.Flow.ProtectedNamed(f.Config.Operations)
	if err != nil {
		return nil // Preflight reported it before any check ran
	}
	return ops
}

// Profile is the profile checks are judged by: the config's, else the document's.
func (f *Framework) Profile() string {
	if f.Config.Profile != "" {
		return f.Config.Profile
	}
	return f.Flow.Profile
}

// PrimaryToken returns the primary client's token. When the target issued
// it in a shape the flow document does not describe, the check ends NOT
// VERIFIED: TOK-001 owns that fault, and no other check can use the token.
func (f *Framework) PrimaryToken(ctx context.Context) (spec.TokenResponse, error) {
	tr, err := f.Prober.PrimaryToken(ctx)
	if errors.Is(err, probe.ErrTokenResponse) {
		NotVerified("%v (TOK-001 judges that), so there is no token to use", err)
	}
	return tr, err
}

// Token obtains a fresh token for a client, as Prober.Token, ending the
// check NOT VERIFIED when the response does not match the flow document
// (TOK-001 owns that).
func (f *Framework) Token(ctx context.Context, c probe.Credentials) (spec.TokenResponse, *probe.Exchange, error) {
	tr, ex, err := f.Prober.Token(ctx, c)
	if errors.Is(err, probe.ErrTokenResponse) {
		NotVerified("%v (TOK-001 judges that), so there is no token to use", err)
	}
	return tr, ex, err
}

// Preflight checks that Config.Operations name protected operations of the
// flow, then runs the Prober's preflight (target reachable, primary token).
func (f *Framework) Preflight(ctx context.Context) error {
	if _, err := f.Flow.ProtectedNamed(f.Config.Operations); err != nil {
		return err
	}
	if err := f.Prober.Preflight(ctx); err != nil {
		return err
	}
	f.detectControl(ctx)
	return f.resolveGraphQL(ctx)
}

// resolveGraphQL loads the target's GraphQL endpoint, its SDL and the
// fixtures the GQL checks send, each validated against the SDL: a fixture
// the SDL rejects is a configuration error here (GQL-010), before any
// check runs.
func (f *Framework) resolveGraphQL(ctx context.Context) error {
	var token string
	if f.Config.GraphQL.SDL == probe.SDLIntrospection {
		tr, err := f.Prober.PrimaryToken(ctx)
		if err != nil {
			return fmt.Errorf("graphql sdl introspection needs the primary client's token: %w", err)
		}
		token = tr.AccessToken
	}
	t, err := f.ResolveGraphQL(ctx, token)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.graphql = t
	f.mu.Unlock()
	return nil
}

// GraphQLEndpoint returns the target's GraphQL endpoint as Preflight resolved it;
// nil when neither the flow document nor the configuration declares one.
func (f *Framework) GraphQLEndpoint() *probe.GraphQLTarget {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.graphql
}
