package mockserver

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/authheader"
	"github.com/tollgate/tollgate/spec/oautherr"
)

// This file holds the mutations that change a request before the correct
// handler reads it, or answer it themselves: the correct handler then does
// what the defective server would have done.

// requestRewrite returns the request the endpoint's handler serves, changed
// or not, or nil when it has answered w itself.
type requestRewrite func(ep endpoint, w http.ResponseWriter, r *http.Request) *http.Request

func rewriteRequests(ep endpoint, rewrites []requestRewrite, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, rw := range rewrites {
			if r = rw(ep, w, r); r == nil {
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// withHeader returns a copy of r whose header name is value ("" deletes
// it); the request log still sees what the client sent.
func withHeader(r *http.Request, name, value string) *http.Request {
	r = r.Clone(r.Context())
	if value == "" {
		r.Header.Del(name)
	} else {
		r.Header.Set(name, value)
	}
	return r
}

// requestBody reads r's body (1 MiB at most) and puts it back.
func requestBody(r *http.Request) []byte { return peekBody(r, 1<<20) }

// editBody lets edit change the decoded body of a token-style request (a
// form or a JSON object); when edit reports a change, the body is encoded
// again on a copy of r. A body that does not decode is left alone.
func editBody(r *http.Request, edit func(doc map[string]any) bool) *http.Request {
	body := requestBody(r)
	form := mediaTypeOf(r) == spec.FormMediaType
	var doc map[string]any
	if form {
		values, err := url.ParseQuery(string(body))
		if err != nil {
			return r
		}
		doc = map[string]any{}
		for k, v := range values {
			doc[k] = v[0]
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if dec.Decode(&doc) != nil || doc == nil {
			return r
		}
	}
	if !edit(doc) {
		return r
	}
	var out []byte
	if form {
		values := url.Values{}
		for k, v := range doc {
			if s, ok := v.(string); ok {
				values.Set(k, s)
			}
		}
		out = []byte(values.Encode())
	} else {
		var err error
		if out, err = json.Marshal(doc); err != nil {
			return r
		}
	}
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(out))
	r.ContentLength = int64(len(out))
	return r
}

// getAsPost serves a GET to the token endpoint as a token request.
func getAsPost(_ endpoint, _ http.ResponseWriter, r *http.Request) *http.Request {
	if r.Method != http.MethodGet {
		return r
	}
	r = r.Clone(r.Context())
	r.Method = http.MethodPost
	return r
}

// basicWithoutFormDecoding hands the handler HTTP Basic credentials as
// sent, without the form-decoding RFC 6749 Appendix B asks for.
func basicWithoutFormDecoding(_ endpoint, _ http.ResponseWriter, r *http.Request) *http.Request {
	header := r.Header.Get("Authorization")
	if _, _, ok, err := authheader.ParseBasic(header); !ok || err != nil {
		return r
	}
	scheme, rest, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return r
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil {
		return r
	}
	id, secret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return r
	}
	return withHeader(r, "Authorization", authheader.FormatBasic(id, secret)) // form-encoded, so the handler decodes them back to what was sent
}

// credentialsFromQuery moves client credentials from the request URI into
// the body of a request that carries none.
func credentialsFromQuery(ep endpoint, _ http.ResponseWriter, r *http.Request) *http.Request {
	req := ep.fr.flow.Token.Request
	if r.Header.Get("Authorization") != "" || req.ClientID.IsZero() {
		return r
	}
	q := r.URL.Query()
	id, secret := q.Get(req.ClientID.Name()), q.Get(req.ClientSecret.Name())
	if id == "" {
		return r
	}
	return editBody(r, func(doc map[string]any) bool {
		if v, _ := stringField(doc, req.ClientID); v != "" {
			return false
		}
		_ = req.ClientID.Set(doc, id)
		if !req.ClientSecret.IsZero() {
			_ = req.ClientSecret.Set(doc, secret)
		}
		return true
	})
}

// refuseBasic refuses token requests that use HTTP Basic.
func refuseBasic(ep endpoint, w http.ResponseWriter, r *http.Request) *http.Request {
	if r.Method != http.MethodPost {
		return r
	}
	if _, _, ok, _ := authheader.ParseBasic(r.Header.Get("Authorization")); !ok {
		return r
	}
	ep.fr.token.refuse(w, oautherr.New(oautherr.InvalidClient, "this endpoint does not accept HTTP Basic: send the credentials in the body"), true)
	return nil
}

// refuseJSON refuses token requests with a JSON body.
func refuseJSON(ep endpoint, w http.ResponseWriter, r *http.Request) *http.Request {
	if r.Method != http.MethodPost || !spec.IsJSONMediaType(mediaTypeOf(r)) {
		return r
	}
	ep.fr.token.refuse(w, ep.fr.token.wrongMediaType(), r.Header.Get("Authorization") != "")
	return nil
}

// dropBodySecretBesideBasic drops the body's secret when HTTP Basic
// authenticates the client too, so two methods pass as one.
func dropBodySecretBesideBasic(ep endpoint, _ http.ResponseWriter, r *http.Request) *http.Request {
	p := ep.fr.flow.Token.Request.ClientSecret
	if _, _, ok, _ := authheader.ParseBasic(r.Header.Get("Authorization")); !ok || len(p.Tokens()) != 1 {
		return r
	}
	return editBody(r, func(doc map[string]any) bool {
		if v, _ := stringField(doc, p); v == "" {
			return false
		}
		delete(doc, p.Name())
		return true
	})
}

// supplyMissingGrantType adds the flow's grant type to a request without one.
func supplyMissingGrantType(ep endpoint, _ http.ResponseWriter, r *http.Request) *http.Request {
	tok := ep.fr.flow.Token
	if tok.GrantType == "" {
		return r
	}
	return editBody(r, func(doc map[string]any) bool {
		if v, ok := tok.Request.GrantType.Get(doc); ok && v != "" {
			return false
		}
		return tok.Request.GrantType.Set(doc, tok.GrantType) == nil
	})
}

// replaceGrantType turns any grant type asked for into the flow's.
func replaceGrantType(ep endpoint, _ http.ResponseWriter, r *http.Request) *http.Request {
	tok := ep.fr.flow.Token
	if tok.GrantType == "" {
		return r
	}
	return editBody(r, func(doc map[string]any) bool {
		v, _ := tok.Request.GrantType.Get(doc)
		if s, ok := v.(string); !ok || s == "" || s == tok.GrantType {
			return false
		}
		return tok.Request.GrantType.Set(doc, tok.GrantType) == nil
	})
}

// refuseUnknownParameters refuses token requests with members the flow
// document does not name.
func refuseUnknownParameters(ep endpoint, w http.ResponseWriter, r *http.Request) *http.Request {
	tok := ep.fr.flow.Token
	known := map[string]bool{}
	for _, p := range []spec.Pointer{tok.Request.ClientID, tok.Request.ClientSecret, tok.Request.GrantType, tok.Request.Scope} {
		if !p.IsZero() {
			known[p.Tokens()[0]] = true
		}
	}
	doc, err := parseTokenBody(mediaTypeOf(r), requestBody(r))
	if err != nil {
		return r
	}
	for k := range doc {
		if !known[k] {
			ep.fr.token.refuse(w, oautherr.New(oautherr.InvalidRequest, "unknown parameter '"+truncate(k, 40)+"'"), r.Header.Get("Authorization") != "")
			return nil
		}
	}
	return r
}

// refuseEmptyScope refuses scope= (RFC 6749 section 3.1 treats it as omitted).
func refuseEmptyScope(ep endpoint, w http.ResponseWriter, r *http.Request) *http.Request {
	p := ep.fr.flow.Token.Request.Scope
	if p.IsZero() {
		return r
	}
	doc, err := parseTokenBody(mediaTypeOf(r), requestBody(r))
	if err != nil {
		return r
	}
	if v, ok := p.Get(doc); ok && v == "" {
		ep.fr.token.refuse(w, oautherr.New(oautherr.InvalidScope, "scope is empty"), r.Header.Get("Authorization") != "")
		return nil
	}
	return r
}

// keepFirstOfRepeatedParameters keeps the first of repeated form parameters.
func keepFirstOfRepeatedParameters(_ endpoint, _ http.ResponseWriter, r *http.Request) *http.Request {
	if mediaTypeOf(r) != spec.FormMediaType {
		return r
	}
	values, err := url.ParseQuery(string(requestBody(r)))
	if err != nil {
		return r
	}
	repeated := false
	for k, v := range values {
		if len(v) > 1 {
			values[k], repeated = v[:1], true
		}
	}
	if !repeated {
		return r
	}
	out := []byte(values.Encode())
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(out))
	r.ContentLength = int64(len(out))
	return r
}

// exactBearerSpelling treats any spelling of the scheme but "Bearer" as no
// credentials.
func exactBearerSpelling(_ endpoint, _ http.ResponseWriter, r *http.Request) *http.Request {
	header := r.Header.Get("Authorization")
	if _, result := authheader.ParseBearer(header); result == authheader.BearerOK && !strings.HasPrefix(strings.TrimSpace(header), "Bearer ") {
		return withHeader(r, "Authorization", "")
	}
	return r
}

// anySchemeAsBearer takes the credentials after any scheme, or none, as a
// Bearer token.
func anySchemeAsBearer(_ endpoint, _ http.ResponseWriter, r *http.Request) *http.Request {
	header := r.Header.Get("Authorization")
	if _, result := authheader.ParseBearer(header); result != authheader.BearerMissing || header == "" {
		return r
	}
	_, rest, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found {
		rest = strings.TrimPrefix(strings.TrimSpace(header), "Bearer")
	}
	if rest = strings.TrimSpace(rest); rest == "" {
		return r
	}
	return withHeader(r, "Authorization", "Bearer "+rest)
}

// queryTokenAsBearer takes an access_token query parameter as the Bearer
// credentials of a request without an Authorization header.
func queryTokenAsBearer(_ endpoint, _ http.ResponseWriter, r *http.Request) *http.Request {
	if r.Header.Get("Authorization") != "" {
		return r
	}
	q := r.URL.Query()
	token := q.Get("access_token")
	if token == "" {
		return r
	}
	r = withHeader(r, "Authorization", "Bearer "+token)
	q.Del("access_token")
	r.URL.RawQuery = q.Encode()
	return r
}

// malformedBearerAs500 answers a malformed Bearer header with a bare 500.
func malformedBearerAs500(_ endpoint, w http.ResponseWriter, r *http.Request) *http.Request {
	if values := r.Header.Values("Authorization"); len(values) == 1 {
		if _, result := authheader.ParseBearer(values[0]); result == authheader.BearerMalformed {
			w.WriteHeader(http.StatusInternalServerError)
			return nil
		}
	}
	return r
}

// refuseSeveralSpaces treats more than one space after Bearer as malformed.
func refuseSeveralSpaces(_ endpoint, _ http.ResponseWriter, r *http.Request) *http.Request {
	header := r.Header.Get("Authorization")
	if _, result := authheader.ParseBearer(header); result == authheader.BearerOK && strings.Contains(header, "Bearer  ") {
		return withHeader(r, "Authorization", "Bearer") // "Bearer" alone is malformed
	}
	return r
}

// requestedToken is the token member of a revocation request; "" when
// there is none.
func requestedToken(ep endpoint, r *http.Request) string {
	doc, err := parseTokenBody(mediaTypeOf(r), requestBody(r))
	if err != nil || ep.fr.flow.Revocation == nil {
		return ""
	}
	token, _ := stringField(doc, ep.fr.flow.Revocation.Request.Token)
	return token
}

// refuseUnknownToken answers 400 for a successful revocation of a token the
// server did not know.
func (m *mutant) refuseUnknownToken(ep endpoint, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := requestedToken(ep, r)
		_, known := m.s.lookupToken(ep.fr, token, m.s.opts.Clock.Now())
		res := captureResponse(next, r)
		if res.status == http.StatusOK && !known {
			res.header = http.Header{}
			ep.fr.revocation.refuse(w, oautherr.New(oautherr.InvalidRequest, "unknown token"), false)
			return
		}
		res.writeTo(w)
	})
}

