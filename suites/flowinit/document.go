package flowinit

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tollgate/tollgate/spec"
)

// Operation IDs the document gives the operations it declares itself.
const (
	tokenOperationID         = "issueToken"
	revocationOperationID    = "revokeToken"
	introspectionOperationID = "introspectToken"
)

// requestShape is how a token request is sent: one of the shapes Run
// tries.
type requestShape struct {
	describe  string // for messages, e.g. "a form with HTTP Basic (client_secret_basic)"
	mediaType string // spec.FormMediaType or application/json
	auth      string // spec.ClientAuthBody or spec.ClientAuthBasic
	grantType string // the grant_type value sent; "" for a flow without one
	// clientID and clientSecret are the member names of the credentials
	// in the body; "" with HTTP Basic.
	clientID, clientSecret string
}

// The token request shapes Run knows.
var (
	// jsonBody is the simple flow's request: the first source document's.
	jsonBody = requestShape{describe: "a JSON body with clientId and secret, as in the simple flow", mediaType: "application/json", auth: spec.ClientAuthBody, clientID: "clientId", clientSecret: "secret"}
	// formBasic is RFC 6749 §4.4.2 with §2.3.1 HTTP Basic, which every
	// OAuth 2.0 server MUST accept (RFC 8414 §2 client_secret_basic).
	formBasic = requestShape{describe: "a form with HTTP Basic (client_secret_basic)", mediaType: spec.FormMediaType, auth: spec.ClientAuthBasic, grantType: "client_credentials"}
	// formBody is RFC 6749 §4.4.2 with the credentials in the form (RFC
	// 6749 §2.3.1; RFC 8414 §2 client_secret_post).
	formBody = requestShape{describe: "a form with client_id and client_secret (client_secret_post)", mediaType: spec.FormMediaType, auth: spec.ClientAuthBody, grantType: "client_credentials", clientID: "client_id", clientSecret: "client_secret"}
)

// oauth reports whether the shape is an OAuth 2.0 token request.
func (s requestShape) oauth() bool { return s.grantType != "" }

// clientEndpoint is a revocation or introspection endpoint the metadata
// names, on the target.
type clientEndpoint struct {
	path       string
	metadata   string   // the metadata member that names it
	clientAuth []string // from its *_auth_methods_supported; nil: as at the token endpoint
}

// apiOperation is a protected operation of the user's API document, as the
// flow document lists it.
type apiOperation struct {
	spec.Operation
	note string // what the flow document cannot carry; "" when nothing
}

// draft is everything the document records.
type draft struct {
	target    string
	name      string
	tokenPath string
	request   requestShape   // the request that got the token
	accepted  []string       // the client authentication methods that got a token, request.auth first
	response  *tokenResponse // nil: a document to send the request with, before any response
	format    string         // spec.FormatUUID, spec.FormatJWT or ""
	algorithm string         // for a jwt format; "" to leave the default
	lifetime  int64          // token.lifetime; 0: leave it out

	metadata                  *metadata // used for the locations; nil when none
	metadataURL, jwksURI      string    // as written: a path on the target or a URL
	revocation, introspection *clientEndpoint
	scopes                    []string

	api        *spec.APISpec
	operations []apiOperation

	notes  []string // comments for the header: what was seen and done
	decide []string // the TODO(decide) items, in the order written
}

// todo records a decision left to a person and returns its comment,
// wrapped to fit above a key.
func (d *draft) todo(format string, args ...any) string {
	text := fmt.Sprintf(format, args...)
	d.decide = append(d.decide, text)
	return strings.Join(wrap("TODO(decide): "+text, 76), "\n")
}

