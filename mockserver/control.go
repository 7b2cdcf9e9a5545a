package mockserver

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/authheader"
	"github.com/tollgate/tollgate/spec/oautherr"
)

// ControlPrefix is where the control API lives (docs/control.md).
const ControlPrefix = "/_tollgate/"

// Control modes (Options.Control).
const (
	ControlAuto = "auto" // on for loopback connections, or anywhere with Options.ControlToken
	ControlOff  = "off"  // no control API
)

//go:embed control.yaml
var controlDocument []byte

// ControlDocument returns the OpenAPI document of the control API.
func ControlDocument() []byte { return bytes.Clone(controlDocument) }

// maxControlBody bounds a control request's body.
const maxControlBody = 1 << 20

// maxWait bounds GET /_tollgate/requests/wait.
const maxWait = time.Minute

// controlRoutes are the control API's routes, each refused unless the
// request may use the control API.
func (s *Server) controlRoutes() map[string]http.HandlerFunc {
	routes := map[string]http.HandlerFunc{
		"GET " + ControlPrefix + "openapi.yaml": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/yaml")
			w.Header()["Cache-Control"] = noStore
			_, _ = w.Write(controlDocument)
		},
		"GET " + ControlPrefix + "clock":           s.getClock,
		"PUT " + ControlPrefix + "clock":           s.putClock,
		"DELETE " + ControlPrefix + "clock":        s.deleteClock,
		"POST " + ControlPrefix + "clock/advance":  s.advanceClock,
		"GET " + ControlPrefix + "faults":          s.getFaults,
		"POST " + ControlPrefix + "faults":         s.postFault,
		"DELETE " + ControlPrefix + "faults":       s.deleteFaults,
		"DELETE " + ControlPrefix + "faults/{id}":  s.deleteFault,
		"GET " + ControlPrefix + "requests":        s.getRequests,
		"GET " + ControlPrefix + "requests/count":  s.countRequests,
		"GET " + ControlPrefix + "requests/wait":   s.waitRequests,
		"POST " + ControlPrefix + "reset":          s.postReset,
		"GET " + ControlPrefix + "clients":         s.getClients,
		"POST " + ControlPrefix + "clients":        s.postClient,
		"GET " + ControlPrefix + "clients/{id}":    s.getClient,
		"PUT " + ControlPrefix + "clients/{id}":    s.putClient,
		"DELETE " + ControlPrefix + "clients/{id}": s.deleteClient,
		"POST " + ControlPrefix + "tokens":         s.postToken,
		"GET " + ControlPrefix + "tokens":          s.getTokens,
		"DELETE " + ControlPrefix + "tokens":       s.deleteTokens,
		"POST " + ControlPrefix + "keys/rotate":    s.rotateKeys,
	}
	for pattern, h := range routes {
		routes[pattern] = s.guardControl(h)
	}
	return routes
}

// controlHandler serves everything under ControlPrefix: the control
// routes, and any other request with the control API's JSON error, 404 for
// a path it does not have, 405 with Allow for a method a path does not take.
func (s *Server) controlHandler() http.Handler {
	mux := http.NewServeMux()
	for pattern, h := range s.controlRoutes() {
		mux.Handle(pattern, h)
	}
	mux.Handle(ControlPrefix, s.guardControl(func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete} {
			probe := &http.Request{Method: m, URL: r.URL, Host: r.Host}
			if _, pattern := mux.Handler(probe); pattern != ControlPrefix && pattern != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) == 0 {
			controlError(w, http.StatusNotFound, "not_found", "the control API has no "+strconv.Quote(r.URL.Path)+" (GET /_tollgate/openapi.yaml lists its paths)")
			return
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		controlError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.URL.Path+" takes "+strings.Join(allow, ", ")+", not "+r.Method)
	}))
	return mux
}

// guardControl lets a request through to the control API when it comes
// over loopback to a loopback name, or carries the control token when one
// is configured; and never from a page of another origin (a browser would
// send any page's simple requests to a local mock).
func (s *Server) guardControl(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Cache-Control"] = noStore
		if origin := r.Header.Get("Origin"); origin != "" && !sameOrigin(origin, r) {
			controlError(w, http.StatusForbidden, "access_denied", "the control API does not take requests from web pages of other origins: call it from a test or a shell")
			return
		}
		if s.refuseRemote(w, r, "the control API", "") {
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodDelete && r.ContentLength != 0 && !jsonBody(r) {
			controlError(w, http.StatusUnsupportedMediaType, oautherr.InvalidRequest, "send the body as Content-Type: application/json")
			return
		}
		next(w, r)
	}
}

