package load

import (
	"net/http"
	"sync"

	"github.com/tollgate/tollgate/suites/probe"
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

	// graphql, when set, judges the answer as a GraphQL endpoint's by this
	// signalling (ClassifyGraphQL), which needs the response body.
	graphql *probe.GraphQLSignalling

	wireOnce sync.Once
	wire     []byte
	wireErr  error
}

// A Targeter chooses the Target of the n-th request (counting from 0). It
// must be safe for concurrent use.
type Targeter interface {
	Target(n uint64) *Target
}