// responsePointers returns the token response's pointers: as observed, or
// RFC 6749 §5.1's names before any response.
func (d *draft) responsePointers() (accessToken, tokenType, expiresIn string) {
	if d.response == nil {
		return "/access_token", "/token_type", "/expires_in"
	}
	accessToken, tokenType, expiresIn = d.response.accessToken, d.response.tokenType, d.response.expiresIn
	// RFC 6749 §5.1 requires token_type, and Tollgate reads the lifetime
	// at expires_in: a response without them still gets a place for each,
	// in the naming style of its token member, so that the document loads
	// and TOK-001 reports what is missing.
	camel := strings.Contains(accessToken, "accessToken")
	if tokenType == "" {
		tokenType = map[bool]string{true: "/tokenType", false: "/token_type"}[camel]
	}
	if expiresIn == "" {
		expiresIn = map[bool]string{true: "/expiresIn", false: "/expires_in"}[camel]
	}
	return accessToken, tokenType, expiresIn
}

// encode writes the document as YAML.
func (d *draft) encode() ([]byte, error) {
	d.decide = d.decide[:0]
	root := d.document()
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("encode the flow document: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode the flow document: %w", err)
	}
	return buf.Bytes(), nil
}

// document builds the whole document.
func (d *draft) document() *yaml.Node {
	ext := d.extension()
	paths := d.paths()
	schemes := d.securitySchemes()
	root := mapping(
		field{key: "openapi", value: str("3.0.3")},
		field{key: "info", value: mapping(
			field{key: "title", value: str(fmt.Sprintf("Tollgate flow %q for %s", d.name, d.target))},
			field{key: "version", value: str("0.1.0")},
			field{key: "description", value: str("Written by tollgate init from what the target showed; see the comments marked TODO(decide).")},
		)},
		field{key: spec.ExtensionKey, value: ext},
		field{key: "paths", value: paths, head: d.pathsComment()},
		field{key: "components", value: mapping(field{key: "securitySchemes", value: schemes})},
	)
	root.HeadComment = d.header()
	return &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}
}

// header is the comment above the document.
func (d *draft) header() string {
	lines := []string{
		fmt.Sprintf("Flow document for %s, written by tollgate init.", d.target),
		"Everything below records what the target showed, except where a comment",
		"marked TODO(decide) asks you to decide. Then run:",
		fmt.Sprintf("  tollgate check --target %s --flow THIS_FILE", d.target),
	}
	for _, n := range d.notes {
		lines = append(lines, wrap(n, 76)...)
	}
	return strings.Join(lines, "\n")
}

// wrap breaks a note into comment lines of at most width characters.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = "  " + w
			continue
		}
		if line == "" {
			line = w
		} else {
			line += " " + w
		}
	}
	return append(lines, line)
}

// extension builds x-tollgate.
func (d *draft) extension() *yaml.Node {
	profile, profileNote, profileTodo := "simple", "no grant_type: not OAuth 2.0, judged as the simple flow is", ""
	if d.request.oauth() {
		profile, profileNote = spec.DefaultProfile, ""
		profileTodo = d.todo("the profile the checks judge by: rfc6749 is OAuth 2.0 as published, oauth21 OAuth 2.1, rfc9068 adds RFC 9068's rules for JWT access tokens, cl is Commerce Layer's")
	}
	accessToken, tokenType, expiresIn := d.responsePointers()
	var scope, issued string
	if d.response != nil {
		scope, issued = d.response.scope, d.response.issued
	}
	clientID, clientSecret := d.credentialMembers()
	var optional []string
	if d.revocation != nil {
		optional = append(optional, spec.CapabilityRevocation)
	}
	if d.introspection != nil {
		optional = append(optional, spec.CapabilityIntrospection)
	}
	return mapping(
		field{key: "flow", value: str(d.name)},
		field{key: "profile", value: str(profile), line: profileNote, head: profileTodo},
		field{key: "token", value: d.tokenExtension()},
		field{key: "tokenEndpoint", value: mapping(
			field{key: "operationId", value: str(tokenOperationID)},
			field{key: "clientAuth", value: strList(d.clientAuth()...), line: d.clientAuthNote(), head: d.clientAuthTodo()},
			field{key: "grantType", value: optionalStr(d.request.grantType)},
			field{key: "request", value: mapping(
				field{key: "clientId", value: pointerNode(clientID)},
				field{key: "clientSecret", value: pointerNode(clientSecret)},
				field{key: "grantType", value: pointerNode(map[bool]string{true: "grant_type"}[d.request.oauth()])},
				field{key: "scope", value: pointerNode(map[bool]string{true: "scope"}[d.request.oauth()])},
			), line: "member names of the request tollgate init sent (" + d.request.mediaType + ")"},
			field{key: "response", value: mapping(
				field{key: "accessToken", value: str(accessToken)},
				field{key: "tokenType", value: str(tokenType), line: d.missingNote(d.response != nil && d.response.tokenType == "", "token_type", "RFC 6749 §5.1 REQUIRED")},
				field{key: "expiresIn", value: str(expiresIn), line: d.missingNote(d.response != nil && d.response.expiresIn == "", "expires_in", "RFC 6749 §5.1 RECOMMENDED; Tollgate reads the lifetime here")},
				field{key: "scope", value: optionalStr(scope)},
				field{key: "createdAt", value: optionalStr(issued)},
			), line: "member names of the token response it received"},
		)},
		field{key: "revocationEndpoint", value: d.clientEndpointExtension(d.revocation, revocationOperationID)},
		field{key: "introspectionEndpoint", value: d.clientEndpointExtension(d.introspection, introspectionOperationID)},
		field{key: "jwksUri", value: optionalStr(d.jwksURI), line: "the metadata's jwks_uri"},
		field{key: "metadataUrl", value: optionalStr(d.metadataURL), line: "where tollgate init found the metadata"},
		field{key: "optional", value: strList(optional...), line: "named by the metadata, not called by tollgate init; check --require makes them mandatory"},
	)
}

