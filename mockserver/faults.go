package mockserver

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate/tollgate/spec/authheader"
	"github.com/tollgate/tollgate/spec/oautherr"
)

// Fault is a failure the server is told to have at run time, on one
// endpoint: slow answers, an error status, or a reset connection, for some
// of the requests (after the first few, every Nth, at most so many times,
// with a probability). It is the schema of POST /_tollgate/faults and of
// the config file's faults section.
type Fault struct {
	// ID names the fault; the server assigns one when it is empty.
	ID string `json:"id,omitempty" yaml:"id"`
	// Endpoint is what the fault hits: token, revocation, introspection,
	// jwks, metadata, or the operationId of a protected operation.
	Endpoint string `json:"endpoint" yaml:"endpoint"`
	// Flow limits the fault to one flow; empty means every flow.
	Flow string `json:"flow,omitempty" yaml:"flow"`
	// ClientID limits the fault to requests of one client (its credentials
	// at a client operation, its token at a protected one).
	ClientID string `json:"client_id,omitempty" yaml:"client_id"`
	// After lets this many matching requests through before the fault can fire.
	After int `json:"after,omitempty" yaml:"after"`
	// Every fires on every Nth matching request after After; 0 or 1 means each.
	Every int `json:"every,omitempty" yaml:"every"`
	// Probability fires on a matching request with this chance; 0 means always.
	Probability float64 `json:"probability,omitempty" yaml:"probability"`
	// Seed makes Probability and Jitter reproducible; 0 means a random seed
	// (GET /_tollgate/faults shows the one chosen).
	Seed uint64 `json:"seed,omitempty" yaml:"seed"`
	// Times is how often the fault fires at most; 0 means without end.
	Times int `json:"times,omitempty" yaml:"times"`
	// Latency delays the answer; Jitter adds a uniform ±Jitter to it.
	Latency Duration `json:"latency,omitempty" yaml:"latency"`
	Jitter  Duration `json:"jitter,omitempty" yaml:"jitter"`
	// Status answers with this HTTP status instead of serving the request,
	// with Body (any JSON; default an RFC 6749 / RFC 6750 error fitting the
	// status and endpoint) and RetryAfter seconds in Retry-After.
	Status     int `json:"status,omitempty" yaml:"status"`
	Body       any `json:"body,omitempty" yaml:"body"`
	RetryAfter int `json:"retry_after,omitempty" yaml:"retry_after"`
	// Reset closes the connection without an answer.
	Reset bool `json:"reset,omitempty" yaml:"reset"`
	// Fired counts how often the fault has fired (read-only: a posted value
	// is ignored).
	Fired int `json:"fired" yaml:"-"`
}

// endpointNames are the endpoint kinds a fault or a request filter can name.
func (k endpointKind) String() string {
	switch k {
	case endpointToken:
		return "token"
	case endpointRevocation:
		return "revocation"
	case endpointIntrospection:
		return "introspection"
	case endpointJWKS:
		return "jwks"
	case endpointMetadata:
		return "metadata"
	case endpointGraphQL:
		return "graphql"
	default:
		return "protected"
	}
}

// name is how faults and request filters name the endpoint: its kind, or
// a protected operation's operationId.
func (ep endpoint) name() string {
	if ep.kind == endpointProtected {
		return ep.op.ID
	}
	return ep.kind.String()
}

// flowName is the endpoint's flow; "" for server-wide endpoints.
func (ep endpoint) flowName() string {
	if ep.fr == nil {
		return ""
	}
	return ep.fr.flow.Name
}

// activeFault is a Fault as the server runs it.
type activeFault struct {
	spec Fault
	body []byte

	mu    sync.Mutex
	seen  int // matching requests so far
	fired int
	rng   *rand.Rand
}

// faultTable holds the faults in force. The request path reads it with one
// atomic load; changes copy the list.
type faultTable struct {
	mu     sync.Mutex // serialises changes
	active atomic.Pointer[[]*activeFault]
	nextID int
	s      *Server
}

func newFaultTable(s *Server) *faultTable {
	t := &faultTable{s: s}
	t.active.Store(&[]*activeFault{})
	return t
}

