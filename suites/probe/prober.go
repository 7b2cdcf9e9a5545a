package probe

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/authheader"
)

// ErrInconclusive marks a request the target would not answer now (rate
// limited past the retries, or the token budget spent): the check cannot
// reach a verdict, which is not a failure.
var ErrInconclusive = errors.New("inconclusive")

// Prober talks to one target for one flow. It holds an *http.Client, the
// compiled flow, the primary token and the secrets to redact, nothing else.
// It is safe for concurrent use.
type Prober struct {
	Config Config
	Flow   *spec.Flow
	HTTP   *http.Client

	mu         sync.Mutex
	redact     []string // secrets and tokens never shown in evidence
	tokensUsed int
	last       *Exchange
	nextSend   time.Time
	primary    *spec.TokenResponse
	primaryErr error  // an ErrTokenResponse from Preflight: issued, but not as documented
	auth       string // the client authentication that got the primary token
	primaryAt  time.Time
	stale      *SavedToken // read from Config.StaleTokenFile before anything can overwrite it
	tokenLog   []*Exchange // every exchange with the token endpoint, for the checks that judge the whole run
}

// New returns a Prober for cfg (already validated, see Config.Validate)
// and flow.
func New(cfg Config, flow *spec.Flow) *Prober {
	p := &Prober{
		Config: cfg,
		Flow:   flow,
		HTTP: &http.Client{
			Timeout: cfg.Timeout,
			// The suite judges redirects itself; following them would hide them.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	for _, c := range []Credentials{cfg.Client, cfg.Client2, cfg.ExpiryClient, cfg.ScopedClient} {
		if c.Secret != "" {
			p.redact = append(p.redact, c.Secret, strings.TrimPrefix(authheader.FormatBasic(c.ID, c.Secret), "Basic "))
		}
	}
	if cfg.ControlToken != "" {
		p.redact = append(p.redact, cfg.ControlToken)
	}
	return p
}

// TargetIsLocal reports whether the target is on this machine's loopback.
func (p *Prober) TargetIsLocal() bool {
	u, err := url.Parse(p.Config.Target)
	return err == nil && isLoopback(u.Hostname())
}

// Clients returns the configured clients, primary first.
func (p *Prober) Clients() []Credentials {
	var out []Credentials
	for _, c := range []Credentials{p.Config.Client, p.Config.Client2, p.Config.ExpiryClient, p.Config.ScopedClient} {
		if !c.IsZero() {
			out = append(out, c)
		}
	}
	return out
}