// missingNote says that a member the document points at was not in the
// response.
func (d *draft) missingNote(missing bool, member, why string) string {
	if !missing {
		return ""
	}
	return fmt.Sprintf("the token response had no %s member (%s): this is where Tollgate will look", member, why)
}

// clientAuth is the token endpoint's clientAuth: the methods that got a
// token, else (before any response) the one being tried.
func (d *draft) clientAuth() []string {
	if len(d.accepted) > 0 {
		return d.accepted
	}
	return []string{d.request.auth}
}

// credentialMembers are the names of the credential members in the body:
// the request's, or RFC 6749 §2.3.1's when body authentication worked
// only with another request than the one recorded.
func (d *draft) credentialMembers() (clientID, clientSecret string) {
	if d.request.clientID != "" {
		return d.request.clientID, d.request.clientSecret
	}
	if slices.Contains(d.clientAuth(), spec.ClientAuthBody) {
		return formBody.clientID, formBody.clientSecret
	}
	return "", ""
}

// clientAuthNote says how the client authenticated.
func (d *draft) clientAuthNote() string {
	if d.response == nil {
		return ""
	}
	if len(d.accepted) > 1 {
		return "each of these got a token; the metadata advertises them"
	}
	return "the token was issued for " + d.request.describe
}

// clientAuthTodo asks about the methods the metadata advertises that were
// not used.
func (d *draft) clientAuthTodo() string {
	others := d.otherAdvertisedMethods()
	if d.response == nil || len(others) == 0 {
		return ""
	}
	return d.todo("the metadata also advertises %s, which got no token with this client (see tollgate init's output): META-003 will say so; fix the target or its metadata",
		strings.Join(others, ", "))
}

// otherAdvertisedMethods are the methods the metadata advertises for the
// token endpoint that got no token.
func (d *draft) otherAdvertisedMethods() []string {
	var out []string
	for _, m := range advertisedMethods(d.metadata, "token_endpoint_auth_methods_supported") {
		if !slices.Contains(d.clientAuth(), shapeOfMethod(m).auth) {
			out = append(out, m)
		}
	}
	return out
}

