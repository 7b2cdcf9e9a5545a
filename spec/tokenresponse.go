package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

// TokenResponse is a parsed token response, its members found through the
// flow's response pointers.
type TokenResponse struct {
	AccessToken string
	TokenType   string
	ExpiresIn   int64 // seconds; 0 when absent
	Scope       string
	HasScope    bool
	CreatedAt   int64 // Unix seconds; 0 when absent
	Raw         []byte
}

// ParseTokenResponse parses a token response body as flow f describes it. It
// is strict where a client depends on the answer (a non-empty string access
// token and token type, an integral non-negative lifetime) and lenient about
// everything else (extra members, a lifetime sent as a numeric string, as
// golang.org/x/oauth2 also accepts).
func (f *Flow) ParseTokenResponse(body []byte) (TokenResponse, error) {
	tr := TokenResponse{Raw: body}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return tr, fmt.Errorf("spec: token response is not JSON: %w", err)
	}
	if dec.More() {
		return tr, errors.New("spec: token response has data after the JSON value")
	}
	if _, ok := doc.(map[string]any); !ok {
		return tr, errors.New("spec: token response is not a JSON object")
	}
	fields := f.Token.Response
	var err error
	if tr.AccessToken, err = requiredString(doc, fields.AccessToken); err != nil {
		return tr, err
	}
	if tr.TokenType, err = requiredString(doc, fields.TokenType); err != nil {
		return tr, err
	}
	if tr.ExpiresIn, err = optionalInt(doc, fields.ExpiresIn); err != nil {
		return tr, err
	}
	if v, ok := fields.Scope.Get(doc); ok {
		s, isString := v.(string)
		if !isString {
			return tr, fmt.Errorf("spec: token response member %s is not a string", fields.Scope)
		}
		tr.Scope, tr.HasScope = s, true
	}
	if tr.CreatedAt, err = optionalInt(doc, fields.CreatedAt); err != nil {
		return tr, err
	}
	return tr, nil
}

func requiredString(doc any, p Pointer) (string, error) {
	v, ok := p.Get(doc)
	if !ok {
		return "", fmt.Errorf("spec: token response has no %s member", p)
	}
	s, ok := v.(string)
	if !ok || s == "" {
		return "", fmt.Errorf("spec: token response member %s is not a non-empty string", p)
	}
	return s, nil
}

func optionalInt(doc any, p Pointer) (int64, error) {
	v, ok := p.Get(doc)
	if !ok {
		return 0, nil
	}
	var n json.Number
	switch x := v.(type) {
	case json.Number:
		n = x
	case string:
		n = json.Number(strings.TrimSpace(x))
	default:
		return 0, fmt.Errorf("spec: token response member %s is not a number", p)
	}
	i, err := n.Int64()
	if err != nil {
		fl, ferr := n.Float64()
		if ferr != nil || fl != math.Trunc(fl) || math.Abs(fl) > math.MaxInt64/2 {
			return 0, fmt.Errorf("spec: token response member %s is not an integer: %q", p, n)
		}
		i = int64(fl)
	}
	if i < 0 {
		return 0, fmt.Errorf("spec: token response member %s is negative: %d", p, i)
	}
	return i, nil
}
