package spec

import (
	"errors"
	"fmt"
	"net/http"
	"sort"

	"github.com/getkin/kin-openapi/openapi3"
)

// findClientOperation returns the operation a revocationEndpoint or
// introspectionEndpoint declaration names, nil when the document has no
// such declaration. taken are operations already given another role.
func (c *compiler) findClientOperation(key string, ext *clientEndpointExt, taken ...*openapi3.Operation) (*openapi3.Operation, error) {
	if ext == nil {
		return nil, nil
	}
	if ext.OperationID == "" {
		return nil, c.extErr(key+".operationId", "missing: name the operation that serves this endpoint")
	}
	for _, path := range c.doc.Paths.InMatchingOrder() {
		for _, op := range c.doc.Paths.Value(path).Operations() {
			if op.OperationID != ext.OperationID {
				continue
			}
			for _, t := range taken {
				if t != nil && t == op {
					return nil, c.extErr(key+".operationId", "operation %q already has another role (token, revocation or introspection): give this endpoint its own operation", ext.OperationID)
				}
			}
			return op, nil
		}
	}
	return nil, c.extErr(key+".operationId", "no operation has operationId %q", ext.OperationID)
}

// compileClientOperation compiles a revocation or introspection operation:
// a POST with a body that carries the token, answered with a JSON 200.
func (c *compiler) compileClientOperation(key string, ext *clientEndpointExt, path string, item *openapi3.PathItem, method string, op *openapi3.Operation) (*ClientOperation, error) {
	co := &ClientOperation{Operation: c.baseOperation(path, item, method, op)}
	if method != http.MethodPost {
		return nil, c.opErr(method, path, "the %s operation must be a POST (RFC 7009 §2.1, RFC 7662 §2.1)", key)
	}
	if op.RequestBody == nil || op.RequestBody.Value == nil || len(op.RequestBody.Value.Content) == 0 {
		return nil, c.opErr(method, path, "the %s operation needs a requestBody with at least one media type", key)
	}
	for mt := range op.RequestBody.Value.Content {
		if !IsJSONMediaType(mt) && mt != FormMediaType {
			return nil, c.opErr(method, path, "request media type %q is not supported: use application/json, application/*+json or %s", mt, FormMediaType)
		}
		co.MediaTypes = append(co.MediaTypes, mt)
	}
	sort.Strings(co.MediaTypes)
	co.ClientAuth = append([]string(nil), ext.ClientAuth...)
	for _, m := range co.ClientAuth {
		if m != ClientAuthBody && m != ClientAuthBasic {
			return nil, c.extErr(key+".clientAuth", "unknown client authentication %q (known: body, basic)", m)
		}
	}
	if len(dedupe(append([]string(nil), co.ClientAuth...))) != len(co.ClientAuth) {
		return nil, c.extErr(key+".clientAuth", "lists a method twice")
	}
	req := ext.Request
	if req.Token == "" {
		return nil, c.extErr(key+".request.token", "missing: give the JSON Pointer of the token member of the request body")
	}
	for _, fl := range []struct {
		name, raw string
		dst       *Pointer
	}{
		{"clientId", req.ClientID, &co.Request.ClientID},
		{"clientSecret", req.ClientSecret, &co.Request.ClientSecret},
		{"token", req.Token, &co.Request.Token},
		{"tokenTypeHint", req.TokenTypeHint, &co.Request.TokenTypeHint},
	} {
		if fl.raw == "" {
			continue
		}
		p, err := ParsePointer(fl.raw)
		if err != nil {
			return nil, c.extErr(key+".request."+fl.name, "%w", err)
		}
		*fl.dst = p
	}
	var err error
	if co.Success, err = successResponse(op); err != nil {
		return nil, c.opErr(method, path, "%w", err)
	}
	if co.Success.Status != http.StatusOK {
		return nil, c.opErr(method, path, "the %s operation must document a 200 response (RFC 7009 §2.2, RFC 7662 §2.2), not only %d", key, co.Success.Status)
	}
	if key == "introspectionEndpoint" {
		schema, err := jsonResponseSchema(op)
		if err != nil {
			return nil, c.opErr(method, path, "%w", err)
		}
		if err := checkSchemaPointer(mustPointer("/active"), schema, []string{"boolean"}); err != nil {
			return nil, c.opErr(method, path, "the 200 response schema must have a boolean active member (RFC 7662 §2.2): %w", err)
		}
	}
	return co, nil
}

