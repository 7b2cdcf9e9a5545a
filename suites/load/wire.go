package load

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// The wire sender is a minimal HTTP/1.1 client for load runs, in the manner
// of wrk: each worker owns one keep-alive connection, writes each request
// from bytes prepared once per Target, and parses the response only as far
// as judging it and finding its end needs (status, Content-Length or
// chunked framing, Connection, WWW-Authenticate on a 401, Retry-After on a
// 429). It does no goroutine handoff, no timer and no allocation per
// request, where net/http's client does several: on a machine whose cores
// the server shares, that difference is the load generator's own cost
// showing up in the server's figures. Options.NetHTTP switches back to
// net/http (HTTP/2, proxies, anything unusual).

// errMalformed reports a response the wire sender cannot parse.
var errMalformed = errors.New("load: malformed HTTP/1.1 response")

// wireBytes returns the request as it goes on the wire, built once.
func (t *Target) wireBytes() ([]byte, error) {
	t.wireOnce.Do(func() {
		r := t.Req.Clone(context.Background())
		r.Header = t.Req.Header.Clone()
		if r.Header == nil {
			r.Header = http.Header{}
		}
		if r.Header.Get("User-Agent") == "" {
			r.Header.Set("User-Agent", "tollgate-load")
		}
		if t.Body != nil {
			r.Body = io.NopCloser(bytes.NewReader(t.Body))
			r.ContentLength = int64(len(t.Body))
		}
		var buf bytes.Buffer
		if err := r.Write(&buf); err != nil {
			t.wireErr = fmt.Errorf("load: request %s %s: %w", t.Req.Method, t.Req.URL, err)
			return
		}
		t.wire = buf.Bytes()
	})
	return t.wire, t.wireErr
}

// wireDialer opens connections to one target.
type wireDialer struct {
	scheme  string      // of the target URL
	host    string      // of the target URL, as written
	addr    string      // host:port
	tls     *tls.Config // nil for plain http
	timeout time.Duration

	mu    sync.Mutex
	conns map[*wireConn]struct{} // open connections, to unblock them when the run is stopped
}

// newWireDialer returns a dialer for the scheme and host of u, or nil when
// the wire sender cannot serve it.
func newWireDialer(scheme, host string, tlsConf *tls.Config, timeout time.Duration) *wireDialer {
	d := &wireDialer{scheme: scheme, host: host, timeout: timeout, conns: map[*wireConn]struct{}{}}
	port := map[string]string{"http": "80", "https": "443"}[scheme]
	if port == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(host); err == nil {
		d.addr = host
	} else {
		d.addr = net.JoinHostPort(host, port)
	}
	if scheme == "https" {
		d.tls = &tls.Config{MinVersion: tls.VersionTLS12}
		if tlsConf != nil {
			d.tls = tlsConf.Clone()
		}
		d.tls.NextProtos = []string{"http/1.1"}
		if d.tls.ServerName == "" {
			h, _, err := net.SplitHostPort(d.addr)
			if err == nil {
				d.tls.ServerName = h
			}
		}
	}
	return d
}

func (d *wireDialer) dial(ctx context.Context) (*wireConn, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	var nd net.Dialer
	c, err := nd.DialContext(ctx, "tcp", d.addr)
	if err != nil {
		return nil, err
	}
	if d.tls != nil {
		tc := tls.Client(c, d.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = c.Close()
			return nil, err
		}
		c = tc
	}
	wc := &wireConn{c: c, br: bufio.NewReaderSize(c, 16<<10), d: d}
	d.mu.Lock()
	d.conns[wc] = struct{}{}
	d.mu.Unlock()
	return wc, nil
}

// interrupt makes every open connection's pending read or write fail now.
func (d *wireDialer) interrupt() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for wc := range d.conns {
		_ = wc.c.SetDeadline(time.Unix(1, 0))
	}
}

// wireConn is one worker's connection.
type wireConn struct {
	c    net.Conn
	br   *bufio.Reader
	d    *wireDialer
	long []byte // a header line longer than the read buffer
	used bool   // a response was read on it: a failure may be the server closing an idle connection
}

func (wc *wireConn) close() {
	wc.d.mu.Lock()
	delete(wc.d.conns, wc)
	wc.d.mu.Unlock()
	_ = wc.c.Close()
}

// wireResponse is what the wire sender keeps of a response.
type wireResponse struct {
	status     int
	challenges []byte // WWW-Authenticate values, only on a 401, each ended by a newline; reused
	retryAfter string // only on a 429
	// keepBody asks for the body (a GraphQL answer is judged by it); body
	// holds its first maxKeptBody bytes, reused.
	keepBody bool
	body     []byte
}

// maxKeptBody bounds the part of a body the wire sender keeps to judge.
const maxKeptBody = 1 << 20

// roundTrip sends raw and reads the response. gotStatus tells whether any
// of the response arrived; keepAlive whether the connection can be reused.
func (wc *wireConn) roundTrip(raw []byte, head bool, deadline time.Time, resp *wireResponse) (keepAlive, gotStatus bool, err error) {
	if err := wc.c.SetDeadline(deadline); err != nil {
		return false, false, err
	}
	if _, err := wc.c.Write(raw); err != nil {
		return false, false, err
	}
	return wc.readResponse(head, resp)
}

