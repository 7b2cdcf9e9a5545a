package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/tollgate/tollgate/spec/oautherr"
)

// ControlPrefix is where a Tollgate mock serves its control API (the mock's
// docs/control.md): its clock, minted tokens and more, under the target's
// base URL.
const ControlPrefix = "/_tollgate/"

// DefaultSystemTolerance is how far a running clock may be from ours and
// still be taken for the system clock when it is put back (Control.Restore).
const DefaultSystemTolerance = 2 * time.Second

// ClockSetting is the target's clock as its control API shows it: where it
// stands and whether it stays there.
type ClockSetting struct {
	Now    time.Time `json:"now"`
	Frozen bool      `json:"frozen"`
}

// ClockSnapshot is a clock setting and the time on our clock when it was
// read (the middle of the request): enough for Restore to tell a frozen
// clock, the system clock and a clock running at an offset apart.
type ClockSnapshot struct {
	Setting ClockSetting
	At      time.Time
}

// Offset is how far the clock stood from ours when it was read.
func (s ClockSnapshot) Offset() time.Duration { return s.Setting.Now.Sub(s.At) }

// MintRequest asks the control API for a token (POST /_tollgate/tokens);
// empty fields take the server's defaults.
type MintRequest struct {
	Flow     string `json:"flow,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	Scope    string `json:"scope,omitempty"`
	Lifetime string `json:"lifetime,omitempty"` // a Go duration such as "90s"
	Defect   string `json:"defect,omitempty"`   // e.g. "expired", "wrong-audience"
}

// MintedToken is the control API's answer to a MintRequest.
type MintedToken struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"`
	ExpiresAt   time.Time `json:"expires_at"`
	Flow        string    `json:"flow"`
	ClientID    string    `json:"client_id"`
	Defect      string    `json:"defect"`
}

// Control is a client of a target's control API, found by DetectControl.
// It talks to the target only (its base URL plus ControlPrefix, redirects
// never followed), sends the control token only there, and never records
// its exchanges as evidence. It is safe for concurrent use.
type Control struct {
	p *Prober
	// SystemTolerance is how far a running clock may stand from ours and
	// still be the system clock for Restore; zero: DefaultSystemTolerance.
	SystemTolerance time.Duration

	mu    sync.Mutex
	moved bool // the clock was moved since the last Restore
}

// DetectControl asks the target for its clock (GET /_tollgate/clock) and
// returns a Control when the answer is a JSON object with now (RFC 3339)
// and frozen (a boolean). Any other answer (404, 401, HTML, a transport
// error) means the target has no control API usable here: DetectControl
// returns nil and, for the report, why.
func (p *Prober) DetectControl(ctx context.Context) (*Control, string) {
	c := &Control{p: p}
	if _, err := c.Clock(ctx); err != nil {
		return nil, err.Error()
	}
	return c, ""
}

// Clock reads the target's clock.
func (c *Control) Clock(ctx context.Context) (ClockSetting, error) {
	s, err := c.snapshot(ctx, http.MethodGet, "clock", nil)
	return s.Setting, err
}

// Snapshot reads the target's clock together with ours, for Restore.
func (c *Control) Snapshot(ctx context.Context) (ClockSnapshot, error) {
	return c.snapshot(ctx, http.MethodGet, "clock", nil)
}

// Advance moves the target's clock forward by d (back when d < 0) and
// returns where it stands.
func (c *Control) Advance(ctx context.Context, d time.Duration) (ClockSetting, error) {
	c.noteMove()
	s, err := c.snapshot(ctx, http.MethodPost, "clock/advance", map[string]string{"duration": d.String()})
	return s.Setting, err
}

// Moved reports whether the clock was moved since the last Restore.
func (c *Control) Moved() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.moved
}

func (c *Control) noteMove() {
	c.mu.Lock()
	c.moved = true
	c.mu.Unlock()
}

