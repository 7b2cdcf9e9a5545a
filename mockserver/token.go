package mockserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/tollgate/tollgate/mockserver/tokens"
	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/authheader"
	"github.com/tollgate/tollgate/spec/oautherr"
)

// tokenRequest is a token request once parsed, before the client is checked.
type tokenRequest struct {
	clientID, secret string
	grantType        string
	scope            string
	basic            bool // the client used (or tried) HTTP Basic
	unauthenticated  bool // a mutated mock issues without client authentication
}

// tokenHandler serves a flow's token operation.
func (s *Server) tokenHandler(fr *flowRuntime) http.Handler {
	cacheControl, pragma, allow := []string{"no-store"}, []string{"no-cache"}, []string{http.MethodPost}
	contentType := []string{"application/json"}
	basicChallenge := basicChallengeFor(fr.flow.Realm)
	acceptsBasic := fr.flow.Token.AcceptsClientAuth(spec.ClientAuthBasic)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Cache-Control"] = cacheControl
		h["Pragma"] = pragma
		if r.Method == http.MethodGet && s.defects != nil && s.defects.tokenOnGet {
			r.Method = http.MethodPost // the defect: treat the GET as a token request
		}
		if r.Method != http.MethodPost {
			h["Allow"] = allow
			writeOAuthError(w, &oautherr.Error{Code: oautherr.InvalidRequest, Status: http.StatusMethodNotAllowed,
				Description: "token requests must use POST (RFC 6749 section 3.2)"})
			return
		}
		req, oerr := s.parseTokenRequest(fr, w, r)
		var body []byte
		if oerr == nil {
			body, oerr = s.grant(fr, req, r)
		}
		if oerr != nil {
			s.writeClientError(w, oerr, req.basic, acceptsBasic, basicChallenge)
			return
		}
		h["Content-Type"] = contentType
		_, _ = w.Write(body)
	})
}

// basicChallenge is the challenge of a 401 invalid_client (RFC 6749 section 5.2).
func basicChallengeFor(realm string) []string {
	return []string{authheader.Challenge{Scheme: "Basic", Params: []authheader.Param{
		{Name: "realm", Value: realm}, {Name: "charset", Value: "UTF-8"},
	}}.String()}
}

// writeClientError answers a failed request to a clientEndpoint. RFC 9110
// section 11.6.1: a 401 carries a challenge. Endpoints that take HTTP Basic
// name it (RFC 6749 section 5.2); others answer invalid_client with 400
// unless Basic was tried.
func (s *Server) writeClientError(w http.ResponseWriter, oerr *oautherr.Error, basicTried, acceptsBasic bool, challenge []string) {
	if oerr.Code == oautherr.InvalidClient {
		switch {
		case s.defects != nil && s.defects.basicWithoutChallenge:
		case basicTried || acceptsBasic:
			w.Header()["Www-Authenticate"] = challenge
		default:
			oerr.Status = http.StatusBadRequest
		}
	}
	writeOAuthError(w, oerr)
}

func writeOAuthError(w http.ResponseWriter, e *oautherr.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.HTTPStatus())
	_, _ = w.Write(e.JSON())
}

func invalidRequest(format string, args ...any) *oautherr.Error {
	return oautherr.New(oautherr.InvalidRequest, fmt.Sprintf(format, args...))
}

// clientEndpoint is an operation a client calls with its own credentials:
// the token operation, and the revocation and introspection operations,
// which authenticate clients by exactly the same rules.
type clientEndpoint struct {
	op           spec.Operation
	mediaTypes   map[string]bool
	mediaList    []string
	acceptsBasic bool
	clientID     spec.Pointer
	clientSecret spec.Pointer
}

func newClientEndpoint(op spec.Operation, mediaTypes, clientAuth []string, id, secret spec.Pointer) *clientEndpoint {
	ep := &clientEndpoint{op: op, mediaTypes: map[string]bool{}, mediaList: mediaTypes,
		acceptsBasic: slices.Contains(clientAuth, spec.ClientAuthBasic), clientID: id, clientSecret: secret}
	for _, mt := range mediaTypes {
		ep.mediaTypes[mt] = true
	}
	return ep
}

// clientRequest is a request to a clientEndpoint once read: the body as a
// JSON-like document and the client credentials, not yet checked.
type clientRequest struct {
	doc              map[string]any
	clientID, secret string
	basic            bool // the client used (or tried) HTTP Basic
}

