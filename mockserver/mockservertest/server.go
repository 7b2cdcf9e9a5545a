// Package mockservertest starts mock auth servers for tests, in the manner of
// net/http/httptest: NewServer returns a running server on a loopback port,
// closed by t.Cleanup, with a manual clock the test can move (or the system
// clock, WithSystemClock), and TargetConfig describes it as a target of the
// suite, its default clients included, as httptest's Server.Client hands
// out a client for its server.
//
// It imports suites/probe for that one type and nothing else of the suite:
// probe is a plain HTTP client library without Ginkgo that never imports
// the mock, so the dependency points from a test helper to a library, and
// suite code never needs to import the mock (internal/layering enforces
// both directions).
package mockservertest

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/probe"
)

// Server is a running mock server.
type Server struct {
	*httptest.Server                    // URL, Client(), Close()
	Mock             *mockserver.Server // the handler, for its flows and clients
	// Clock is the server's manual clock; nil with WithSystemClock.
	Clock *mockserver.ManualClock
	tb    testing.TB // the test the server was started for
}

// Option changes how NewServer builds the server.
type Option func(*config)

type config struct {
	opts        mockserver.Options
	flows       []*spec.Flow
	documents   []string
	systemClock bool
}

// WithSystemClock makes the server keep real time, so that tokens expire by
// themselves (the conformance suite waits them out); Server.Clock is nil.
// The control API (AdvanceClock, /_tollgate/clock) can still move it.
func WithSystemClock() Option { return func(c *config) { c.systemClock = true } }

// WithOptions sets the mock server's options. Options.Clock is replaced by
// the server's manual clock, or the system clock with WithSystemClock.
func WithOptions(o mockserver.Options) Option { return func(c *config) { c.opts = o } }

// WithFlows serves these flows instead of the built-in documents.
// WithFlows() with no flows serves only what WithDocuments adds.
func WithFlows(flows ...*spec.Flow) Option {
	return func(c *config) { c.flows = append([]*spec.Flow{}, flows...) } // non-nil: no built-ins
}

// WithDocuments adds flow documents from disk to the flows served; one
// whose flow has the name of a served flow replaces it.
func WithDocuments(files ...string) Option {
	return func(c *config) { c.documents = append(c.documents, files...) }
}

// NewServer starts a mock server for tb, serving the built-in flow documents
// unless an option says otherwise. Its clock starts at the current second
// and moves only when the test moves it, unless WithSystemClock.
func NewServer(tb testing.TB, options ...Option) *Server {
	tb.Helper()
	var c config
	for _, o := range options {
		o(&c)
	}
	ctx := context.Background()
	if c.flows == nil {
		flows, err := spec.ReadAll(ctx, openapi.FS())
		if err != nil {
			tb.Fatalf("mockservertest: built-in documents: %v", err)
		}
		c.flows = flows
	}
	for _, d := range c.documents {
		f, err := spec.ReadFile(ctx, d)
		if err != nil {
			tb.Fatalf("mockservertest: %v", err)
		}
		c.flows = replaceFlow(c.flows, f)
	}
	var clock *mockserver.ManualClock
	if c.systemClock {
		c.opts.Clock = mockserver.SystemClock{}
	} else {
		clock = mockserver.NewManualClock(time.Now().Truncate(time.Second))
		c.opts.Clock = clock
	}
	mock, err := mockserver.New(c.flows, c.opts)
	if err != nil {
		tb.Fatalf("mockservertest: %v", err)
	}
	tb.Cleanup(func() {
		if err := mock.Close(); err != nil {
			tb.Errorf("mockservertest: close: %v", err)
		}
	})
	ts := httptest.NewServer(mock)
	tb.Cleanup(ts.Close) // runs first: no request is in flight when the mock closes
	return &Server{Server: ts, Mock: mock, Clock: clock, tb: tb}
}

// replaceFlow adds f, replacing a flow of the same name (as `tollgate serve
// --document` does).
func replaceFlow(flows []*spec.Flow, f *spec.Flow) []*spec.Flow {
	out := make([]*spec.Flow, 0, len(flows)+1)
	for _, g := range flows {
		if g.Name != f.Name {
			out = append(out, g)
		}
	}
	return append(out, f)
}

// Flow returns the served flow with the given name, failing the test when
// there is none.
func (s *Server) Flow(tb testing.TB, name string) *spec.Flow {
	tb.Helper()
	for _, f := range s.Mock.Flows() {
		if f.Name == name {
			return f
		}
	}
	tb.Fatalf("mockservertest: no flow %q", name)
	return nil
}

// TargetConfig returns the suite's configuration for probing the named
// flow of this server with the mock's default clients (those of
// mockserver.Options with no Clients) that the server serves for the flow:
// the seed client as the primary client, the short-lived client as the
// expiry client (with a MaxExpiryWait that outlasts its tokens), the
// scope-limited client, and as second client the one whose id and secret
// need RFC 6749 Appendix B encoding when the flow takes HTTP Basic, else
// the short-lived one. The result is validated.
func (s *Server) TargetConfig(tb testing.TB, flow string) probe.Config {
	tb.Helper()
	f := s.Flow(tb, flow)
	served := func(id string) (probe.Credentials, time.Duration) {
		for _, c := range s.Mock.Clients() {
			if c.ID == id && (len(c.Flows) == 0 || slices.Contains(c.Flows, f.Name)) {
				return probe.Credentials{ID: c.ID, Secret: c.Secret}, c.TokenLifetime
			}
		}
		return probe.Credentials{}, 0
	}
	cfg := probe.Config{Target: s.URL, Flow: f.Name}
	cfg.Client, _ = served(mockserver.SeedClientID)
	shortLived, lifetime := served(mockserver.ShortLivedClientID)
	cfg.ExpiryClient, cfg.Client2 = shortLived, shortLived
	if lifetime > 0 {
		cfg.MaxExpiryWait = lifetime + 10*time.Second
	}
	cfg.ScopedClient, _ = served(mockserver.ScopedClientID)
	if encoded, _ := served(mockserver.EncodedClientID); !encoded.IsZero() && f.Token.AcceptsClientAuth(spec.ClientAuthBasic) {
		cfg.Client2 = encoded
	}
	if err := cfg.Validate(); err != nil {
		tb.Fatalf("mockservertest: target config for flow %s (does the server serve the default clients?): %v", flow, err)
	}
	return cfg
}
