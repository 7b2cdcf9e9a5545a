package mockserver

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tollgate/tollgate/mockserver/tokens"
	"github.com/tollgate/tollgate/spec"
)

// Token defects POST /_tollgate/tokens can mint, for testing resource
// servers: each token is otherwise valid, so only the defect can be why a
// server refuses it.
const (
	DefectExpired       = "expired"       // exp in the past (every token format)
	DefectNotYetValid   = "not-yet-valid" // nbf and iat an hour ahead
	DefectWrongIssuer   = "wrong-issuer"  // iss names another server
	DefectWrongAudience = "wrong-audience"
	DefectBadSignature  = "bad-signature" // the signature altered
	DefectAlgNone       = "alg-none"      // unsigned, alg "none"
	DefectUnknownKid    = "unknown-kid"   // signed by a key whose kid the JWKS lacks
	DefectForeignKey    = "foreign-key"   // signed by another key under the JWKS's kid
)

// TokenDefects lists the defects a minted token can have.
func TokenDefects() []string {
	return []string{DefectExpired, DefectNotYetValid, DefectWrongIssuer, DefectWrongAudience,
		DefectBadSignature, DefectAlgNone, DefectUnknownKid, DefectForeignKey}
}

// MintRequest says what token to mint: the schema of POST /_tollgate/tokens.
type MintRequest struct {
	Flow     string         // required when the server serves several flows
	ClientID string         // default: the seed client, else the first registered one
	Scope    string         // default: every scope the client may have
	Lifetime time.Duration  // default: the client's lifetime on the flow
	Claims   map[string]any // extra JWT claims (jwt flows only)
	Defect   string         // one of TokenDefects; empty for a good token
}

// MintedToken is a token minted through the control API.
type MintedToken struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"`
	ExpiresAt   time.Time `json:"expires_at"`
	Scope       string    `json:"scope,omitempty"`
	Flow        string    `json:"flow"`
	ClientID    string    `json:"client_id"`
	Defect      string    `json:"defect,omitempty"`
}

// Mint mints a token as the control API's POST /_tollgate/tokens does;
// issuer is the token's iss for jwt flows (empty: Options.Issuer, else
// http://localhost). A request that does not fit the server is an error
// naming the field.
func (s *Server) Mint(req MintRequest, issuer string) (MintedToken, error) {
	fr, err := s.mintFlow(req.Flow)
	if err != nil {
		return MintedToken{}, err
	}
	client, err := s.mintClient(fr, req.ClientID)
	if err != nil {
		return MintedToken{}, err
	}
	scope, err := s.mintScope(fr, client, req.Scope)
	if err != nil {
		return MintedToken{}, err
	}
	lifetime := fr.lifetimeOf(client)
	if req.Lifetime != 0 {
		if err := checkLifetime(req.Lifetime); err != nil {
			return MintedToken{}, fieldError("lifetime", "%v", err)
		}
		lifetime = req.Lifetime
	}
	if req.Defect != "" && !slices.Contains(TokenDefects(), req.Defect) {
		return MintedToken{}, fieldError("defect", "unknown defect %q (known: %s)", req.Defect, strings.Join(TokenDefects(), ", "))
	}
	jwt := fr.format == spec.FormatJWT
	if !jwt && req.Defect != "" && req.Defect != DefectExpired {
		return MintedToken{}, fieldError("defect", "%s needs a jwt flow; flow %s issues %s tokens (only %s applies)", req.Defect, fr.flow.Name, fr.format, DefectExpired)
	}
	if !jwt && len(req.Claims) > 0 {
		return MintedToken{}, fieldError("claims", "flow %s issues %s tokens, which carry no claims", fr.flow.Name, fr.format)
	}
	for name := range req.Claims {
		if registeredClaim(name) {
			return MintedToken{}, fieldError("claims", "%q is a claim the server sets itself (use scope, lifetime or defect)", name)
		}
	}
	now := s.clock.Now().Truncate(time.Second)
	issued, expires := now, now.Add(lifetime)
	if req.Defect == DefectExpired {
		issued, expires = now.Add(-lifetime-time.Minute), now.Add(-time.Minute)
	}
	out := MintedToken{TokenType: fr.flow.TokenType, ExpiresAt: expires.UTC(), Scope: scope, Flow: fr.flow.Name, ClientID: client.ID, Defect: req.Defect}
	grant := fr.grants.get(fr.flow.Name, client.ID, scope)
	if !jwt {
		generate := tokens.NewUUID
		if fr.format == spec.FormatOpaque {
			generate = tokens.NewOpaque
		}
		if out.AccessToken, err = generate(); err != nil {
			return MintedToken{}, fmt.Errorf("mockserver: mint: %w", err)
		}
		s.store.Put(out.AccessToken, grant, expires, now)
		return out, nil
	}
	if issuer == "" {
		issuer = s.opts.Issuer
	}
	if issuer == "" {
		issuer = "http://localhost"
	}
	jti, err := tokens.NewUUID()
	if err != nil {
		return MintedToken{}, fmt.Errorf("mockserver: mint: %w", err)
	}
	c := tokens.Claims{Issuer: issuer, Subject: client.ID, ClientID: client.ID, Scope: scope, ID: jti,
		Audience: append([]string{fr.flow.Name}, client.Audience...), IssuedAt: issued, ExpiresAt: expires,
		Extra: fr.claimsFor(client, req.Claims)}
	switch req.Defect {
	case DefectNotYetValid:
		c.IssuedAt, c.NotBefore = now.Add(time.Hour), now.Add(time.Hour)
		c.ExpiresAt = c.IssuedAt.Add(lifetime)
		out.ExpiresAt = c.ExpiresAt.UTC()
	case DefectWrongIssuer:
		c.Issuer = "https://another-issuer.invalid"
	case DefectWrongAudience:
		c.Audience = []string{"another-api"}
	}
	if req.Defect != DefectWrongIssuer {
		if err := s.issuers.note(c.Issuer); err != nil {
			return MintedToken{}, err
		}
	}
	if out.AccessToken, err = s.signMinted(fr, c, req.Defect); err != nil {
		return MintedToken{}, fmt.Errorf("mockserver: mint: %w", err)
	}
	if req.Defect == "" {
		fr.issued.Put(jti, grant, c.ExpiresAt, now)
	}
	return out, nil
}

