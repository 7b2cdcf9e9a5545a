package load

import (
	"bytes"
	"context"
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

// Target is one prepared request. Req is a template the Attacker copies
// shallowly for each send and never modifies, so a Targeter can hand out the
// same Target to every worker; Body, when set, is sent as the request body.
type Target struct {
	Kind Kind
	Req  *http.Request
	Body []byte
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

	// Client sends the requests. Nil means a client with a Transport tuned
	// for load (see NewTransport).
	Client *http.Client
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
	opts   Options
	client *http.Client
	start  time.Time
	hold   atomic.Int64 // no request is sent before this offset from start (Retry-After)
	shards []*shard
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
		client = &http.Client{
			Transport:     NewTransport(max(opts.MaxWorkers, opts.Concurrency), opts.Timeout),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
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
			sh := a.shards[w%len(a.shards)]
			for ctx.Err() == nil {
				n := next.Add(1) - 1
				if n >= a.opts.MaxRequests || a.since() >= a.opts.Duration {
					return
				}
				if !a.waitHold(ctx) {
					return
				}
				now := a.since()
				a.hit(ctx, sh, tr.Target(n), now)
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
		sh := a.shards[workers%len(a.shards)]
		workers++
		wg.Go(func() {
			for intended := range ticks {
				if hold := time.Duration(a.hold.Load()); intended < hold {
					sh.mu.Lock()
					sh.m.Skipped++
					sh.mu.Unlock()
					continue
				}
				a.hit(ctx, sh, tr.Target(next.Add(1)-1), intended)
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

// hit sends one request and records it in sh.
func (a *Attacker) hit(ctx context.Context, sh *shard, t *Target, intended time.Duration) {
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
