package mockserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate/tollgate/mockserver/tokens"
	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/oautherr"
)

// tokenHandler serves a flow's token operation: POST only, the request read
// and the client authenticated by the flow's clientOperation, then the
// grant type, the client's flows and the scope decide, and the flow's
// minter issues.
func (s *Server) tokenHandler(fr *flowRuntime) http.Handler {
	co := fr.token
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cr, oerr, ok := co.begin(w, r, "token requests must use POST (RFC 6749 section 3.2)")
		if !ok {
			return
		}
		h := w.Header()
		var body []byte
		if oerr == nil {
			body, oerr = s.grant(fr, r, cr)
		}
		if oerr != nil {
			if oerr.Code == temporarilyUnavailable {
				h["Retry-After"] = retryAfter(fr.liveTokens(s.store), s.opts.Clock.Now())
			}
			co.refuse(w, oerr, cr.basic)
			return
		}
		h["Content-Type"] = jsonContentType
		_, _ = w.Write(body)
	})
}

// tokenFields are the members of a token request beyond the credentials.
type tokenFields struct {
	grantType, scope string
}

// readTokenFields takes the grant type and scope from a token request.
func readTokenFields(tok spec.TokenOperation, doc map[string]any) (tokenFields, *oautherr.Error) {
	var f tokenFields
	var err error
	if f.grantType, err = stringField(doc, tok.Request.GrantType); err != nil {
		return f, invalidRequest("%s", err.Error())
	}
	if f.scope, err = stringField(doc, tok.Request.Scope); err != nil {
		return f, invalidRequest("%s", err.Error())
	}
	if tok.GrantType != "" && f.grantType == "" {
		return f, invalidRequest("%s is missing", tok.Request.GrantType.Name())
	}
	return f, nil
}

// grant takes a read token request the rest of the way: its fields, the
// documented schema, the client's credentials, the grant type, the client's
// flows and the scope; then it issues a token and encodes the response.
func (s *Server) grant(fr *flowRuntime, r *http.Request, cr clientRequest) ([]byte, *oautherr.Error) {
	tok := fr.flow.Token
	f, oerr := readTokenFields(tok, cr.doc)
	if oerr != nil {
		return nil, oerr
	}
	if oerr := fr.token.validate(r, cr); oerr != nil {
		return nil, oerr
	}
	client, oerr := fr.token.authenticate(cr)
	if oerr != nil {
		return nil, oerr
	}
	if tok.GrantType != "" && f.grantType != tok.GrantType {
		return nil, oautherr.New(oautherr.UnsupportedGrantType, fmt.Sprintf("grant_type '%s' is not supported here: use %s", truncate(f.grantType, 40), tok.GrantType))
	}
	if !client.mayUse(fr.flow.Name) {
		return nil, oautherr.New(oautherr.UnauthorizedClient, "this client is not allowed to use the "+fr.flow.Name+" flow")
	}
	scope, oerr := grantedScope(fr.flow, client, f.scope)
	if oerr != nil {
		return nil, oerr
	}
	minted, err := fr.minter.mint(r, client, scope)
	if full := (*tokens.FullError)(nil); errors.As(err, &full) {
		return nil, storeFull(full, "live tokens")
	}
	if isTooManyIssuers(err) {
		return nil, oautherr.New(oautherr.InvalidRequest, err.Error())
	}
	var body []byte
	if err == nil {
		body, err = fr.tokenResponse(minted)
	}
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

// tokenMinter mints and records a token for an authenticated client that
// may have scope. Each flow's is chosen by New from its token format.
type tokenMinter interface {
	mint(r *http.Request, client *registeredClient, scope string) (mintedToken, error)
}

// mintedToken is what a token response says about a new token.
type mintedToken struct {
	token    string
	scope    string
	issuedAt time.Time
	lifetime time.Duration
}

// lifetimeOf is the lifetime the flow gives client's tokens.
func (fr *flowRuntime) lifetimeOf(client *registeredClient) time.Duration {
	if client.TokenLifetime != 0 {
		return client.TokenLifetime
	}
	return fr.lifetime
}

// storeMinter mints random tokens (UUIDs or opaque strings) and records
// them in the server's token store.
type storeMinter struct {
	fr       *flowRuntime
	store    *tokens.Store
	clock    Clock
	generate func() (string, error)
}

func (m storeMinter) mint(_ *http.Request, client *registeredClient, scope string) (mintedToken, error) {
	token, err := m.generate()
	if err != nil {
		return mintedToken{}, err
	}
	t := mintedToken{token: token, scope: scope, issuedAt: m.clock.Now(), lifetime: m.fr.lifetimeOf(client)}
	if err := m.store.Add(token, m.fr.grants.get(m.fr.flow.Name, client.ID, scope), t.issuedAt.Add(t.lifetime), t.issuedAt); err != nil {
		return mintedToken{}, err
	}
	return t, nil
}

// jwtMinter mints signed JWTs: self-contained, so nothing is recorded.
type jwtMinter struct {
	s  *Server
	fr *flowRuntime
}

func (m jwtMinter) mint(r *http.Request, client *registeredClient, scope string) (mintedToken, error) {
	// NumericDate has whole seconds: exp - iat is then exactly the lifetime.
	t := mintedToken{scope: scope, issuedAt: m.s.opts.Clock.Now().Truncate(time.Second), lifetime: m.fr.lifetimeOf(client)}
	jti, err := tokens.NewUUID()
	if err != nil {
		return mintedToken{}, err
	}
	iss := m.s.issuer(r)
	if err := m.s.issuers.note(iss); err != nil {
		return mintedToken{}, err
	}
	exp := t.issuedAt.Add(t.lifetime)
	t.token, err = m.fr.keys.Current().Sign(tokens.Claims{
		Issuer: iss, Subject: client.ID, ClientID: client.ID, Scope: scope, ID: jti,
		Audience: append([]string{m.fr.flow.Name}, client.Audience...), IssuedAt: t.issuedAt, ExpiresAt: exp,
		Extra: m.fr.claimsFor(client),
	})
	if err != nil {
		return mintedToken{}, err
	}
	if err := m.fr.issued.Add(jti, m.fr.grants.get(m.fr.flow.Name, client.ID, scope), exp, t.issuedAt); err != nil {
		return mintedToken{}, err // bounded like stored tokens, so that the control API can list and revoke every JWT
	}
	return t, nil
}

// tokenResponse encodes a token response at the flow's pointers. When every
// pointer names a top-level member the members keep the document's order.
func (fr *flowRuntime) tokenResponse(t mintedToken) ([]byte, error) {
	token, expiresIn, scope, createdAt := t.token, int64(t.lifetime/time.Second), t.scope, t.issuedAt.Unix()
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

// liveTokens is the store that holds fr's live tokens: the server's token
// store, or for a jwt flow its record of issued JWTs.
func (fr *flowRuntime) liveTokens(store *tokens.Store) *tokens.Store {
	if fr.issued != nil {
		return fr.issued
	}
	return store
}
