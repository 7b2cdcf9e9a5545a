package mockserver

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tollgate/tollgate/mockserver/tokens"
	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/authheader"
)

// This file holds the token-endpoint mutations behind the verdict-accuracy
// work (issue 11): defects real servers have that the TOK checks must
// catch once, and conformant oddities of real servers they must pass.

// sequentialTokens issues tok-001, tok-002, … : a counter, not randomness.
func (m *mutant) sequentialTokens(fr *flowRuntime, next tokenMinter) tokenMinter {
	return minterFunc(func(r *http.Request, client *registeredClient, scope string) (mintedToken, error) {
		t, err := next.mint(r, client, scope)
		if err != nil {
			return t, err
		}
		m.mu.Lock()
		m.sequence++
		t.token = fmt.Sprintf("tok-%03d", m.sequence)
		m.mu.Unlock()
		m.s.store.Put(t.token, fr.grants.get(fr.flow.Name, client.ID, scope), t.issuedAt.Add(t.lifetime), t.issuedAt)
		return t, nil
	})
}

// echoEmptyScope answers a request with scope= with "scope":"", as if the
// empty value were the scope asked for.
func echoEmptyScope(req *mutationRequest, res *capturedResponse) {
	p := req.flow.Token.Request.Scope
	if p.IsZero() || req.flow.Token.Response.Scope.IsZero() {
		return
	}
	doc, err := parseTokenBody(mediaTypeOf(req.Request), req.body)
	if err != nil {
		return
	}
	if v, ok := p.Get(doc); ok && v == "" {
		editJSON(res, func(out map[string]any) { _ = req.flow.Token.Response.Scope.Set(out, "") })
	}
}

// unknownBasicClientAs500 fails with a 500 when HTTP Basic names a client
// the server does not know (go-oauth2's example server does).
func (m *mutant) unknownBasicClientAs500(_ endpoint, w http.ResponseWriter, r *http.Request) *http.Request {
	id, _, ok, err := authheader.ParseBasic(r.Header.Get("Authorization"))
	if !ok || err != nil || m.s.clients.get(id) != nil {
		return r
	}
	http.Error(w, "internal server error", http.StatusInternalServerError)
	return nil
}

// getQueryAsForm serves a bodiless GET whose query holds the token request
// as if it were the form-encoded POST.
func getQueryAsForm(_ endpoint, _ http.ResponseWriter, r *http.Request) *http.Request {
	if r.Method != http.MethodGet || r.URL.RawQuery == "" || len(requestBody(r)) > 0 {
		return r
	}
	form := r.URL.Query().Encode()
	r = r.Clone(r.Context())
	r.Method = http.MethodPost
	r.URL = &url.URL{Path: r.URL.Path}
	r.Header.Set("Content-Type", spec.FormMediaType)
	r.Body = io.NopCloser(strings.NewReader(form))
	r.ContentLength = int64(len(form))
	return r
}

// accessDeniedForPassword refuses grant_type=password with access_denied,
// an authorization-endpoint code (RFC 6749 §4.1.2.1) the token endpoint
// does not have.
func accessDeniedForPassword(req *mutationRequest, res *capturedResponse) {
	doc, err := parseTokenBody(mediaTypeOf(req.Request), req.body)
	if err != nil {
		return
	}
	if g, _ := stringField(doc, req.flow.Token.Request.GrantType); g != "password" {
		return
	}
	editJSON(res, func(out map[string]any) {
		out["error"] = "access_denied"
		out["error_description"] = "the password grant is not allowed"
	})
}

// problemDocument labels an RFC 6749 error as an RFC 9457 problem
// document with type, title and status beside the error member.
func problemDocument(_ *mutationRequest, res *capturedResponse) {
	status := res.status
	editJSON(res, func(out map[string]any) {
		out["type"] = "about:blank"
		out["title"] = strings.ReplaceAll(fmt.Sprint(out["error"]), "_", " ")
		out["status"] = status
	})
	res.header.Set("Content-Type", "application/problem+json")
}

// otherMemberNames renames the token response's top-level members the flow
// document names: camelCase to snake_case and back (accessToken and
// access_token), as a server built for another convention answers.
func otherMemberNames(req *mutationRequest, res *capturedResponse) {
	editJSON(res, func(doc map[string]any) {
		for _, field := range []int{accessTokenField, tokenTypeField, expiresInField, scopeField} {
			p := fieldPointer(req.flow, field)
			if p.IsZero() || len(p.Tokens()) != 1 {
				continue
			}
			name := p.Name()
			if v, ok := doc[name]; ok {
				delete(doc, name)
				doc[otherConvention(name)] = v
			}
		}
	})
}

// otherConvention turns access_token into accessToken and accessToken
// into access_token.
func otherConvention(name string) string {
	var b strings.Builder
	if strings.Contains(name, "_") {
		upper := false
		for _, r := range name {
			switch {
			case r == '_':
				upper = true
			case upper:
				b.WriteString(strings.ToUpper(string(r)))
				upper = false
			default:
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	for _, r := range name {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	if b.String() == name {
		return name + "_value" // one word: still another name
	}
	return b.String()
}

// signWithoutKeyID signs every JWT flow's tokens with a key its headers
// do not name (no kid), and, when others is 1, publishes a second signing
// key beside it: the resource server, and anyone verifying, must then try
// each key of the set.
func signWithoutKeyID(others int) func(s *Server) {
	return func(s *Server) {
		for _, fr := range s.flows {
			if fr.keys == nil {
				continue
			}
			alg := fr.keys.Current().Algorithm()
			signer, err := tokens.NewSigner(tokens.SignerOptions{Algorithm: alg, OmitKeyID: true})
			if err != nil {
				continue
			}
			ring := tokens.NewKeyRing(signer)
			if others > 0 {
				// The other key first, then the kid-less one rotated in as
				// current: both are in the set for good.
				other, err := tokens.NewSigner(tokens.SignerOptions{Algorithm: alg})
				if err != nil {
					continue
				}
				ring = tokens.NewKeyRing(other)
				if ring.Rotate(signer, time.Now().Add(100*365*24*time.Hour)) != nil {
					continue
				}
			}
			fr.keys, fr.firstKey = ring, signer
		}
	}
}