// signMinted signs c for fr with the key, algorithm and signature the
// defect asks for.
func (s *Server) signMinted(fr *flowRuntime, c tokens.Claims, defect string) (string, error) {
	signer := fr.keys.Current()
	switch defect {
	case DefectAlgNone:
		return unsecuredJWT(c)
	case DefectUnknownKid, DefectForeignKey:
		kid := "unknown-" + c.ID[:8]
		if defect == DefectForeignKey {
			kid = signer.KeyID()
		}
		foreign, err := tokens.NewSigner(tokens.SignerOptions{Algorithm: signer.Algorithm(), KeyID: kid})
		if err != nil {
			return "", err
		}
		return foreign.Sign(c)
	}
	raw, err := signer.Sign(c)
	if err != nil || defect != DefectBadSignature {
		return raw, err
	}
	// Change the signature's first character: still base64url, no longer
	// the signature.
	i := strings.LastIndexByte(raw, '.') + 1
	b := []byte(raw)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b), nil
}

// unsecuredJWT writes c as an unsecured JWS (RFC 7515 appendix A.5): alg
// "none" and an empty signature.
func unsecuredJWT(c tokens.Claims) (string, error) {
	claims := map[string]any{"iss": c.Issuer, "sub": c.Subject, "aud": c.Audience, "client_id": c.ClientID,
		"scope": c.Scope, "jti": c.ID, "iat": c.IssuedAt.Unix(), "nbf": c.IssuedAt.Unix(), "exp": c.ExpiresAt.Unix()}
	for k, v := range c.Extra {
		claims[k] = v
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt"}`))
	return header + "." + base64.RawURLEncoding.EncodeToString(payload) + ".", nil
}

func mergeClaims(layers ...map[string]any) map[string]any {
	var out map[string]any
	for _, l := range layers {
		for k, v := range l {
			if out == nil {
				out = map[string]any{}
			}
			out[k] = v
		}
	}
	return out
}

func (s *Server) mintFlow(name string) (*flowRuntime, error) {
	if name == "" {
		if len(s.flows) == 1 {
			return s.flows[0], nil
		}
		return nil, fieldError("flow", "missing: name one of %s", strings.Join(s.flowNames(), ", "))
	}
	fr := s.flow(name)
	if fr == nil {
		return nil, fieldError("flow", "no flow %q (serving %s)", name, strings.Join(s.flowNames(), ", "))
	}
	return fr, nil
}

func (s *Server) mintClient(fr *flowRuntime, id string) (*registeredClient, error) {
	if id == "" {
		for _, c := range s.clients.list() {
			if rc := s.clients.get(c.ID); rc != nil && rc.mayUse(fr.flow.Name) && (id == "" || c.ID == SeedClientID) {
				id = c.ID
			}
		}
		if id == "" {
			return nil, fieldError("client_id", "missing, and no registered client may use flow %s", fr.flow.Name)
		}
	}
	if c := s.clients.get(id); c != nil {
		if !c.mayUse(fr.flow.Name) {
			return nil, fieldError("client_id", "client %q may not use flow %s (its flows: %s)", id, fr.flow.Name, strings.Join(c.Flows, ", "))
		}
		return c, nil
	}
	return &registeredClient{Client: Client{ID: id}}, nil // an unregistered client: its token still validates
}

func (s *Server) mintScope(fr *flowRuntime, client *registeredClient, requested string) (string, error) {
	if strings.TrimSpace(requested) == "" {
		return strings.Join(client.allowedScopes(fr.flow), " "), nil
	}
	var granted []string
	for _, sc := range strings.Fields(requested) {
		if !slices.Contains(fr.flow.Scopes, sc) {
			return "", fieldError("scope", "unknown scope %q (flow %s has: %s)", sc, fr.flow.Name, strings.Join(fr.flow.Scopes, " "))
		}
		if !slices.Contains(granted, sc) {
			granted = append(granted, sc)
		}
	}
	return strings.Join(granted, " "), nil
}

// LiveToken is a live token as GET /_tollgate/tokens lists it: never the
// token itself, only a fingerprint.
type LiveToken struct {
	Token     string    `json:"token"` // "sha256:1a2b3c4d (36 chars)", or "jti:…" for JWTs
	Flow      string    `json:"flow"`
	ClientID  string    `json:"client_id"`
	Scope     string    `json:"scope,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
}

// LiveTokens lists the live tokens the server has issued (up to limit),
// sorted by expiry.
func (s *Server) LiveTokens(limit int) []LiveToken {
	now := s.clock.Now()
	out := []LiveToken{}
	room := func() bool { return limit <= 0 || len(out) < limit }
	s.store.Range(now, func(token string, g *tokens.Grant, exp time.Time) bool {
		if !room() {
			return false
		}
		out = append(out, LiveToken{Token: fingerprint(token), Flow: g.Flow, ClientID: g.ClientID, Scope: g.Scope, ExpiresAt: exp.UTC()})
		return true
	})
	for _, fr := range s.flows {
		if fr.issued == nil {
			continue
		}
		fr.issued.Range(now, func(jti string, g *tokens.Grant, exp time.Time) bool {
			if !room() {
				return false
			}
			if !fr.isRevoked(jti, "", now) {
				out = append(out, LiveToken{Token: "jti:" + jti, Flow: g.Flow, ClientID: g.ClientID, Scope: g.Scope, ExpiresAt: exp.UTC()})
			}
			return true
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ExpiresAt.Before(out[j].ExpiresAt) })
	return out
}

// fingerprint names a token without showing it, as the request log does.
func fingerprint(token string) string {
	return strings.TrimPrefix(redactAuthorization("Bearer "+token), "Bearer ")
}

// RevokeAllTokens makes every token the server has issued dead: stored
// tokens are forgotten, every live JWT's jti goes on the deny-list.
func (s *Server) RevokeAllTokens() int {
	now := s.clock.Now()
	n := 0
	s.store.Range(now, func(raw string, g *tokens.Grant, exp time.Time) bool {
		n++
		_ = s.revokedStored.Add(raw, g, exp, now) // explains later refusals; a full list says "unknown" instead
		return true
	})
	s.store.Clear()
	for _, fr := range s.flows {
		if fr.issued == nil {
			continue
		}
		var live []string
		grants := map[string]*tokens.Grant{}
		expiry := map[string]time.Time{}
		fr.issued.Range(now, func(jti string, g *tokens.Grant, exp time.Time) bool {
			live = append(live, jti)
			grants[jti], expiry[jti] = g, exp
			return true
		})
		for _, jti := range live {
			fr.revoked.Put(jti, grants[jti], expiry[jti], now)
			fr.issued.Revoke(jti) // not Clear: a JWT issued since the scan stays listed, and revocable
		}
		n += len(live)
	}
	return n
}

func (s *Server) postToken(w http.ResponseWriter, r *http.Request) {
	var req MintRequest
	var lifetime Duration
	err := decodeFields(r, map[string]any{"flow": &req.Flow, "client_id": &req.ClientID, "scope": &req.Scope,
		"lifetime": &lifetime, "claims": &req.Claims, "defect": &req.Defect})
	if err == nil {
		req.Lifetime = time.Duration(lifetime)
		var minted MintedToken
		if minted, err = s.Mint(req, s.issuer(r)); err == nil {
			writeControlJSON(w, http.StatusCreated, minted)
			return
		}
	}
	badControlRequest(w, err)
}

func (s *Server) getTokens(w http.ResponseWriter, _ *http.Request) {
	writeControlJSON(w, http.StatusOK, map[string]any{"tokens": s.LiveTokens(10000)})
}

func (s *Server) deleteTokens(w http.ResponseWriter, _ *http.Request) {
	writeControlJSON(w, http.StatusOK, map[string]int{"revoked": s.RevokeAllTokens()})
}
