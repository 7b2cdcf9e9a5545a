package framework

import (
	"context"
	"net/http"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/authheader"
)

// ActionEndpoint is a revocation (RFC 7009) or introspection (RFC 7662)
// endpoint of the target: where it is, who said so, and how to call it.
type ActionEndpoint struct {
	URL    string
	Source string                // "the flow document", "the configuration" or "RFC 8414 metadata"
	Op     *spec.ClientOperation // the flow document's declaration; nil: the RFC's form-encoded request
	// AuthMethods are the client authentication methods the metadata
	// advertises for it (RFC 8414 names); empty when it says nothing.
	AuthMethods []string
}

// TokenActionRequest is one revocation or introspection request.
type TokenActionRequest struct {
	Client Credentials
	Auth   string // spec.ClientAuthBody, spec.ClientAuthBasic or "none"; "": the endpoint's default
	Token  string
	Hint   string // token_type_hint; sent only when the endpoint has a place for it
}

// clientAuth is what the endpoint accepts, in order of preference.
func (ep *ActionEndpoint) clientAuth(f *Framework) []string {
	if ep.Op != nil {
		return ep.Op.ClientAuth
	}
	var out []string
	for _, m := range ep.AuthMethods {
		switch m {
		case "client_secret_basic":
			out = append(out, spec.ClientAuthBasic)
		case "client_secret_post":
			out = append(out, spec.ClientAuthBody)
		}
	}
	if len(out) == 0 {
		out = f.Flow.Token.ClientAuth
	}
	return out
}

// DefaultAuth is the client authentication the suite uses at ep: the one
// that got the primary token when ep accepts it, else ep's first.
func (ep *ActionEndpoint) DefaultAuth(f *Framework) string {
	accepted := ep.clientAuth(f)
	if def := f.DefaultAuth(); contains(accepted, def) {
		return def
	}
	return accepted[0]
}

// TokenAction sends a revocation or introspection request to ep as the
// flow document describes it, or as RFC 7009 §2.1 / RFC 7662 §2.1 do
// (application/x-www-form-urlencoded, token, client_id and client_secret)
// when the document says nothing. It does not count against the token
// budget.
func (f *Framework) TokenAction(ctx context.Context, ep *ActionEndpoint, req TokenActionRequest) (*Exchange, error) {
	auth := req.Auth
	if auth == "" {
		auth = ep.DefaultAuth(f)
	}
	mediaType := spec.FormMediaType
	fields := spec.ClientRequestFields{}
	if ep.Op != nil {
		fields = ep.Op.Request
		mediaType = actionMediaType(ep.Op.MediaTypes, auth)
	}
	doc := map[string]any{}
	put := func(p spec.Pointer, name, v string) {
		switch {
		case v == "":
		case ep.Op == nil:
			doc[name] = v
		default:
			setPointer(doc, p, v)
		}
	}
	put(fields.Token, "token", req.Token)
	if ep.Op == nil || !fields.TokenTypeHint.IsZero() {
		put(fields.TokenTypeHint, "token_type_hint", req.Hint)
	}
	if auth == spec.ClientAuthBody {
		put(fields.ClientID, "client_id", req.Client.ID)
		put(fields.ClientSecret, "client_secret", req.Client.Secret)
	}
	header := http.Header{"Content-Type": {mediaType}, "Accept": {"application/json"}}
	if auth == spec.ClientAuthBasic {
		header.Set("Authorization", authheader.FormatBasic(req.Client.ID, req.Client.Secret))
	}
	f.AddSecret(req.Token)
	return f.Do(ctx, http.MethodPost, ep.URL, header, encodeBody(mediaType, doc))
}

// actionMediaType picks the request media type as DefaultMediaType does
// for token requests: a form with Basic when accepted, else JSON.
func actionMediaType(mts []string, auth string) string {
	if auth == spec.ClientAuthBasic && contains(mts, spec.FormMediaType) {
		return spec.FormMediaType
	}
	for _, mt := range mts {
		if spec.IsJSONMediaType(mt) {
			return mt
		}
	}
	return mts[0]
}
