package mockserver

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/tollgate/tollgate/mockserver/tokens"
	"github.com/tollgate/tollgate/spec"
)

// Options configure a mock server. It is a plain struct and the schema of the
// `tollgate serve` config file; the zero value means the documented defaults.
type Options struct {
	// Clients are the registered clients. Nil means DefaultClients(flows);
	// an empty, non-nil list registers none (only useful with AcceptAnyClient).
	Clients []Client `yaml:"clients"`

	// AcceptAnyClient issues a token to any client id with any secret, for
	// quick demos. Off by default: secrets are checked.
	AcceptAnyClient bool `yaml:"accept_any_client"`

	// Issuer is the "iss" of JWTs and of the RFC 8414 metadata; a JWT naming
	// another issuer is refused. Empty means the scheme and Host of each
	// token request (e.g. http://127.0.0.1:8484): a JWT is then accepted
	// when its iss is one of the origins the server issued tokens under,
	// at most 32 of them (a token request under a 33rd gets 400
	// invalid_request) until a control reset forgets them.
	Issuer string `yaml:"issuer"`

	// Flows override what each flow document says, by flow name.
	Flows map[string]FlowOptions `yaml:"flows"`

	// SigningKeyFile is a PEM private key (PKCS#8, PKCS#1 or SEC1) that signs
	// the JWTs of every jwt flow. Empty means a key generated at start.
	SigningKeyFile string `yaml:"signing_key_file"`

	// MaxBodyBytes limits token request bodies; larger ones get 413. Zero
	// means 64 KiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`

	// CORSOrigins are the browser origins (e.g. "http://localhost:3000") that
	// may call the mock from a page on another origin. Nil means any ("*"),
	// which suits a local mock; an empty list turns CORS off.
	CORSOrigins []string `yaml:"cors_origins"`

	// CORSAllowCredentials adds Access-Control-Allow-Credentials: true to
	// the CORS answers, so a page may call with credentials mode (fetch's
	// credentials: 'include', axios withCredentials). It needs CORSOrigins
	// listed one by one: with any origin ("*") or CORS off it is refused,
	// since any page a browser opens could then make credentialed calls.
	CORSAllowCredentials bool `yaml:"cors_allow_credentials"`

	// MaxTokens bounds the live tokens the server holds, in each of its
	// stores: the issued uuid and opaque tokens (all flows together), and
	// for each jwt flow the record of its issued JWTs (by jti, so that the
	// control API can list and revoke them) and its revoked JWTs. When a
	// bound is reached, the token endpoint (or revocation of a JWT) answers
	// 503 temporarily_unavailable with Retry-After until the earliest token
	// of that store expires; no live token is ever evicted. Zero means
	// DefaultMaxTokens.
	MaxTokens int `yaml:"max_tokens"`

	// SweepInterval is how often expired tokens are deleted in the
	// background, so that their memory comes back on an idle server. Zero
	// means 30 seconds.
	SweepInterval time.Duration `yaml:"sweep_interval"`

	// OmitOptional leaves out the endpoints each flow document marks
	// optional (x-tollgate.optional): the server then implements only what
	// the flows' source documents describe (for simple, no revocation; for
	// oauth2, no introspection), as a faithful implementation may.
	OmitOptional bool `yaml:"omit_optional"`

	// Mutations switch on deliberate defects (see Mutations), for testing
	// that a conformance suite catches them. Empty for a correct server.
	Mutations []string `yaml:"mutations"`

	// Control is the control API under /_tollgate/ (docs/control.md):
	// "auto" (the default: on for loopback connections, and anywhere for
	// requests with ControlToken) or "off".
	Control string `yaml:"control"`

	// ControlToken, when set, is the Bearer token every control request
	// must carry, from any address.
	ControlToken string `yaml:"control_token"`

	// Metrics is the Prometheus endpoint at /metrics (docs/metrics.md):
	// "auto" (the default: on for loopback connections, and anywhere for
	// requests with ControlToken, as the control API), "public" (every
	// connection) or "off" (no endpoint and no counting).
	Metrics string `yaml:"metrics"`

	// Debug serves the Go runtime's profiles (net/http/pprof) under
	// /debug/pprof/ and its variables (expvar) at /debug/vars, to loopback
	// connections (or any with ControlToken). Off by default.
	Debug bool `yaml:"debug"`

	// StartClock sets the server's clock at start and after a control
	// reset; nil means the underlying clock.
	StartClock *ClockSetting `yaml:"clock"`

	// Faults are in force from the start and after a control reset.
	Faults []Fault `yaml:"faults"`

	// CapturedRequests is how many of the latest requests the control API
	// can show (GET /_tollgate/requests). Zero means 1000.
	CapturedRequests int `yaml:"captured_requests"`

	// Clock drives issuance and validation; the control API moves it. Nil
	// means the system clock.
	Clock Clock `yaml:"-"`

	// Logger, when set, gets one line per request. Secrets and whole tokens
	// are never logged.
	Logger *slog.Logger `yaml:"-"`
}