// maxFaultDelay bounds a fault's latency and its jitter, each on its own
// (checking their sum would let one huge value wrap the other negative).
const maxFaultDelay = time.Minute

// check validates f against the server: a bad fault names the field.
func (t *faultTable) check(f Fault) error {
	if f.Endpoint == "" {
		return fieldError("endpoint", "missing: name token, revocation, introspection, jwks, metadata, graphql or a protected operationId")
	}
	known := []string{"token", "revocation", "introspection", "jwks", "metadata"}
	for _, fr := range t.s.flows {
		for _, op := range fr.flow.Protected() {
			known = append(known, op.ID)
		}
		if fr.graphql != nil && !slices.Contains(known, endpointGraphQL.String()) {
			known = append(known, endpointGraphQL.String())
		}
	}
	if !slices.Contains(known, f.Endpoint) {
		return fieldError("endpoint", "%q is not an endpoint of this server (known: %s)", f.Endpoint, strings.Join(known, ", "))
	}
	if f.Flow != "" && t.s.flow(f.Flow) == nil {
		return fieldError("flow", "no flow %q (serving %s)", f.Flow, strings.Join(t.s.flowNames(), ", "))
	}
	switch {
	case f.After < 0:
		return fieldError("after", "must not be negative")
	case f.Every < 0:
		return fieldError("every", "must not be negative")
	case f.Times < 0:
		return fieldError("times", "must not be negative")
	case f.Probability < 0 || f.Probability > 1:
		return fieldError("probability", "must be between 0 and 1")
	case f.Latency < 0:
		return fieldError("latency", "must not be negative")
	case f.Jitter < 0:
		return fieldError("jitter", "must not be negative")
	case time.Duration(f.Latency) > maxFaultDelay:
		return fieldError("latency", "%s is longer than %s", time.Duration(f.Latency), maxFaultDelay)
	case time.Duration(f.Jitter) > maxFaultDelay:
		return fieldError("jitter", "%s is longer than %s", time.Duration(f.Jitter), maxFaultDelay)
	case f.Status != 0 && (f.Status < 200 || f.Status > 599):
		return fieldError("status", "%d is not an HTTP status from 200 to 599", f.Status)
	case f.RetryAfter < 0:
		return fieldError("retry_after", "must not be negative (whole seconds)")
	case f.RetryAfter > 0 && f.Status == 0:
		return fieldError("retry_after", "goes with a status, e.g. 429 or 503")
	case f.Body != nil && f.Status == 0:
		return fieldError("body", "goes with a status")
	case f.Reset && f.Status != 0:
		return fieldError("reset", "a reset connection has no status: give one or the other")
	case f.Status == 0 && !f.Reset && f.Latency == 0:
		return fieldError("status", "the fault does nothing: give a status, latency or reset")
	}
	if f.Body != nil {
		if _, err := json.Marshal(f.Body); err != nil {
			return fieldError("body", "not JSON: %v", err)
		}
	}
	return nil
}

// add puts faults in force, all or none.
func (t *faultTable) add(faults ...Fault) ([]Fault, error) {
	for i, f := range faults {
		if err := t.check(f); err != nil {
			if len(faults) > 1 {
				return nil, fmt.Errorf("faults[%d]: %w", i, err)
			}
			return nil, err
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	list := slices.Clone(*t.active.Load())
	inForce := func(id string) bool {
		return slices.ContainsFunc(list, func(a *activeFault) bool { return a.spec.ID == id })
	}
	var out []Fault
	for _, f := range faults {
		if f.ID == "" {
			for f.ID == "" || inForce(f.ID) || slices.ContainsFunc(faults, func(g Fault) bool { return g.ID == f.ID }) {
				t.nextID++
				f.ID = "f" + strconv.Itoa(t.nextID)
			}
		} else if inForce(f.ID) {
			return nil, fieldError("id", "a fault %q is already in force: delete it first or choose another id", f.ID)
		}
		if f.Seed == 0 {
			f.Seed = rand.Uint64()
		}
		f.Fired = 0
		af := &activeFault{spec: f, rng: rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))}
		if f.Body != nil {
			af.body, _ = json.Marshal(f.Body)
		}
		list = append(list, af)
		out = append(out, f)
	}
	t.active.Store(&list)
	return out, nil
}

