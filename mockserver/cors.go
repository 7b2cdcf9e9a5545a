package mockserver

import (
	"net/http"
	"strings"
)

// cors lets browser frontends on other origins call the mock: simple and
// preflighted requests from an allowed origin get the CORS headers, and the
// challenge header is exposed so a frontend can read why it got a 401.
// origins holds exact origins or "*" for any; with none, next is returned
// unchanged. A request without an Origin header costs one header lookup.
//
// An allowed origin is always echoed, never the literal "*". With
// credentials, every answer to an allowed origin also carries
// Access-Control-Allow-Credentials: true, so a page may call with
// credentials mode ("include", axios withCredentials): the Fetch standard's
// CORS check refuses such a response when Allow-Credentials is missing.
// Options.normalize allows credentials only with origins listed one by one.
// The mock sets no cookies; a browser's credentials only reach it, they
// decide nothing.
func cors(origins []string, credentials bool, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	any := false
	allowed := map[string]bool{}
	for _, o := range origins {
		if o == "*" {
			any = true
		}
		allowed[strings.TrimRight(o, "/")] = true
	}
	expose := []string{"WWW-Authenticate, Date"}
	methods := []string{"GET, POST, PUT, PATCH, DELETE, HEAD"}
	vary := []string{"Origin"}
	allowCredentials := []string{"true"}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || (!any && !allowed[origin]) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h["Access-Control-Allow-Origin"] = []string{origin}
		h["Vary"] = vary
		if credentials {
			h["Access-Control-Allow-Credentials"] = allowCredentials
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h["Access-Control-Allow-Methods"] = methods
			headers := r.Header.Get("Access-Control-Request-Headers")
			if headers == "" {
				headers = "Authorization, Content-Type"
			}
			h.Set("Access-Control-Allow-Headers", headers)
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h["Access-Control-Expose-Headers"] = expose
		next.ServeHTTP(w, r)
	})
}
