package mockserver

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate/tollgate/spec/authheader"
)

// logRequests logs one line per request, with reason=WHY when a protected
// operation refused the token (expired, revoked, unknown, ...; see
// [Refusal]). The Authorization header is
// reduced to its scheme and a fingerprint of the token, or the Basic client
// id; secrets and whole tokens never reach the log. The query string is
// left out, since clients sometimes put tokens there, and path segments
// shaped like tokens are fingerprinted (redactPath).
//
// It is on every request's path, so it does the work of logger.LogAttrs
// without what the line does not need: the record is handed to the
// handler with no caller PC (slog would walk the stack for one even
// without AddSource), its time is the one the duration was taken with, the
// status recorders are pooled, and the description of a recent
// Authorization value is reused. The line is the one LogAttrs would write.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	h := logger.Handler()
	redact := &redactor{seed: maphash.MakeSeed()}
	recorders := sync.Pool{New: func() any { return new(statusRecorder) }}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if !h.Enabled(ctx, slog.LevelInfo) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec, _ := recorders.Get().(*statusRecorder)
		rec.ResponseWriter, rec.status, rec.reason = w, http.StatusOK, ""
		next.ServeHTTP(rec, r)
		status, reason := rec.status, rec.reason
		rec.ResponseWriter = nil // the pool keeps no writer alive
		recorders.Put(rec)
		end := time.Now()
		record := slog.NewRecord(end, slog.LevelInfo, "request", 0)
		record.AddAttrs(
			slog.String("method", r.Method),
			slog.String("path", redactPath(r.URL.Path)),
			slog.Int("status", status),
			slog.Duration("duration", end.Sub(start)),
			slog.String("remote", r.RemoteAddr),
		)
		if auth := r.Header.Get("Authorization"); auth != "" {
			record.AddAttrs(slog.String("auth", redact.describe(auth)))
		}
		if reason != "" {
			record.AddAttrs(slog.String("reason", reason))
		}
		_ = h.Handle(ctx, record) // as LogAttrs: a handler's error goes nowhere
	})
}

// redactorSlots and maxRedactorKey bound the redactor: 256 recent
// Authorization values of at most 2 KiB each.
const (
	redactorSlots  = 256
	maxRedactorKey = 2 << 10
)

// redactor remembers the descriptions of recent Authorization values, so
// that a client sending the same token again costs a hash and a compare,
// not a SHA-256 of the token and a new string. It is a direct-mapped cache
// of fixed size: a value evicts whatever shared its slot. Safe for
// concurrent use.
type redactor struct {
	seed  maphash.Seed
	slots [redactorSlots]atomic.Pointer[redaction]
}

type redaction struct{ value, text string }

// describe returns redactAuthorization(v).
func (c *redactor) describe(v string) string {
	if len(v) > maxRedactorKey {
		return redactAuthorization(v)
	}
	slot := &c.slots[maphash.String(c.seed, v)%redactorSlots]
	if e := slot.Load(); e != nil && e.value == v {
		return e.text
	}
	text := redactAuthorization(v)
	slot.Store(&redaction{value: strings.Clone(v), text: text})
	return text
}

// redactAuthorization describes an Authorization header without its secret:
// "Bearer sha256:1a2b3c4d (36 chars)" (a fingerprint to tell tokens apart in
// the log, not a prefix of the token), "Basic client=testClient" (a client
// id shaped like a token fingerprinted as redactPath does), or
// "unparsed (N bytes)". Nothing of the credential itself is logged.
func redactAuthorization(v string) string {
	if token, res := authheader.ParseBearer(v); res == authheader.BearerOK {
		sum := sha256.Sum256([]byte(token))
		return "Bearer sha256:" + hex.EncodeToString(sum[:4]) + " (" + strconv.Itoa(len(token)) + " chars)"
	}
	if id, _, ok, err := authheader.ParseBasic(v); ok && err == nil {
		if looksLikeToken(id) { // a token pasted as the client id, fingerprinted as in a path
			return "Basic client={token " + fingerprint(id) + "}"
		}
		return "Basic client=" + id
	}
	return "unparsed (" + strconv.Itoa(len(v)) + " bytes)"
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	reason string // why the request was refused (noteRefusal), for the log line
}

func (r *statusRecorder) noteRefusal(reason string) { r.reason = reason }

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Defaults of NewLogBuffer.
const (
	DefaultLogBufferSize    = 64 << 10
	DefaultLogFlushInterval = 100 * time.Millisecond
)

// LogBuffer is an io.Writer for request logs that writes to its destination
// in batches instead of once per line: a line costs a copy into a buffer of
// fixed size, and the buffer goes out when the next line would not fit,
// every flush interval, and on Flush and Close. Each Write is kept whole
// within one write to the destination, so lines from other writers to the
// same destination never cut into one.
//
// Memory is bounded by the buffer size. When the destination cannot keep
// up, the Write that finds the buffer full writes it out itself and the
// others wait for it: logging slows the requests down and loses nothing.
//
// After Close, writes go straight to the destination. A LogBuffer is safe
// for concurrent use; slog handlers call Write once per record.
type LogBuffer struct {
	mu     sync.Mutex
	dst    io.Writer
	buf    []byte
	closed bool
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

// NewLogBuffer returns a LogBuffer writing to dst. size <= 0 means
// DefaultLogBufferSize and flushEvery <= 0 DefaultLogFlushInterval. Call
// Close to stop its flushing goroutine and write out what is buffered.
func NewLogBuffer(dst io.Writer, size int, flushEvery time.Duration) *LogBuffer {
	if size <= 0 {
		size = DefaultLogBufferSize
	}
	if flushEvery <= 0 {
		flushEvery = DefaultLogFlushInterval
	}
	b := &LogBuffer{dst: dst, buf: make([]byte, 0, size), stop: make(chan struct{}), done: make(chan struct{})}
	go b.flushEvery(flushEvery)
	return b
}

func (b *LogBuffer) flushEvery(d time.Duration) {
	defer close(b.done)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			_ = b.Flush() // a failed write shows up on the next one, which slog reports nowhere either
		case <-b.stop:
			return
		}
	}
}

// Write buffers p, writing the buffer out first when p does not fit. A p
// larger than the whole buffer, or any p after Close, goes out directly.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(p) > cap(b.buf)-len(b.buf) || b.closed {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) > cap(b.buf) || b.closed {
			return b.dst.Write(p)
		}
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// Flush writes out what is buffered.
func (b *LogBuffer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushLocked()
}

func (b *LogBuffer) flushLocked() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.dst.Write(b.buf)
	b.buf = b.buf[:0]
	if err != nil {
		return fmt.Errorf("mockserver: request log: %w", err)
	}
	return nil
}

// Close stops the periodic flushing and writes out what is buffered; later
// writes go straight to the destination. It is safe to call more than once.
func (b *LogBuffer) Close() error {
	b.once.Do(func() { close(b.stop) })
	<-b.done
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return b.flushLocked()
}