// tokenExtension builds x-tollgate.token.
func (d *draft) tokenExtension() *yaml.Node {
	var format, alg, typ, lifetime *yaml.Node
	var formatNote, algNote, typNote, lifetimeNote string
	if d.format != "" {
		format, formatNote = str(d.format), "recognised in the token issued; only the mock uses it"
	}
	if d.algorithm != "" {
		alg, algNote = str(d.algorithm), "the alg of the token's JOSE header"
	}
	if d.response != nil && d.response.tokenTypeValue != "" && spec.ValidTokenType(d.response.tokenTypeValue) {
		typ, typNote = str(d.response.tokenTypeValue), "the token_type of the token issued"
	}
	if d.lifetime > 0 {
		lifetime, lifetimeNote = integer(d.lifetime), d.lifetimeNote()
	}
	n := mapping(
		field{key: "format", value: format, line: formatNote},
		field{key: "type", value: typ, line: typNote},
		field{key: "lifetime", value: lifetime, line: lifetimeNote},
		field{key: "algorithm", value: alg, line: algNote},
	)
	if len(n.Content) == 0 {
		return nil
	}
	return n
}

// lifetimeNote says where token.lifetime came from.
func (d *draft) lifetimeNote() string {
	if d.response != nil && d.response.lifetime != d.lifetime {
		return fmt.Sprintf("expires_in was %d: servers compute exp minus now and round down, so %d is the likely setting (TOK-008 accepts a few seconds short)", d.response.lifetime, d.lifetime)
	}
	return "the expires_in of the token issued; TOK-008 compares each token's with it"
}

// clientEndpointExtension builds a revocationEndpoint or
// introspectionEndpoint declaration.
func (d *draft) clientEndpointExtension(ep *clientEndpoint, operationID string) *yaml.Node {
	if ep == nil {
		return nil
	}
	var clientID, clientSecret *yaml.Node
	note := "clients authenticate as at the token endpoint"
	if ep.clientAuth != nil {
		note = "the metadata's " + ep.metadata + "_auth_methods_supported"
		if slices.Contains(ep.clientAuth, spec.ClientAuthBody) {
			clientID, clientSecret = str("/client_id"), str("/client_secret")
		}
	}
	return mapping(
		field{key: "operationId", value: str(operationID)},
		field{key: "clientAuth", value: strList(ep.clientAuth...), line: note},
		field{key: "request", value: mapping(
			field{key: "token", value: str("/token")},
			field{key: "tokenTypeHint", value: str("/token_type_hint")},
			field{key: "clientId", value: clientID},
			field{key: "clientSecret", value: clientSecret},
		)},
	)
}

// pathsComment is the comment above paths: where the protected routes
// come from, or that a person must list them.
func (d *draft) pathsComment() string {
	if d.api != nil {
		lines := wrap(fmt.Sprintf("The protected operations below are those %s secures with a Bearer scheme, each at the path a probe sends (its parameters filled in); tollgate check --api-spec %s probes the same operations with their query, headers and bodies.", d.api.Document, d.api.Document), 76)
		for _, s := range d.api.Skipped {
			lines = append(lines, wrap("Left out: "+s.String(), 76)...)
		}
		return strings.Join(lines, "\n")
	}
	scheme := d.schemeName()
	return d.todo("list your API's protected operations below, or give tollgate check --api-spec YOUR_OPENAPI.yaml; without either, the Bearer checks are N/A") + "\n" +
		fmt.Sprintf("  Each needs security: [{%s: []}], with the scopes it requires if any. For example:\n", scheme) +
		"  /api/items:\n" +
		"    get:\n" +
		fmt.Sprintf("      security: [{%s: []}]\n", scheme) +
		"      responses: {'200': {description: The items.}}"
}

// paths builds the paths: the token operation, the revocation and
// introspection operations, the API's protected operations.
func (d *draft) paths() *yaml.Node {
	n := mapping()
	add := func(path, method string, op *yaml.Node, head string) {
		item := findValue(n, path)
		if item == nil {
			item = mapping()
			key := str(path)
			key.HeadComment = head
			n.Content = append(n.Content, key, item)
		}
		item.Content = append(item.Content, str(method), op)
	}
	add(d.tokenPath, "post", d.tokenOperation(), "")
	if d.revocation != nil {
		add(d.revocation.path, "post", d.clientOperation(revocationOperationID, "RFC 7009 token revocation, at the metadata's revocation_endpoint (not called by tollgate init)", false), "")
	}
	if d.introspection != nil {
		add(d.introspection.path, "post", d.clientOperation(introspectionOperationID, "RFC 7662 token introspection, at the metadata's introspection_endpoint (not called by tollgate init)", true), "")
	}
	for _, op := range d.operations {
		add(op.ProbePath(), strings.ToLower(op.Method), d.apiOperation(op), "")
	}
	return n
}

