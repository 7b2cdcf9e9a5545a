package framework

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/probe"
)

// Credentials identify one client of the target (see probe.Credentials).
type Credentials = probe.Credentials

// Config says what to check and how. Its YAML form is the target file of
// `tollgate check --config`; docs/check.md documents each field.
type Config struct {
	// Config names the target, its flow and clients, and the limits on
	// probing it; its fields are promoted, as in the target file.
	probe.Config `yaml:",inline"`

	Profile string `yaml:"profile"` // rfc6749, oauth21, cl, simple or rfc9068; empty: the document's

	ForeignToken string   `yaml:"foreign_token"` // a live token issued for another audience or resource server, for BEAR-022
	OptIn        []string `yaml:"opt_in"`        // checks that are off by default: TOK-028's GET query and TOK-029 against a non-local target, TOK-037
	Operations   []string `yaml:"operations"`    // protected operations to probe, by operationId or "METHOD /path"; empty: every one the flow document (or APISpec) secures

	// APISpec is the user's own OpenAPI 3.0 or 3.1 document: the
	// operations it secures with a Bearer scheme replace the flow
	// document's protected operations (spec.ReadAPISpec). APIBase is the
	// path before each of its paths on the target ("/" for none; empty:
	// the path of its server URL); PathParams fill its path parameters.
	APISpec    string            `yaml:"api_spec"`
	APIBase    string            `yaml:"api_base"`
	PathParams map[string]string `yaml:"path_params"`

	// RevocationEndpoint (RFC 7009) and IntrospectionEndpoint (RFC 7662) are
	// absolute URLs or paths on the target. Empty: the flow document's
	// declaration, else the target's RFC 8414 metadata; with none of the
	// three the REV and INTRO checks are N/A.
	RevocationEndpoint    string        `yaml:"revocation_endpoint"`
	IntrospectionEndpoint string        `yaml:"introspection_endpoint"`
	RevocationPropagation time.Duration `yaml:"revocation_propagation"` // how long a revoked token may keep working (REV-002); default 5s

	// JWKSURI (the JWK Set, for the JWT checks) and MetadataURL (RFC 8414
	// or OpenID Connect discovery metadata, for the META and JWT checks)
	// are absolute URLs or paths on the target. Empty: the flow document's
	// (x-tollgate.jwksUri, x-tollgate.metadataUrl), else discovery.
	JWKSURI     string `yaml:"jwks_uri"`
	MetadataURL string `yaml:"metadata_url"`

	// Require names capabilities (spec.Capabilities: revocation,
	// introspection) the target must offer even where the flow document
	// marks them optional: a 404 or 405 there fails instead of N/A.
	Require []string `yaml:"require"`

	ClockSkew time.Duration `yaml:"clock_skew"` // tolerated Date skew; default 5s

	Load LoadConfig `yaml:"load"` // the specs labelled "load" (tollgate check --load)
}

// LoadConfig shapes the short validate run of the specs labelled "load" and
// holds the thresholds they assert. Zero fields take the defaults below; a
// zero threshold is not checked.
type LoadConfig struct {
	Duration     time.Duration `yaml:"duration"`       // default 2s
	Requests     uint64        `yaml:"requests"`       // default 2000
	Concurrency  int           `yaml:"concurrency"`    // closed model; default 8
	Rate         string        `yaml:"rate"`           // open model instead, e.g. 500/s
	Mix          string        `yaml:"mix"`            // default valid=90,invalid=5,missing=5
	MaxP99       time.Duration `yaml:"max_p99"`        // fail above this p99 latency
	MinRPS       float64       `yaml:"min_rps"`        // fail below this throughput
	MaxErrorRate string        `yaml:"max_error_rate"` // fail above this share of errors, e.g. 0.1%
}

// Defaults for the zero fields of LoadConfig: short and bounded, so that a
// load spec never turns a conformance run into a soak test.
const (
	DefaultLoadDuration    = 2 * time.Second
	DefaultLoadRequests    = 2000
	DefaultLoadConcurrency = 8
	DefaultLoadMix         = "valid=90,invalid=5,missing=5"
)

// Defaults for the zero fields of Config; probe.Config has those of the
// fields it holds.
const (
	DefaultMaxExpiryWait = probe.DefaultMaxExpiryWait
	DefaultLeeway        = probe.DefaultLeeway
	DefaultClockSkew     = 5 * time.Second
	DefaultTokenBudget   = probe.DefaultTokenBudget
	DefaultTimeout       = probe.DefaultTimeout

	DefaultRevocationPropagation = 5 * time.Second
)