// Restore puts the target's clock back as s found it: a frozen clock at
// its instant (PUT), a clock within SystemTolerance of ours back on the
// system clock (DELETE), and any other running clock at the same offset
// from ours (PUT, not frozen).
func (c *Control) Restore(ctx context.Context, s ClockSnapshot) error {
	tolerance := c.SystemTolerance
	if tolerance == 0 {
		tolerance = DefaultSystemTolerance
	}
	var err error
	switch {
	case s.Setting.Frozen:
		_, err = c.snapshot(ctx, http.MethodPut, "clock", clockBody(s.Setting.Now, true))
	case s.Offset().Abs() <= tolerance:
		_, err = c.snapshot(ctx, http.MethodDelete, "clock", nil)
	default:
		_, err = c.snapshot(ctx, http.MethodPut, "clock", clockBody(time.Now().Add(s.Offset()), false))
	}
	if err != nil {
		return fmt.Errorf("put the target's clock back: %w", err)
	}
	c.mu.Lock()
	c.moved = false
	c.mu.Unlock()
	return nil
}

func clockBody(now time.Time, frozen bool) map[string]any {
	return map[string]any{"now": now.UTC().Format(time.RFC3339Nano), "frozen": frozen}
}

// Mint asks the target for a token; the token is added to the redaction
// list at once.
func (c *Control) Mint(ctx context.Context, req MintRequest) (MintedToken, error) {
	status, body, err := c.call(ctx, http.MethodPost, "tokens", req)
	if err != nil {
		return MintedToken{}, err
	}
	if status != http.StatusCreated && status != http.StatusOK {
		return MintedToken{}, controlError(http.MethodPost, "tokens", status, body)
	}
	var t MintedToken
	if err := json.Unmarshal(body, &t); err != nil || t.AccessToken == "" {
		return MintedToken{}, fmt.Errorf("control: POST %stokens: the answer carries no access_token", ControlPrefix)
	}
	c.p.AddSecret(t.AccessToken)
	return t, nil
}

// snapshot sends a clock request and reads the clock from its answer.
func (c *Control) snapshot(ctx context.Context, method, path string, body any) (ClockSnapshot, error) {
	start := time.Now()
	status, data, err := c.call(ctx, method, path, body)
	at := start.Add(time.Since(start) / 2)
	if err != nil {
		return ClockSnapshot{}, err
	}
	if status != http.StatusOK {
		return ClockSnapshot{}, controlError(method, path, status, data)
	}
	setting, err := parseClock(data)
	if err != nil {
		return ClockSnapshot{}, fmt.Errorf("control: %s %s%s: %w", method, ControlPrefix, path, err)
	}
	return ClockSnapshot{Setting: setting, At: at}, nil
}

// parseClock reads {"now": RFC 3339, "frozen": boolean}; both are required.
func parseClock(data []byte) (ClockSetting, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil || doc == nil {
		return ClockSetting{}, errors.New("the answer is not a JSON object")
	}
	var s ClockSetting
	var now string
	if err := json.Unmarshal(doc["now"], &now); err != nil {
		return s, errors.New("the answer has no now string")
	}
	t, err := time.Parse(time.RFC3339Nano, now)
	if err != nil {
		return s, fmt.Errorf("now %q is not an RFC 3339 time", now)
	}
	if err := json.Unmarshal(doc["frozen"], &s.Frozen); err != nil {
		return s, errors.New("the answer has no frozen boolean")
	}
	s.Now = t
	return s, nil
}

// call sends one control request to the target: JSON in and out, the
// control token when one is configured, no pacing and no evidence (the
// control API is not what the checks judge).
func (c *Control) call(ctx context.Context, method, path string, body any) (int, []byte, error) {
	header := http.Header{"Accept": {"application/json"}}
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			return 0, nil, fmt.Errorf("control: %w", err)
		}
		header.Set("Content-Type", "application/json")
	}
	if token := c.p.Config.ControlToken; token != "" {
		header.Set("Authorization", "Bearer "+token)
	}
	ex := c.p.send(ctx, method, c.p.Config.Target+ControlPrefix+path, header, data)
	if ex.Err != nil {
		return 0, nil, fmt.Errorf("control: %s %s: %s", method, ControlPrefix+path, c.p.Redact(rootCause(ex.Err).Error()))
	}
	return ex.Status, ex.Body, nil
}

// controlError describes a refused control request by its status and, for
// an RFC 6749-shaped error, its description.
func controlError(method, path string, status int, body []byte) error {
	msg := fmt.Sprintf("control: %s %s%s answered %d", method, ControlPrefix, path, status)
	if e, err := oautherr.Parse(body); err == nil && e != nil && e.Description != "" {
		msg += ": " + e.Description
	}
	if len(bytes.TrimSpace(body)) == 0 {
		msg += " with no body"
	}
	return errors.New(msg)
}
