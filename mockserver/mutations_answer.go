package mockserver

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/authheader"
)

// This file holds the mutations that rewrite an answer after the correct
// handler wrote it.

// capturedResponse is a response held back so that mutations can change it.
type capturedResponse struct {
	status int
	header http.Header
	body   bytes.Buffer
}

func (c *capturedResponse) Header() http.Header { return c.header }
func (c *capturedResponse) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}
func (c *capturedResponse) Write(p []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	return c.body.Write(p)
}

// responseMutation changes a captured response; req carries the request
// and its body.
type responseMutation func(req *mutationRequest, res *capturedResponse)

type mutationRequest struct {
	*http.Request
	body []byte
	flow *spec.Flow
}

// captureResponse serves r with next and holds the answer back. The
// request body is read first and put back, so it can be read again.
func captureResponse(next http.Handler, r *http.Request) *capturedResponse {
	requestBody(r)
	res := &capturedResponse{header: http.Header{}}
	next.ServeHTTP(res, r)
	if res.status == 0 {
		res.status = http.StatusOK
	}
	return res
}

// writeTo sends the held-back answer.
func (c *capturedResponse) writeTo(w http.ResponseWriter) {
	for k, v := range c.header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(c.status)
	_, _ = w.Write(c.body.Bytes())
}

// mutateResponses wraps a handler so that mutations can rewrite its answers.
func mutateResponses(flow *spec.Flow, muts []responseMutation, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := requestBody(r)
		res := captureResponse(next, r)
		req := &mutationRequest{Request: r, body: body, flow: flow}
		for _, m := range muts {
			m(req, res)
		}
		res.writeTo(w)
	})
}

func successOnly(m responseMutation) responseMutation {
	return func(req *mutationRequest, res *capturedResponse) {
		if res.status < 300 {
			m(req, res)
		}
	}
}

func errorsOnly(m responseMutation) responseMutation {
	return func(req *mutationRequest, res *capturedResponse) {
		if res.status >= 400 {
			m(req, res)
		}
	}
}

func statusOnly(status int, m responseMutation) responseMutation {
	return func(req *mutationRequest, res *capturedResponse) {
		if res.status == status {
			m(req, res)
		}
	}
}

func noCredentialsOnly(m responseMutation) responseMutation {
	return func(req *mutationRequest, res *capturedResponse) {
		if req.Header.Get("Authorization") == "" && res.status == http.StatusUnauthorized {
			m(req, res)
		}
	}
}

func withCredentialsOnly(m responseMutation) responseMutation {
	return func(req *mutationRequest, res *capturedResponse) {
		if req.Header.Get("Authorization") != "" {
			m(req, res)
		}
	}
}

// inOrder applies several mutations to one answer, in order.
func inOrder(ms ...responseMutation) responseMutation {
	return func(req *mutationRequest, res *capturedResponse) {
		for _, m := range ms {
			m(req, res)
		}
	}
}

func dropHeader(name string) responseMutation {
	return func(_ *mutationRequest, res *capturedResponse) { res.header.Del(name) }
}

func setHeader(name, value string) responseMutation {
	return func(_ *mutationRequest, res *capturedResponse) { res.header.Set(name, value) }
}

func setStatus(status int) responseMutation {
	return func(_ *mutationRequest, res *capturedResponse) { res.status = status }
}

func replaceBody(body string) responseMutation {
	return func(_ *mutationRequest, res *capturedResponse) {
		res.body.Reset()
		res.body.WriteString(body)
	}
}

// Token response members, by the flow's pointers.
const (
	accessTokenField = iota
	tokenTypeField
	expiresInField
	scopeField
)

func fieldPointer(f *spec.Flow, field int) spec.Pointer {
	switch field {
	case accessTokenField:
		return f.Token.Response.AccessToken
	case tokenTypeField:
		return f.Token.Response.TokenType
	case scopeField:
		return f.Token.Response.Scope
	default:
		return f.Token.Response.ExpiresIn
	}
}

// editJSON decodes the body, lets edit change it, and encodes it back.
func editJSON(res *capturedResponse, edit func(doc map[string]any)) {
	dec := json.NewDecoder(bytes.NewReader(res.body.Bytes()))
	dec.UseNumber()
	var doc map[string]any
	if dec.Decode(&doc) != nil {
		return
	}
	edit(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		return
	}
	res.body.Reset()
	res.body.Write(out)
}