// ApplyEnv fills fields from TOLLGATE_* variables where lookup finds them,
// overriding what the file said; flags then override the result.
func (c *Config) ApplyEnv(lookup func(string) (string, bool)) error {
	str := func(name string, dst *string) {
		if v, ok := lookup(name); ok && v != "" {
			*dst = v
		}
	}
	str("TOLLGATE_TARGET", &c.Target)
	str("TOLLGATE_FLOW", &c.Flow)
	str("TOLLGATE_PROFILE", &c.Profile)
	str("TOLLGATE_REVOCATION_ENDPOINT", &c.RevocationEndpoint)
	str("TOLLGATE_INTROSPECTION_ENDPOINT", &c.IntrospectionEndpoint)
	str("TOLLGATE_JWKS_URI", &c.JWKSURI)
	str("TOLLGATE_METADATA_URL", &c.MetadataURL)
	str("TOLLGATE_API_SPEC", &c.APISpec)
	str("TOLLGATE_API_BASE", &c.APIBase)
	str("TOLLGATE_GRAPHQL_ENDPOINT", &c.GraphQL.Endpoint)
	str("TOLLGATE_GRAPHQL_SDL", &c.GraphQL.SDL)
	str("TOLLGATE_GRAPHQL_SIGNALLING", &c.GraphQL.Signalling)
	if v, ok := lookup("TOLLGATE_PATH_PARAMS"); ok && v != "" {
		params, err := ParsePathParams(strings.Split(v, ","))
		if err != nil {
			return fmt.Errorf("TOLLGATE_PATH_PARAMS: %w", err)
		}
		c.PathParams = params
	}
	for _, cl := range []struct {
		prefix string
		dst    *Credentials
	}{{"TOLLGATE_CLIENT", &c.Client}, {"TOLLGATE_CLIENT2", &c.Client2}, {"TOLLGATE_EXPIRY_CLIENT", &c.ExpiryClient}, {"TOLLGATE_SCOPED_CLIENT", &c.ScopedClient}} {
		str(cl.prefix+"_ID", &cl.dst.ID)
		secret, hasSecret := lookup(cl.prefix + "_SECRET")
		if file, ok := lookup(cl.prefix + "_SECRET_FILE"); ok && file != "" && (!hasSecret || secret == "") {
			// A secret file from the environment beats a secret from the file.
			cl.dst.Secret, cl.dst.SecretFile = "", file
		}
		str(cl.prefix+"_SECRET", &cl.dst.Secret)
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{"TOLLGATE_MAX_EXPIRY_WAIT", &c.MaxExpiryWait}, {"TOLLGATE_LEEWAY", &c.Leeway}, {"TOLLGATE_TIMEOUT", &c.Timeout}, {"TOLLGATE_REVOCATION_PROPAGATION", &c.RevocationPropagation}} {
		if v, ok := lookup(d.name); ok && v != "" {
			parsed, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%s=%q: write a duration such as 30s", d.name, v)
			}
			*d.dst = parsed
		}
	}
	if v, ok := lookup("TOLLGATE_LOAD_MAX_P99"); ok && v != "" {
		parsed, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("TOLLGATE_LOAD_MAX_P99=%q: write a duration such as 20ms", v)
		}
		c.Load.MaxP99 = parsed
	}
	if v, ok := lookup("TOLLGATE_LOAD_MIN_RPS"); ok && v != "" {
		parsed, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("TOLLGATE_LOAD_MIN_RPS=%q: write a number of requests per second such as 5000", v)
		}
		c.Load.MinRPS = parsed
	}
	str("TOLLGATE_LOAD_MAX_ERROR_RATE", &c.Load.MaxErrorRate)
	str("TOLLGATE_FOREIGN_TOKEN", &c.ForeignToken)
	str("TOLLGATE_CONTROL_TOKEN", &c.ControlToken)
	str("TOLLGATE_STALE_TOKEN_FILE", &c.StaleTokenFile)
	if v, ok := lookup("TOLLGATE_OPT_IN"); ok && v != "" {
		c.OptIn = strings.Split(v, ",")
	}
	if v, ok := lookup("TOLLGATE_REQUIRE"); ok && v != "" {
		c.Require = strings.Split(v, ",")
	}
	if v, ok := lookup("TOLLGATE_OPERATIONS"); ok && v != "" {
		c.Operations = nil
		for _, op := range strings.Split(v, ",") {
			c.Operations = append(c.Operations, strings.TrimSpace(op))
		}
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"TOLLGATE_INSECURE", &c.Insecure}, {"TOLLGATE_NO_CONTROL", &c.NoControl}} {
		if v, ok := lookup(b.name); ok && v != "" {
			parsed, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%s=%q: write true or false", b.name, v)
			}
			*b.dst = parsed
		}
	}
	return nil
}