// inheritClientAuth fills what a revocation or introspection declaration
// leaves to the token endpoint (client authentication methods and the
// credential pointers), then checks every pointer against the request
// schemas.
func (c *compiler) inheritClientAuth(f *Flow, key string, co *ClientOperation) error {
	if co == nil {
		return nil
	}
	inherited := map[string]bool{} // members taken from the token endpoint
	if len(co.ClientAuth) == 0 {
		co.ClientAuth, inherited["clientAuth"] = append([]string(nil), f.Token.ClientAuth...), true
	}
	if co.AcceptsClientAuth(ClientAuthBody) {
		if co.Request.ClientID.IsZero() {
			co.Request.ClientID, inherited["clientId"] = f.Token.Request.ClientID, true
		}
		if co.Request.ClientSecret.IsZero() {
			co.Request.ClientSecret, inherited["clientSecret"] = f.Token.Request.ClientSecret, true
		}
		if co.Request.ClientID.IsZero() || co.Request.ClientSecret.IsZero() {
			return c.extErr(key+".request", "clientAuth has body, so give clientId and clientSecret pointers (the token endpoint has none to inherit)")
		}
	} else if !co.Request.ClientSecret.IsZero() {
		clientAuth := key + ".clientAuth"
		if inherited["clientAuth"] {
			clientAuth += " (inherited from " + ExtensionKey + ".tokenEndpoint.clientAuth)"
		}
		return c.extErr(key+".request.clientSecret", "%s does not include body: remove this pointer or add body", clientAuth)
	}
	// where names a request member as the user can find it: an inherited
	// pointer is written at the token endpoint, not here.
	where := func(name string) string {
		if inherited[name] {
			return fmt.Sprintf("%s.request.%s (inherited from %s.tokenEndpoint.request.%s)", key, name, ExtensionKey, name)
		}
		return key + ".request." + name
	}
	content := co.Route.Operation.RequestBody.Value.Content
	for _, fl := range []struct {
		name string
		p    Pointer
	}{
		{"clientId", co.Request.ClientID}, {"clientSecret", co.Request.ClientSecret},
		{"token", co.Request.Token}, {"tokenTypeHint", co.Request.TokenTypeHint},
	} {
		if fl.p.IsZero() {
			continue
		}
		for mt, media := range content {
			if err := checkRequestPointer(fl.p, mt, media); err != nil {
				if inherited[fl.name] {
					return &ReadError{Document: c.name, Line: c.src.lineOf("tokenEndpoint.request." + fl.name), Path: ExtensionKey + "." + where(fl.name),
						Err: fmt.Errorf("%w: give %s.request.%s its own pointer", err, key, fl.name)}
				}
				return c.extErr(where(fl.name), "%w", err)
			}
		}
	}
	if err := distinctPointers(co.Request.ClientID, co.Request.ClientSecret, co.Request.Token, co.Request.TokenTypeHint); err != nil {
		return c.extErr(key+".request", "%w", err)
	}
	return nil
}

// jsonResponseSchema returns the JSON schema of an operation's 200 response.
func jsonResponseSchema(op *openapi3.Operation) (*openapi3.Schema, error) {
	if op.Responses == nil || op.Responses.Status(http.StatusOK) == nil || op.Responses.Status(http.StatusOK).Value == nil {
		return nil, errors.New("no 200 response documented")
	}
	mt, media := pickMedia(op.Responses.Status(http.StatusOK).Value.Content)
	if media == nil || !IsJSONMediaType(mt) || media.Schema == nil || media.Schema.Value == nil {
		return nil, fmt.Errorf("the 200 response must have a JSON schema")
	}
	return media.Schema.Value, nil
}

// mustPointer parses a pointer written in this package's source.
func mustPointer(s string) Pointer {
	p, err := ParsePointer(s)
	if err != nil {
		panic(err)
	}
	return p
}
