package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/probe"
)

// ValidateInput says how to build a validate scenario from a flow.
type ValidateInput struct {
	// F talks to the target; its Preflight must have passed.
	F *probe.Prober
	// Mix sets the shares of valid, invalid, missing and expired requests.
	// The zero value sends only valid ones.
	Mix Mix
	// Operations limits the protected operations hit, by operationId or
	// "METHOD /path". Empty means every protected operation of the flow.
	Operations []string
	// TokensPerClient is how many tokens each configured client (the
	// primary, and client2 when set) gets; default 2. The tokens are
	// obtained once, before the run.
	TokensPerClient int
	// Tokens, when set, are the valid tokens to use instead of obtaining
	// any (e.g. the same token a wrk run uses).
	Tokens []string
	// ExpiredTokens are tokens known to be expired. Without them, the
	// expired share uses a token of F.Config.ExpiryClient, waited out, or a
	// stale token file (F.Config.StaleTokenFile) whose token has expired.
	ExpiredTokens []string
	// Sleep waits for a token to expire. Nil means a real sleep; tests
	// move a manual clock instead.
	Sleep func(ctx context.Context, d time.Duration) error
	// RunFor is how long the run will last: a valid token that expires
	// sooner would turn into wrong verdicts halfway, so BuildValidate
	// refuses it. Zero skips the check.
	RunFor time.Duration
}

// Scenario is a built scenario part: what to send, and notes on what was
// left out and why.
type Scenario struct {
	Name     string
	Targeter Targeter
	Mix      Mix      // the shares in force after kinds that cannot be had were dropped
	Notes    []string // e.g. why the expired share was skipped
	// ValidUntil is the earliest the valid tokens BuildValidate obtained
	// may expire: each token request's send plus its expires_in, on our
	// clock. Zero when unknown (tokens given by the caller, or no
	// expires_in). A run that may outlast it cannot tell a valid token
	// wrongly refused from one that has expired.
	ValidUntil time.Time
}

// BuildValidate obtains the tokens a validate run needs (valid ones from the
// flow's token operation, an expired one if it can be had), makes invalid
// ones from valid ones, and prebuilds every request.
func BuildValidate(ctx context.Context, in ValidateInput) (*Scenario, error) {
	if in.F == nil {
		return nil, errors.New("load: validate: no prober (ValidateInput.F)")
	}
	f := in.F
	mix := in.Mix
	if mix.total() == 0 {
		mix[KindValid] = 1
	}
	ops, err := f.Flow.ProtectedNamed(in.Operations)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if len(ops) == 0 {
		return nil, fmt.Errorf("load: flow %s has no protected operation to validate tokens against", f.Flow.Name)
	}
	sc := &Scenario{Name: "validate"}
	// The expired token first: waiting for it must not eat into the life
	// of the valid ones.
	if mix[KindExpired] > 0 {
		expired, note, err := expiredTokens(ctx, in)
		if err != nil {
			return nil, err
		}
		if len(expired) == 0 {
			sc.Notes = append(sc.Notes, "expired share skipped: "+note)
			mix[KindExpired] = 0
		}
		in.ExpiredTokens = expired
	}
	valid, validUntil, err := validTokens(ctx, in)
	if err != nil {
		return nil, err
	}
	sc.ValidUntil = validUntil
	for _, tok := range valid {
		if life := time.Duration(tok.ExpiresIn) * time.Second; in.RunFor > 0 && tok.ExpiresIn > 0 && life < in.RunFor+5*time.Second {
			return nil, fmt.Errorf("load: validate: the tokens issued live %s, less than the run (%s) and 5s: shorten --duration or use a client whose tokens live longer", life, in.RunFor)
		}
	}
	if mix.total() == 0 {
		return nil, errors.New("load: validate: nothing left to send once the expired share was dropped; give the mix another kind")
	}
	tg := &mixTargeter{schedule: mix.schedule()}
	for _, op := range ops {
		usable := 0
		for _, tok := range valid {
			if !tok.HasScope || op.Allows(strings.Fields(tok.Scope)) {
				if err := tg.add(KindValid, f, op, tok.AccessToken); err != nil {
					return nil, err
				}
				usable++
			}
		}
		if usable == 0 {
			sc.Notes = append(sc.Notes, fmt.Sprintf("operation %s skipped for valid tokens: none of them has the scopes it needs", op.ID))
		}
		for _, tok := range valid {
			if err := tg.add(KindInvalid, f, op, spec.TamperToken(tok.AccessToken)); err != nil {
				return nil, err
			}
		}
		if err := tg.add(KindMissing, f, op, ""); err != nil {
			return nil, err
		}
		for _, tok := range in.ExpiredTokens {
			if err := tg.add(KindExpired, f, op, tok); err != nil {
				return nil, err
			}
		}
	}
	for k, w := range mix {
		if w > 0 && len(tg.targets[k]) == 0 {
			return nil, fmt.Errorf("load: validate: no request of kind %s can be built (see the notes): %s", Kind(k), strings.Join(sc.Notes, "; "))
		}
	}
	sc.Targeter, sc.Mix = tg, mix
	return sc, nil
}

