package probe

import (
	"context"
	"net/http"
	"slices"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/authheader"
)

// Where a ClientOperationEndpoint came from, besides "the metadata at URL".
const (
	SourceFlowDocument  = "the flow document"
	SourceConfiguration = "the configuration"
)

// ClientOperationEndpoint is where the target serves a client operation
// (spec.ClientOperation: an operation a client calls with its own
// credentials, RFC 7009 revocation or RFC 7662 introspection), who said so,
// and how to call it.
type ClientOperationEndpoint struct {
	URL    string
	Source string                // SourceFlowDocument, SourceConfiguration or "the metadata at URL"
	Op     *spec.ClientOperation // the flow document's declaration; nil: the RFC's form-encoded request
	// AuthMethods are the client authentication methods the metadata
	// advertises for it (RFC 8414 names); empty when it says nothing.
	AuthMethods []string
}

// ClientOperationRequest is one call of a client operation: a revocation
// or introspection request.
type ClientOperationRequest struct {
	Client Credentials
	Auth   string // spec.ClientAuthBody, spec.ClientAuthBasic or "none"; "": the endpoint's default
	Token  string
	Hint   string // token_type_hint; sent only when the endpoint has a place for it
}

// clientAuth is what the endpoint accepts, in order of preference.
func (ep *ClientOperationEndpoint) clientAuth(p *Prober) []string {
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
		out = p.Flow.Token.ClientAuth
	}
	return out
}

// DefaultAuth is the client authentication the suite uses at ep: the one
// that got the primary token when ep accepts it, else ep's first.
func (ep *ClientOperationEndpoint) DefaultAuth(p *Prober) string {
	accepted := ep.clientAuth(p)
	if def := p.DefaultAuth(); slices.Contains(accepted, def) {
		return def
	}
	return accepted[0]
}

// CallClientOperation sends a revocation or introspection request to ep as the
// flow document describes it, or as RFC 7009 §2.1 / RFC 7662 §2.1 do
// (application/x-www-form-urlencoded, token, client_id and client_secret)
// when the document says nothing. It does not count against the token
// budget.
func (p *Prober) CallClientOperation(ctx context.Context, ep *ClientOperationEndpoint, req ClientOperationRequest) (*Exchange, error) {
	auth := req.Auth
	if auth == "" {
		auth = ep.DefaultAuth(p)
	}
	mediaType := spec.FormMediaType
	fields := spec.ClientRequestFields{}
	if ep.Op != nil {
		fields = ep.Op.Request
		mediaType = requestMediaType(ep.Op.MediaTypes, auth)
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
	p.AddSecret(req.Token)
	return p.Do(ctx, http.MethodPost, ep.URL, header, encodeBody(mediaType, doc))
}