// FlowOptions override one flow document's token settings.
type FlowOptions struct {
	// TokenFormat replaces x-tollgate.token.format: uuid, opaque or jwt.
	TokenFormat string `yaml:"token_format"`
	// TokenLifetime replaces x-tollgate.token.lifetime (whole seconds, e.g. "90s").
	TokenLifetime time.Duration `yaml:"token_lifetime"`
	// Algorithm replaces x-tollgate.token.algorithm for jwt tokens.
	Algorithm string `yaml:"algorithm"`
	// GraphQLSignalling replaces x-tollgate.graphql.signalling: status401
	// (401 + challenge + GraphQL error body) or errors200 (200 + "data":
	// null + errors).
	GraphQLSignalling string `yaml:"graphql_signalling"`
}

// Client is one registered client.
type Client struct {
	ID     string `yaml:"id"`
	Secret string `yaml:"secret"`
	// Scopes the client may be granted. Nil means every scope of its flows;
	// a token request without a scope parameter gets all of them.
	Scopes []string `yaml:"scopes"`
	// TokenLifetime overrides the flow's lifetime for this client's tokens
	// (whole seconds). Zero means the flow's.
	TokenLifetime time.Duration `yaml:"token_lifetime"`
	// Flows the client may use, by name. Empty means all.
	Flows []string `yaml:"flows"`
	// Claims are extra claims in the client's JWTs (jwt flows only).
	Claims map[string]any `yaml:"claims"`
	// Audience adds audiences to the client's JWTs, beside the flow's name
	// (which the flow's protected operations check for).
	Audience []string `yaml:"audience"`
}

// Default client credentials. The first pair is the seed of both source
// documents; the others exist so that scope, expiry and encoding behaviour
// can be tried without writing a config file.
const (
	SeedClientID            = "testClient"
	SeedClientSecret        = "superSecret"
	ScopedClientID          = "metricsClient"
	ScopedClientSecret      = "metricsSecret"
	ShortLivedClientID      = "shortLivedClient"
	ShortLivedClientSecret  = "shortLivedSecret"
	EncodedClientID         = "encoded client"
	EncodedClientSecret     = "a:b+c%d e"
	ShortLivedLifetime      = 5 * time.Second
	defaultMaxBodyBytes     = 64 << 10
	defaultCapturedRequests = 1000
	maxCapturedRequests     = 1_000_000
	maxTokenLifetime        = 366 * 24 * time.Hour
)

// DefaultClients returns the clients a server has when Options.Clients is
// nil: the seed client on every flow, a short-lived client (5 s tokens) on
// every flow, a client whose id and secret need RFC 6749 Appendix B encoding
// on every flow that accepts HTTP Basic, and, for each flow with scopes, a
// client limited to the first of them in sorted order (metricsClient, limited to metrics-api, on the oauth2 flow).
func DefaultClients(flows []*spec.Flow) []Client {
	clients := []Client{
		{ID: SeedClientID, Secret: SeedClientSecret},
		{ID: ShortLivedClientID, Secret: ShortLivedClientSecret, TokenLifetime: ShortLivedLifetime},
	}
	var basic []string
	for _, f := range flows {
		if f.Token.AcceptsClientAuth(spec.ClientAuthBasic) {
			basic = append(basic, f.Name)
		}
	}
	if len(basic) > 0 {
		clients = append(clients, Client{ID: EncodedClientID, Secret: EncodedClientSecret, Flows: basic})
	}
	for _, f := range flows {
		if len(f.Scopes) > 1 {
			clients = append(clients, Client{ID: ScopedClientID, Secret: ScopedClientSecret, Scopes: []string{f.Scopes[0]}, Flows: []string{f.Name}})
			break
		}
	}
	return clients
}

