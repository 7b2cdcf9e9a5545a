package mockserver

import (
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/tollgate/tollgate/mockserver/tokens"
	"github.com/tollgate/tollgate/spec/oautherr"
)

// DefaultMaxTokens is the bound on live tokens when Options.MaxTokens is
// zero: at under 300 bytes a token (store entry and UUID string), a full
// store stays under about 300 MB, and at the default 30-minute lifetime it
// takes a sustained 550 token requests a second to fill.
const DefaultMaxTokens = 1_000_000

// temporarilyUnavailable is the error code of a full token store: RFC 6749
// registers it (section 4.1.2.1) for a server that cannot handle a request
// for now, and RFC 7009 section 2.2.1 answers 503 for a revocation the
// server cannot perform yet.
const temporarilyUnavailable = "temporarily_unavailable"

// storeFull is the answer to a token or revocation request that would need
// a slot in a full store.
func storeFull(full *tokens.FullError, what string) *oautherr.Error {
	e := oautherr.New(temporarilyUnavailable, fmt.Sprintf(
		"the mock holds its maximum of %d %s (max_tokens): retry after Retry-After seconds, when the earliest expires", full.Max, what))
	e.Status = http.StatusServiceUnavailable
	return e
}

// retryAfter is the Retry-After field value (RFC 9110 section 10.2.3) for a
// full store: the whole seconds until its earliest token expires, at least 1.
func retryAfter(store *tokens.Store, now time.Time) []string {
	secs := int64(1)
	if next, ok := store.NextExpiry(); ok {
		if d := next.Sub(now); d > time.Second {
			secs = int64((d + time.Second - 1) / time.Second)
		}
	}
	return []string{strconv.FormatInt(secs, 10)}
}

// sweeper deletes expired tokens on a timer, so that the memory of tokens
// comes back while the server is idle (stores also sweep lazily when
// tokens are issued). It holds the stores but not the Server, so that a
// Server nobody closed can still be collected, and its cleanup stops the
// sweeper.
type sweeper struct {
	clock  Clock
	stores []*tokens.Store
	caches []*tokens.VerifiedCache
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

// startSweeper starts the sweeper of s; Close stops it.
func (s *Server) startSweeper() {
	sw := &sweeper{clock: s.opts.Clock, stores: []*tokens.Store{s.store, s.revokedStored}, stop: make(chan struct{}), done: make(chan struct{})}
	for _, fr := range s.flows {
		if fr.revoked != nil {
			sw.stores = append(sw.stores, fr.revoked, fr.issued)
		}
		if fr.cache != nil {
			sw.caches = append(sw.caches, fr.cache)
		}
	}
	s.sweeper = sw
	go sw.run(s.opts.SweepInterval)
	runtime.AddCleanup(s, func(sw *sweeper) { sw.halt() }, sw)
}

func (sw *sweeper) run(interval time.Duration) {
	defer close(sw.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			sw.sweep()
		case <-sw.stop:
			return
		}
	}
}

func (sw *sweeper) sweep() {
	now := sw.clock.Now()
	for _, st := range sw.stores {
		st.Sweep(now)
	}
	for _, c := range sw.caches {
		c.Sweep(now)
	}
}

// halt stops the sweeper and waits until it has stopped.
func (sw *sweeper) halt() {
	sw.once.Do(func() { close(sw.stop) })
	<-sw.done
}

// Close stops the server's background work (the sweeper of expired
// tokens) and waits for it. The server keeps answering requests, but
// expired tokens then leave memory only as new ones are issued. Close is
// safe to call more than once and always returns nil.
func (s *Server) Close() error {
	s.sweeper.halt()
	return nil
}
