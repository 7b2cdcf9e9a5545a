package mockserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/tollgate/tollgate/spec"
)

// parseTokenBody decodes a token request body into a JSON-like document: a
// JSON object for JSON media types, or a form for
// application/x-www-form-urlencoded, whose parameters must not repeat
// (RFC 6749 section 3.2).
func parseTokenBody(mediaType string, body []byte) (map[string]any, error) {
	if mediaType == spec.FormMediaType {
		return parseForm(body)
	}
	return parseJSONObject(body)
}

func parseForm(body []byte) (map[string]any, error) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("the form body is malformed: %w", err)
	}
	doc := make(map[string]any, len(values))
	for k, v := range values {
		if len(v) > 1 {
			return nil, fmt.Errorf("parameter '%s' is repeated (RFC 6749 section 3.2)", truncate(k, 40))
		}
		doc[k] = v[0]
	}
	return doc, nil
}

func parseJSONObject(body []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errors.New("the body is empty: send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("the body is not valid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("the body has data after the JSON object")
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("the body must be a JSON object")
	}
	if dups, _ := spec.DuplicateMembers(body); len(dups) > 0 { // body was decoded above: no error
		return nil, fmt.Errorf("member '%s' is repeated (RFC 6749 section 3.2)", truncate(dups[0], 40))
	}
	return doc, nil
}

// stringField returns the member p names, "" when it is absent, null or
// empty (RFC 6749 section 3.2: a parameter without a value counts as omitted).
func stringField(doc map[string]any, p spec.Pointer) (string, error) {
	v, ok := p.Get(doc)
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s must be a string", p.Name())
	}
	return s, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// mediaTypeOf is r's Content-Type without parameters.
func mediaTypeOf(r *http.Request) string {
	mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	return strings.TrimSpace(mt)
}

// peekBody reads up to limit bytes of r's body for a look ahead of the
// handler, and puts them back in front of the rest: the handler still
// reads the whole body, and its own size limit still applies.
func peekBody(r *http.Request, limit int64) []byte {
	body, _ := io.ReadAll(io.LimitReader(r.Body, limit))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	return body
}