// list describes the faults in force, with how often each has fired.
func (t *faultTable) list() []Fault {
	out := []Fault{}
	for _, af := range *t.active.Load() {
		af.mu.Lock()
		f := af.spec
		f.Fired = af.fired
		af.mu.Unlock()
		out = append(out, f)
	}
	return out
}

// remove takes the fault id out of force; false when there is none.
func (t *faultTable) remove(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	list := *t.active.Load()
	i := slices.IndexFunc(list, func(a *activeFault) bool { return a.spec.ID == id })
	if i < 0 {
		return false
	}
	next := slices.Delete(slices.Clone(list), i, i+1)
	t.active.Store(&next)
	return true
}

// clear takes every fault out of force.
func (t *faultTable) clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.active.Store(&[]*activeFault{})
}

// matches reports whether the fault is about ep.
func (af *activeFault) matches(ep endpoint) bool {
	return af.spec.Endpoint == ep.name() && (af.spec.Flow == "" || af.spec.Flow == ep.flowName())
}

// decide counts a matching request and reports whether the fault fires on
// it, with the latency it adds.
func (af *activeFault) decide() (bool, time.Duration) {
	af.mu.Lock()
	defer af.mu.Unlock()
	f := &af.spec
	af.seen++
	n := af.seen - f.After
	if n <= 0 || (f.Times > 0 && af.fired >= f.Times) {
		return false, 0
	}
	if f.Every > 1 && n%f.Every != 0 {
		return false, 0
	}
	if f.Probability > 0 && af.rng.Float64() >= f.Probability {
		return false, 0
	}
	af.fired++
	latency := time.Duration(f.Latency)
	if f.Jitter > 0 {
		latency += time.Duration(af.rng.Int64N(2*int64(f.Jitter)+1)) - time.Duration(f.Jitter)
	}
	return true, max(latency, 0)
}

