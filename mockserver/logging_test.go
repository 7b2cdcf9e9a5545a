package mockserver_test

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/mockserver"
	"github.com/tollgate/tollgate/mockserver/mockservertest"
)

// TestRequestLogLine pins the whole request line, in both formats of
// `tollgate serve`: the fields, their order and the redacted credential are
// those slog's Logger.LogAttrs wrote before the log path was trimmed. The
// same token twice checks the reused description too.
func TestRequestLogLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler func(*syncBuffer) slog.Handler
		line    func(status, auth string) string // a regexp
		auth    func(fingerprint string) string  // the auth field, in the line's format
		reason  func(reason string) string       // the reason field, in the line's format
	}{
		{
			name:    "text",
			handler: func(b *syncBuffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			line: func(status, auth string) string {
				return `^time=\S+ level=INFO msg=request method=GET path=/api/collections status=` + status +
					` duration=[0-9.]+[µnm]?s remote=127\.0\.0\.1:\d+` + auth + `$`
			},
			auth:   func(fp string) string { return ` auth="` + fp + `"` },
			reason: func(r string) string { return ` reason=` + r },
		},
		{
			name:    "json",
			handler: func(b *syncBuffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
			line: func(status, auth string) string {
				return `^\{"time":"[^"]+","level":"INFO","msg":"request","method":"GET","path":"/api/collections","status":` + status +
					`,"duration":\d+,"remote":"127\.0\.0\.1:\d+"` + auth + `\}$`
			},
			auth:   func(fp string) string { return `,"auth":"` + fp + `"` },
			reason: func(r string) string { return `,"reason":"` + r + `"` },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs syncBuffer
			srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{Logger: slog.New(tt.handler(&logs))}))
			tok := token(t, srv, "simple", mockserver.SeedClientID, mockserver.SeedClientSecret)
			fingerprint := func(tok string) string {
				sum := sha256.Sum256([]byte(tok))
				return regexp.QuoteMeta("Bearer sha256:" + hex.EncodeToString(sum[:4]) + " (" + strconv.Itoa(len(tok)) + " chars)")
			}
			const unknown = "not-a-token-of-this-server"
			auth := tt.auth(fingerprint(tok))
			want := []*regexp.Regexp{
				regexp.MustCompile(tt.line("200", auth)),
				regexp.MustCompile(tt.line("200", auth)),
				regexp.MustCompile(tt.line("401", tt.reason("missing"))),
				regexp.MustCompile(tt.line("401", tt.auth(fingerprint(unknown))+tt.reason("unknown"))),
			}
			for _, bearer := range []string{tok, tok, "", unknown} {
				req := newRequest(t, http.MethodGet, srv.URL+"/api/collections", "", "")
				if bearer != "" {
					req.Header.Set("Authorization", "Bearer "+bearer)
				}
				send(t, srv, req)
			}
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")[1:] // after the token request's line
			if len(lines) != len(want) {
				t.Fatalf("%d request lines, want %d:\n%s", len(lines), len(want), logs.String())
			}
			for i, re := range want {
				if !re.MatchString(lines[i]) {
					t.Errorf("line %d\n%s\ndoes not match\n%s", i+1, lines[i], re)
				}
			}
		})
	}
}

// TestLogRedactsTokenInPath: a token put in a URL path appears in neither
// the request log nor the captured requests, only its fingerprint.
func TestLogRedactsTokenInPath(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	srv := mockservertest.NewServer(t, mockservertest.WithOptions(mockserver.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}))
	tok := token(t, srv, "simple", mockserver.SeedClientID, mockserver.SeedClientSecret)
	req := newRequest(t, http.MethodGet, srv.URL+"/api/collections/"+tok, "", "")
	req.Header.Set("Authorization", "Bearer "+tok)
	if ex := send(t, srv, req); ex.status != http.StatusOK {
		t.Fatalf("status %d, want 200 (the path parameter is any id)", ex.status)
	}
	sum := sha256.Sum256([]byte(tok))
	want := "path=\"/api/collections/{token sha256:" + hex.EncodeToString(sum[:4]) + " (" + strconv.Itoa(len(tok)) + " chars)}\""
	if strings.Contains(logs.String(), tok) || !strings.Contains(logs.String(), want) {
		t.Errorf("log:\n%s\nwant %s and never the token", logs.String(), want)
	}
	for _, rec := range srv.Mock.Requests(mockserver.RequestFilter{}) {
		if strings.Contains(rec.Path, tok) {
			t.Errorf("captured request path %q holds the token", rec.Path)
		}
	}
}
