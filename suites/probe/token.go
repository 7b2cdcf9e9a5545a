package probe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tollgate/tollgate/spec"
)

// ErrTokenResponse marks a 200 token response that does not match the
// flow document (other member names, a missing token): a conformance
// finding (TOK-001), not a setup error, so the run goes on where it can.
var ErrTokenResponse = errors.New("the token response does not match the flow document")

// Token obtains a fresh token for a client with the flow's default request
// and parses it; the token is added to the redaction list.
func (p *Prober) Token(ctx context.Context, c Credentials) (spec.TokenResponse, *Exchange, error) {
	ex, err := p.RequestToken(ctx, TokenRequest{Client: c})
	if err != nil {
		return spec.TokenResponse{}, ex, err
	}
	if ex.Status != http.StatusOK {
		msg := fmt.Sprintf("token request for client %q got %d", c.ID, ex.Status)
		if body := strings.TrimSpace(string(ex.Body)); body != "" {
			msg += ": " + p.Redact(clip([]byte(body)))
		}
		return spec.TokenResponse{}, ex, errors.New(msg)
	}
	tr, err := p.Flow.ParseTokenResponse(ex.Body)
	if err != nil {
		return tr, ex, fmt.Errorf("%w: %w", ErrTokenResponse, err)
	}
	return tr, ex, nil // RequestToken added the token to the redaction list
}

// PrimaryToken returns the primary client's token, obtained once per run to
// spare rate-limited token endpoints.
func (p *Prober) PrimaryToken(ctx context.Context) (spec.TokenResponse, error) {
	p.mu.Lock()
	if p.primary != nil {
		defer p.mu.Unlock()
		return *p.primary, nil
	}
	if p.primaryErr != nil {
		defer p.mu.Unlock()
		return spec.TokenResponse{}, p.primaryErr
	}
	p.mu.Unlock()
	tr, ex, err := p.Token(ctx, p.Config.Client)
	if err != nil {
		return tr, err
	}
	p.mu.Lock()
	p.primary, p.primaryAt = &tr, ex.Sent
	p.mu.Unlock()
	return tr, nil
}

// ForgetPrimaryToken makes the next PrimaryToken ask the target for a new
// one. After the target's clock was moved past the token's expiry and put
// back, the token may be gone for good (a store may drop what looked
// expired at the moved time), and checks that need a live token must not
// blame the target's Bearer handling for that.
func (p *Prober) ForgetPrimaryToken() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.primaryErr == nil {
		p.primary = nil
	}
}

// Preflight fails, with one line naming the fix, when the target is not
// reachable or the primary client cannot get a token. Nothing is checked
// before it passes, so a broken setup never reports "0 checks, green". A
// 200 whose body does not match the flow document is not a setup error:
// PrimaryToken then returns an ErrTokenResponse, and the run goes on.
func (p *Prober) Preflight(ctx context.Context) error {
	if p.Config.StaleTokenFile != "" {
		saved, err := ReadSavedToken(p.Config.StaleTokenFile)
		if err != nil {
			return err
		}
		p.mu.Lock()
		p.stale = &saved
		p.mu.Unlock()
		p.AddSecret(saved.Token)
	}
	if _, err := p.Do(ctx, http.MethodGet, p.Config.Target+"/", nil, nil); err != nil {
		if errors.Is(err, ErrInconclusive) {
			return fmt.Errorf("target %s keeps answering 429 Too Many Requests: wait, or lower --request-rate", p.Config.Target)
		}
		return UnreachableError(p.Config.Target, err)
	}
	// Try each client authentication the document allows: a server that
	// refuses one (TOK-016/018 judge that) can still be checked with another.
	var tr spec.TokenResponse
	var ex *Exchange
	var err error
	for _, method := range p.Flow.Token.ClientAuth {
		p.mu.Lock()
		p.auth = method
		p.mu.Unlock()
		if tr, ex, err = p.Token(ctx, p.Config.Client); err == nil {
			break
		}
	}
	if errors.Is(err, ErrTokenResponse) {
		// Issued, but not as documented: TOK-001 reports it, and the
		// checks that need the token end NOT VERIFIED.
		p.mu.Lock()
		p.primaryErr = err
		p.mu.Unlock()
		return nil
	}
	if err != nil {
		p.mu.Lock()
		p.auth = ""
		p.mu.Unlock()
		if ex != nil && (ex.Status == http.StatusUnauthorized || ex.Status == http.StatusBadRequest) {
			return fmt.Errorf("client %q cannot get a token from %s%s (status %d): check TOLLGATE_CLIENT_ID / TOLLGATE_CLIENT_SECRET and --flow", p.Config.Client.ID, p.Config.Target, p.Flow.Token.Path, ex.Status)
		}
		return fmt.Errorf("no token from %s%s: %w: check --target and --flow", p.Config.Target, p.Flow.Token.Path, err)
	}
	p.mu.Lock()
	p.primary, p.primaryAt = &tr, ex.Sent
	p.mu.Unlock()
	return nil
}
