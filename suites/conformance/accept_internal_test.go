package conformance

import (
	"testing"

	"github.com/tollgate/tollgate/suites/probe"
)

// TestAcceptedStatus pins the one rule for "accepted": a variant request is
// accepted when it is answered like the valid token and unlike an invalid
// one, by status class where the classes differ and by exact status where
// only the status tells them apart; a 2xx always counts.
func TestAcceptedStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                string
		valid, invalid, got int
		want                bool
	}{
		{"2xx server: a 2xx variant", 200, 401, 204, true},
		{"2xx server: refused like invalid", 200, 401, 401, false},
		{"2xx server: refused with 400", 200, 400, 401, false},
		{"2xx server: a 5xx is no acceptance", 200, 401, 500, false},
		{"valid 403, invalid 401 (zitadel userinfo): 403 is accepted", 403, 401, 403, true},
		{"valid 403, invalid 401: 401 is refused", 403, 401, 401, false},
		{"valid 403, invalid 401: another 4xx is refused", 403, 401, 400, false},
		{"valid 403, invalid 401: a 2xx always counts", 403, 401, 200, true},
		{"valid 302 (a redirect), invalid 401: another 3xx", 302, 401, 303, true},
		{"valid refused like invalid: only a 2xx shows acceptance", 401, 401, 403, false},
		{"valid refused like invalid: a 2xx", 401, 401, 200, true},
		{"the route enforces nothing: 2xx everywhere", 200, 200, 200, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := acceptedStatus(c.valid, c.invalid, c.got); got != c.want {
				t.Errorf("acceptedStatus(%d, %d, %d) = %v, want %v", c.valid, c.invalid, c.got, got, c.want)
			}
		})
	}
}

// TestRouteAnswers: a valid token works when some answer distinguishes it
// from an invalid one, and a route enforces auth when a request without
// any token is not answered like the valid token.
func TestRouteAnswers(t *testing.T) {
	t.Parallel()
	ex := func(status int) *probe.Exchange { return &probe.Exchange{Status: status} }
	cases := []struct {
		name                    string
		valid, invalid, noCreds int
		works, enforces         bool
	}{
		{"conformant", 200, 401, 401, true, true},
		{"bad tokens get 400 (go-oauth2)", 200, 400, 400, true, true},
		{"valid 403, invalid 401 (zitadel userinfo)", 403, 401, 401, true, true},
		{"valid refused everywhere", 401, 401, 401, false, true},
		{"no enforcement (oauth2-mock-server userinfo)", 200, 200, 200, true, false},
		{"optional auth: anonymous served, bad tokens refused", 200, 401, 200, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := &routeAnswers{valid: ex(c.valid), invalid: ex(c.invalid), noCreds: ex(c.noCreds)}
			if got := r.tokenWorks(); got != c.works {
				t.Errorf("tokenWorks() = %v, want %v", got, c.works)
			}
			if got := r.enforces(); got != c.enforces {
				t.Errorf("enforces() = %v, want %v", got, c.enforces)
			}
		})
	}
}