// validate checks the options against the flows they will serve and returns
// a copy with the defaults filled in.
func (o Options) validate(flows []*spec.Flow) (Options, error) {
	if len(flows) == 0 {
		return o, errors.New("mockserver: no flows to serve")
	}
	byName := map[string]*spec.Flow{}
	for _, f := range flows {
		if byName[f.Name] != nil {
			return o, fmt.Errorf("mockserver: flow %q is given twice", f.Name)
		}
		byName[f.Name] = f
	}
	if o.Clients == nil {
		o.Clients = DefaultClients(flows)
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = defaultMaxBodyBytes
	}
	if o.MaxBodyBytes < 256 {
		return o, fmt.Errorf("mockserver: max_body_bytes %d is too small to hold a token request: use at least 256", o.MaxBodyBytes)
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	switch o.Control {
	case "":
		o.Control = ControlAuto
	case ControlAuto, ControlOff:
	default:
		return o, fmt.Errorf("mockserver: control: unknown mode %q (use auto or off)", o.Control)
	}
	switch o.Metrics {
	case "":
		o.Metrics = MetricsAuto
	case MetricsAuto, MetricsPublic, MetricsOff:
	default:
		return o, fmt.Errorf("mockserver: metrics: unknown mode %q (use auto, public or off)", o.Metrics)
	}
	if o.CapturedRequests == 0 {
		o.CapturedRequests = defaultCapturedRequests
	}
	if o.CapturedRequests < 1 || o.CapturedRequests > maxCapturedRequests {
		return o, fmt.Errorf("mockserver: captured_requests: %d is not between 1 and %d", o.CapturedRequests, maxCapturedRequests)
	}
	if o.MaxTokens == 0 {
		o.MaxTokens = DefaultMaxTokens
	}
	if o.MaxTokens < 0 {
		return o, fmt.Errorf("mockserver: max_tokens %d is negative: give a positive bound, or leave it out for %d", o.MaxTokens, DefaultMaxTokens)
	}
	if o.SweepInterval == 0 {
		o.SweepInterval = tokens.DefaultSweepInterval
	}
	if o.SweepInterval < time.Millisecond {
		return o, fmt.Errorf("mockserver: sweep_interval %v is too short: use at least 1ms (e.g. 30s), or leave it out for %v", o.SweepInterval, tokens.DefaultSweepInterval)
	}
	if o.CORSOrigins == nil {
		o.CORSOrigins = []string{"*"}
	}
	for _, origin := range o.CORSOrigins {
		if origin != "*" && !strings.HasPrefix(origin, "http://") && !strings.HasPrefix(origin, "https://") {
			return o, fmt.Errorf("mockserver: cors_origins: %q is not an origin: write it like http://localhost:3000, or * for any", origin)
		}
	}
	if err := checkCORSCredentials(o.CORSAllowCredentials, o.CORSOrigins); err != nil {
		return o, err
	}
	if o.Issuer != "" && !strings.HasPrefix(o.Issuer, "https://") && !strings.HasPrefix(o.Issuer, "http://") {
		return o, fmt.Errorf("mockserver: issuer %q must be an http(s) URL", o.Issuer)
	}
	for name, fo := range o.Flows {
		if byName[name] == nil {
			return o, fmt.Errorf("mockserver: flows.%s: no such flow (serving %s)", name, flowNames(flows))
		}
		switch fo.TokenFormat {
		case "", spec.FormatUUID, spec.FormatOpaque, spec.FormatJWT:
		default:
			return o, fmt.Errorf("mockserver: flows.%s.token_format: unknown format %q (use uuid, opaque or jwt)", name, fo.TokenFormat)
		}
		if err := checkLifetime(fo.TokenLifetime); err != nil {
			return o, fmt.Errorf("mockserver: flows.%s.token_lifetime: %w", name, err)
		}
		switch {
		case fo.GraphQLSignalling == "":
		case byName[name].GraphQL == nil:
			return o, fmt.Errorf("mockserver: flows.%s.graphql_signalling: the flow has no GraphQL endpoint (x-tollgate.graphql)", name)
		case fo.GraphQLSignalling != spec.GraphQLStatus401 && fo.GraphQLSignalling != spec.GraphQLErrors200:
			return o, fmt.Errorf("mockserver: flows.%s.graphql_signalling: unknown %q (use %s or %s)", name, fo.GraphQLSignalling, spec.GraphQLStatus401, spec.GraphQLErrors200)
		}
		if fo.Algorithm != "" && !slices.Contains(spec.Algorithms(), fo.Algorithm) {
			return o, fmt.Errorf("mockserver: flows.%s.algorithm: unsupported %q (use one of %s)", name, fo.Algorithm, strings.Join(spec.Algorithms(), ", "))
		}
	}
	seen := map[string]bool{}
	for i, c := range o.Clients {
		where := fmt.Sprintf("mockserver: clients[%d]", i)
		if c.ID != "" {
			where += " (" + c.ID + ")"
		}
		if seen[c.ID] {
			return o, fmt.Errorf("%s: client %q is registered twice", where, c.ID)
		}
		seen[c.ID] = true
		if err := checkClient(c, flows); err != nil {
			return o, fmt.Errorf("%s: %w", where, err)
		}
	}
	return o, nil
}

// checkClient checks one client against the served flows; the error names
// the field at fault.
func checkClient(c Client, flows []*spec.Flow) error {
	if c.ID == "" {
		return fieldError("id", "is empty")
	}
	if c.Secret == "" {
		return fieldError("secret", "is empty; every client here is confidential")
	}
	if err := checkLifetime(c.TokenLifetime); err != nil {
		return fieldError("token_lifetime", "%v", err)
	}
	if c.Scopes != nil && len(c.Scopes) == 0 {
		return fieldError("scopes", "is empty, so no token could be granted: list at least one scope, or remove the key for all of them")
	}
	byName := map[string]*spec.Flow{}
	for _, f := range flows {
		byName[f.Name] = f
	}
	scopes := map[string]bool{}
	for _, name := range c.Flows {
		f := byName[name]
		if f == nil {
			return fieldError("flows", "no flow %q (serving %s)", name, flowNames(flows))
		}
		for _, s := range f.Scopes {
			scopes[s] = true
		}
	}
	if len(c.Flows) == 0 {
		for _, f := range flows {
			for _, s := range f.Scopes {
				scopes[s] = true
			}
		}
	}
	for _, s := range c.Scopes {
		if !scopes[s] {
			return fieldError("scopes", "scope %q is not defined by the client's flows", s)
		}
	}
	for name := range c.Claims {
		if registeredClaim(name) {
			return fieldError("claims", "%q is a claim the server sets itself: name another", name)
		}
	}
	for _, aud := range c.Audience {
		if aud == "" {
			return fieldError("audience", "has an empty entry")
		}
	}
	return nil
}

// registeredClaim reports whether the server writes claim name itself.
func registeredClaim(name string) bool {
	switch name {
	case "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "client_id", "scope":
		return true
	}
	return false
}

func checkLifetime(d time.Duration) error {
	if d == 0 {
		return nil
	}
	if d < time.Second || d%time.Second != 0 {
		return fmt.Errorf("%v is not a whole number of seconds of at least 1s (write e.g. 90s or 30m)", d)
	}
	if d > maxTokenLifetime {
		return fmt.Errorf("%v is longer than %v", d, maxTokenLifetime)
	}
	return nil
}

func flowNames(flows []*spec.Flow) string {
	names := make([]string, len(flows))
	for i, f := range flows {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// checkCORSCredentials refuses credentials for any origin or with CORS off:
// credentials go only with origins listed one by one.
func checkCORSCredentials(credentials bool, origins []string) error {
	switch {
	case !credentials:
		return nil
	case len(origins) == 0:
		return errors.New("mockserver: cors_allow_credentials: CORS is off (cors_origins: []); list the page origins, e.g. cors_origins: [http://localhost:3000]")
	case slices.Contains(origins, "*"):
		return errors.New("mockserver: cors_allow_credentials: not with any origin (cors_origins: * or left out); list the page origins, e.g. cors_origins: [http://localhost:3000]")
	}
	return nil
}
