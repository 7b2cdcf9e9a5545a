package spec

import (
	"context"
	"fmt"
	"net/http"

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

// ValidateRequest checks r against op's documented parameters and body.
// pathParams holds the values of op's path template variables. The body of r
// is read and replaced, so r can still be served afterwards.
func ValidateRequest(ctx context.Context, op Operation, r *http.Request, pathParams map[string]string) error {
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: pathParams, Route: op.Route, Options: validationOptions()}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		return fmt.Errorf("spec: request to %s does not match the document: %w", op.ID, err)
	}
	return nil
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