// validTokens returns the given tokens, or obtains TokensPerClient tokens
// for each configured client and returns the earliest they may expire
// (Scenario.ValidUntil).
func validTokens(ctx context.Context, in ValidateInput) ([]spec.TokenResponse, time.Time, error) {
	var out []spec.TokenResponse
	for _, t := range in.Tokens {
		out = append(out, spec.TokenResponse{AccessToken: t})
	}
	if len(out) > 0 {
		return out, time.Time{}, nil
	}
	var until time.Time
	per := in.TokensPerClient
	if per <= 0 {
		per = 2
	}
	clients := []probe.Credentials{in.F.Config.Client}
	if !in.F.Config.Client2.IsZero() {
		clients = append(clients, in.F.Config.Client2)
	}
	for _, c := range clients {
		for range per {
			tr, ex, err := in.F.Token(ctx, c)
			if err != nil {
				return nil, time.Time{}, fmt.Errorf("load: token for client %q: %w", c.ID, err)
			}
			out = append(out, tr)
			if exp := ex.Sent.Add(time.Duration(tr.ExpiresIn) * time.Second); tr.ExpiresIn > 0 && (until.IsZero() || exp.Before(until)) {
				until = exp
			}
		}
	}
	return out, until, nil
}

// expiredTokens returns known-expired tokens, or obtains one from the
// expiry client and waits until it has expired. With none to be had it
// returns why.
func expiredTokens(ctx context.Context, in ValidateInput) ([]string, string, error) {
	if len(in.ExpiredTokens) > 0 {
		return in.ExpiredTokens, "", nil
	}
	cfg := in.F.Config
	if cfg.StaleTokenFile != "" {
		st, err := probe.ReadSavedToken(cfg.StaleTokenFile)
		if err != nil {
			return nil, "", fmt.Errorf("load: %w", err)
		}
		if st.ExpiresIn > 0 && time.Since(st.IssuedAt) > time.Duration(st.ExpiresIn)*time.Second+cfg.Leeway {
			return []string{st.Token}, "", nil
		}
	}
	if cfg.ExpiryClient.IsZero() {
		return nil, "no expired token can be had: configure an expiry client with short-lived tokens (TOLLGATE_EXPIRY_CLIENT_ID and TOLLGATE_EXPIRY_CLIENT_SECRET) or give --expired-token-file", nil
	}
	tr, _, err := in.F.Token(ctx, cfg.ExpiryClient)
	if err != nil {
		return nil, "", fmt.Errorf("load: token for the expiry client %q: %w", cfg.ExpiryClient.ID, err)
	}
	if tr.ExpiresIn <= 0 {
		return nil, "the expiry client's token has no expires_in, so when it expires is unknown", nil
	}
	// Counted from the answer, the latest the token can have been issued,
	// with a second for an exp in whole seconds: dead then, however late
	// this process got the answer.
	wait := time.Duration(tr.ExpiresIn)*time.Second + cfg.Leeway + time.Second
	if wait > cfg.MaxExpiryWait {
		return nil, fmt.Sprintf("the expiry client's token lives %ds (+%s leeway), longer than --max-expiry-wait %s", tr.ExpiresIn, cfg.Leeway, cfg.MaxExpiryWait), nil
	}
	sleepFn := in.Sleep
	if sleepFn == nil {
		sleepFn = func(ctx context.Context, d time.Duration) error {
			if !sleep(ctx, d) {
				return ctx.Err()
			}
			return nil
		}
	}
	if err := sleepFn(ctx, wait); err != nil {
		return nil, "", fmt.Errorf("load: waiting for the expiry client's token to expire: %w", err)
	}
	return []string{tr.AccessToken}, "", nil
}

// mixTargeter hands out prebuilt requests, the kind of request n set by the
// mix's schedule and the request among that kind's by rotation.
type mixTargeter struct {
	schedule []Kind
	targets  [numKinds][]*Target
}

func (m *mixTargeter) add(k Kind, f *probe.Prober, op spec.Operation, token string) error {
	header := http.Header{"Accept": {"application/json"}}
	if k != KindMissing {
		header["Authorization"] = []string{"Bearer " + token}
	}
	for name, values := range op.Probe.Header {
		header[name] = append([]string(nil), values...)
	}
	if op.Probe.ContentType != "" {
		header.Set("Content-Type", op.Probe.ContentType)
	}
	rawURL := f.Config.Target + op.ProbePath()
	if op.Probe.Query != "" {
		rawURL += "?" + op.Probe.Query
	}
	t, err := newTarget(k, op.Method, rawURL, header, op.Probe.Body)
	if err != nil {
		return err
	}
	m.targets[k] = append(m.targets[k], t)
	return nil
}

// Target implements Targeter.
func (m *mixTargeter) Target(n uint64) *Target {
	k := m.schedule[n%uint64(len(m.schedule))]
	ts := m.targets[k]
	return ts[(n/uint64(len(m.schedule)))%uint64(len(ts))]
}

// newTarget prebuilds a request template.
func newTarget(k Kind, method, rawURL string, header http.Header, body []byte) (*Target, error) {
	req, err := http.NewRequestWithContext(context.Background(), method, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("load: request %s %s: %w", method, rawURL, err)
	}
	req.Header = header
	if body != nil {
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	return &Target{Kind: k, Req: req, Body: body}, nil
}

// BuildIssue prebuilds the flow's token request for the primary client, as
// Preflight found the server accepts it.
func BuildIssue(f *probe.Prober) (*Scenario, error) {
	method, rawURL, header, body := f.BuildTokenRequest(probe.TokenRequest{Client: f.Config.Client})
	t, err := newTarget(KindIssue, method, rawURL, header, body)
	if err != nil {
		return nil, err
	}
	return &Scenario{Name: "issue", Targeter: single{t}, Mix: Mix{KindIssue: 1}}, nil
}

type single struct{ t *Target }

func (s single) Target(uint64) *Target { return s.t }
