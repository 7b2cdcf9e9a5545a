package framework

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tollgate/tollgate/spec"
)

// Level is how much a failed check matters under a profile.
type Level string

// Levels, from the catalog's severities: a failed Must check fails the run,
// a failed Should check is a warning, Info is only reported.
const (
	Must   Level = "MUST"
	Should Level = "SHOULD"
	Info   Level = "INFO"
)

// Area groups checks in reports.
const (
	AreaToken  = "token"
	AreaBearer = "bearer"
	AreaExpiry = "expiry"
)

// Check is one catalog entry.
type Check struct {
	ID     string           // e.g. "TOK-003"; never changes once released
	Area   string           // AreaToken, AreaBearer or AreaExpiry
	Title  string           // one line, what must hold
	Source string           // the normative source and keyword
	Levels map[string]Level // by profile name; "*" is the default for profiles not listed
}

// Level returns the check's level under a profile: its own, else that of
// the profile it extends (spec.ProfileBase), else the default.
func (c Check) Level(profile string) Level {
	for p := profile; p != ""; p = spec.ProfileBase(p) {
		if l, ok := c.Levels[p]; ok {
			return l
		}
	}
	return c.Levels["*"]
}

// SoftLevel returns the level of a check's lesser finding under a profile,
// and false when the check has none: the catalog grades some findings
// below the rest of their check ("FAIL if 200; WARN on the code"), and the
// check reports those through Warn. Under a profile whose level for the
// check is already that low, the finding is simply the check's failure.
func (c Check) SoftLevel(profile string) (Level, bool) {
	soft, ok := softLevels()[c.ID]
	if !ok || c.Level(profile) == soft {
		return "", false
	}
	return soft, true
}

// softLevels are the lesser findings of the checks that have one, by ID,
// each with the catalog's severity it comes from.
func softLevels() map[string]Level {
	return map[string]Level{
		"TOK-011":   Should, // "FAIL <128 bits, WARN <160"; a UUIDv4 under simple (F1)
		"TOK-022":   Should, // "FAIL if 200; WARN on the code"
		"TOK-028":   Should, // "FAIL on 200; WARN for 405 without Allow"
		"BEAR-004":  Should, // FAIL on 2xx; WARN on the status
		"BEAR-016":  Should, // a bare challenge (F9)
		"BEAR-017":  Should, // "FAIL on 2xx; WARN on status/code"
		"EXP-007":   Should, // "FAIL/WARN": over 300 s, over 60 s
		"GQL-006":   Info,   // "INFO for legacy servers": no application/graphql-response+json
		"INTRO-001": Should, // refused, but not with 401
		"INTRO-003": Should, // "FAIL / WARN for extra members"
		"JWT-012":   Should, // "FAIL on 2xx; WARN on fetch"
		"REV-001":   Should, // access tokens not revocable: §2 SHOULD
		"REV-005":   Should, // a refused revocation answered 200 (RFC 7009 §2.1)
	}
}

func all(l Level) map[string]Level { return map[string]Level{"*": l} }

