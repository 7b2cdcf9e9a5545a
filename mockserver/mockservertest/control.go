package mockservertest

import (
	"context"
	"testing"
	"time"

	"github.com/tollgate/tollgate/mockserver"
)

// The control API in-process: the operations of /_tollgate/ (see
// docs/control.md) as methods that fail the test on a refused request.

// AdvanceClock moves the server's clock by d: tokens expire without
// waiting. Moving it out of range (before 1970, after 2200) fails the test.
func (s *Server) AdvanceClock(d time.Duration) {
	if err := s.Mock.AdvanceClock(d); err != nil {
		s.tb.Helper()
		s.tb.Fatalf("mockservertest: %v", err)
	}
}

// SetClock moves the server's clock to now and freezes or thaws it. A time
// out of range (before 1970, after 2200) fails the test.
func (s *Server) SetClock(now time.Time, frozen bool) {
	if err := s.Mock.SetClock(mockserver.ClockSetting{Now: now, Frozen: frozen}); err != nil {
		s.tb.Helper()
		s.tb.Fatalf("mockservertest: %v", err)
	}
}

// PutClient registers (or replaces) a client, failing tb when it is refused.
func (s *Server) PutClient(tb testing.TB, c mockserver.Client) {
	tb.Helper()
	if err := s.Mock.PutClient(c); err != nil {
		tb.Fatalf("mockservertest: %v", err)
	}
}

// Mint mints a token as POST /_tollgate/tokens does, failing tb when the
// request is refused.
func (s *Server) Mint(tb testing.TB, req mockserver.MintRequest) mockserver.MintedToken {
	tb.Helper()
	t, err := s.Mock.Mint(req, s.URL)
	if err != nil {
		tb.Fatalf("mockservertest: mint: %v", err)
	}
	return t
}

// RotateKeys gives every jwt flow a new signing key, failing tb when no
// flow signs.
func (s *Server) RotateKeys(tb testing.TB) []mockserver.RotatedKey {
	tb.Helper()
	r, err := s.Mock.RotateKeys("")
	if err != nil {
		tb.Fatalf("mockservertest: rotate keys: %v", err)
	}
	return r
}

// AddFault puts a fault in force until the test ends, failing tb when it
// is refused.
func (s *Server) AddFault(tb testing.TB, f mockserver.Fault) mockserver.Fault {
	tb.Helper()
	added, err := s.Mock.AddFault(f)
	if err != nil {
		tb.Fatalf("mockservertest: %v", err)
	}
	tb.Cleanup(func() { s.Mock.RemoveFault(added.ID) })
	return added
}

// CountRequests counts the captured requests to endpoint ("token", a
// protected operationId, ...) from client (empty: any).
func (s *Server) CountRequests(endpoint, client string) int {
	return s.Mock.CountRequests(mockserver.RequestFilter{Endpoint: endpoint, ClientID: client})
}

// WaitRequests waits up to timeout for n requests to endpoint, failing tb
// when fewer come.
func (s *Server) WaitRequests(tb testing.TB, endpoint string, n int, timeout time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if _, err := s.Mock.WaitRequests(ctx, mockserver.RequestFilter{Endpoint: endpoint}, n); err != nil {
		tb.Fatalf("mockservertest: waiting for %s: %v", endpoint, err)
	}
}

// Reset puts the server back in its configured state, failing tb on error.
func (s *Server) Reset(tb testing.TB) {
	tb.Helper()
	if err := s.Mock.Reset(); err != nil {
		tb.Fatalf("mockservertest: %v", err)
	}
}
