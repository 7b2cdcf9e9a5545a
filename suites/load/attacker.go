package load

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for the zero fields of Options.
const (
	DefaultDuration    = 10 * time.Second
	DefaultMaxRequests = 1_000_000
	DefaultTimeout     = 10 * time.Second
	DefaultWorkers     = 10
	DefaultMaxWorkers  = 4096
	DefaultConcurrency = 64
)

// Target is one prepared request. Req is a template the Attacker never
// modifies (net/http copies it shallowly per send; the wire sender turns it
// into bytes once), so a Targeter can hand out the same *Target to every
// worker; Body, when set, is sent as the request body. Do not copy a Target
// once it is in use.
type Target struct {
	Kind Kind
	Req  *http.Request
	Body []byte

	wireOnce sync.Once
	wire     []byte
	wireErr  error
}

// A Targeter chooses the Target of the n-th request (counting from 0). It
// must be safe for concurrent use.
type Targeter interface {
	Target(n uint64) *Target
}

// Options bound and shape a run. The zero value is a 10-second, at most
// 1,000,000-request run with the defaults below.
type Options struct {
	Duration    time.Duration // how long to send; default 10 s
	MaxRequests uint64        // most requests to send; default 1,000,000
	Timeout     time.Duration // per request, from send to response headers; default 10 s

	// Concurrency is the number of requests in flight in the closed model
	// (no Pacer); default 64.
	Concurrency int
	// Workers and MaxWorkers bound the senders of the open model: it starts
	// Workers (default 10) and adds more, up to MaxWorkers (default 4096),
	// whenever all are busy when a request is due.
	Workers, MaxWorkers int

	// Progress, when set, is called every ProgressEvery (default 1 s) with
	// the figures so far, from one goroutine.
	Progress      func(Progress)
	ProgressEvery time.Duration

	// NetHTTP sends with net/http's client (Client, or one with a Transport
	// tuned for load, see NewTransport) instead of the wire sender, a
	// minimal HTTP/1.1 client that costs the sending machine several times
	// less per request. Use it for targets that need HTTP/2 or a proxy.
	// Setting Client implies it.
	NetHTTP bool
	Client  *http.Client
	// TLSConfig is used for https targets; nil means the defaults.
	TLSConfig *tls.Config
}

func (o Options) withDefaults() Options {
	if o.Duration <= 0 {
		o.Duration = DefaultDuration
	}
	if o.MaxRequests == 0 {
		o.MaxRequests = DefaultMaxRequests
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.MaxWorkers <= 0 {
		o.MaxWorkers = DefaultMaxWorkers
	}
	o.Workers = min(o.Workers, o.MaxWorkers)
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = time.Second
	}
	return o
}

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

// Progress is a snapshot of a run in progress.
type Progress struct {
	Elapsed  time.Duration
	Requests uint64
	RPS      float64       // over the last interval
	P99      time.Duration // so far
	Errors   uint64
	Wrong    uint64
}

// Attacker sends the requests of one run. Create one with NewAttacker per
// run; it is not reusable.
type Attacker struct {
	opts     Options
	client   *http.Client
	dialer   *wireDialer // the wire sender's, built on first use for the targets' host
	dialHost string
	dialMu   sync.Mutex
	start    time.Time
	hold     atomic.Int64 // no request is sent before this offset from start (Retry-After)
	shards   []*shard
}

// shard is one lock-protected part of the metrics, so that workers rarely
// wait for each other.
type shard struct {
	mu sync.Mutex
	m  *Metrics
}

// result is one request's record; it lives on the worker's stack.
type result struct {
	kind                 Kind
	outcome              Outcome
	status               int
	intended, sent, done time.Duration // offsets from the start
}

