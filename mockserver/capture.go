package mockserver

import (
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// RequestRecord is one request an endpoint of the server answered, as the
// control API shows it: credentials and tokens redacted as in the request
// log.
type RequestRecord struct {
	Time          time.Time `json:"time"`
	Method        string    `json:"method"`
	Path          string    `json:"path"`                // a segment shaped like a token fingerprinted: "{token sha256:1a2b3c4d (36 chars)}"
	Endpoint      string    `json:"endpoint"`            // token, revocation, introspection, jwks, metadata or a protected operationId
	Flow          string    `json:"flow,omitempty"`      // empty for jwks and metadata
	ClientID      string    `json:"client_id,omitempty"` // the authenticated client, or its token's; empty when unknown
	Status        int       `json:"status"`
	Authorization string    `json:"authorization,omitempty"` // redacted
}

// RequestFilter selects recorded requests; empty fields match anything.
type RequestFilter struct {
	Endpoint string
	Flow     string
	ClientID string
}

func (f RequestFilter) matches(r *capturedRequest) bool {
	return (f.Endpoint == "" || f.Endpoint == r.ep.name()) &&
		(f.Flow == "" || f.Flow == r.ep.flowName()) &&
		(f.ClientID == "" || f.ClientID == r.client)
}

// capturedRequest is a RequestRecord as held: the raw Authorization
// header (redacted only when shown) and the endpoint, so that recording
// an ordinary request allocates nothing. A path or Authorization longer
// than maxCapturedValue is held as a short copy instead (see captured), so
// that the ring never keeps large request buffers alive.
type capturedRequest struct {
	at       time.Time
	method   string
	path     string
	ep       endpoint
	client   string
	status   int
	auth     string
	redacted bool // auth is already redacted
}

// maxCapturedValue bounds the bytes of a request's path and Authorization
// header that a capture holds (the server reads up to 1 MB of headers).
const maxCapturedValue = 4 << 10

// captured returns a capture of a request: a long path cut to
// maxCapturedValue bytes with a note of its length, a long Authorization
// redacted at once (from the whole value, so its fingerprint is the one
// the request log shows); both fresh strings.
func captured(c capturedRequest) capturedRequest {
	if len(c.path) > maxCapturedValue {
		cut := maxCapturedValue
		for cut > 0 && !utf8.RuneStart(c.path[cut]) {
			cut--
		}
		c.path = c.path[:cut] + "... (" + strconv.Itoa(len(c.path)) + " bytes)"
	}
	if len(c.auth) > maxCapturedValue {
		c.auth, c.redacted = redactAuthorization(c.auth), true
	}
	return c
}

func (c *capturedRequest) record() RequestRecord {
	r := RequestRecord{Time: c.at, Method: c.method, Path: redactPath(c.path), Endpoint: c.ep.name(), Flow: c.ep.flowName(),
		ClientID: c.client, Status: c.status, Authorization: c.auth}
	if c.auth != "" && !c.redacted {
		r.Authorization = redactAuthorization(c.auth)
	}
	return r
}

// requestCapture keeps the last requests the endpoints answered, in a ring
// of fixed size.
type requestCapture struct {
	mu   sync.Mutex
	ring []capturedRequest
	next int // where the next record goes
	size int // the ring's capacity; never changes
	pool sync.Pool
}

func newRequestCapture(size int) *requestCapture {
	c := &requestCapture{ring: make([]capturedRequest, 0, size), size: size}
	c.pool.New = func() any { return &captureWriter{} }
	return c
}

// captureWriter records the status of an answer, the client an
// endpoint's handler names (noteClient) and why it refused the request
// (noteRefusal).
type captureWriter struct {
	http.ResponseWriter
	status int
	client string
	reason string
}

func (w *captureWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *captureWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *captureWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *captureWriter) noteClient(id string) { w.client = id }

// noteRefusal keeps the reason for the metrics and passes it on to the
// request log's writer, if any.
func (w *captureWriter) noteRefusal(reason string) {
	w.reason = reason
	noteRefusal(w.ResponseWriter, reason)
}

// StatusClientClosedRequest is the status a captured request gets when its
// client hung up before the answer (nginx's 499): nothing was sent.
const StatusClientClosedRequest = 499

func (w *captureWriter) noteHungUp() {
	if w.status == 0 {
		w.status = StatusClientClosedRequest
	}
}

// clientNoter is a ResponseWriter that wants to know which client a
// request came from.
type clientNoter interface{ noteClient(id string) }

// noteClient tells w, if it wants to know, which client the request came
// from. It does not allocate.
func noteClient(w http.ResponseWriter, id string) {
	if n, ok := w.(clientNoter); ok {
		n.noteClient(id)
	}
}

// hangUpNoter is a ResponseWriter that wants to know that the client hung
// up before an answer was written.
type hangUpNoter interface{ noteHungUp() }

// noteHungUp tells w, if it wants to know, that the client hung up before
// an answer was written.
func noteHungUp(w http.ResponseWriter) {
	if n, ok := w.(hangUpNoter); ok {
		n.noteHungUp()
	}
}

// wrap records every request ep answers, and counts and times it in rm
// when the metrics are on (rm not nil): one writer and one clock reading
// at the end serve both.
func (c *requestCapture) wrap(ep endpoint, rm *routeMetrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := c.pool.Get().(*captureWriter)
		cw.ResponseWriter, cw.status, cw.client, cw.reason = w, 0, "", ""
		var start time.Duration
		if rm != nil {
			start = rm.since()
		}
		defer func() {
			status := cw.status
			aborted := recover()
			if status == 0 && aborted == nil {
				status = http.StatusOK
			}
			at := time.Now()
			if rm != nil {
				rm.observe(status, cw.reason, start, at)
			}
			c.add(captured(capturedRequest{at: at, method: r.Method, path: r.URL.Path, ep: ep, client: cw.client,
				status: status, auth: r.Header.Get("Authorization")}))
			cw.ResponseWriter = nil
			c.pool.Put(cw)
			if aborted != nil {
				panic(aborted) // a reset connection (http.ErrAbortHandler): status 0 in the record
			}
		}()
		next.ServeHTTP(cw, r)
	})
}

func (c *requestCapture) add(r capturedRequest) {
	c.mu.Lock()
	if len(c.ring) < cap(c.ring) {
		c.ring = append(c.ring, r)
	} else {
		c.ring[c.next] = r
	}
	c.next = (c.next + 1) % cap(c.ring)
	c.mu.Unlock()
}

// list returns the held requests that f selects, oldest first, at most limit
// (the newest ones) when limit > 0.
func (c *requestCapture) list(f RequestFilter, limit int) []RequestRecord {
	c.mu.Lock()
	var held []capturedRequest
	if len(c.ring) < cap(c.ring) {
		held = append(held, c.ring...)
	} else {
		held = append(append(held, c.ring[c.next:]...), c.ring[:c.next]...)
	}
	c.mu.Unlock()
	out := []RequestRecord{}
	for i := range held {
		if f.matches(&held[i]) {
			out = append(out, held[i].record())
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out
}

// count is how many held requests f selects.
func (c *requestCapture) count(f RequestFilter) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for i := range c.ring {
		if f.matches(&c.ring[i]) {
			n++
		}
	}
	return n
}

// capacity is how many requests the ring holds.
func (c *requestCapture) capacity() int { return c.size }

// reset forgets every request.
func (c *requestCapture) reset() {
	c.mu.Lock()
	clear(c.ring)
	c.ring, c.next = c.ring[:0], 0
	c.mu.Unlock()
}
