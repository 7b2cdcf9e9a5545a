package oautherr

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// Error dialects: the shapes an error body can take (x-tollgate.errorDialect).
const (
	// DialectRFC6749 is the plain RFC 6749 §5.2 / RFC 6750 §3.1 body:
	// {"error","error_description"}.
	DialectRFC6749 = "rfc6749"
	// DialectCL is Commerce Layer's: the RFC 6749 members plus a JSON:API
	// "errors" array, which is all @commercelayer/js-auth reads. RFC 6749
	// §5.2 leaves room for members of one's own, so RFC clients read the
	// same body unchanged.
	DialectCL = "cl"
)

// Dialects returns the known error dialects, the default first. The slice
// is new on every call.
func Dialects() []string { return []string{DialectRFC6749, DialectCL} }

// JSONAPIMediaType is the JSON:API media type, in which Commerce Layer's
// API (not its authorization server) answers.
const JSONAPIMediaType = "application/vnd.api+json"

// clAuthError is one member of the "errors" array of Commerce Layer's
// authorization server (auth.commercelayer.io): code is the HTTP status
// in capitals, title the OAuth error code, status a JSON number. As
// @commercelayer/js-auth's own tests record a wrong client:
// {"code":"UNAUTHORIZED","title":"invalid_client","detail":"Client
// authentication failed…","status":401}.
type clAuthError struct {
	Code   string `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Status int    `json:"status"`
}

// clAPIError is one member of the "errors" array of Commerce Layer's API
// (JSON:API §7: status is a string), as js-auth's tests record a revoked
// token there: {"title":"Invalid token","detail":"The access token you
// provided is invalid.","code":"INVALID_TOKEN","status":"401"}.
type clAPIError struct {
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	Status string `json:"status"`
}

// dialectBody is an error body with the RFC 6749 members and, in the cl
// dialect, the errors array after them.
type dialectBody struct {
	Code        string `json:"error,omitempty"`
	Description string `json:"error_description,omitempty"`
	URI         string `json:"error_uri,omitempty"`
	Errors      any    `json:"errors,omitempty"`
}

// ServerBody returns e's body as an authorization server endpoint (token,
// revocation, introspection) writes it in dialect: JSON() in rfc6749 (and
// any dialect it does not know), JSON() plus Commerce Layer's errors array
// in cl.
func (e *Error) ServerBody(dialect string) []byte {
	if dialect != DialectCL {
		return e.JSON()
	}
	status := e.HTTPStatus()
	return marshal(dialectBody{Code: e.Code, Description: e.Description, URI: e.URI,
		Errors: []clAuthError{{Code: statusCode(status), Title: e.Code, Detail: e.Description, Status: status}}})
}

// ResourceBody returns e's body as a protected resource writes it in
// dialect. A request that carried no credentials gets an Error with no
// Code (RFC 6750 §3.1: no error information): its body has no "error"
// member, only the description when there is one.
func (e *Error) ResourceBody(dialect string) []byte {
	body := dialectBody{Code: e.Code, Description: e.Description, URI: e.URI}
	if dialect == DialectCL {
		status := e.HTTPStatus()
		if e.Code == "" {
			status = http.StatusUnauthorized
		}
		code, title := statusCode(status), http.StatusText(status)
		if e.Code == InvalidToken {
			code, title = "INVALID_TOKEN", "Invalid token"
		}
		body.Errors = []clAPIError{{Title: title, Detail: e.Description, Code: code, Status: strconv.Itoa(status)}}
	}
	return marshal(body)
}

// ResourceMediaType is the Content-Type of a protected resource's error
// answer in dialect to a request with the given Accept header: Commerce
// Layer's API answers in JSON:API, so cl does when the client asks for it;
// otherwise application/json.
func ResourceMediaType(dialect, accept string) string {
	if dialect == DialectCL && strings.Contains(strings.ToLower(accept), JSONAPIMediaType) {
		return JSONAPIMediaType
	}
	return "application/json"
}

// statusCode is an HTTP status as Commerce Layer names it in an error's
// code: its reason phrase in capitals, words joined by '_' (UNAUTHORIZED,
// BAD_REQUEST).
func statusCode(status int) string {
	text := http.StatusText(status)
	if text == "" {
		return "HTTP_" + strconv.Itoa(status)
	}
	return strings.ToUpper(strings.Join(strings.Fields(strings.ReplaceAll(text, "-", " ")), "_"))
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Unreachable: the bodies hold only strings and ints.
		return []byte(`{"error":"server_error"}`)
	}
	return b
}
