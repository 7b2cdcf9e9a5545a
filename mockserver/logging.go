package mockserver

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate/tollgate/spec/authheader"
)

// logRequests logs one line per request. The Authorization header is
// reduced to its scheme and a short prefix of the token, or the Basic client
// id; secrets and whole tokens never reach the log. The query string is
// left out, since clients sometimes put tokens there.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Duration("duration", time.Since(start)),
			slog.String("remote", r.RemoteAddr),
		}
		if auth := r.Header.Get("Authorization"); auth != "" {
			attrs = append(attrs, slog.String("auth", redactAuthorization(auth)))
		}
		logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	})
}

// redactAuthorization describes an Authorization header without its secret:
// "Bearer 4172bb…(36 chars)", "Basic client=testClient", or the scheme alone.
func redactAuthorization(v string) string {
	if token, res := authheader.ParseBearer(v); res == authheader.BearerOK {
		prefix := token
		if len(prefix) > 6 {
			prefix = prefix[:6]
		}
		return "Bearer " + prefix + "…(" + strconv.Itoa(len(token)) + " chars)"
	}
	if id, _, ok, err := authheader.ParseBasic(v); ok && err == nil {
		return "Basic client=" + id
	}
	scheme, _, _ := strings.Cut(strings.TrimSpace(v), " ")
	if len(scheme) > 20 {
		scheme = scheme[:20]
	}
	return scheme + " (redacted)"
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
