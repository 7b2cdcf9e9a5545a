package mockserver_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/mockserver/mockservertest"
)

// TestExpiryMutantsOutliveTheSweeper: the mutations that accept expired
// tokens keep accepting them after the background sweeper (every 5 ms
// here) has run, so whether a sweep fell between a token's exp and its
// next use never decides whether the defect shows.
func TestExpiryMutantsOutliveTheSweeper(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mutation string
		steps    []time.Duration // clock moves, each followed by a use that must work
	}{
		// The short-lived client's 5 s token, 2 h past its exp.
		{"accept-expired", []time.Duration{2 * time.Hour}},
		// Used every 4 s, under its 5 s lifetime: it slides past its exp.
		{"expiry-slides", []time.Duration{4 * time.Second, 4 * time.Second, 4 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.mutation, func(t *testing.T) {
			t.Parallel()
			srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{Mutations: []string{tt.mutation}, SweepInterval: 5 * time.Millisecond}))
			tok := token(t, srv, "simple", mockserver.ShortLivedClientID, mockserver.ShortLivedClientSecret)
			use := func(when string) {
				t.Helper()
				req := newRequest(t, http.MethodGet, srv.URL+"/api/collections", "", "")
				req.Header.Set("Authorization", "Bearer "+tok)
				if ex := sendUndocumented(t, srv, req); ex.status != http.StatusOK {
					t.Fatalf("%s: status %d, want 200 (the mutation accepts it)", when, ex.status)
				}
			}
			use("fresh")
			for i, d := range tt.steps {
				srv.Clock.Advance(d)
				time.Sleep(50 * time.Millisecond) // ten sweeps
				use(fmt.Sprintf("after move %d (%v)", i+1, d))
			}
		})
	}
}