// readOptions carries the token endpoint's hooks into readClientRequest;
// the zero value is a correct endpoint with no extra checks.
type readOptions struct {
	d              *defects                                // the token endpoint's defects; nil elsewhere
	check          func(cr *clientRequest) *oautherr.Error // endpoint checks before schema validation
	skipValidation bool
}

// readClientRequest reads and checks everything about a request to ep that
// does not depend on who the client is: one Authorization header at most,
// HTTP Basic or body credentials but not both, the media type and charset,
// the size, the encoding and the documented schema.
func (s *Server) readClientRequest(ep *clientEndpoint, w http.ResponseWriter, r *http.Request, o readOptions) (clientRequest, *oautherr.Error) {
	var cr clientRequest
	d := o.d
	if values := r.Header.Values("Authorization"); len(values) > 0 {
		if len(values) > 1 {
			return cr, invalidRequest("send one Authorization header, not %d", len(values))
		}
		id, secret, ok, err := authheader.ParseBasic(values[0])
		cr.basic = ok || err != nil
		switch {
		case err != nil:
			return cr, oautherr.New(oautherr.InvalidClient, "the HTTP Basic credentials are malformed: encode client_id:client_secret as RFC 6749 section 2.3.1 says")
		case ok && (!ep.acceptsBasic || (d != nil && d.rejectBasic)):
			return cr, oautherr.New(oautherr.InvalidClient, "this endpoint does not accept HTTP Basic: send the credentials in the body")
		case ok && d != nil && d.basicNoFormDecode:
			cr.clientID, cr.secret, _ = rawBasic(values[0])
		case ok:
			cr.clientID, cr.secret = id, secret
		}
	}
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !ep.mediaTypes[mediaType] || (d != nil && d.rejectJSON && spec.IsJSONMediaType(mediaType)) {
		return cr, invalidRequest("Content-Type must be one of %s", strings.Join(ep.mediaList, ", "))
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return cr, invalidRequest("charset must be UTF-8")
	}
	tooLarge := func() (clientRequest, *oautherr.Error) {
		e := invalidRequest("the body is larger than %d bytes", s.opts.MaxBodyBytes)
		e.Status = http.StatusRequestEntityTooLarge
		return cr, e
	}
	if r.ContentLength > s.opts.MaxBodyBytes {
		// Refuse before reading, and close the connection: otherwise
		// net/http drains up to 256 KB of unread body before answering.
		w.Header().Set("Connection", "close")
		return tooLarge()
	}
	// The writer tells net/http when the limit is hit, so it closes the
	// connection instead of draining a large body before answering.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return tooLarge()
		}
		return cr, invalidRequest("the body could not be read")
	}
	if !utf8.Valid(body) {
		return cr, invalidRequest("the body is not valid UTF-8")
	}
	cr.doc, err = parseTokenBody(mediaType, body)
	if err != nil && d != nil && d.allowRepeatedParams && mediaType == spec.FormMediaType {
		cr.doc, err = firstFormValues(body)
	}
	if err != nil {
		return cr, invalidRequest("%s", err.Error())
	}
	var bodyID, bodySecret string
	for _, f := range []struct {
		dst *string
		p   spec.Pointer
	}{{&bodyID, ep.clientID}, {&bodySecret, ep.clientSecret}} {
		if *f.dst, err = stringField(cr.doc, f.p); err != nil {
			return cr, invalidRequest("%s", err.Error())
		}
	}
	if cr.basic {
		if bodySecret != "" && (d == nil || !d.allowTwoAuthMethods) {
			return cr, invalidRequest("the client authenticated twice, with HTTP Basic and a secret in the body: use one method (RFC 6749 section 2.3)")
		}
		if bodyID != "" && bodyID != cr.clientID {
			return cr, invalidRequest("the client id in the body differs from the HTTP Basic user")
		}
	} else {
		cr.clientID, cr.secret = bodyID, bodySecret
		if d != nil && d.credentialsInQuery && bodyID == "" && !ep.clientID.IsZero() {
			cr.clientID, cr.secret = queryCredentials(r, ep.clientID.Name(), ep.clientSecret.Name())
		}
	}
	if o.check != nil {
		if oerr := o.check(&cr); oerr != nil {
			return cr, oerr
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := spec.ValidateRequest(r.Context(), ep.op, r, nil); err != nil && !o.skipValidation {
		return cr, invalidRequest("%s", describeValidation(err))
	}
	return cr, nil
}

// noClientAuth is the error for a request that names no client.
func noClientAuth() *oautherr.Error {
	return oautherr.New(oautherr.InvalidClient, "no client authentication: send the client id and secret")
}

// parseTokenRequest reads and checks everything about a token request that
// does not depend on who the client is.
func (s *Server) parseTokenRequest(fr *flowRuntime, w http.ResponseWriter, r *http.Request) (tokenRequest, *oautherr.Error) {
	var req tokenRequest
	tok := fr.flow.Token
	d := s.defects
	skipChecks := d != nil && d.ignoreMissingGrantType
	cr, oerr := s.readClientRequest(fr.tokenEndpoint, w, r, readOptions{d: d, skipValidation: skipChecks, check: func(cr *clientRequest) *oautherr.Error {
		if d != nil {
			if oerr := d.checkParameters(tok, cr.doc); oerr != nil {
				return oerr
			}
		}
		var err error
		if req.grantType, err = stringField(cr.doc, tok.Request.GrantType); err != nil {
			return invalidRequest("%s", err.Error())
		}
		if req.scope, err = stringField(cr.doc, tok.Request.Scope); err != nil {
			return invalidRequest("%s", err.Error())
		}
		if tok.GrantType != "" && req.grantType == "" && !skipChecks {
			return invalidRequest("%s is missing", tok.Request.GrantType.Name())
		}
		return nil
	}})
	req.clientID, req.secret, req.basic = cr.clientID, cr.secret, cr.basic
	if oerr != nil {
		return req, oerr
	}
	if req.clientID == "" && d != nil && d.acceptNoClientAuth && len(s.opts.Clients) > 0 {
		req.clientID, req.unauthenticated = s.opts.Clients[0].ID, true
	}
	if req.clientID == "" {
		return req, noClientAuth()
	}
	return req, nil
}

// describeValidation turns an openapi3filter error into one line naming the
// offending member, never its value (it may be a secret).
func describeValidation(err error) string {
	var schemaErr *openapi3.SchemaError
	if errors.As(err, &schemaErr) {
		where := strings.Join(schemaErr.JSONPointer(), "/")
		if where == "" {
			return "the body does not match the documented schema: " + schemaErr.Reason
		}
		return "member " + where + ": " + schemaErr.Reason
	}
	return "the request does not match the flow document"
}

// grant authenticates the client, checks the grant type and scope, and
// issues a token.
func (s *Server) grant(fr *flowRuntime, req tokenRequest, r *http.Request) ([]byte, *oautherr.Error) {
	client, err := s.authenticate(req.clientID, req.secret)
	if req.unauthenticated {
		client, err = s.clients[req.clientID], nil
	}
	if err != nil {
		return nil, oautherr.New(oautherr.InvalidClient, "client authentication failed: unknown client or wrong secret")
	}
	tok := fr.flow.Token
	anyGrant := s.defects != nil && (s.defects.acceptAnyGrantType || (s.defects.ignoreMissingGrantType && req.grantType == ""))
	if tok.GrantType != "" && req.grantType != tok.GrantType && !anyGrant {
		return nil, oautherr.New(oautherr.UnsupportedGrantType, fmt.Sprintf("grant_type '%s' is not supported here: use %s", truncate(req.grantType, 40), tok.GrantType))
	}
	if !client.mayUse(fr.flow.Name) {
		return nil, oautherr.New(oautherr.UnauthorizedClient, "this client is not allowed to use the "+fr.flow.Name+" flow")
	}
	scope, oerr := grantedScope(fr.flow, client, req.scope)
	if oerr != nil {
		return nil, oerr
	}
	if s.defects != nil && s.defects.grantMoreScope {
		scope = strings.Join(client.allowedScopes(fr.flow), " ")
	}
	body, err := s.issue(fr, client, scope, r)
	if err != nil {
		if s.opts.Logger != nil {
			s.opts.Logger.ErrorContext(r.Context(), "token issuance failed", "flow", fr.flow.Name, "error", err)
		}
		return nil, &oautherr.Error{Code: "server_error", Description: "the mock could not issue a token", Status: http.StatusInternalServerError}
	}
	return body, nil
}

// grantedScope decides the scope of a new token: everything the client may
// have when none is asked for, else exactly what was asked (RFC 6749 section 3.3).
func grantedScope(f *spec.Flow, client *registeredClient, requested string) (string, *oautherr.Error) {
	allowed := client.allowedScopes(f)
	if strings.TrimSpace(requested) == "" {
		return strings.Join(allowed, " "), nil
	}
	var granted []string
	for _, s := range strings.Split(requested, " ") { // RFC 6749 section 3.3: scope-tokens delimited by SP
		switch {
		case s == "":
			continue // leading, trailing or doubled spaces
		case !slices.Contains(f.Scopes, s):
			return "", oautherr.New(oautherr.InvalidScope, fmt.Sprintf("unknown scope '%s' (this flow has: %s)", truncate(s, 40), strings.Join(f.Scopes, " ")))
		case !slices.Contains(allowed, s):
			return "", oautherr.New(oautherr.InvalidScope, fmt.Sprintf("scope '%s' is not allowed for this client", s))
		case !slices.Contains(granted, s):
			granted = append(granted, s)
		}
	}
	return strings.Join(granted, " "), nil
}

// issue mints a token for client, records it, and encodes the response.
func (s *Server) issue(fr *flowRuntime, client *registeredClient, scope string, r *http.Request) ([]byte, error) {
	lifetime := fr.lifetime
	if client.TokenLifetime != 0 {
		lifetime = client.TokenLifetime
	}
	now := s.opts.Clock.Now()
	grant := fr.grants.get(fr.flow.Name, client.ID, scope)
	var token string
	var err error
	switch fr.format {
	case spec.FormatJWT:
		now = now.Truncate(time.Second) // NumericDate has whole seconds: exp - iat is then exactly the lifetime
		jti, err := tokens.NewUUID()
		if err != nil {
			return nil, err
		}
		token, err = fr.signer.Sign(tokens.Claims{
			Issuer: s.issuer(r), Subject: client.ID, ClientID: client.ID, Scope: scope, ID: jti,
			Audience: []string{fr.flow.Name}, IssuedAt: now, ExpiresAt: now.Add(lifetime),
		})
		if err != nil {
			return nil, err
		}
	case spec.FormatOpaque:
		if token, err = tokens.NewOpaque(); err != nil {
			return nil, err
		}
		s.store.Put(token, grant, now.Add(lifetime), now)
	default:
		if token, err = tokens.NewUUID(); err != nil {
			return nil, err
		}
		s.store.Put(token, grant, now.Add(lifetime), now)
	}
	if d := s.defects; d != nil {
		token = d.mangleToken(fr.flow.Name+" "+client.ID, token, func(t string) { s.store.Put(t, grant, now.Add(lifetime), now) })
		token = d.reissue(fr.flow.Name+" "+client.ID, token, now, lifetime)
	}
	return fr.tokenResponse(token, int64(lifetime/time.Second), scope, now.Unix())
}

// tokenResponse encodes a token response at the flow's pointers. When every
// pointer names a top-level member the members keep the document's order.
func (fr *flowRuntime) tokenResponse(token string, expiresIn int64, scope string, createdAt int64) ([]byte, error) {
	fields := fr.flow.Token.Response
	members := []struct {
		p spec.Pointer
		v any
	}{
		{fields.AccessToken, token},
		{fields.TokenType, fr.flow.TokenType},
		{fields.ExpiresIn, expiresIn},
		{fields.Scope, scope},
		{fields.CreatedAt, createdAt},
	}
	if scope == "" {
		// No scope was granted (the flow has none): an empty "scope" member
		// would claim a scope of zero tokens, which RFC 6749 §3.3 does not
		// allow (scope = scope-token *( SP scope-token )).
		members[3].p = spec.Pointer{}
	}
	flat := true
	for _, m := range members {
		if len(m.p.Tokens()) > 1 {
			flat = false
		}
	}
	if !flat {
		doc := map[string]any{}
		for _, m := range members {
			if !m.p.IsZero() {
				if err := m.p.Set(doc, m.v); err != nil {
					return nil, fmt.Errorf("mockserver: token response: %w", err)
				}
			}
		}
		return json.Marshal(doc)
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for _, m := range members {
		if m.p.IsZero() {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(m.p.Name())
		b.Write(name)
		b.WriteByte(':')
		switch v := m.v.(type) {
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		default:
			value, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("mockserver: token response: %w", err)
			}
			b.Write(value)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// scopeList returns the sorted scopes of the first alternative, for the
// scope attribute of an insufficient_scope challenge.
func scopeList(alternatives [][]string) string {
	if len(alternatives) == 0 {
		return ""
	}
	s := append([]string(nil), alternatives[0]...)
	sort.Strings(s)
	return strings.Join(s, " ")
}
