package probe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
)

// GraphQLResponseMediaType is the GraphQL over HTTP media type whose
// status codes the draft pins (GQL-006).
const GraphQLResponseMediaType = "application/graphql-response+json"

// GraphQLSignalling is how a target signals an authentication failure on
// its GraphQL endpoint (shared catalog §3.1): always 401 or 403, or, where
// Errors200 allows it, the legacy 200 whose errors name one of Codes and
// whose data is null or absent. No protected data, ever, in either shape.
type GraphQLSignalling struct {
	Errors200 bool     // the legacy "200 + errors + data: null" shape counts as a refusal
	Codes     []string // errors[].extensions.code values of an authentication failure
	Forbidden []string // errors[].extensions.code values of a field the token's scope does not cover
}

// DefaultGraphQLCodes are the error codes of an authentication failure
// when the configuration names none: Apollo's, which many servers reuse.
func DefaultGraphQLCodes() []string { return []string{"UNAUTHENTICATED"} }

// DefaultGraphQLForbiddenCodes are the error codes of a field the token's
// scope does not cover when the configuration names none: Apollo's
// FORBIDDEN and RFC 6750's insufficient_scope.
func DefaultGraphQLForbiddenCodes() []string { return []string{"FORBIDDEN", "insufficient_scope"} }

// GraphQLError is one entry of a GraphQL response's errors.
type GraphQLError struct {
	Message string
	Code    string // extensions.code; "" when absent or not a string
	Path    []any
}

// GraphQLResult is one GraphQL response: data and errors.
type GraphQLResult struct {
	HasData bool            // the data entry is present (null or not)
	Data    json.RawMessage // the data entry as sent; nil when absent
	Errors  []GraphQLError
}

// Served reports whether the result carries data: a data object with at
// least one non-null member. A field the server refused is null.
func (r GraphQLResult) Served() bool {
	var obj map[string]json.RawMessage
	if json.Unmarshal(r.Data, &obj) != nil {
		return false
	}
	for _, v := range obj {
		if !bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			return true
		}
	}
	return false
}

// FieldServed reports whether the data entry's member name (a field or an
// alias) is there and not null.
func (r GraphQLResult) FieldServed(name string) bool {
	var obj map[string]json.RawMessage
	if json.Unmarshal(r.Data, &obj) != nil {
		return false
	}
	v, ok := obj[name]
	return ok && !bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}

// HasCode reports whether an error names one of codes.
func (r GraphQLResult) HasCode(codes []string) bool {
	return slices.ContainsFunc(r.Errors, func(e GraphQLError) bool { return e.Code != "" && slices.Contains(codes, e.Code) })
}

// ErrorOn returns the first error whose path starts with name.
func (r GraphQLResult) ErrorOn(name string) (GraphQLError, bool) {
	for _, e := range r.Errors {
		if len(e.Path) > 0 && e.Path[0] == name {
			return e, true
		}
	}
	return GraphQLError{}, false
}

// GraphQLAnswer is an HTTP answer from a GraphQL endpoint, read as GraphQL.
type GraphQLAnswer struct {
	Status    int
	MediaType string          // Content-Type without parameters
	Results   []GraphQLResult // one, or one per operation of a batch; nil when the body is no GraphQL response
	Batch     bool            // the body was a JSON array
}

// ReadGraphQLAnswer reads ex's body as a GraphQL response or, for a JSON
// array, as a batch of them. A body that is neither leaves Results nil.
func ReadGraphQLAnswer(ex *Exchange) GraphQLAnswer {
	a := ReadGraphQLBody(ex.Status, ex.Body)
	if mt, _, err := mime.ParseMediaType(ex.Header.Get("Content-Type")); err == nil {
		a.MediaType = mt
	}
	return a
}

// ReadGraphQLBody reads a status and body as ReadGraphQLAnswer does,
// leaving MediaType empty.
func ReadGraphQLBody(status int, body []byte) GraphQLAnswer {
	a := GraphQLAnswer{Status: status}
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		var raws []json.RawMessage
		if json.Unmarshal(body, &raws) != nil {
			return a
		}
		a.Batch = true
		for _, raw := range raws {
			r, ok := readGraphQLResult(raw)
			if !ok {
				return GraphQLAnswer{Status: a.Status, MediaType: a.MediaType}
			}
			a.Results = append(a.Results, r)
		}
		return a
	}
	if r, ok := readGraphQLResult(body); ok {
		a.Results = []GraphQLResult{r}
	}
	return a
}

func readGraphQLResult(raw []byte) (GraphQLResult, bool) {
	var doc struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Path       []any          `json:"path"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(raw, &members) != nil || json.Unmarshal(raw, &doc) != nil {
		return GraphQLResult{}, false
	}
	_, hasData := members["data"]
	_, hasErrors := members["errors"]
	if !hasData && !hasErrors {
		return GraphQLResult{}, false
	}
	r := GraphQLResult{HasData: hasData}
	if hasData {
		r.Data = members["data"]
	}
	for _, e := range doc.Errors {
		ge := GraphQLError{Message: e.Message, Path: e.Path}
		if code, ok := e.Extensions["code"].(string); ok {
			ge.Code = code
		}
		r.Errors = append(r.Errors, ge)
	}
	return r, true
}

// Served reports whether any result of the answer carries data.
func (a GraphQLAnswer) Served() bool {
	return slices.ContainsFunc(a.Results, GraphQLResult.Served)
}

// Refusal judges an answer to a request that must be refused for its
// credentials: "" when it is refused as the signalling says, else why not.
// Data in the answer is a separate finding (Served), judged first by the
// caller.
func (s GraphQLSignalling) Refusal(a GraphQLAnswer) string {
	switch {
	case a.Status == http.StatusUnauthorized || a.Status == http.StatusForbidden:
		return ""
	case a.Status == http.StatusOK && s.Errors200:
		for _, r := range a.Results {
			if r.HasCode(s.Codes) && !r.Served() {
				return ""
			}
		}
		return fmt.Sprintf("answered 200 without an error whose extensions.code is one of %s (the legacy shape the configuration allows)", strings.Join(s.Codes, ", "))
	case a.Status == http.StatusOK:
		return "answered 200, and the target's signalling (x-tollgate.graphql, or graphql.signalling in the target file) is 401/403; set signalling errors200 if the target uses the legacy 200 + errors shape"
	default:
		return fmt.Sprintf("answered %d, neither 401 nor 403", a.Status)
	}
}

// Codes lists the error codes of an answer, for messages.
func (a GraphQLAnswer) Codes() []string {
	var out []string
	for _, r := range a.Results {
		for _, e := range r.Errors {
			if e.Code != "" && !slices.Contains(out, e.Code) {
				out = append(out, e.Code)
			}
		}
	}
	return out
}
