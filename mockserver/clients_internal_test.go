package mockserver

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentClientPostsConflict: of POSTs racing to register one id,
// exactly one registers it and the others get 409. Many registered clients
// make each registration copy a large map, which widens the window a
// check-then-put would leave open.
func TestConcurrentClientPostsConflict(t *testing.T) {
	t.Parallel()
	s := builtinServer(t, Options{})
	many := make([]Client, 20000)
	for i := range many {
		many[i] = Client{ID: fmt.Sprintf("c%d", i), Secret: "s"}
	}
	s.clients.replace(many)
	post := func(id string) int {
		req := httptest.NewRequest(http.MethodPost, "http://localhost/_tollgate/clients", strings.NewReader(`{"id":"`+id+`","secret":"s"}`))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.postClient(rec, req)
		return rec.Code
	}
	for round := range 20 {
		id := fmt.Sprintf("racer%d", round)
		start := make(chan struct{})
		statuses := make([]int, 4)
		var wg sync.WaitGroup
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				statuses[i] = post(id)
			}()
		}
		close(start)
		wg.Wait()
		created := 0
		for _, st := range statuses {
			switch st {
			case http.StatusCreated:
				created++
			case http.StatusConflict:
			default:
				t.Errorf("%s: status %d", id, st)
			}
		}
		if created != 1 {
			t.Fatalf("%s: %d POSTs registered it, want 1 (statuses %v)", id, created, statuses)
		}
	}
}
