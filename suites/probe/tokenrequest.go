package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/authheader"
)

// TokenRequest describes a token request to build from the flow document.
type TokenRequest struct {
	Client    Credentials
	Auth      string            // spec.ClientAuthBody, spec.ClientAuthBasic, or "none"; "": the flow's first
	MediaType string            // "": the flow's first JSON media type, else its first
	Set       map[string]string // members to add or replace, by top-level name
	Omit      []string          // top-level members to leave out
	Method    string            // "": POST
	RawBody   []byte            // sent as is instead of a built body
	Header    http.Header       // extra request headers
}

// RequestToken sends a token request as the flow document describes it. It
// counts against the token budget.
func (p *Prober) RequestToken(ctx context.Context, tr TokenRequest) (*Exchange, error) {
	p.mu.Lock()
	if p.tokensUsed >= p.Config.TokenBudget {
		p.mu.Unlock()
		return nil, fmt.Errorf("%w: the token budget of %d requests is spent; raise --token-budget", ErrInconclusive, p.Config.TokenBudget)
	}
	p.tokensUsed++
	p.mu.Unlock()

	method, rawURL, header, body := p.BuildTokenRequest(tr)
	ex, err := p.Do(ctx, method, rawURL, header, body)
	if err == nil && ex.Status == http.StatusOK {
		// Every issued token stays out of the evidence: each string
		// member named like the token member, so that a response that
		// repeats it (TOK-027) hides them all, not only the one parsed.
		for _, v := range memberStrings(ex.Body, p.Flow.Token.Response.AccessToken.Name()) {
			p.AddSecret(v)
		}
	}
	return ex, err
}

// memberStrings returns the string values of every member called name, at
// any depth, of a JSON document, duplicates included; it stops at the
// first syntax error.
func memberStrings(body []byte, name string) []string {
	type frame struct{ object, key bool } // key: the object's next token is a key
	var stack []frame
	afterValue := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].key = true
		}
	}
	var out []string
	capture := false
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{':
				stack = append(stack, frame{object: true, key: true})
			case '[':
				stack = append(stack, frame{})
			default:
				stack = stack[:len(stack)-1]
				afterValue()
			}
			capture = false
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].key {
			stack[n-1].key = false
			capture = tok == name
			continue
		}
		if s, ok := tok.(string); ok && capture {
			out = append(out, s)
		}
		capture = false
		afterValue()
	}
}

// BuildTokenRequest returns the method, URL, headers and body of the token
// request tr describes, without sending it and without counting it against
// the token budget: the load generator sends it many times.
func (p *Prober) BuildTokenRequest(tr TokenRequest) (method, rawURL string, header http.Header, body []byte) {
	tok := p.Flow.Token
	auth := tr.Auth
	if auth == "" {
		auth = p.DefaultAuth()
	}
	mediaType := tr.MediaType
	if mediaType == "" {
		mediaType = p.DefaultMediaType(auth)
	}
	header = http.Header{}
	for k, vs := range tr.Header {
		header[k] = vs
	}
	if header.Get("Content-Type") == "" {
		header.Set("Content-Type", mediaType)
	}
	header.Set("Accept", "application/json")
	body = tr.RawBody
	if body == nil {
		doc := map[string]any{}
		if auth == spec.ClientAuthBody {
			setPointer(doc, tok.Request.ClientID, tr.Client.ID)
			setPointer(doc, tok.Request.ClientSecret, tr.Client.Secret)
		}
		if tok.GrantType != "" {
			setPointer(doc, tok.Request.GrantType, tok.GrantType)
		}
		for k, v := range tr.Set {
			doc[k] = v
		}
		for _, k := range tr.Omit {
			delete(doc, k)
		}
		body = encodeBody(mediaType, doc)
	}
	if auth == spec.ClientAuthBasic {
		header.Set("Authorization", authheader.FormatBasic(tr.Client.ID, tr.Client.Secret))
	}
	method = tr.Method
	if method == "" {
		method = http.MethodPost
	}
	return method, p.Config.Target + tok.Path, header, body
}

// DefaultAuth is the client authentication requests use unless told
// otherwise: the one that worked in Preflight, else the flow's first.
func (p *Prober) DefaultAuth() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.auth != "" {
		return p.auth
	}
	return p.Flow.Token.ClientAuth[0]
}

// DefaultMediaType is the media type the suite uses for a token request
// with the given client authentication (see requestMediaType).
func (p *Prober) DefaultMediaType(auth string) string {
	return requestMediaType(p.Flow.Token.MediaTypes, auth)
}

// requestMediaType picks the media type of a request to an operation that
// accepts mts, for token, revocation and introspection requests alike:
// form with Basic when the operation takes forms, else the first JSON type,
// else the first listed.
func requestMediaType(mts []string, auth string) string {
	if auth == spec.ClientAuthBasic && slices.Contains(mts, spec.FormMediaType) {
		return spec.FormMediaType
	}
	for _, mt := range mts {
		if spec.IsJSONMediaType(mt) {
			return mt
		}
	}
	return mts[0]
}

func setPointer(doc map[string]any, p spec.Pointer, v string) {
	if !p.IsZero() {
		_ = p.Set(doc, v) // a fresh map: only a scalar in the way could fail, and there is none
	}
}

func encodeBody(mediaType string, doc map[string]any) []byte {
	if mediaType != spec.FormMediaType {
		b, _ := json.Marshal(doc)
		return b
	}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(fmt.Sprint(doc[k])))
	}
	return []byte(strings.Join(parts, "&"))
}