// ParsePathParams parses name=value pairs (--path-param,
// TOLLGATE_PATH_PARAMS) into a map; a later pair beats an earlier one.
func ParsePathParams(pairs []string) (map[string]string, error) {
	out := make(map[string]string, len(pairs))
	for _, pair := range pairs {
		name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || name == "" || value == "" {
			return nil, fmt.Errorf("path parameter %q: write name=value, e.g. id=42", pair)
		}
		out[name] = value
	}
	return out, nil
}

// Requires reports whether the user requires capability (Require), so that
// its absence fails rather than being N/A.
func (c *Config) Requires(capability string) bool { return slices.Contains(c.Require, capability) }

// Validate fills defaults, reads secret files and checks the config. Each
// error is one line that names the fix.
func (c *Config) Validate() error {
	if err := c.Config.Validate(); err != nil {
		return err
	}
	if c.Profile != "" && !slices.Contains(spec.Profiles(), c.Profile) {
		return fmt.Errorf("unknown profile %q: use one of %s", c.Profile, strings.Join(spec.Profiles(), ", "))
	}
	checks := NewChecks()
	for i, id := range c.OptIn {
		c.OptIn[i] = strings.TrimSpace(id)
		if _, ok := checks[c.OptIn[i]]; !ok {
			return fmt.Errorf("opt-in %q is not a check ID (see tollgate check --list-checks)", id)
		}
	}
	for i, name := range c.Require {
		c.Require[i] = strings.TrimSpace(name)
		if err := spec.CheckCapability(c.Require[i]); err != nil {
			return fmt.Errorf("require: %w", err)
		}
	}
	if c.APIBase != "" && !strings.HasPrefix(c.APIBase, "/") {
		return fmt.Errorf("api_base %q: give a path such as /v1 (or / for none)", c.APIBase)
	}
	for name, value := range c.PathParams {
		if name == "" || value == "" {
			return fmt.Errorf("path_params: %q=%q: give a name and a value", name, value)
		}
	}
	if c.APISpec == "" && (c.APIBase != "" || len(c.PathParams) > 0) {
		return errors.New("api_base and path_params apply to an API document: give --api-spec FILE too")
	}
	if c.ClockSkew == 0 {
		c.ClockSkew = DefaultClockSkew
	}
	if c.RevocationPropagation == 0 {
		c.RevocationPropagation = DefaultRevocationPropagation
	}
	for _, ep := range []struct{ name, value string }{{"revocation_endpoint", c.RevocationEndpoint}, {"introspection_endpoint", c.IntrospectionEndpoint}} {
		if ep.value == "" || strings.HasPrefix(ep.value, "/") {
			continue
		}
		if u, err := url.Parse(ep.value); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s %q: give an absolute http(s) URL or a path on the target such as /oauth/revoke", ep.name, ep.value)
		}
		if err := c.MaySendSecretsTo(ep.value); err != nil {
			return fmt.Errorf("%s %w", ep.name, err)
		}
	}
	// Public documents: no secret goes there, so plain http is fine.
	for _, loc := range []struct{ name, value string }{{"jwks_uri", c.JWKSURI}, {"metadata_url", c.MetadataURL}} {
		if loc.value == "" {
			continue
		}
		if err := spec.CheckLocation(loc.value); err != nil {
			return fmt.Errorf("%s: %w: give an absolute http(s) URL or a path on the target", loc.name, err)
		}
	}
	if c.Load.Duration == 0 {
		c.Load.Duration = DefaultLoadDuration
	}
	if c.Load.Requests == 0 {
		c.Load.Requests = DefaultLoadRequests
	}
	if c.Load.Concurrency == 0 {
		c.Load.Concurrency = DefaultLoadConcurrency
	}
	if c.Load.Mix == "" {
		c.Load.Mix = DefaultLoadMix
	}
	if c.Load.Duration < 0 || c.Load.Concurrency < 0 || c.Load.MaxP99 < 0 || c.Load.MinRPS < 0 {
		return errors.New("load: duration, concurrency, max_p99 and min_rps must not be negative")
	}
	if c.ClockSkew < 0 || c.RevocationPropagation < 0 {
		return errors.New("durations, the token budget and the request rate must not be negative")
	}
	return nil
}
