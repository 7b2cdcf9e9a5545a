package spec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// validationOptions are the openapi3filter options both sides use: every
// problem reported, undocumented statuses are errors, and authentication is
// left to Tollgate (kin-openapi would otherwise reject any secured operation).
func validationOptions() *openapi3filter.Options {
	return &openapi3filter.Options{
		MultiError:            true,
		IncludeResponseStatus: true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	}
}

// RequestError says how a request does not match its operation's document,
// in one line that names the offending member and never its value (it may
// be a secret).
type RequestError struct {
	Operation string // the operation's ID
	Problem   string // e.g. "member grant_type: property \"grant_type\" is missing"
	Err       error  // the validator's own error, with values: never show it to a client
}

// Error formats "spec: request to OPERATION: PROBLEM".
func (e *RequestError) Error() string {
	return fmt.Sprintf("spec: request to %s: %s", e.Operation, e.Problem)
}

// Unwrap returns the validator's error.
func (e *RequestError) Unwrap() error { return e.Err }

// ValidateRequestBody checks a request to op, whose body has already been
// read as body, against op's documented parameters and request body. The
// body is put back on r, so r can still be read afterwards. A mismatch is a
// *RequestError.
func ValidateRequestBody(ctx context.Context, op Operation, r *http.Request, body []byte) error {
	r.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{Request: r, Route: op.Route, Options: validationOptions()}
	err := openapi3filter.ValidateRequest(ctx, in)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return &RequestError{Operation: op.ID, Problem: describeRequestProblem(err), Err: err}
	}
	return nil
}

// describeRequestProblem turns an openapi3filter error into one line naming
// the offending member, never its value.
func describeRequestProblem(err error) string {
	var schemaErr *openapi3.SchemaError
	if errors.As(err, &schemaErr) {
		where := strings.Join(schemaErr.JSONPointer(), "/")
		if where == "" {
			return "the body does not match the documented schema: " + schemaErr.Reason
		}
		return "member " + where + ": " + schemaErr.Reason
	}
	return "the request does not match the flow document"
}

// ValidateResponse checks a response to r (a request for op) against op's
// documented responses: status, headers and body.
func ValidateResponse(ctx context.Context, op Operation, r *http.Request, status int, header http.Header, body []byte) error {
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, Route: op.Route, Options: validationOptions()},
		Status:                 status,
		Header:                 header,
		Options:                validationOptions(),
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
		return fmt.Errorf("spec: %d response of %s does not match the document: %w", status, op.ID, err)
	}
	return nil
}
