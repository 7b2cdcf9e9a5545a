package load

import (
	"net/http"
	"sync"
)

// Target is one prepared request. Req is a template the Attacker never
// modifies (net/http copies it shallowly per send; the wire sender turns it
// into bytes once), so a Targeter can hand out the same *Target to every
// worker; Body, when set, is sent as the request body. Do not copy a Target
// once it is in use.
type Target struct {
	Kind Kind
	Req  *http.Request
	Body []byte

	wireOnce sync.Once
	wire     []byte
	wireErr  error
}

// A Targeter chooses the Target of the n-th request (counting from 0). It
// must be safe for concurrent use.
type Targeter interface {
	Target(n uint64) *Target
}