func setMember(field int, v any) responseMutation {
	return func(req *mutationRequest, res *capturedResponse) {
		editJSON(res, func(doc map[string]any) { _ = fieldPointer(req.flow, field).Set(doc, v) })
	}
}

func mapMember(field int, f func(any) any) responseMutation {
	return func(req *mutationRequest, res *capturedResponse) {
		p := fieldPointer(req.flow, field)
		editJSON(res, func(doc map[string]any) {
			if v, ok := p.Get(doc); ok {
				_ = p.Set(doc, f(v))
			}
		})
	}
}

func dropMember(field int) responseMutation {
	return func(req *mutationRequest, res *capturedResponse) {
		p := fieldPointer(req.flow, field)
		editJSON(res, func(doc map[string]any) {
			parent := doc
			tokens := p.Tokens()
			for _, t := range tokens[:len(tokens)-1] {
				next, ok := parent[t].(map[string]any)
				if !ok {
					return
				}
				parent = next
			}
			delete(parent, p.Name())
		})
	}
}

// repeatMember appends a second copy of a top-level member to the object.
func repeatMember(field int) responseMutation {
	return func(req *mutationRequest, res *capturedResponse) {
		name := fieldPointer(req.flow, field).Name()
		b := bytes.TrimSpace(res.body.Bytes())
		if len(b) < 2 || b[len(b)-1] != '}' {
			return
		}
		key, _ := json.Marshal(name)
		out := append(append([]byte{}, b[:len(b)-1]...), []byte(`,`+string(key)+`:"duplicate"}`)...)
		res.body.Reset()
		res.body.Write(out)
	}
}

func addMember(name string, v any) responseMutation {
	return func(_ *mutationRequest, res *capturedResponse) {
		editJSON(res, func(doc map[string]any) { doc[name] = v })
	}
}

func toString(v any) any { return fmt.Sprint(v) }

func addSeconds(n int64) func(any) any {
	return func(v any) any {
		if num, ok := v.(json.Number); ok {
			if i, err := num.Int64(); err == nil {
				return i + n
			}
		}
		return v
	}
}

func timesThousand(v any) any {
	if num, ok := v.(json.Number); ok {
		if i, err := num.Int64(); err == nil {
			return i * 1000
		}
	}
	return v
}

// echoSecret puts the secret the request carried into the error description.
func echoSecret(req *mutationRequest, res *capturedResponse) {
	secret := ""
	if _, s, ok, _ := authheader.ParseBasic(req.Header.Get("Authorization")); ok {
		secret = s
	} else if doc, err := parseTokenBody(mediaTypeOf(req.Request), req.body); err == nil {
		secret, _ = stringField(doc, req.flow.Token.Request.ClientSecret)
	}
	if secret == "" {
		return
	}
	editJSON(res, func(doc map[string]any) { doc["error_description"] = "wrong secret " + secret })
}

// reflectToken repeats the presented token in a rejection's body.
func reflectToken(req *mutationRequest, res *capturedResponse) {
	if tok, result := authheader.ParseBearer(req.Header.Get("Authorization")); result == authheader.BearerOK {
		editJSON(res, func(doc map[string]any) { doc["token"] = tok })
	}
}

// appendSpace adds a trailing space to a string member.
func appendSpace(v any) any {
	if s, ok := v.(string); ok {
		return s + " "
	}
	return v
}

func splitCacheControl(_ *mutationRequest, res *capturedResponse) {
	if res.header.Get("Cache-Control") != "" {
		res.header["Cache-Control"] = []string{"no-cache", "no-store"}
	}
}

// reorderChallenge reverses the parameters of each challenge and changes
// the case of their names (RFC 9110 section 11.2: case-insensitive).
func reorderChallenge(_ *mutationRequest, res *capturedResponse) {
	values := res.header.Values("Www-Authenticate")
	cs, err := authheader.ParseChallenges(values...)
	if err != nil || len(cs) == 0 {
		return
	}
	var out []string
	for _, c := range cs {
		var params []authheader.Param
		for i := len(c.Params) - 1; i >= 0; i-- {
			p := c.Params[i]
			params = append(params, authheader.Param{Name: strings.ToUpper(p.Name[:1]) + p.Name[1:], Value: p.Value})
		}
		c.Params = params
		out = append(out, c.String())
	}
	res.header["Www-Authenticate"] = out
}