// revokeForAnyClient revokes a token that the correct handler refused to
// revoke because another client owns it, and answers as for its own.
func (m *mutant) revokeForAnyClient(ep endpoint, next http.Handler) http.Handler {
	co := ep.fr.flow.Revocation
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := requestedToken(ep, r)
		res := captureResponse(next, r)
		if !bytes.Contains(res.body.Bytes(), []byte(`"`+oautherr.UnauthorizedClient+`"`)) {
			res.writeTo(w)
			return
		}
		now := m.s.opts.Clock.Now()
		if info, ok := m.s.lookupToken(ep.fr, token, now); ok {
			_ = ep.fr.invalidate(info, token, now) // a full deny-list: the token stays live, as a defective server's would
		}
		h := w.Header()
		h["Cache-Control"] = noStore
		h["Pragma"] = noCache
		if co.Success.ContentType != "" {
			h.Set("Content-Type", co.Success.ContentType)
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(co.Success.Body)
	})
}

// serveAnonymous answers a request without an Authorization header 200
// with an empty collection, without asking the correct handler; requests
// with credentials go through as usual.
func serveAnonymous(_ endpoint, next http.Handler) http.Handler {
	anonymous := staticJSON(http.StatusOK, []byte(`{"data":[]}`))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			anonymous.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