// refuseRemote answers 401 or 403 and reports true unless the request may
// use what (the control API, the metrics endpoint): it must carry the
// control token when one is configured, else come over loopback to a
// loopback name. orPublic, when not empty, names the setting that opens
// what to every connection instead.
func (s *Server) refuseRemote(w http.ResponseWriter, r *http.Request, what, orPublic string) bool {
	instead := ""
	if orPublic != "" {
		instead = ", or " + orPublic + " to open it to every connection"
	}
	if want := s.opts.ControlToken; want != "" {
		token, res := authheader.ParseBearer(r.Header.Get("Authorization"))
		if res != authheader.BearerOK || !constantTimeEqual(token, want) {
			w.Header().Set("Www-Authenticate", `Bearer realm="tollgate-control"`)
			controlError(w, http.StatusUnauthorized, oautherr.InvalidToken, what+" needs Authorization: Bearer <control token> (control_token in the config, TOLLGATE_CONTROL_TOKEN)"+instead)
			return true
		}
		return false
	}
	if !overLoopback(r) {
		controlError(w, http.StatusForbidden, "access_denied", what+" answers loopback connections only: configure a control token (control_token, TOLLGATE_CONTROL_TOKEN) to use it from elsewhere"+instead)
		return true
	}
	if !loopbackHost(r.Host) {
		// A page whose name an attacker re-points at 127.0.0.1 (DNS
		// rebinding) reaches a loopback listener with its own name in
		// Host, and counts as same-origin.
		controlError(w, http.StatusForbidden, "access_denied", what+" without a control token answers requests to localhost, 127.0.0.1 or [::1] only, not to Host "+strconv.Quote(r.Host)+": configure a control token (control_token, TOLLGATE_CONTROL_TOKEN) to use other names"+instead)
		return true
	}
	return false
}

func sameOrigin(origin string, r *http.Request) bool {
	return strings.TrimPrefix(strings.TrimPrefix(origin, "http://"), "https://") == r.Host
}

func jsonBody(r *http.Request) bool {
	mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/json")
}

// loopbackHost reports whether host (a Host header, with or without a
// port) names the loopback interface: localhost, an address in
// 127.0.0.0/8, or ::1.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else {
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// overLoopback reports whether the request reached a loopback listener.
func overLoopback(r *http.Request) bool {
	addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// controlError answers a control request with an error in the RFC 6749
// shape; description names the field when one is at fault.
func controlError(w http.ResponseWriter, status int, code, description string) {
	writeOAuthError(w, &oautherr.Error{Code: code, Description: description, Status: status}, oautherr.DialectRFC6749)
}

// badControlRequest answers 400 for err, naming the field.
func badControlRequest(w http.ResponseWriter, err error) {
	controlError(w, http.StatusBadRequest, oautherr.InvalidRequest, err.Error())
}

func writeControlJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		controlError(w, http.StatusInternalServerError, "server_error", "the answer could not be encoded: "+err.Error())
		return
	}
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// decodeFields reads a JSON object body into fields, by member name. An
// unknown member, a value of the wrong type or a body that is not one
// object is an error naming the member; nothing is written to fields
// then... except members decoded before the bad one, so callers decode into
// a fresh value and apply it only when decodeFields succeeds.
func decodeFields(r *http.Request, fields map[string]any) error {
	return decodeBody(r, fields, "")
}

