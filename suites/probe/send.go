package probe

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate/tollgate/spec"
)

// Exchange is one request and the response to it, the body read.
type Exchange struct {
	Method      string
	URL         string
	RequestHead http.Header
	RequestBody []byte
	Status      int
	Header      http.Header
	Body        []byte
	Sent        time.Time
	Elapsed     time.Duration
	Err         error // transport error (no response)
}

// Do sends one request, paced by the request rate, retrying a 429 after its
// Retry-After (up to two times, 30 s at most each). It records the exchange
// as the last one for evidence.
func (p *Prober) Do(ctx context.Context, method, rawURL string, header http.Header, body []byte) (*Exchange, error) {
	for attempt := 0; ; attempt++ {
		if err := p.pace(ctx); err != nil {
			return nil, err
		}
		ex := p.send(ctx, method, rawURL, header, body)
		p.mu.Lock()
		p.last = ex
		if p.isTokenEndpoint(rawURL) && len(p.tokenLog) < maxTokenLog {
			p.tokenLog = append(p.tokenLog, ex)
		}
		p.mu.Unlock()
		if ex.Err != nil {
			return ex, fmt.Errorf("%s %s: %w", method, rawURL, ex.Err)
		}
		if ex.Status != http.StatusTooManyRequests {
			return ex, nil
		}
		wait := retryAfter(ex.Header.Get("Retry-After"))
		if attempt >= 2 || wait > 30*time.Second {
			return ex, fmt.Errorf("%w: the target answered 429 Too Many Requests (Retry-After %q); lower --request-rate or raise its limit", ErrInconclusive, ex.Header.Get("Retry-After"))
		}
		select {
		case <-ctx.Done():
			return ex, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// maxTokenLog bounds the token-endpoint exchanges a run keeps: far more
// than the checks send, so that a runaway loop cannot exhaust memory.
const maxTokenLog = 2000

// isTokenEndpoint reports whether rawURL, its query aside, is the flow's
// token endpoint on the target.
func (p *Prober) isTokenEndpoint(rawURL string) bool {
	base, _, _ := strings.Cut(rawURL, "?")
	return base == p.Config.Target+p.Flow.Token.Path
}

// TokenExchanges returns every exchange with the token endpoint so far, in
// the order sent, whichever check sent it: for the checks that judge every
// answer of the run (TOK-031, TOK-038).
func (p *Prober) TokenExchanges() []*Exchange {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*Exchange(nil), p.tokenLog...)
}

func (p *Prober) send(ctx context.Context, method, rawURL string, header http.Header, body []byte) *Exchange {
	ex := &Exchange{Method: method, URL: rawURL, RequestHead: header.Clone(), RequestBody: body, Sent: time.Now()}
	if ex.RequestHead == nil {
		ex.RequestHead = http.Header{}
	}
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, r)
	if err != nil {
		ex.Err = err
		return ex
	}
	for k, vs := range header {
		req.Header[k] = append([]string(nil), vs...)
	}
	resp, err := p.HTTP.Do(req)
	ex.Elapsed = time.Since(ex.Sent)
	if err != nil {
		ex.Err = err
		return ex
	}
	// The body is read (or capped) below; a failure to close it changes
	// nothing in the exchange.
	defer func() { _ = resp.Body.Close() }()
	ex.Status, ex.Header = resp.StatusCode, resp.Header
	ex.Body, ex.Err = io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return ex
}

// pace waits until the configured request rate allows the next request.
func (p *Prober) pace(ctx context.Context) error {
	if p.Config.RequestRate <= 0 {
		return nil
	}
	interval := time.Duration(float64(time.Second) / p.Config.RequestRate)
	p.mu.Lock()
	now := time.Now()
	at := p.nextSend
	if at.Before(now) {
		at = now
	}
	p.nextSend = at.Add(interval)
	p.mu.Unlock()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(at)):
		return nil
	}
}

func retryAfter(v string) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return time.Second
}

// joinQuery joins two raw query strings, either of them empty.
func joinQuery(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	default:
		return a + "&" + b
	}
}

// Call sends a request to a documented operation with the given
// Authorization header values (none: no header) and optional raw query: to
// its probe path (spec.Operation.ProbePath), with the query parameters,
// headers and body it requires.
func (p *Prober) Call(ctx context.Context, op spec.Operation, query string, authorization ...string) (*Exchange, error) {
	u := p.Config.Target + op.ProbePath()
	if q := joinQuery(op.Probe.Query, query); q != "" {
		u += "?" + q
	}
	header := http.Header{"Accept": {"application/json"}}
	for name, values := range op.Probe.Header {
		header[name] = append([]string(nil), values...)
	}
	for _, a := range authorization {
		header.Add("Authorization", a)
	}
	if op.Probe.ContentType != "" {
		header.Set("Content-Type", op.Probe.ContentType)
	}
	return p.Do(ctx, op.Method, u, header, op.Probe.Body)
}