// findValue returns the value of key in a mapping node, nil when absent.
func findValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// tokenOperation builds the token operation.
func (d *draft) tokenOperation() *yaml.Node {
	props := []field{}
	var required []string
	if d.request.oauth() {
		props = append(props, field{key: "grant_type", value: stringType()})
		required = append(required, "grant_type")
	}
	if clientID, clientSecret := d.credentialMembers(); clientID != "" {
		props = append(props, field{key: clientID, value: stringType()}, field{key: clientSecret, value: stringType()})
		if !slices.Contains(d.clientAuth(), spec.ClientAuthBasic) {
			required = append(required, clientID, clientSecret)
		}
	} else if d.request.oauth() {
		// With Basic the form carries no credentials, but RFC 6749
		// §2.3.1 allows them there: the schema says what they would be.
		props = append(props, field{key: "client_id", value: stringType()}, field{key: "client_secret", value: stringType()})
	}
	if d.request.oauth() {
		props = append(props, field{key: "scope", value: stringType()})
	}
	request := mapping(
		field{key: "type", value: str("object")},
		field{key: "required", value: strList(required...)},
		field{key: "properties", value: mapping(props...)},
	)
	accessToken, tokenType, expiresIn := d.responsePointers()
	shape := &schema{typ: "object"}
	if d.response != nil {
		shape = d.response.shape
	}
	present := d.response != nil
	shape.member(accessToken, "string", present)
	shape.member(tokenType, "string", present && d.response.tokenType != "")
	shape.member(expiresIn, "integer", present && d.response.expiresIn != "")
	if present && d.response.scope != "" {
		shape.member(d.response.scope, "string", true)
	}
	if present && d.response.issued != "" {
		shape.member(d.response.issued, "integer", true)
	}
	return mapping(
		field{key: "operationId", value: str(tokenOperationID)},
		field{key: "summary", value: str("Token request, as tollgate init sent it")},
		field{key: "security", value: emptyList()},
		field{key: "requestBody", value: mapping(
			field{key: "required", value: boolNode(true)},
			field{key: "content", value: mapping(field{key: d.request.mediaType, value: mapping(field{key: "schema", value: request})})},
		)},
		field{key: "responses", value: mapping(field{key: "200", value: mapping(
			field{key: "description", value: str("The token response: the members and JSON types tollgate init received (no values).")},
			field{key: "content", value: mapping(field{key: "application/json", value: mapping(field{key: "schema", value: shape.node()})})},
		)})},
	)
}

// clientOperation builds a revocation or introspection operation: RFC 7009
// §2.1 and RFC 7662 §2.1 requests are form-encoded, with the token and an
// optional token_type_hint, and client credentials as at the token
// endpoint (RFC 6749 §2.3.1).
func (d *draft) clientOperation(id, summary string, introspection bool) *yaml.Node {
	request := mapping(
		field{key: "type", value: str("object")},
		field{key: "required", value: strList("token")},
		field{key: "properties", value: mapping(
			field{key: "token", value: stringType()},
			field{key: "token_type_hint", value: stringType()},
			field{key: "client_id", value: stringType()},
			field{key: "client_secret", value: stringType()},
		)},
	)
	ok := mapping(field{key: "description", value: str("Revoked, or not a valid token (RFC 7009 §2.2).")})
	if introspection {
		ok = mapping(
			field{key: "description", value: str("RFC 7662 §2.2 introspection response.")},
			field{key: "content", value: mapping(field{key: "application/json", value: mapping(field{key: "schema", value: mapping(
				field{key: "type", value: str("object")},
				field{key: "required", value: strList("active")},
				field{key: "properties", value: mapping(field{key: "active", value: flowMapping(field{key: "type", value: str("boolean")})})},
			)})})},
		)
	}
	return mapping(
		field{key: "operationId", value: str(id)},
		field{key: "summary", value: str(summary)},
		field{key: "security", value: emptyList()},
		field{key: "requestBody", value: mapping(
			field{key: "required", value: boolNode(true)},
			field{key: "content", value: mapping(field{key: spec.FormMediaType, value: mapping(field{key: "schema", value: request})})},
		)},
		field{key: "responses", value: mapping(field{key: "200", value: ok})},
	)
}

