package probe

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// SavedToken is a token kept from one run for EXP-012 in a later one: a
// live credential, so the file is written readable by its owner only.
type SavedToken struct {
	Target    string    `json:"target"`
	Flow      string    `json:"flow"`
	Token     string    `json:"token"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresIn int64     `json:"expires_in"`
}

// SavePrimaryToken writes the primary client's token (obtained in
// Preflight) to path.
func (p *Prober) SavePrimaryToken(path string) error {
	p.mu.Lock()
	primary, issued := p.primary, p.primaryAt
	p.mu.Unlock()
	if primary == nil {
		return fmt.Errorf("save token: no token was obtained")
	}
	data, err := json.MarshalIndent(SavedToken{Target: p.Config.Target, Flow: p.Flow.Name, Token: primary.AccessToken, IssuedAt: issued, ExpiresIn: primary.ExpiresIn}, "", "  ")
	if err != nil {
		return fmt.Errorf("save token: %w", err)
	}
	// A temporary file renamed over path: os.WriteFile would keep the mode
	// of an existing, perhaps world-readable, file.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tollgate-token-*")
	if err != nil {
		return fmt.Errorf("save token to %s: %w", path, err)
	}
	// Best effort: after a successful rename there is nothing to remove.
	defer func() { _ = os.Remove(tmp.Name()) }()
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close() // the error above is the one to report
		return fmt.Errorf("save token to %s: %w", path, err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		_ = tmp.Close() // the error above is the one to report
		return fmt.Errorf("save token to %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save token to %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save token to %s: %w", path, err)
	}
	return nil
}

// StaleToken returns the token read from Config.StaleTokenFile by
// Preflight, and whether there was one.
func (p *Prober) StaleToken() (SavedToken, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stale == nil {
		return SavedToken{}, false
	}
	return *p.stale, true
}

// ReadSavedToken reads a file written by SavePrimaryToken.
func ReadSavedToken(path string) (SavedToken, error) {
	var t SavedToken
	data, err := os.ReadFile(path)
	if err != nil {
		return t, fmt.Errorf("stale token file: %w (write it with tollgate check --save-token FILE in an earlier run)", err)
	}
	if err := json.Unmarshal(data, &t); err != nil {
		return t, fmt.Errorf("stale token file %s: %w (write it with tollgate check --save-token)", path, err)
	}
	if t.Token == "" || t.IssuedAt.IsZero() {
		return t, fmt.Errorf("stale token file %s has no token or issue time (write it with tollgate check --save-token)", path)
	}
	return t, nil
}
