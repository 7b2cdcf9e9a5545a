package mockserver

import (
	"context"
	"fmt"
	"time"
)

// The control API in Go: the operations of /_tollgate/ as methods, for
// tests that run the mock in-process (see also mockservertest). Each is
// safe for concurrent use with requests and with each other.

// ClockSetting returns where the server's clock stands and whether it is frozen.
func (s *Server) ClockSetting() ClockSetting { return s.clock.Setting() }

// SetClock moves the server's clock to c.Now (zero: where it stands) and
// freezes or thaws it. A time before 1970 or after 2200, where tokens
// could not be issued, is an error, and the clock stays as it was.
func (s *Server) SetClock(c ClockSetting) error {
	if err := s.clock.Set(c); err != nil {
		return fmt.Errorf("mockserver: clock: %w", err)
	}
	return nil
}

// AdvanceClock moves the server's clock by d (back when d is negative).
// Leaving the range SetClock allows is an error, and the clock stays as it
// was.
func (s *Server) AdvanceClock(d time.Duration) error {
	if err := s.clock.Advance(d); err != nil {
		return fmt.Errorf("mockserver: clock: %w", err)
	}
	return nil
}

// ResetClock returns the server to its underlying clock.
func (s *Server) ResetClock() { s.clock.Reset() }

// PutClient registers c, replacing a client of the same id; the error names
// the field at fault, and nothing changes then.
func (s *Server) PutClient(c Client) error {
	if err := checkClient(c, s.Flows()); err != nil {
		return fmt.Errorf("mockserver: client: %w", err)
	}
	s.clients.put(c)
	return nil
}

// RemoveClient unregisters a client; false when it was not registered. Its
// tokens stay valid until they expire.
func (s *Server) RemoveClient(id string) bool { return s.clients.remove(id) }

// AddFault puts f in force and returns it with its id and seed; the error
// names the field at fault, and nothing changes then.
func (s *Server) AddFault(f Fault) (Fault, error) {
	added, err := s.faults.add(f)
	if err != nil {
		return Fault{}, fmt.Errorf("mockserver: fault: %w", err)
	}
	return added[0], nil
}

// Faults lists the faults in force, with how often each has fired.
func (s *Server) Faults() []Fault { return s.faults.list() }

// RemoveFault takes a fault out of force; false when there is none.
func (s *Server) RemoveFault(id string) bool { return s.faults.remove(id) }

// ClearFaults takes every fault out of force.
func (s *Server) ClearFaults() { s.faults.clear() }

// Requests returns the captured requests f selects, oldest first.
func (s *Server) Requests(f RequestFilter) []RequestRecord { return s.capture.list(f, 0) }

// CountRequests counts the captured requests f selects.
func (s *Server) CountRequests(f RequestFilter) int { return s.capture.count(f) }

// WaitRequests waits until n captured requests match f, and returns how
// many match; ctx bounds the wait (its error is returned with the count
// reached).
func (s *Server) WaitRequests(ctx context.Context, f RequestFilter, n int) (int, error) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		got := s.capture.count(f)
		if got >= n {
			return got, nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return got, fmt.Errorf("mockserver: %d of %d requests: %w", got, n, ctx.Err())
		}
	}
}

// Reset puts the server back in its configured state: clock, clients,
// faults and keys as configured, every issued token dead, no request
// captured.
func (s *Server) Reset() error { return s.reset() }