// apiOperation builds one protected operation of the user's API.
func (d *draft) apiOperation(op apiOperation) *yaml.Node {
	scheme := d.schemeName()
	var security *yaml.Node
	if len(op.Scopes) == 0 {
		security = sequence(flowMapping(field{key: scheme, value: emptyList()}))
	} else {
		var alts []*yaml.Node
		for _, alt := range op.Scopes {
			alts = append(alts, flowMapping(field{key: scheme, value: strList(alt...)}))
		}
		security = sequence(alts...)
	}
	var id *yaml.Node
	if op.ID != op.Method+" "+op.Path {
		id = str(op.ID)
	}
	summary := fmt.Sprintf("%s %s of %s", op.Method, op.Path, d.api.Document)
	return mapping(
		field{key: "operationId", value: id},
		field{key: "summary", value: str(summary), line: op.note},
		field{key: "security", value: security},
		field{key: "responses", value: mapping(field{key: "200", value: mapping(field{key: "description", value: str("As the API document describes it.")})})},
	)
}

// schemeName is the security scheme the protected operations name: oauth2
// for an OAuth 2.0 flow, else an http bearer scheme.
func (d *draft) schemeName() string {
	if d.request.oauth() {
		return "oauth2"
	}
	return "bearer"
}

// securitySchemes builds components.securitySchemes.
func (d *draft) securitySchemes() *yaml.Node {
	if !d.request.oauth() {
		return mapping(field{key: "bearer", value: mapping(
			field{key: "type", value: str("http")},
			field{key: "scheme", value: str("bearer")},
		)})
	}
	scopes := emptyMap()
	if len(d.scopes) > 0 {
		scopes = mapping()
		for _, s := range d.scopes {
			scopes.Content = append(scopes.Content, str(s), str(s))
		}
	}
	var scopeNote string
	if len(d.scopes) > 0 {
		scopeNote = d.todo("the scopes of the metadata's scopes_supported and of the API document: keep those your clients use, and describe each")
	} else {
		scopeNote = d.todo("no scopes known: list those your clients ask for, so that TOK-030 can request one")
	}
	return mapping(field{key: "oauth2", value: mapping(
		field{key: "type", value: str("oauth2")},
		field{key: "flows", value: mapping(field{key: "clientCredentials", value: mapping(
			field{key: "tokenUrl", value: str(d.tokenPath)},
			field{key: "scopes", value: scopes, head: scopeNote},
		)})},
	)})
}

// node renders a schema.
func (s *schema) node() *yaml.Node {
	var fields []field
	if s.typ != "" {
		fields = append(fields, field{key: "type", value: str(s.typ)})
	}
	if s.typ == "array" {
		fields = append(fields, field{key: "items", value: emptyMap()})
	}
	if s.typ == "object" {
		fields = append(fields, field{key: "required", value: strList(s.required...)})
		names := sortedKeys(s.props)
		props := mapping()
		for _, name := range names {
			props.Content = append(props.Content, str(name), s.props[name].node())
		}
		if len(names) > 0 {
			fields = append(fields, field{key: "properties", value: props})
		}
	}
	if len(fields) == 0 {
		return emptyMap()
	}
	if s.typ != "object" {
		return flowMapping(fields...)
	}
	return mapping(fields...)
}

func stringType() *yaml.Node { return flowMapping(field{key: "type", value: str("string")}) }

func boolNode(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(b)}
}

// optionalStr is a string node, nil for "".
func optionalStr(s string) *yaml.Node {
	if s == "" {
		return nil
	}
	return str(s)
}

// pointerNode is the JSON Pointer to a top-level member, nil for "".
func pointerNode(member string) *yaml.Node {
	if member == "" {
		return nil
	}
	return str("/" + escapePointer(member))
}