// invalidClient400 answers invalid_client with 400 and no challenge when the
// client did not use HTTP Basic.
func invalidClient400(req *mutationRequest, res *capturedResponse) {
	if _, _, ok, _ := authheader.ParseBasic(req.Header.Get("Authorization")); ok {
		return
	}
	if bytes.Contains(res.body.Bytes(), []byte(`"invalid_client"`)) {
		res.status = http.StatusBadRequest
		res.header.Del("Www-Authenticate")
	}
}

// rateLimit turns every 10th token request into a 429.
func (m *mutant) rateLimit(_ *mutationRequest, res *capturedResponse) {
	m.mu.Lock()
	m.requests++
	limited := m.requests%10 == 0
	m.mu.Unlock()
	if limited {
		res.status = http.StatusTooManyRequests
		res.header = http.Header{"Retry-After": {"1"}, "Cache-Control": {"no-store"}, "Content-Type": {"application/json"}}
		res.body.Reset()
		res.body.WriteString(`{"error":"invalid_request","error_description":"rate limited"}`)
	}
}

// dropJTI re-signs an issued JWT without its jti claim.
func (m *mutant) dropJTI(req *mutationRequest, res *capturedResponse) {
	var signerFlow *flowRuntime
	for _, fr := range m.s.flows {
		if fr.flow == req.flow {
			signerFlow = fr
		}
	}
	if signerFlow == nil || signerFlow.keys == nil {
		return
	}
	keys := signerFlow.keys
	p := fieldPointer(req.flow, accessTokenField)
	editJSON(res, func(doc map[string]any) {
		v, _ := p.Get(doc)
		raw, ok := v.(string)
		if !ok {
			return
		}
		c, err := keys.Verify(raw, m.s.opts.Clock.Now())
		if err != nil {
			return
		}
		// Only the claim goes: a random claim of another name keeps two
		// tokens of one client and second apart, so that revoking one
		// cannot revoke the other (the deny-list keys a JWT without jti
		// by the whole token), which would be a second fault.
		c.ID = ""
		c.Extra = map[string]any{"uniq": rand.Text()}
		if out, err := keys.Current().Sign(c); err == nil {
			_ = p.Set(doc, out)
		}
	})
}

// noContent turns an answer into 204 No Content.
func noContent(_ *mutationRequest, res *capturedResponse) {
	res.status = http.StatusNoContent
	emptyBody(nil, res)
}

// emptyBody drops an answer's body and its Content-Type.
func emptyBody(_ *mutationRequest, res *capturedResponse) {
	res.header.Del("Content-Type")
	res.body.Reset()
}

// isInactive reports whether an introspection answer is the RFC 7662 §2.2
// answer for a token that is not active.
func isInactive(res *capturedResponse) bool {
	return res.status == http.StatusOK && bytes.Equal(res.body.Bytes(), []byte(inactiveJSON))
}

// inactiveAsActive calls whatever is not live active.
func (m *mutant) inactiveAsActive(req *mutationRequest, res *capturedResponse) {
	if !isInactive(res) {
		return
	}
	lifetime := req.flow.Lifetime
	for _, fr := range m.s.flows {
		if fr.flow == req.flow {
			lifetime = fr.lifetime
		}
	}
	now := m.s.opts.Clock.Now()
	body, err := json.Marshal(introspection{Active: true, ClientID: SeedClientID, TokenType: req.flow.TokenType, Sub: SeedClientID,
		Exp: now.Add(lifetime).Unix(), Iat: now.Unix()})
	if err != nil {
		return
	}
	res.body.Reset()
	res.body.Write(body)
}

// inactiveWithClaims says more about an inactive token than RFC 7662 §2.2 wants.
func inactiveWithClaims(req *mutationRequest, res *capturedResponse) {
	if !isInactive(res) {
		return
	}
	res.body.Reset()
	res.body.WriteString(`{"active":false,"client_id":"` + SeedClientID + `","token_type":"` + req.flow.TokenType + `"}`)
}
