package mockserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/mockserver/mockservertest"
	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/authheader"
	"github.com/tollgate/tollgate/spec/oautherr"
)

// exchange is one request and its response, body read.
type exchange struct {
	req    *http.Request
	status int
	header http.Header
	body   []byte
}

// send performs req against srv and, when the request is for a documented
// operation, validates the response against the flow document: a mock that
// drifts from its own documents fails here.
func send(t *testing.T, srv *mockservertest.Server, req *http.Request) exchange {
	t.Helper()
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			t.Fatal(err)
		}
		req.Body = io.NopCloser(strings.NewReader(string(reqBody)))
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	ex := exchange{req: req, status: resp.StatusCode, header: resp.Header, body: body}
	if op, ok := documented(srv, req); ok {
		// Validate with a fresh copy of the request as the server saw it.
		vreq := req.Clone(context.Background())
		vreq.Body = io.NopCloser(strings.NewReader(string(reqBody)))
		if err := spec.ValidateResponse(context.Background(), op, vreq, resp.StatusCode, resp.Header, body); err != nil {
			t.Errorf("%s %s: response drifts from the document: %v\nbody: %s", req.Method, req.URL.Path, err, body)
		}
	}
	return ex
}

// documented finds the operation of a served flow that req targets.
func documented(srv *mockservertest.Server, req *http.Request) (spec.Operation, bool) {
	for _, f := range srv.Mock.Flows() {
		if f.Token.Path == req.URL.Path && f.Token.Method == req.Method {
			return f.Token.Operation, true
		}
		for _, co := range []*spec.ClientOperation{f.Revocation, f.Introspection} {
			if co != nil && co.Path == req.URL.Path && co.Method == req.Method {
				return co.Operation, true
			}
		}
		for _, op := range f.Operations {
			if op.Method == req.Method && pathMatches(op.Path, req.URL.Path) {
				return op, true
			}
		}
	}
	return spec.Operation{}, false
}

func pathMatches(template, path string) bool {
	ts, ps := strings.Split(template, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i := range ts {
		if !strings.HasPrefix(ts[i], "{") && ts[i] != ps[i] {
			return false
		}
	}
	return true
}

func newRequest(t *testing.T, method, url, contentType, body string) *http.Request {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// token gets a token from a flow with the body credentials of a client.
func token(t *testing.T, srv *mockservertest.Server, flow, id, secret string) string {
	t.Helper()
	f := srv.Flow(t, flow)
	doc := map[string]any{}
	mustSet(t, f.Token.Request.ClientID, doc, id)
	mustSet(t, f.Token.Request.ClientSecret, doc, secret)
	if f.Token.GrantType != "" {
		mustSet(t, f.Token.Request.GrantType, doc, f.Token.GrantType)
	}
	body, _ := json.Marshal(doc)
	ex := send(t, srv, newRequest(t, http.MethodPost, srv.URL+f.Token.Path, jsonMediaType(f), string(body)))
	if ex.status != http.StatusOK {
		t.Fatalf("token for %s on %s: status %d: %s", id, flow, ex.status, ex.body)
	}
	tr, err := f.ParseTokenResponse(ex.body)
	if err != nil {
		t.Fatalf("token response: %v", err)
	}
	return tr.AccessToken
}

func jsonMediaType(f *spec.Flow) string {
	for _, mt := range f.Token.MediaTypes {
		if spec.IsJSONMediaType(mt) {
			return mt
		}
	}
	return f.Token.MediaTypes[0]
}

func mustSet(t *testing.T, p spec.Pointer, doc map[string]any, v string) {
	t.Helper()
	if p.IsZero() {
		return
	}
	if err := p.Set(doc, v); err != nil {
		t.Fatal(err)
	}
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

// oauthError parses an RFC 6749/6750 error body, failing on a malformed one.
func oauthError(t *testing.T, body []byte) *oautherr.Error {
	t.Helper()
	e, err := oautherr.Parse(body)
	if err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	return e
}

// bearerChallenge returns the Bearer challenge of a response.
func bearerChallenge(t *testing.T, h http.Header) authheader.Challenge {
	t.Helper()
	cs, err := authheader.ParseChallenges(h.Values("WWW-Authenticate")...)
	if err != nil {
		t.Fatalf("WWW-Authenticate %q: %v", h.Values("WWW-Authenticate"), err)
	}
	c, ok := authheader.Find(cs, "Bearer")
	if !ok {
		t.Fatalf("no Bearer challenge in %q", h.Values("WWW-Authenticate"))
	}
	return c
}