// Catalog returns the checks this suite implements, sorted by ID. The list
// is built afresh on each call, so no caller can change another's.
func Catalog() []Check {
	checks := []Check{
		{"TOK-001", AreaToken, "Valid credentials give 200 and a token body that matches the documented schema", `RFC 6749 §5.1 "200 (OK)"; access_token and token_type "REQUIRED"`, all(Must)},
		{"TOK-002", AreaToken, "The token response media type is application/json", `RFC 6749 §5.1 "application/json" media type`, all(Must)},
		{"TOK-003", AreaToken, "Cache-Control: no-store on every response that carries a token", `RFC 6749 §5.1 "MUST include … Cache-Control … no-store"`, map[string]Level{"*": Must, "simple": Should}},
		{"TOK-004", AreaToken, "Pragma: no-cache on token responses", `RFC 6749 §5.1 "Pragma … no-cache" (dropped by OAuth 2.1)`, map[string]Level{"*": Info, "rfc6749": Must}},
		{"TOK-005", AreaToken, "Token-endpoint error responses are no-store too", `RFC 6749 §5.2 examples; OAuth 2.1 §3.2.4`, all(Should)},
		{"TOK-006", AreaToken, "token_type is Bearer, compared case-insensitively", `RFC 6749 §5.1 token_type "case insensitive"; RFC 6750 §4`, all(Must)},
		{"TOK-007", AreaToken, "expires_in is a JSON number holding a positive integer", `RFC 6749 §5.1 "Numerical values are included as JSON numbers"; App. A.14`, all(Must)},
		{"TOK-008", AreaToken, "expires_in equals the documented lifetime (up to 5 s or 1% short: exp minus now, rounded down)", `RFC 6749 §5.1 "document the default value"; the flow document`, all(Must)},
		{"TOK-009", AreaToken, "The token can be sent in an Authorization header (b64token)", `RFC 6750 §2.1 b64token`, all(Must)},
		{"TOK-010", AreaToken, "Successive issuances return distinct tokens", `RFC 6749 §10.3 "cannot be generated, modified, or guessed"`, map[string]Level{"*": Should, "simple": Must}},
		{"TOK-011", AreaToken, "Tokens carry at least 128 bits of randomness, with no sequence or structure (WARN under 160, and for a random UUIDv4 under simple)", `RFC 6749 §10.10 "MUST be less than or equal to 2^(-128) and SHOULD be less than or equal to 2^(-160)"`, all(Must)},
		{"TOK-012", AreaToken, "A wrong client secret is rejected with invalid_client", `RFC 6749 §4.4.2 "MUST authenticate the client"; §5.2 invalid_client`, all(Must)},
		{"TOK-013", AreaToken, "An unknown client_id is rejected with invalid_client", `RFC 6749 §5.2 invalid_client "unknown client"`, all(Must)},
		{"TOK-014", AreaToken, "A request without client authentication is rejected", `RFC 6749 §5.2 invalid_client "no client authentication included"`, all(Must)},
		{"TOK-015", AreaToken, "Failed Basic authentication gives 401 with a Basic challenge", `RFC 6749 §5.2 "MUST respond with … 401 … WWW-Authenticate … matching the authentication scheme"`, all(Must)},
		{"TOK-016", AreaToken, "HTTP Basic client authentication is supported", `RFC 6749 §2.3.1 "MUST support the HTTP Basic authentication scheme"`, map[string]Level{"*": Info, "rfc6749": Must}},
		{"TOK-017", AreaToken, "Basic credentials are form-urlencoded before base64 (RFC 6749 Appendix B)", `RFC 6749 §2.3.1 "The client identifier is encoded using the application/x-www-form-urlencoded encoding algorithm"`, map[string]Level{"*": Must, "cl": Info}},
		{"TOK-018", AreaToken, "Client credentials in the request body are supported", `RFC 6749 §2.3.1 MAY; OAuth 2.1 §2.4.1 MUST`, map[string]Level{"*": Must, "rfc6749": Info}},
		{"TOK-019", AreaToken, "A form-encoded token request is accepted", `RFC 6749 §4.4.2 application/x-www-form-urlencoded`, map[string]Level{"*": Must, "cl": Info}},
		{"TOK-020", AreaToken, "A JSON token request is accepted (vendor)", `Commerce Layer docs: application/json and application/vnd.api+json`, map[string]Level{"*": Info, "cl": Must}},
		{"TOK-021", AreaToken, "Two client-authentication methods in one request are rejected", `RFC 6749 §2.3 "MUST NOT use more than one authentication method"`, all(Should)},
		{"TOK-022", AreaToken, "A missing grant_type gives no token (FAIL), and 400 invalid_request (WARN)", `RFC 6749 §4.4.2 grant_type "REQUIRED"; §5.2 invalid_request`, all(Must)},
		{"TOK-023", AreaToken, "An unsupported grant gives no token", `RFC 6749 §5.2 unsupported_grant_type`, all(Must)},
		{"TOK-024", AreaToken, "Unrecognized request parameters are ignored", `RFC 6749 §3.2 "MUST ignore unrecognized request parameters"`, all(Must)},
		{"TOK-025", AreaToken, "A parameter without a value counts as omitted", `RFC 6749 §3.2 "MUST be treated as if they were omitted"`, all(Must)},
		{"TOK-026", AreaToken, "A repeated parameter is rejected", `RFC 6749 §3.2 "MUST NOT be included more than once"`, all(Should)},
		{"TOK-027", AreaToken, "Token response members are not duplicated", `RFC 6749 §3.2 (response side)`, all(Must)},
		{"TOK-028", AreaToken, "Tokens are issued only on POST (WARN for 405 without Allow; the request in a GET query on loopback or with --opt-in TOK-028)", `RFC 6749 §3.2 "MUST use the HTTP POST method"; RFC 9110 §15.5.6 Allow`, all(Must)},
		{"TOK-029", AreaToken, "Client credentials in the request URI are not accepted", `RFC 6749 §2.3.1 "MUST NOT be included in the request URI" (derived)`, all(Should)},
		{"TOK-030", AreaToken, "The granted scope is returned when it differs from the request; unknown scopes are refused or dropped", `RFC 6749 §3.3 "MUST include the scope response parameter"`, all(Must)},
		{"TOK-031", AreaToken, "The scope value has the RFC syntax, in every token response of the run", `RFC 6749 §3.3 scope = scope-token *( SP scope-token )`, all(Must)},
		{"TOK-032", AreaToken, "Error bodies have a registered error code in the RFC character set", `RFC 6749 §5.2 error "REQUIRED"; character sets`, all(Must)},
		{"TOK-033", AreaToken, "Error status codes: 400, or 400/401 for invalid_client", `RFC 6749 §5.2 "HTTP 400 … (unless specified otherwise)"`, all(Must)},
		{"TOK-034", AreaToken, "No refresh token for client credentials", `RFC 6749 §4.4.3 "A refresh token SHOULD NOT be included"`, all(Should)},
		{"TOK-035", AreaToken, "No credential echo and no stack traces in responses", `ASVS 5.0 16.5.1`, all(Must)},
		{"TOK-036", AreaToken, "The token endpoint requires TLS", `RFC 6749 §3.2 "MUST require the use of TLS"`, all(Must)},
		{"TOK-037", AreaToken, "Repeated wrong secrets meet brute-force protection (opt-in)", `RFC 6749 §2.3.1 "MUST protect any endpoint … against brute force attacks"`, all(Info)},
		{"TOK-038", AreaToken, "Malformed input gets a 4xx, and no token-endpoint request of the run a 5xx or a hang", `RFC 9110 §15.5.1; project rule`, all(Must)},
		{"TOK-039", AreaToken, "created_at agrees with the server clock (vendor)", `Commerce Layer token response created_at`, all(Should)},
		{"TOK-040", AreaToken, "The documented request schema is enforced", `the flow document's required members`, all(Must)},

		{"BEAR-001", AreaBearer, "A valid token in the Authorization header is accepted", `RFC 6750 §2.1 "Resource servers MUST support this method"`, all(Must)},
		{"BEAR-002", AreaBearer, "No credentials gives 401 with a Bearer challenge", `RFC 6750 §3 "MUST include the HTTP WWW-Authenticate"; RFC 9110 §11.6.1`, all(Must)},
		{"BEAR-003", AreaBearer, "No error code when the request carried no credentials", `RFC 6750 §3.1 "SHOULD NOT include an error code"`, all(Should)},
		{"BEAR-004", AreaBearer, "An unknown token gives 401 invalid_token", `RFC 6750 §3.1 invalid_token "SHOULD respond with the HTTP 401"`, all(Must)},
		{"BEAR-005", AreaBearer, "A modified valid token is rejected", `RFC 6749 §10.3; RFC 9068 §4`, all(Must)},
		{"BEAR-006", AreaBearer, "The auth scheme is case-insensitive", `RFC 9110 §11.1; OAuth 2.1 §5.1.1`, all(Must)},
		{"BEAR-007", AreaBearer, "A wrong scheme with a valid token is refused", `RFC 6750 §2.1 credentials = "Bearer" 1*SP b64token`, all(Must)},
		{"BEAR-008", AreaBearer, "An empty bearer is handled cleanly (4xx, never 2xx or 5xx)", `RFC 6750 §2.1; §3.1 invalid_request`, all(Must)},
		{"BEAR-009", AreaBearer, "Characters outside b64token are rejected cleanly", `RFC 6750 §2.1; §3.1 invalid_request`, all(Must)},
		{"BEAR-010", AreaBearer, "Several spaces after the scheme are tolerated", `RFC 6750 §2.1 1*SP`, all(Should)},
		{"BEAR-011", AreaBearer, "A token in the URI query is not accepted", `OAuth 2.1 §5.1 "MUST ignore access tokens in a URI query parameter"`, map[string]Level{"*": Must, "rfc6749": Info}},
		{"BEAR-012", AreaBearer, "If query tokens work, the response is Cache-Control: private", `RFC 6750 §2.3 "SHOULD contain a Cache-Control header with the private option"`, all(Should)},
		{"BEAR-013", AreaBearer, "A token in the body of a GET is not accepted", `RFC 6750 §2.2 "the GET method MUST NOT be used"`, all(Should)},
		{"BEAR-014", AreaBearer, "A token sent two ways gives 400 invalid_request", `RFC 6750 §3.1 invalid_request "more than one method"`, all(Should)},
		{"BEAR-015", AreaBearer, "Duplicate Authorization headers are not honoured", `hardening (RFC 9110 §5.3's MUST NOT binds the sender)`, all(Should)},
		{"BEAR-016", AreaBearer, "The challenge is well formed", `RFC 6750 §3 "MUST be followed by one or more auth-param values"`, all(Must)},
		{"BEAR-017", AreaBearer, "insufficient_scope gives 403 with a challenge", `RFC 6750 §3.1 insufficient_scope "SHOULD respond with … 403"`, all(Must)},
		{"BEAR-018", AreaBearer, "401 and 403 keep their meanings", `RFC 9110 §15.5.4`, all(Should)},
		{"BEAR-019", AreaBearer, "Every secured operation in the document enforces auth", `the flow document's security requirements; RFC 6750 §3`, all(Must)},
		{"BEAR-020", AreaBearer, "Path and method variants do not bypass auth", `hardening (ASVS 5.0 V8)`, all(Should)},
		{"BEAR-021", AreaBearer, "Rejections do not reflect the token", `ASVS 5.0 16.5.1`, all(Must)},
		{"BEAR-022", AreaBearer, "A token for another audience or resource server is refused", `RFC 9700 §2.3 "MUST refuse to serve the respective request"; RFC 9068 §4 aud`, all(Must)},
		{"BEAR-023", AreaBearer, "Client credentials are not accepted as API auth", `hardening`, all(Should)},
		{"BEAR-024", AreaBearer, "401/403 responses are not cacheable", `not normative`, all(Info)},
		{"BEAR-025", AreaBearer, "Invalid tokens and forgeries do not disturb a valid one", `jwt_tool persistence check: verdicts after an invalid token are void if the original stops working`, all(Must)},

		{"EXP-001", AreaExpiry, "The lifetime is advertised", `RFC 6749 §5.1 expires_in "RECOMMENDED"`, map[string]Level{"*": Should, "simple": Must}},
		{"EXP-002", AreaExpiry, "The lifetime is plausible (seconds, not milliseconds)", `OIDF ValidateExpiresIn`, all(Should)},
		{"EXP-003", AreaExpiry, "Bearer tokens are short-lived (one hour or less)", `RFC 6750 §5.3 "SHOULD issue short-lived (one hour or less)"`, all(Should)},
		{"EXP-004", AreaExpiry, "The token works right after issuance", `advisory (OAuth 2.1 §3.2.3)`, all(Must)},
		{"EXP-005", AreaExpiry, "An expired token is rejected", `OAuth 2.1 §5.2 "MUST check that the access token is not yet expired"`, all(Must)},
		{"EXP-006", AreaExpiry, "The expired-token challenge names invalid_token", `RFC 6750 §3 "SHOULD include the error attribute"`, all(Should)},
		{"EXP-007", AreaExpiry, "The grace period after exp is bounded (FAIL over 300 s, WARN over 60 s)", `RFC 7519 §4.1.4 "usually no more than a few minutes"`, all(Must)},
		{"EXP-008", AreaExpiry, "JWT exp and iat agree with expires_in", `RFC 9068 §2.2 exp, iat "REQUIRED"`, all(Must)},
		{"EXP-009", AreaExpiry, "The server clock agrees with ours (Date header)", `RFC 9110 §6.6.1 "MUST generate a Date header"`, all(Should)},
		{"EXP-010", AreaExpiry, "Expiry does not slide with use", `implied by exp semantics`, all(Must)},
		{"EXP-011", AreaExpiry, "Re-issuance after expiry gives a new, working token", `RFC 6749 §4.4`, all(Must)},
		{"EXP-012", AreaExpiry, "A token saved by an earlier run is rejected once past its lifetime", `OAuth 2.1 §5.2 "MUST check that the access token is not yet expired"`, all(Must)},
	}
	checks = append(checks, moduleChecks()...)
	checks = append(checks, graphqlChecks()...)
	sort.Slice(checks, func(i, j int) bool { return checks[i].ID < checks[j].ID })
	return checks
}

// Checks indexes the catalog by ID.
type Checks map[string]Check

// NewChecks returns the catalog indexed by ID.
func NewChecks() Checks {
	m := Checks{}
	for _, c := range Catalog() {
		m[c.ID] = c
	}
	return m
}

// MarkdownTable renders the catalog as the table in docs/checks.md.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| ID | area | what must hold | source | " + strings.Join(spec.Profiles(), " | ") + " |\n|---|---|---|---|" + strings.Repeat("---|", len(spec.Profiles())) + "\n")
	for _, c := range Catalog() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |", c.ID, c.Area, c.Title, strings.ReplaceAll(c.Source, "|", `\|`))
		for _, p := range spec.Profiles() {
			level := string(c.Level(p))
			if soft, ok := c.SoftLevel(p); ok {
				level += " (" + string(soft) + ")"
			}
			fmt.Fprintf(&b, " %s |", level)
		}
		b.WriteString("\n")
	}
	return b.String()
}