// NewAttacker returns an Attacker for one run with opts.
func NewAttacker(opts Options) *Attacker {
	opts = opts.withDefaults()
	client := opts.Client
	if client == nil {
		tr := NewTransport(max(opts.MaxWorkers, opts.Concurrency), opts.Timeout)
		tr.TLSClientConfig = opts.TLSConfig
		client = &http.Client{
			Transport:     tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	} else {
		opts.NetHTTP = true
	}
	n := max(1, min(2*runtime.GOMAXPROCS(0), 64))
	a := &Attacker{opts: opts, client: client, shards: make([]*shard, n)}
	for i := range a.shards {
		a.shards[i] = &shard{m: NewMetrics()}
	}
	return a
}

// Attack runs until the duration passes, the request count is reached, the
// pacer stops or ctx is done, and returns the figures. With a nil pacer it
// runs the closed model at Options.Concurrency; with one, the open model.
func (a *Attacker) Attack(ctx context.Context, tr Targeter, p Pacer) *Metrics {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.start = time.Now()
	stopProgress := a.progress(ctx)
	stopInterrupt := context.AfterFunc(ctx, func() {
		a.dialMu.Lock()
		d := a.dialer
		a.dialMu.Unlock()
		if d != nil {
			d.interrupt()
		}
	})
	defer stopInterrupt()
	if p == nil {
		a.closed(ctx, tr)
	} else {
		a.open(ctx, tr, p)
	}
	stopProgress()
	m := a.snapshot()
	if p != nil && m.Elapsed > 0 {
		m.AskedRPS = expectedHits(p, min(m.Elapsed, a.opts.Duration)) / min(m.Elapsed, a.opts.Duration).Seconds()
	}
	return m
}

// since is the offset of now from the start.
func (a *Attacker) since() time.Duration { return time.Since(a.start) }

func (a *Attacker) closed(ctx context.Context, tr Targeter) {
	var next atomic.Uint64
	var wg sync.WaitGroup
	for w := range a.opts.Concurrency {
		wg.Go(func() {
			wk := &worker{sh: a.shards[w%len(a.shards)]}
			defer wk.close()
			for ctx.Err() == nil {
				n := next.Add(1) - 1
				if n >= a.opts.MaxRequests || a.since() >= a.opts.Duration {
					return
				}
				if !a.waitHold(ctx) {
					return
				}
				now := a.since()
				a.hit(ctx, wk, tr.Target(n), now)
			}
		})
	}
	wg.Wait()
}

// waitHold sleeps while a Retry-After is in force, within the run's time.
func (a *Attacker) waitHold(ctx context.Context) bool {
	hold := time.Duration(a.hold.Load())
	now := a.since()
	if hold <= now {
		return true
	}
	if hold >= a.opts.Duration {
		return false
	}
	t := time.NewTimer(hold - now)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// dueTimer is implemented by pacers that know when hit n is due, so that
// a request sent late still has its latency measured from its due time.
type dueTimer interface {
	Due(hits uint64) time.Duration
}

// Due implements dueTimer.
func (p ConstantPacer) Due(hits uint64) time.Duration {
	rps := p.PerSecond()
	if rps <= 0 {
		return 0
	}
	return time.Duration(float64(hits) / rps * float64(time.Second))
}

func (a *Attacker) open(ctx context.Context, tr Targeter, p Pacer) {
	ticks := make(chan time.Duration)
	var wg sync.WaitGroup
	var next atomic.Uint64
	workers := 0
	spawn := func() {
		wk := &worker{sh: a.shards[workers%len(a.shards)]}
		workers++
		wg.Go(func() {
			defer wk.close()
			for intended := range ticks {
				if hold := time.Duration(a.hold.Load()); intended < hold {
					wk.sh.mu.Lock()
					wk.sh.m.Skipped++
					wk.sh.mu.Unlock()
					continue
				}
				a.hit(ctx, wk, tr.Target(next.Add(1)-1), intended)
			}
		})
	}
	for range a.opts.Workers {
		spawn()
	}
	defer func() { close(ticks); wg.Wait() }()
	due, exact := p.(dueTimer)
	var last time.Duration
	for hits := uint64(0); hits < a.opts.MaxRequests; hits++ {
		elapsed := a.since()
		if elapsed >= a.opts.Duration {
			return
		}
		wait, stop := p.Pace(elapsed, hits)
		if stop || elapsed+wait >= a.opts.Duration {
			return
		}
		intended := elapsed + wait
		switch {
		case exact:
			intended = due.Due(hits)
		case wait == 0 && hits > 0:
			// Behind schedule: the hit was due one interval after the last.
			intended = min(elapsed, last+time.Duration(float64(time.Second)/p.Rate(elapsed)))
		}
		last = intended
		if wait > 0 && !sleep(ctx, wait) {
			return
		}
		select {
		case ticks <- intended:
			continue
		default:
		}
		if workers < a.opts.MaxWorkers {
			spawn()
		}
		select {
		case ticks <- intended:
		case <-ctx.Done():
			return
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// worker is one sender's state: its metrics shard and, for the wire
// sender, its connection.
type worker struct {
	sh   *shard
	conn *wireConn
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
		r.outcome = OutcomeConnection
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			r.outcome = OutcomeTimeout
		}
	} else {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		r.status = resp.StatusCode
		r.outcome = Classify(t.Kind, resp.StatusCode, resp.Header["Www-Authenticate"])
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
	var resp wireResponse
	err := a.sendWire(ctx, w, t, &resp)
	if err != nil {
		if ctx.Err() != nil {
			return // the run was stopped: not the server's doing
		}
		r.outcome = OutcomeConnection
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			r.outcome = OutcomeTimeout
		}
	} else {
		r.status = resp.status
		r.outcome = Classify(t.Kind, resp.status, resp.challenges)
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
	a.dialMu.Lock()
	defer a.dialMu.Unlock()
	if a.dialer == nil {
		a.dialer = newWireDialer(t.Req.URL.Scheme, t.Req.URL.Host, a.opts.TLSConfig, a.opts.Timeout)
		if a.dialer == nil {
			return nil, fmt.Errorf("load: the wire sender speaks http and https, not %q (use Options.NetHTTP)", t.Req.URL.Scheme)
		}
		a.dialHost = t.Req.URL.Scheme + "://" + t.Req.URL.Host
	}
	if host := t.Req.URL.Scheme + "://" + t.Req.URL.Host; host != a.dialHost {
		return nil, fmt.Errorf("load: the wire sender sends to one target per run: %s, not %s", a.dialHost, host)
	}
	return a.dialer, nil
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

// snapshot merges the shards into new Metrics.
func (a *Attacker) snapshot() *Metrics {
	m := NewMetrics()
	for _, sh := range a.shards {
		sh.mu.Lock()
		m.Merge(sh.m)
		sh.mu.Unlock()
	}
	return m
}

// progress calls Options.Progress every ProgressEvery until stopped.
func (a *Attacker) progress(ctx context.Context) (stop func()) {
	if a.opts.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(a.opts.ProgressEvery)
		defer t.Stop()
		var lastN uint64
		var lastAt time.Duration
		for {
			select {
			case <-ctx.Done():
				return
			case <-done:
				return
			case <-t.C:
			}
			m := a.snapshot()
			now := a.since()
			p := Progress{Elapsed: now, Requests: m.Requests, P99: m.Quantile(99), Errors: m.Errors(), Wrong: m.WrongVerdicts()}
			if dt := now - lastAt; dt > 0 {
				p.RPS = float64(m.Requests-lastN) / dt.Seconds()
			}
			lastN, lastAt = m.Requests, now
			a.opts.Progress(p)
		}
	})
	return func() { close(done); wg.Wait() }
}

// String formats the progress as one line: time, rate, p99 so far, errors
// and wrong verdicts.
func (p Progress) String() string {
	return fmt.Sprintf("%6.1fs  %9.1f req/s  p99 %-8s  requests %d  errors %d  wrong %d",
		p.Elapsed.Seconds(), p.RPS, fmtDur(p.P99), p.Requests, p.Errors, p.Wrong)
}
