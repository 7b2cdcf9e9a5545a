package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// NewTransport returns an http.Transport tuned so that the sender is not the
// bottleneck: connections are kept alive and reused (as many idle ones per
// host as there can be workers), no proxy is consulted, responses are not
// decompressed, and a server that does not answer within timeout fails the
// request.
func NewTransport(maxConns int, timeout time.Duration) *http.Transport {
	return &http.Transport{
		DialContext:           (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          0, // no overall limit
		MaxIdleConnsPerHost:   maxConns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     true,
	}
}

// worker is one sender's state: its metrics shard and, for the wire
// sender, its connection, its response buffer and its last verdict.
type worker struct {
	sh   *shard
	conn *wireConn
	resp wireResponse

	// A server answers the same bad token with the same challenge every
	// time: the last one judged is kept, so that judging a 401 parses its
	// challenge once, not once per request.
	lastKind       Kind
	lastChallenges []byte
	lastOutcome    Outcome
	judged         bool
	lastGraphQL    graphqlVerdict
}

// classify is Classify for the wire sender's newline-ended challenge list,
// remembering the last 401 judged.
func (w *worker) classify(k Kind, status int, challenges []byte) Outcome {
	if status != http.StatusUnauthorized {
		return Classify(k, status, nil)
	}
	if w.judged && k == w.lastKind && bytes.Equal(challenges, w.lastChallenges) {
		return w.lastOutcome
	}
	var values []string
	for _, v := range bytes.Split(bytes.TrimSuffix(challenges, []byte("\n")), []byte("\n")) {
		if len(v) > 0 {
			values = append(values, string(v))
		}
	}
	w.lastKind, w.lastChallenges, w.lastOutcome, w.judged = k, append(w.lastChallenges[:0], challenges...), Classify(k, status, values), true
	return w.lastOutcome
}

func (w *worker) close() {
	if w.conn != nil {
		w.conn.close()
		w.conn = nil
	}
}

// hit sends one request and records it in the worker's shard.
func (a *Attacker) hit(ctx context.Context, w *worker, t *Target, intended time.Duration) {
	if !a.opts.NetHTTP {
		a.hitWire(ctx, w, t, intended)
		return
	}
	sh := w.sh
	req := t.Req.WithContext(ctx)
	if t.Body != nil {
		req.Body = io.NopCloser(bytes.NewReader(t.Body))
	}
	r := result{kind: t.Kind, intended: intended, sent: a.since()}
	resp, err := a.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return // the run was stopped: not the server's doing
		}
		r.outcome = transportOutcome(err)
	} else {
		r.status = resp.StatusCode
		if t.graphql != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, maxKeptBody))
			r.outcome = ClassifyGraphQL(t.Kind, resp.StatusCode, resp.Header["Www-Authenticate"], body, *t.graphql)
		} else {
			r.outcome = Classify(t.Kind, resp.StatusCode, resp.Header["Www-Authenticate"])
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if r.outcome == OutcomeRateLimited {
			a.honourRetryAfter(resp.Header.Get("Retry-After"))
		}
	}
	r.done = a.since()
	sh.mu.Lock()
	sh.m.record(&r)
	sh.mu.Unlock()
}

// hitWire sends one request with the wire sender on the worker's
// connection, dialling it when needed and retrying once on a fresh one when
// the server had closed the idle connection.
func (a *Attacker) hitWire(ctx context.Context, w *worker, t *Target, intended time.Duration) {
	r := result{kind: t.Kind, intended: intended, sent: a.since()}
	resp := &w.resp
	resp.keepBody = t.graphql != nil
	err := a.sendWire(ctx, w, t, resp)
	if err != nil {
		if ctx.Err() != nil {
			return // the run was stopped: not the server's doing
		}
		r.outcome = transportOutcome(err)
	} else {
		r.status = resp.status
		if t.graphql != nil {
			r.outcome = w.classifyGraphQL(t.Kind, resp.status, resp.challenges, resp.body, t.graphql)
		} else {
			r.outcome = w.classify(t.Kind, resp.status, resp.challenges)
		}
		if r.outcome == OutcomeRateLimited {
			a.honourRetryAfter(resp.retryAfter)
		}
	}
	r.done = a.since()
	w.sh.mu.Lock()
	w.sh.m.record(&r)
	w.sh.mu.Unlock()
}

func (a *Attacker) sendWire(ctx context.Context, w *worker, t *Target, resp *wireResponse) error {
	raw, err := t.wireBytes()
	if err != nil {
		return err
	}
	d, err := a.wireDialer(t)
	if err != nil {
		return err
	}
	head := t.Req.Method == http.MethodHead
	for attempt := 0; ; attempt++ {
		if w.conn == nil {
			if w.conn, err = d.dial(ctx); err != nil {
				return err
			}
		}
		reused := w.conn.used
		keepAlive, gotStatus, err := w.conn.roundTrip(raw, head, time.Now().Add(a.opts.Timeout), resp)
		if err == nil {
			w.conn.used = true
			if !keepAlive {
				w.close()
			}
			return nil
		}
		w.close()
		if attempt > 0 || !retryable(err, reused, gotStatus) {
			return err
		}
	}
}

// wireDialer returns the dialer for the run's target; every Target of a run
// must go to the same scheme and host.
func (a *Attacker) wireDialer(t *Target) (*wireDialer, error) {
	d := a.dialer.Load()
	if d == nil {
		a.dialMu.Lock()
		if d = a.dialer.Load(); d == nil {
			d = newWireDialer(t.Req.URL.Scheme, t.Req.URL.Host, a.opts.TLSConfig, a.opts.Timeout)
			if d == nil {
				a.dialMu.Unlock()
				return nil, fmt.Errorf("load: the wire sender speaks http and https, not %q (use Options.NetHTTP)", t.Req.URL.Scheme)
			}
			a.dialer.Store(d)
		}
		a.dialMu.Unlock()
	}
	if t.Req.URL.Scheme != d.scheme || t.Req.URL.Host != d.host {
		return nil, fmt.Errorf("load: the wire sender sends to one target per run: %s://%s, not %s://%s", d.scheme, d.host, t.Req.URL.Scheme, t.Req.URL.Host)
	}
	return d, nil
}

// honourRetryAfter stops sending until the Retry-After (seconds or an
// HTTP date) has passed; without one, for a second.
func (a *Attacker) honourRetryAfter(v string) {
	wait := time.Second
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		wait = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		wait = time.Until(t)
	}
	until := int64(a.since() + wait)
	for {
		cur := a.hold.Load()
		if cur >= until || a.hold.CompareAndSwap(cur, until) {
			return
		}
	}
}

// transportOutcome classifies a request that got no answer: a timeout, or
// a connection that failed.
func transportOutcome(err error) Outcome {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return OutcomeTimeout
	}
	return OutcomeConnection
}
