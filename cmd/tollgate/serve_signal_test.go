//go:build unix

package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeSignalStop sends a real signal to a `tollgate serve` process
// while a token request is in flight (its body only half sent): a request
// that finishes within --shutdown-timeout is answered, one that outlasts it
// has its connection closed, and the process exits 0 either way.
func TestServeSignalStop(t *testing.T) {
	t.Parallel()
	bin := tollgateBin(t)
	tests := []struct {
		name    string
		sig     syscall.Signal
		timeout string // --shutdown-timeout
		finish  bool   // the client sends the rest of its body after the signal
	}{
		{name: "SIGTERM, the request finishes in the window: answered", sig: syscall.SIGTERM, timeout: "10s", finish: true},
		{name: "SIGINT, the request finishes in the window: answered", sig: syscall.SIGINT, timeout: "10s", finish: true},
		{name: "SIGTERM, the request outlasts the window: connection closed", sig: syscall.SIGTERM, timeout: "300ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var stderr lockedBuffer
			cmd := exec.CommandContext(ctx, bin, "serve", "--addr", "127.0.0.1:0", "--quiet", "--shutdown-timeout", tt.timeout)
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			first, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil || !listeningLine.MatchString(strings.TrimSpace(first)) {
				t.Fatalf("first line %q, %v; stderr: %s", first, err, stderr.String())
			}
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			addr := strings.TrimPrefix(strings.TrimSpace(first), "listening on http://")

			conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = conn.Close() }()
			body := seedSimpleBody
			head := "POST /token HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\nContent-Length: " +
				strconv.Itoa(len(body)) + "\r\n\r\n"
			if _, err := io.WriteString(conn, head+body[:10]); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond) // the server reads the head and waits for the rest

			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			waitFor(t, &stderr, startTimeout, "shutdown notice", func(s string) bool { return strings.Contains(s, "shutting down") })
			if tt.finish {
				if _, err := io.WriteString(conn, body[10:]); err != nil {
					t.Fatal(err)
				}
			}
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			switch {
			case tt.finish && err != nil:
				t.Errorf("the request in flight got no answer: %v", err)
			case tt.finish:
				b, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"accessToken"`) {
					t.Errorf("the request in flight got %d %s, want 200 and a token", resp.StatusCode, b)
				}
			case err == nil:
				t.Errorf("a request that outlasted the window got an answer, status %d; want its connection closed", resp.StatusCode)
			case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET):
			default:
				t.Errorf("reading after the window: %v, want the connection closed", err)
			}

			if err := cmd.Wait(); err != nil {
				t.Errorf("tollgate serve after %v: %v, want exit status 0; stderr: %s", tt.sig, err, stderr.String())
			}
			cutOff := strings.Contains(stderr.String(), "closing their connections")
			if cutOff == tt.finish {
				t.Errorf("stderr %q: a notice of closed connections is expected exactly when a request outlasts the window", stderr.String())
			}
		})
	}
}