// decodeBody is decodeFields for an operation whose body is required: an
// empty body is an error that says what to send (need, e.g.
// `{"now": ..., "frozen": ...}`); with need empty it reads as {}.
func decodeBody(r *http.Request, fields map[string]any, need string) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxControlBody+1))
	if err != nil {
		return errors.New("the body could not be read")
	}
	if len(body) > maxControlBody {
		return fmt.Errorf("the body is larger than %d bytes", maxControlBody)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if need != "" {
			return errors.New("the body is empty: send a JSON object such as " + need)
		}
		body = []byte("{}")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil || members == nil {
		return errors.New("the body must be one JSON object")
	}
	if dups, _ := spec.DuplicateMembers(body); len(dups) > 0 {
		return fieldError(dups[0], "given twice")
	}
	for name, raw := range members {
		dst, ok := fields[name]
		if !ok {
			known := make([]string, 0, len(fields))
			for k := range fields {
				known = append(known, k)
			}
			slices.Sort(known)
			return fieldError(name, "unknown member (known: %s)", strings.Join(known, ", "))
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(dst); err != nil {
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) {
				return fieldError(joinField(name, typeErr.Field), "must be a %s, not %s", jsonTypeName(typeErr.Type.Kind().String()), typeErr.Value)
			}
			return fieldError(name, "%s", strings.TrimPrefix(err.Error(), "json: "))
		}
	}
	return nil
}

func joinField(name, inner string) string {
	if inner == "" {
		return name
	}
	return name + "." + inner
}

func jsonTypeName(kind string) string {
	switch kind {
	case "int", "int64", "uint64", "float64":
		return "number"
	case "slice":
		return "list"
	case "map", "struct":
		return "object"
	case "bool":
		return "boolean"
	}
	return kind
}

// clockJSON is the clock as the control API shows it.
type clockJSON struct {
	Now    string `json:"now"`
	Frozen bool   `json:"frozen"`
}

func (s *Server) clockAnswer() clockJSON {
	st := s.clock.Setting()
	return clockJSON{Now: st.Now.UTC().Format(time.RFC3339Nano), Frozen: st.Frozen}
}

func (s *Server) getClock(w http.ResponseWriter, _ *http.Request) {
	writeControlJSON(w, http.StatusOK, s.clockAnswer())
}

func (s *Server) putClock(w http.ResponseWriter, r *http.Request) {
	var now string
	var frozen bool
	if err := decodeBody(r, map[string]any{"now": &now, "frozen": &frozen}, `{"now":"2030-01-02T15:04:05Z","frozen":true}`); err != nil {
		badControlRequest(w, err)
		return
	}
	var setting ClockSetting
	if now != "" {
		t, err := time.Parse(time.RFC3339Nano, now)
		if err != nil {
			badControlRequest(w, fieldError("now", "%q is not an RFC 3339 time such as 2030-01-02T15:04:05Z", now))
			return
		}
		setting.Now = t
	}
	setting.Frozen = frozen
	if err := s.clock.Set(setting); err != nil {
		badControlRequest(w, fieldError("now", "%v", err))
		return
	}
	writeControlJSON(w, http.StatusOK, s.clockAnswer())
}

func (s *Server) deleteClock(w http.ResponseWriter, _ *http.Request) {
	s.clock.Reset()
	writeControlJSON(w, http.StatusOK, s.clockAnswer())
}

func (s *Server) advanceClock(w http.ResponseWriter, r *http.Request) {
	var d *Duration
	if err := decodeFields(r, map[string]any{"duration": &d}); err != nil {
		badControlRequest(w, err)
		return
	}
	if d == nil {
		badControlRequest(w, fieldError("duration", "missing: say how far, e.g. \"2h\" (negative moves back)"))
		return
	}
	if err := s.clock.Advance(time.Duration(*d)); err != nil {
		badControlRequest(w, fieldError("duration", "%v", err))
		return
	}
	writeControlJSON(w, http.StatusOK, s.clockAnswer())
}

func (s *Server) getFaults(w http.ResponseWriter, _ *http.Request) {
	writeControlJSON(w, http.StatusOK, map[string]any{"faults": s.faults.list()})
}

func (s *Server) postFault(w http.ResponseWriter, r *http.Request) {
	var f Fault
	var fired int // read-only: accepted, so that a listed fault can be posted back, and ignored
	fields := map[string]any{"fired": &fired, "id": &f.ID, "endpoint": &f.Endpoint, "flow": &f.Flow, "client_id": &f.ClientID,
		"after": &f.After, "every": &f.Every, "probability": &f.Probability, "seed": &f.Seed, "times": &f.Times,
		"latency": &f.Latency, "jitter": &f.Jitter, "status": &f.Status, "body": &f.Body, "retry_after": &f.RetryAfter, "reset": &f.Reset}
	if err := decodeFields(r, fields); err != nil {
		badControlRequest(w, err)
		return
	}
	added, err := s.faults.add(f)
	if err != nil {
		badControlRequest(w, err)
		return
	}
	writeControlJSON(w, http.StatusCreated, added[0])
}