// readLine returns the next line without its CR LF; it is valid until the
// next read.
func (wc *wireConn) readLine() ([]byte, error) {
	line, err := wc.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		wc.long = append(wc.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(wc.long) > 1<<20 {
				return nil, errMalformed
			}
			line, err = wc.br.ReadSlice('\n')
			wc.long = append(wc.long, line...)
		}
		line = wc.long
	}
	if err != nil {
		return nil, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

func (wc *wireConn) readResponse(head bool, resp *wireResponse) (keepAlive, gotStatus bool, err error) {
	for {
		line, err := wc.readLine()
		if err != nil {
			return false, gotStatus, err
		}
		gotStatus = true
		if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
			return false, true, errMalformed
		}
		code64, ok := parseDecimal(line[9:12])
		code := int(code64)
		if !ok || code < 100 {
			return false, true, errMalformed
		}
		keepAlive = line[7] != '0' // HTTP/1.1 keeps the connection by default, 1.0 does not
		contentLength, chunked := int64(-1), false
		resp.status, resp.challenges, resp.retryAfter, resp.body = code, resp.challenges[:0], "", resp.body[:0]
		for {
			h, err := wc.readLine()
			if err != nil {
				return false, true, err
			}
			if len(h) == 0 {
				break
			}
			name, value, ok := bytes.Cut(h, []byte(":"))
			if !ok {
				return false, true, errMalformed
			}
			value = bytes.TrimSpace(value)
			switch {
			case equalFold(name, "content-length"):
				n, ok := parseDecimal(value)
				if !ok {
					return false, true, errMalformed
				}
				contentLength = n
			case equalFold(name, "transfer-encoding"):
				chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
			case equalFold(name, "connection"):
				switch {
				case bytes.EqualFold(value, []byte("close")):
					keepAlive = false
				case bytes.EqualFold(value, []byte("keep-alive")):
					keepAlive = true
				}
			case code == http.StatusUnauthorized && equalFold(name, "www-authenticate"):
				resp.challenges = append(append(resp.challenges, value...), '\n')
			case code == http.StatusTooManyRequests && equalFold(name, "retry-after"):
				resp.retryAfter = string(value)
			}
		}
		if code < 200 && code != http.StatusSwitchingProtocols {
			continue // an interim response; the final one follows
		}
		switch {
		case head || code == http.StatusNoContent || code == http.StatusNotModified:
		case chunked:
			if err := wc.readChunked(resp); err != nil {
				return false, true, err
			}
		case contentLength >= 0:
			if err := wc.readBody(resp, contentLength); err != nil {
				return false, true, err
			}
		default: // the body ends when the server closes the connection
			if err := wc.readBody(resp, -1); err != nil {
				return false, true, err
			}
			keepAlive = false
		}
		return keepAlive, true, nil
	}
}

// readBody reads n bytes of body (n < 0: up to the end of the
// connection), keeping the first maxKeptBody of them when resp asks for
// the body, discarding them otherwise.
func (wc *wireConn) readBody(resp *wireResponse, n int64) error {
	if !resp.keepBody {
		if n < 0 {
			_, err := io.Copy(io.Discard, wc.br)
			return err
		}
		_, err := wc.br.Discard(int(n))
		return err
	}
	var r io.Reader = wc.br
	if n >= 0 {
		r = io.LimitReader(wc.br, n)
	}
	var got int64
	if room := int64(maxKeptBody - len(resp.body)); room > 0 {
		buf := bytes.NewBuffer(resp.body)
		kept, err := io.CopyN(buf, r, room)
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		resp.body, got = buf.Bytes(), kept
	}
	rest, err := io.Copy(io.Discard, r)
	if err != nil {
		return err
	}
	if n >= 0 && got+rest < n {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// readChunked skips a chunked body and its trailers, keeping the body as
// readBody does.
func (wc *wireConn) readChunked(resp *wireResponse) error {
	for {
		line, err := wc.readLine()
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(line, []byte(";"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 64)
		if err != nil || n < 0 {
			return errMalformed
		}
		if n == 0 {
			for {
				trailer, err := wc.readLine()
				if err != nil {
					return err
				}
				if len(trailer) == 0 {
					return nil
				}
			}
		}
		if err := wc.readBody(resp, n); err != nil {
			return err
		}
		if crlf, err := wc.readLine(); err != nil || len(crlf) != 0 {
			return errMalformed
		}
	}
}

// parseDecimal reads a non-negative decimal number of up to 18 digits
// without allocating.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// equalFold compares a header name with a lower-case name, without
// allocating.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// retryable reports whether a failure on a reused connection is the server
// having closed it while idle, so the request can go again on a new one
// (net/http does the same for requests that can be repeated).
func retryable(err error, reused, gotStatus bool) bool {
	return reused && !gotStatus && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE))
}
