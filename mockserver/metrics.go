package mockserver

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tollgate/tollgate/spec/oautherr"
)

// MetricsPath is where the server answers Prometheus scrapes (docs/metrics.md).
const MetricsPath = "/metrics"

// Metrics modes (Options.Metrics).
const (
	MetricsAuto   = "auto"   // on for loopback connections, or anywhere with Options.ControlToken (as the control API)
	MetricsPublic = "public" // on for every connection, no token asked
	MetricsOff    = "off"    // no metrics: no /metrics route and no per-request counting
)

// Verdicts of the requests counter besides the reasons a handler notes
// (noteRefusal: ReasonExpired, ..., reasonFault, reasonNotFound and the
// RFC 6749 error codes of client operations).
const (
	verdictOK    = "ok"    // answered with a status below 400
	verdictError = "error" // a status of 400 or more that named no reason
)

// routeUnmatched is the route label of requests no route of the flows serves.
const routeUnmatched = "unmatched"

// statusNone is the status label of a request whose connection was reset
// without an answer (a reset fault).
const statusNone = "none"

// latencyBuckets returns the bounds of the issuance and validation
// histograms, in seconds: 5 µs to 1 s in steps of 1, 2.5 and 5.
func latencyBuckets() []float64 {
	return []float64{5e-6, 10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1}
}

// serverMetrics are the Prometheus series of one server, in a registry of
// its own.
type serverMetrics struct {
	registry   *prometheus.Registry
	requests   *prometheus.CounterVec   // route, status, verdict
	issuance   *prometheus.HistogramVec // flow
	validation *prometheus.HistogramVec // flow
	faults     *prometheus.CounterVec   // endpoint, flow, effect
	writers    sync.Pool
	// epoch is when the metrics began: durations are taken as differences
	// of time.Since(epoch), which reads only the monotonic clock and costs
	// a fraction of time.Now.
	epoch time.Time
}

func newServerMetrics(s *Server) *serverMetrics {
	m := &serverMetrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_requests_total",
			Help: "Requests answered, by route (method and path template), status and verdict (ok, or why the request was refused: missing, expired, revoked, unknown, invalid_client, ...).",
		}, []string{"route", "status", "verdict"}),
		issuance: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tollgate_issuance_duration_seconds",
			Help:    "Time the token endpoint took to answer, by flow, whatever the answer.",
			Buckets: latencyBuckets(),
		}, []string{"flow"}),
		validation: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tollgate_validation_duration_seconds",
			Help:    "Time a protected route took to answer (Bearer validation and the documented answer), by flow, whatever the answer.",
			Buckets: latencyBuckets(),
		}, []string{"flow"}),
		faults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_faults_fired_total",
			Help: "Faults of the control API that fired, by endpoint, flow and effect (status, reset or latency).",
		}, []string{"endpoint", "flow", "effect"}),
	}
	m.writers.New = func() any { return new(metricsWriter) }
	m.epoch = time.Now()
	live := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tollgate_live_tokens",
		Help: "Tokens the server holds: issued uuid and opaque tokens of every flow and the issued JWTs of jwt flows; expired ones count until swept.",
	}, s.liveTokens)
	m.registry.MustRegister(m.requests, m.issuance, m.validation, m.faults, live,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// liveTokens counts the tokens the server holds; read at scrape time only.
func (s *Server) liveTokens() float64 {
	n := s.store.Len()
	for _, fr := range s.flows {
		if fr.issued != nil {
			n += fr.issued.Len()
		}
	}
	return float64(n)
}

// handler answers scrapes; in MetricsAuto mode only over loopback, or with
// the control token, as the control API.
func (m *serverMetrics) handler(s *Server) http.Handler {
	h := promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	if s.opts.Metrics == MetricsPublic {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.refuseRemote(w, r, "the metrics endpoint", "--metrics public") {
			return
		}
		h.ServeHTTP(w, r)
	})
}

// labelledCounter is a requests counter resolved for one status and verdict.
type labelledCounter struct {
	status  int
	verdict string
	c       prometheus.Counter
}

// routeMetrics are the series of one route, resolved once at start-up so
// that counting an ordinary answer costs no label lookup and no allocation.
type routeMetrics struct {
	route   string
	vec     *prometheus.CounterVec
	ok      prometheus.Counter  // status 200, verdict ok: the common case
	known   []labelledCounter   // the other answers the route is known to give
	latency prometheus.Observer // nil when the route has no histogram
	epoch   time.Time           // the metrics' epoch (serverMetrics.epoch)
}

// since is the time since the epoch, from the monotonic clock alone: the
// start of a request the route will time; 0 when it times none.
func (rm *routeMetrics) since() time.Duration {
	if rm.latency == nil {
		return 0
	}
	return time.Since(rm.epoch)
}

// observe counts an answer and, when the route is timed, the time from
// start (since()) to end, a reading the caller already took.
func (rm *routeMetrics) observe(status int, reason string, start time.Duration, end time.Time) {
	rm.count(status, reason)
	if rm.latency != nil {
		rm.latency.Observe((end.Sub(rm.epoch) - start).Seconds())
	}
}

