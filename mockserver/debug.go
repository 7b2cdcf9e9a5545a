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