// wrap puts the fault table in front of an endpoint's handler. With no
// fault in force it costs one atomic load.
func (t *faultTable) wrap(ep endpoint, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list := *t.active.Load()
		if len(list) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		var client string
		clientKnown := false
		for _, af := range list {
			if !af.matches(ep) {
				continue
			}
			if af.spec.ClientID != "" {
				if !clientKnown {
					client, clientKnown = t.requestClient(ep, r), true
				}
				if client != af.spec.ClientID {
					continue
				}
			}
			if fire, latency := af.decide(); fire {
				t.inject(af, latency, ep, w, r, next)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// requestClient is the client a request is from: the HTTP Basic user or
// the body's client id at a client operation, the token's client at a
// protected one; "" when it cannot tell.
func (t *faultTable) requestClient(ep endpoint, r *http.Request) string {
	header := r.Header.Get("Authorization")
	switch ep.kind {
	case endpointProtected, endpointGraphQL:
		token, res := authheader.ParseBearer(header)
		if res != authheader.BearerOK {
			return ""
		}
		if g, ok := ep.fr.validator.Validate(token, t.s.opts.Clock.Now()); ok {
			return g.ClientID
		}
		return ""
	case endpointToken, endpointRevocation, endpointIntrospection:
		if id, _, ok, err := authheader.ParseBasic(header); ok && err == nil {
			return id
		}
		co := ep.fr.clientOperation(ep.kind)
		if r.ContentLength > co.maxBody {
			return "" // the operation refuses it unread
		}
		doc, err := parseTokenBody(mediaTypeOf(r), peekBody(r, co.maxBody))
		if err != nil {
			return ""
		}
		id, _ := stringField(doc, co.clientID)
		return id
	}
	return ""
}

// inject makes the fault happen to one request.
func (t *faultTable) inject(af *activeFault, latency time.Duration, ep endpoint, w http.ResponseWriter, r *http.Request, next http.Handler) {
	if m := t.s.metrics; m != nil {
		m.faultFired(ep, faultEffect(af.spec))
	}
	if latency > 0 {
		timer := time.NewTimer(latency)
		select {
		case <-timer.C:
		case <-r.Context().Done():
			timer.Stop()
			noteHungUp(w)
			return
		}
	}
	f := af.spec
	if f.Reset || f.Status != 0 {
		noteClient(w, t.requestClient(ep, r)) // the handler that would have named it does not run
		noteRefusal(w, reasonFault)
	}
	if f.Reset {
		panic(http.ErrAbortHandler) // net/http closes the connection without an answer
	}
	if f.Status == 0 {
		next.ServeHTTP(w, r)
		return
	}
	h := w.Header()
	h["Cache-Control"] = noStore
	h["Content-Type"] = jsonContentType
	if f.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	body := af.body
	if body == nil {
		e := faultError(ep, f.Status)
		body = []byte(`{}`)
		if e.Code != "" {
			body = faultBody(ep, e)
		}
		if f.Status == http.StatusUnauthorized {
			switch {
			case ep.kind == endpointProtected || ep.kind == endpointGraphQL:
				h.Set("Www-Authenticate", authheader.Challenge{Scheme: "Bearer", Params: []authheader.Param{
					{Name: "realm", Value: ep.fr.flow.Realm}, {Name: "error", Value: e.Code}, {Name: "error_description", Value: e.Description}}}.String())
			case ep.fr != nil:
				h["Www-Authenticate"] = ep.fr.token.challenge
			}
		}
	}
	w.WriteHeader(f.Status)
	_, _ = w.Write(body)
}

// faultBody is e's body in the error dialect of ep's flow: as a protected
// resource writes it there, as an authorization server endpoint elsewhere
// (the JWKS and the metadata, which belong to no flow, in rfc6749).
func faultBody(ep endpoint, e *oautherr.Error) []byte {
	dialect := oautherr.DialectRFC6749
	if ep.fr != nil {
		dialect = ep.fr.flow.ErrorDialect
	}
	if ep.kind == endpointProtected {
		return e.ResourceBody(dialect)
	}
	return e.ServerBody(dialect)
}

// faultEffect names what a fault does, for the metrics: reset, status or
// latency.
func faultEffect(f Fault) string {
	switch {
	case f.Reset:
		return "reset"
	case f.Status != 0:
		return "status"
	}
	return "latency"
}

// faultError is the default error a fault answers with: the RFC 6749
// (client operations) or RFC 6750 (protected operations) code that fits
// the status.
func faultError(ep endpoint, status int) *oautherr.Error {
	code := "server_error"
	switch {
	case status == http.StatusBadRequest:
		code = oautherr.InvalidRequest
	case status == http.StatusUnauthorized && (ep.kind == endpointProtected || ep.kind == endpointGraphQL):
		code = oautherr.InvalidToken
	case status == http.StatusUnauthorized:
		code = oautherr.InvalidClient
	case status == http.StatusForbidden && (ep.kind == endpointProtected || ep.kind == endpointGraphQL):
		code = oautherr.InsufficientScope
	case status == http.StatusForbidden:
		code = "access_denied"
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		code = "temporarily_unavailable"
	case status < 400:
		code = ""
	}
	return &oautherr.Error{Code: code, Description: "a fault injected through the control API", Status: status}
}

// controlFieldError is a problem with one field of a control request.
type controlFieldError struct {
	field, problem string
}

func (e *controlFieldError) Error() string {
	if strings.HasPrefix(e.problem, "is ") {
		return e.field + " " + e.problem // "secret is empty"
	}
	return e.field + ": " + e.problem
}

func fieldError(field, format string, args ...any) error {
	return &controlFieldError{field: field, problem: fmt.Sprintf(format, args...)}
}

// clientOperation is fr's client operation of kind (token, revocation or
// introspection).
func (fr *flowRuntime) clientOperation(kind endpointKind) *clientOperation {
	switch kind {
	case endpointRevocation:
		return fr.revocation
	case endpointIntrospection:
		return fr.introspection
	default:
		return fr.token
	}
}