// expectedAnswers are the statuses and verdicts an endpoint of kind is
// known to answer with besides 200 ok: their series exist from the start
// and count without a lookup. Others are counted too, through a lookup.
func expectedAnswers(kind endpointKind) []labelledCounter {
	switch kind {
	case endpointProtected:
		return []labelledCounter{
			{status: http.StatusUnauthorized, verdict: reasonMissing},
			{status: http.StatusBadRequest, verdict: reasonMalformed},
			{status: http.StatusUnauthorized, verdict: ReasonExpired},
			{status: http.StatusUnauthorized, verdict: ReasonRevoked},
			{status: http.StatusUnauthorized, verdict: ReasonUnknown},
			{status: http.StatusUnauthorized, verdict: ReasonOtherFlow},
			{status: http.StatusUnauthorized, verdict: ReasonAltered},
			{status: http.StatusUnauthorized, verdict: ReasonNotYetValid},
			{status: http.StatusForbidden, verdict: reasonInsufficientScope},
		}
	case endpointToken, endpointRevocation, endpointIntrospection:
		return []labelledCounter{
			{status: http.StatusBadRequest, verdict: oautherr.InvalidRequest},
			{status: http.StatusUnauthorized, verdict: oautherr.InvalidClient},
			{status: http.StatusBadRequest, verdict: oautherr.InvalidClient},
			{status: http.StatusBadRequest, verdict: oautherr.UnauthorizedClient},
			{status: http.StatusBadRequest, verdict: oautherr.UnsupportedGrantType},
			{status: http.StatusBadRequest, verdict: oautherr.InvalidScope},
			{status: http.StatusMethodNotAllowed, verdict: oautherr.InvalidRequest},
			{status: http.StatusServiceUnavailable, verdict: "temporarily_unavailable"},
		}
	}
	return nil
}

// route resolves the series of the route serving ep.
func (m *serverMetrics) route(ep endpoint) *routeMetrics {
	var route string
	switch ep.kind {
	case endpointJWKS:
		route = http.MethodGet + " " + JWKSPath
	case endpointMetadata:
		route = http.MethodGet + " " + MetadataPath
	case endpointProtected:
		route = ep.op.Method + " " + ep.op.Path
	default:
		route = ep.op.Path // a client operation answers every method itself
	}
	rm := m.labelled(route, expectedAnswers(ep.kind))
	switch ep.kind {
	case endpointToken:
		rm.latency = m.issuance.WithLabelValues(ep.flowName())
	case endpointProtected:
		rm.latency = m.validation.WithLabelValues(ep.flowName())
	}
	return rm
}

// labelled resolves route's counters for 200 ok and for answers.
func (m *serverMetrics) labelled(route string, answers []labelledCounter) *routeMetrics {
	rm := m.refusals(route, answers)
	rm.ok = m.requests.WithLabelValues(route, "200", verdictOK)
	return rm
}

// refusals resolves route's counters for answers alone: a route that
// serves nothing (unknown paths, undocumented methods) has no 200 ok
// series to show at 0.
func (m *serverMetrics) refusals(route string, answers []labelledCounter) *routeMetrics {
	rm := &routeMetrics{route: route, vec: m.requests, epoch: m.epoch}
	for _, a := range answers {
		a.c = m.requests.WithLabelValues(route, strconv.Itoa(a.status), a.verdict)
		rm.known = append(rm.known, a)
	}
	return rm
}

// count counts one answer. reason is what the handler noted (noteRefusal);
// "" for none.
func (rm *routeMetrics) count(status int, reason string) {
	if status == http.StatusOK && reason == "" && rm.ok != nil {
		rm.ok.Inc()
		return
	}
	verdict := reason
	if verdict == "" {
		verdict = verdictOK
		if status >= http.StatusBadRequest {
			verdict = verdictError
		}
	}
	for i := range rm.known {
		if k := &rm.known[i]; k.status == status && k.verdict == verdict {
			k.c.Inc()
			return
		}
	}
	label := statusNone
	if status != 0 {
		label = strconv.Itoa(status)
	}
	rm.vec.WithLabelValues(rm.route, label, verdict).Inc()
}

// wrapUnmatched counts the answers of the fallback for unknown paths.
func (m *serverMetrics) wrapUnmatched(next http.Handler) http.Handler {
	return m.wrapRoute(m.refusals(routeUnmatched, []labelledCounter{{status: http.StatusNotFound, verdict: reasonNotFound}}), next)
}

// wrapMethodNotAllowed counts the 405 answers of a documented path
// (template) called with a method no operation declares.
func (m *serverMetrics) wrapMethodNotAllowed(template string, next http.Handler) http.Handler {
	return m.wrapRoute(m.refusals(template, []labelledCounter{{status: http.StatusMethodNotAllowed, verdict: reasonMethodNotAllowed}}), next)
}

// wrapRoute counts the answers of a route that is not an endpoint (and so
// not captured): unknown paths and undocumented methods. Not timed.
func (m *serverMetrics) wrapRoute(rm *routeMetrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mw, _ := m.writers.Get().(*metricsWriter)
		mw.ResponseWriter, mw.status, mw.reason = w, 0, ""
		defer func() {
			aborted := recover()
			status, reason := mw.status, mw.reason
			if status == 0 && aborted == nil {
				status = http.StatusOK
			}
			rm.count(status, reason)
			mw.ResponseWriter = nil // the pool keeps no writer alive
			m.writers.Put(mw)
			if aborted != nil {
				panic(aborted) // a reset connection (http.ErrAbortHandler)
			}
		}()
		next.ServeHTTP(mw, r)
	})
}

// faultFired counts a fault that fired on ep: effect is status, reset or
// latency. It is off the common path (no fault in force costs nothing here).
func (m *serverMetrics) faultFired(ep endpoint, effect string) {
	m.faults.WithLabelValues(ep.name(), ep.flowName(), effect).Inc()
}

// metricsWriter records the status of an answer and why it was refused,
// passing both on, for the routes that are not endpoints (wrapRoute); an
// endpoint's captureWriter does the same for its metrics.
type metricsWriter struct {
	http.ResponseWriter
	status int
	reason string
}

func (w *metricsWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *metricsWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *metricsWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *metricsWriter) noteRefusal(reason string) {
	w.reason = reason
	noteRefusal(w.ResponseWriter, reason)
}
