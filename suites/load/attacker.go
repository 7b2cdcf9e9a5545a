package load

import (
	"context"
	"crypto/tls"
	"net/http"
	"runtime"
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

// Options bound and shape a run. The zero value is a 10-second, at most
// 1,000,000-request run with the defaults below.
type Options struct {
	Duration    time.Duration // how long to send; default 10 s
	MaxRequests uint64        // most requests to send; default 1,000,000
	Timeout     time.Duration // per request: the whole exchange (wire sender) or until the response headers (net/http); default 10 s

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

// Attacker sends the requests of one run. Create one with NewAttacker per
// run; it is not reusable.
type Attacker struct {
	opts   Options
	client *http.Client
	dialer atomic.Pointer[wireDialer] // the wire sender's, built on first use for the targets' host
	dialMu sync.Mutex
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
		if d := a.dialer.Load(); d != nil {
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
	if ctx.Err() == nil && m.Requests+m.Skipped < a.opts.MaxRequests {
		// The run was bounded by its duration: that is the time the
		// requests were spread over, even if the last answer came sooner.
		m.Elapsed = max(m.Elapsed, a.opts.Duration)
	}
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
		if wait > 0 && !a.sleepUntil(ctx, elapsed+wait) {
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

// sleepUntil waits until the offset due from the start: on a runtime timer
// while more than 2 ms remain, then in fineSleep, so that requests leave
// within tens of microseconds of their intended time.
func (a *Attacker) sleepUntil(ctx context.Context, due time.Duration) bool {
	for {
		left := due - a.since()
		switch {
		case ctx.Err() != nil:
			return false
		case left <= 0:
			return true
		case left > 2*time.Millisecond:
			if !sleep(ctx, left-1500*time.Microsecond) {
				return false
			}
		default:
			fineSleep(left)
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
