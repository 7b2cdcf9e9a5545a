package mockserver

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
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
// "Bearer sha256:1a2b3c4d (36 chars)" (a fingerprint to tell tokens apart in
// the log, not a prefix of the token), "Basic client=testClient", or
// "unparsed (N bytes)". Nothing of the credential itself is logged.
func redactAuthorization(v string) string {
	if token, res := authheader.ParseBearer(v); res == authheader.BearerOK {
		sum := sha256.Sum256([]byte(token))
		return "Bearer sha256:" + hex.EncodeToString(sum[:4]) + " (" + strconv.Itoa(len(token)) + " chars)"
	}
	if id, _, ok, err := authheader.ParseBasic(v); ok && err == nil {
		return "Basic client=" + id
	}
	return "unparsed (" + strconv.Itoa(len(v)) + " bytes)"
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