func (s *Server) deleteFaults(w http.ResponseWriter, _ *http.Request) {
	s.faults.clear()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) deleteFault(w http.ResponseWriter, r *http.Request) {
	if !s.faults.remove(r.PathValue("id")) {
		controlError(w, http.StatusNotFound, "not_found", "no fault "+strconv.Quote(r.PathValue("id"))+" is in force (GET /_tollgate/faults lists them)")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// requestFilter reads the endpoint, flow and client_id query parameters.
func (s *Server) requestFilter(r *http.Request) (RequestFilter, error) {
	q := r.URL.Query()
	f := RequestFilter{Endpoint: q.Get("endpoint"), Flow: q.Get("flow"), ClientID: q.Get("client_id")}
	if f.Flow != "" && s.flow(f.Flow) == nil {
		return f, fieldError("flow", "no flow %q (serving %s)", f.Flow, strings.Join(s.flowNames(), ", "))
	}
	return f, nil
}

func (s *Server) getRequests(w http.ResponseWriter, r *http.Request) {
	f, err := s.requestFilter(r)
	if err != nil {
		badControlRequest(w, err)
		return
	}
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 {
			badControlRequest(w, fieldError("limit", "%q is not a positive whole number", v))
			return
		}
	}
	writeControlJSON(w, http.StatusOK, map[string]any{"requests": s.capture.list(f, limit), "capacity": s.capture.capacity()})
}

func (s *Server) countRequests(w http.ResponseWriter, r *http.Request) {
	f, err := s.requestFilter(r)
	if err != nil {
		badControlRequest(w, err)
		return
	}
	writeControlJSON(w, http.StatusOK, map[string]int{"count": s.capture.count(f)})
}

// waitRequests answers once count requests match, or after timeout with
// 408 and the count reached.
func (s *Server) waitRequests(w http.ResponseWriter, r *http.Request) {
	f, err := s.requestFilter(r)
	if err != nil {
		badControlRequest(w, err)
		return
	}
	q := r.URL.Query()
	want, err := strconv.Atoi(q.Get("count"))
	if err != nil || want < 1 {
		badControlRequest(w, fieldError("count", "%q is not a positive whole number: say how many requests to wait for", q.Get("count")))
		return
	}
	timeout := 5 * time.Second
	if v := q.Get("timeout"); v != "" {
		if timeout, err = time.ParseDuration(v); err != nil || timeout <= 0 || timeout > maxWait {
			badControlRequest(w, fieldError("timeout", "%q is not a duration between 0 and %s, e.g. 5s", v, maxWait))
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	n, err := s.WaitRequests(ctx, f, want)
	switch {
	case err == nil:
		writeControlJSON(w, http.StatusOK, map[string]int{"count": n})
	case r.Context().Err() == nil:
		writeControlJSON(w, http.StatusRequestTimeout, map[string]any{"count": n,
			"error": "timeout", "error_description": fmt.Sprintf("%d of %d requests after %s", n, want, timeout)})
	}
}

// postReset puts the server back in its configured state.
func (s *Server) postReset(w http.ResponseWriter, _ *http.Request) {
	if err := s.reset(); err != nil {
		controlError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	writeControlJSON(w, http.StatusOK, map[string]any{"clock": s.clockAnswer(), "faults": s.faults.list()})
}

// reset puts the server back in its configured state: the clock, the
// clients, the faults and the signing keys as configured, every issued
// token dead, no issuer noted, no request captured.
func (s *Server) reset() error {
	if s.opts.StartClock != nil {
		if err := s.clock.Set(*s.opts.StartClock); err != nil {
			return fmt.Errorf("mockserver: reset: clock: %w", err)
		}
	} else {
		s.clock.Reset()
	}
	s.clients.replace(s.opts.Clients)
	s.faults.clear()
	if _, err := s.faults.add(s.opts.Faults...); err != nil {
		return fmt.Errorf("mockserver: reset: faults: %w", err)
	}
	s.RevokeAllTokens()
	s.issuers.reset()
	for _, fr := range s.flows {
		if fr.keys != nil {
			fr.keys.Reset(fr.firstKey)
		}
		if fr.graphql != nil {
			fr.graphql.data.reset()
		}
	}
	s.capture.reset()
	return nil
}
