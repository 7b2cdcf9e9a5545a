// Package mockservertest starts mock auth servers for tests, in the manner of
// net/http/httptest: NewServer returns a running server on a loopback port,
// closed by t.Cleanup, with a manual clock the test can move.
package mockservertest

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/openapi"
	"github.com/tollgate/tollgate/spec"
)

// Server is a running mock server.
type Server struct {
	*httptest.Server                    // URL, Client(), Close()
	Mock             *mockserver.Server // the handler, for its flows and clients
	Clock            *mockserver.ManualClock
}

// Option changes how NewServer builds the server.
type Option func(*config)

type config struct {
	systemClock bool
	opts        mockserver.Options
	flows       []*spec.Flow
	documents   []string
}

// WithOptions sets the mock server's options. Options.Clock is replaced by
// the server's manual clock.
func WithOptions(o mockserver.Options) Option { return func(c *config) { c.opts = o } }

// WithSystemClock drives the server with the system clock instead of a
// manual one (Server.Clock is then nil); the control API can still move it.
func WithSystemClock() Option { return func(c *config) { c.systemClock = true } }

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
// and moves only when the test moves it.
func NewServer(tb testing.TB, options ...Option) *Server {
	tb.Helper()
	var c config
	for _, o := range options {
		o(&c)
	}
	ctx := context.Background()
	if c.flows == nil {
		flows, err := spec.LoadAll(ctx, openapi.FS())
		if err != nil {
			tb.Fatalf("mockservertest: built-in documents: %v", err)
		}
		c.flows = flows
	}
	for _, d := range c.documents {
		f, err := spec.LoadFile(ctx, d)
		if err != nil {
			tb.Fatalf("mockservertest: %v", err)
		}
		c.flows = replaceFlow(c.flows, f)
	}
	var clock *mockserver.ManualClock
	if !c.systemClock {
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
	return &Server{Server: ts, Mock: mock, Clock: clock}
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
