package mockserver

import (
	"expvar"
	"net/http"
	"net/http/pprof"
	"strings"
)

// DebugPrefix is where Options.Debug serves the Go runtime's profiles
// (net/http/pprof) and variables (expvar).
const DebugPrefix = "/debug/"

// debugHandler serves /debug/pprof/... and /debug/vars to whoever may use
// the control API (loopback, or the control token): profiles show the
// server's internals and a CPU profile costs it while it runs.
func (s *Server) debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+DebugPrefix+"pprof/", pprof.Index)
	mux.HandleFunc("GET "+DebugPrefix+"pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET "+DebugPrefix+"pprof/profile", pprof.Profile)
	mux.HandleFunc("GET "+DebugPrefix+"pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET "+DebugPrefix+"pprof/trace", pprof.Trace)
	mux.Handle("GET "+DebugPrefix+"vars", expvar.Handler())
	// What the GET routes leave: pprof's symbol lookup by POST (go tool
	// pprof posts addresses), else the mock's JSON 405 or 404 rather than
	// the mux's plain text.
	notGet := methodNotAllowed([]string{http.MethodGet})
	notFound := staticJSON(http.StatusNotFound, []byte(`{"error":"not_found","error_description":"the debug endpoints are /debug/pprof/ and /debug/vars"}`))
	mux.HandleFunc(DebugPrefix, func(w http.ResponseWriter, r *http.Request) {
		switch path := r.URL.Path; {
		case path == DebugPrefix+"pprof/symbol" && r.Method == http.MethodPost:
			pprof.Symbol(w, r)
		case path == DebugPrefix+"vars" || strings.HasPrefix(path, DebugPrefix+"pprof/"):
			notGet.ServeHTTP(w, r)
		default:
			notFound.ServeHTTP(w, r)
		}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Cache-Control"] = noStore
		if s.refuseRemote(w, r, "the debug endpoints", "") {
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// underDebug reports whether a flow path would shadow the debug endpoints.
func underDebug(path string) bool {
	return path == strings.TrimSuffix(DebugPrefix, "/") || strings.HasPrefix(path, DebugPrefix)
}
