package probe

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// Credentials identify one client of the target. The secret comes from
// Secret or, when that is empty, from the file SecretFile names; it never
// needs to be on a command line.
type Credentials struct {
	ID         string `yaml:"id"`
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
}

// IsZero reports whether no client is configured.
func (c Credentials) IsZero() bool { return c.ID == "" }

// resolve reads SecretFile into Secret.
func (c *Credentials) resolve(what string) error {
	if c.Secret != "" || c.SecretFile == "" {
		return nil
	}
	data, err := os.ReadFile(c.SecretFile)
	if err != nil {
		return fmt.Errorf("%s secret file: %w", what, err)
	}
	c.Secret = strings.TrimRight(string(data), "\r\n")
	return nil
}

// Config names a target, its flow and its clients, and bounds how hard a
// Prober may press it. It is the part of the target file (docs/check.md)
// that both the conformance suite and the load generator need; zero fields
// take the defaults below in Validate.
type Config struct {
	Target string `yaml:"target"` // base URL of the server under test
	Flow   string `yaml:"flow"`   // a built-in flow name or a path to a flow document

	Client       Credentials `yaml:"client"`        // the primary client: REQUIRED
	Client2      Credentials `yaml:"client2"`       // a second client, for cross-client checks
	ExpiryClient Credentials `yaml:"expiry_client"` // a client with short-lived tokens, for EXP-005 and expired load
	ScopedClient Credentials `yaml:"scoped_client"` // a client limited to some scopes, for BEAR-017

	StaleTokenFile string `yaml:"stale_token_file"` // a token saved by an earlier run (tollgate check --save-token), for EXP-012

	MaxExpiryWait time.Duration `yaml:"max_expiry_wait"` // longest a wait for a token to expire may take; default 30s
	Leeway        time.Duration `yaml:"leeway"`          // accepted grace after exp; default 5s
	TokenBudget   int           `yaml:"token_budget"`    // most token requests per run; default 100
	RequestRate   float64       `yaml:"request_rate"`    // most requests per second; 0: unlimited
	Timeout       time.Duration `yaml:"timeout"`         // per request; default 10s
	Insecure      bool          `yaml:"insecure"`        // allow plain http to a non-loopback target

	// NoControl keeps the run off the target's control API (a Tollgate
	// mock's /_tollgate/): expiry is then waited out in real time.
	NoControl bool `yaml:"no_control"`
	// ControlToken is sent, to the target only, as the Bearer token of
	// control API requests when the target asks for one; a secret.
	ControlToken string `yaml:"control_token"`

	// GraphQL names the target's GraphQL endpoint, over the flow
	// document's x-tollgate.graphql (graphql.go).
	GraphQL GraphQLConfig `yaml:"graphql"`
}

// Defaults for the zero fields of Config.
const (
	DefaultMaxExpiryWait = 30 * time.Second
	DefaultLeeway        = 5 * time.Second
	DefaultTokenBudget   = 100
	DefaultTimeout       = 10 * time.Second
)

// validateTarget checks the target URL and trims its trailing slash. Each
// error is one line that names the fix.
func (c *Config) validateTarget() error {
	if c.Target == "" {
		return errors.New("no target: give --target URL (or TOLLGATE_TARGET)")
	}
	u, err := url.Parse(c.Target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("target %q is not an http(s) URL: write it like https://auth.example.com", c.Target)
	}
	if u.User != nil {
		// Go's client would send user information as Basic credentials on
		// every request, which voids the checks of requests sent without
		// them, and the URL is printed in reports.
		return fmt.Errorf("target %q carries user information: drop it and give the client with TOLLGATE_CLIENT_ID and TOLLGATE_CLIENT_SECRET (or the target file's clients)", u.Redacted())
	}
	if err := c.MaySendSecretsTo(c.Target); err != nil {
		return fmt.Errorf("target %w", err)
	}
	c.Target = strings.TrimRight(c.Target, "/")
	if c.Flow == "" {
		return errors.New("no flow: give --flow (simple, oauth2, or a path to a flow document)")
	}
	return nil
}

// validateClients reads secret files and checks that every configured
// client has a secret and that the primary client is there.
func (c *Config) validateClients() error {
	for _, cl := range []struct {
		what string
		dst  *Credentials
	}{{"client", &c.Client}, {"client2", &c.Client2}, {"expiry client", &c.ExpiryClient}, {"scoped client", &c.ScopedClient}} {
		if err := cl.dst.resolve(cl.what); err != nil {
			return err
		}
		if cl.dst.ID != "" && cl.dst.Secret == "" {
			return fmt.Errorf("%s %q has no secret: set TOLLGATE_%s_SECRET or a secret file", cl.what, cl.dst.ID, strings.ToUpper(strings.ReplaceAll(cl.what, " ", "_")))
		}
	}
	return nil
}

// Validate fills defaults, reads secret files and checks the config, as
// New expects it. Each error is one line that names the fix.
func (c *Config) Validate() error {
	if err := c.validateTarget(); err != nil {
		return err
	}
	if err := c.validateClients(); err != nil {
		return err
	}
	if err := c.GraphQL.validate(); err != nil {
		return err
	}
	return c.validateLimits()
}

// validateLimits requires the primary client, fills the zero limits with
// their defaults and rejects negative ones.
func (c *Config) validateLimits() error {
	if c.Client.IsZero() {
		return errors.New("no client: set TOLLGATE_CLIENT_ID and TOLLGATE_CLIENT_SECRET (or --client-secret-file)")
	}
	if c.MaxExpiryWait == 0 {
		c.MaxExpiryWait = DefaultMaxExpiryWait
	}
	if c.Leeway == 0 {
		c.Leeway = DefaultLeeway
	}
	if c.TokenBudget == 0 {
		c.TokenBudget = DefaultTokenBudget
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxExpiryWait < 0 || c.Leeway < 0 || c.TokenBudget < 0 || c.RequestRate < 0 || c.Timeout < 0 {
		return errors.New("durations, the token budget and the request rate must not be negative")
	}
	return nil
}

// EndpointURL turns a configured endpoint (absolute, or a path on the
// target) into a URL; "" stays "".
func (c *Config) EndpointURL(endpoint string) string {
	if strings.HasPrefix(endpoint, "/") {
		return c.Target + endpoint
	}
	return endpoint
}

// MaySendSecretsTo reports why client credentials and tokens may not go to
// rawURL: plain http to a host other than loopback, without Insecure.
func (c *Config) MaySendSecretsTo(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %w", rawURL, err)
	}
	if u.Scheme == "http" && !c.Insecure && !isLoopback(u.Hostname()) {
		return fmt.Errorf("%s uses plain http to a non-loopback host: use https, or pass --insecure if you mean it", rawURL)
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
