package mockserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/authheader"
	"github.com/tollgate/tollgate/spec/oautherr"
)

// clientOperation is an operation a client calls with its own credentials
// (spec.ClientOperation): the token operation, and the revocation and
// introspection operations, which read requests and authenticate clients by
// exactly the same rules. Everything about it is decided by New.
//
// A request goes through it in a straight line, each step a method:
// read (headers, media type, size, body, credentials), the handler's own
// fields, validate (the documented schema), authenticate, and refuse for
// any error on the way.
type clientOperation struct {
	op           spec.Operation
	mediaTypes   map[string]bool
	mediaList    []string
	acceptsBasic bool
	clientID     spec.Pointer
	clientSecret spec.Pointer
	maxBody      int64
	auth         clientAuthenticator
	challenge    []string // the Basic challenge of a 401 invalid_client
	dialect      string   // the flow's error dialect (spec.Flow.ErrorDialect)
}

func newClientOperation(f *spec.Flow, op spec.Operation, mediaTypes, clientAuth []string, id, secret spec.Pointer, maxBody int64, auth clientAuthenticator) *clientOperation {
	co := &clientOperation{op: op, mediaTypes: map[string]bool{}, mediaList: mediaTypes,
		acceptsBasic: slices.Contains(clientAuth, spec.ClientAuthBasic), clientID: id, clientSecret: secret,
		maxBody: maxBody, auth: auth, challenge: basicChallengeFor(f.Realm), dialect: f.ErrorDialect}
	for _, mt := range mediaTypes {
		co.mediaTypes[mt] = true
	}
	return co
}

// basicChallengeFor is the challenge of a 401 invalid_client (RFC 6749 section 5.2).
func basicChallengeFor(realm string) []string {
	return []string{authheader.Challenge{Scheme: "Basic", Params: []authheader.Param{
		{Name: "realm", Value: realm}, {Name: "charset", Value: "UTF-8"},
	}}.String()}
}

// clientRequest is a request to a clientOperation once read: its body, as
// bytes and as a JSON-like document, and the client credentials, not yet
// checked.
type clientRequest struct {
	body             []byte
	doc              map[string]any
	clientID, secret string
	basic            bool // the client used (or tried) HTTP Basic
}

// begin starts every answer of the operation: never cached (RFC 6749
// section 5.1), POST only (405 with Allow and postHint otherwise: then ok
// is false and the answer is written), the request read and its client
// noted for the request capture.
func (co *clientOperation) begin(w http.ResponseWriter, r *http.Request, postHint string) (cr clientRequest, oerr *oautherr.Error, ok bool) {
	h := w.Header()
	h["Cache-Control"] = noStore
	h["Pragma"] = noCache
	if r.Method != http.MethodPost {
		h["Allow"] = postOnly
		writeOAuthError(w, &oautherr.Error{Code: oautherr.InvalidRequest, Status: http.StatusMethodNotAllowed, Description: postHint}, co.dialect)
		return cr, nil, false
	}
	cr, oerr = co.read(w, r)
	noteClient(w, cr.clientID)
	return cr, oerr, true
}

// read reads and checks everything about a request that does not depend on
// who the client is or on the documented schema: one Authorization header
// at most, HTTP Basic or body credentials but not both, the media type and
// charset, the size and the encoding.
func (co *clientOperation) read(w http.ResponseWriter, r *http.Request) (clientRequest, *oautherr.Error) {
	var cr clientRequest
	if values := r.Header.Values("Authorization"); len(values) > 0 {
		if len(values) > 1 {
			return cr, invalidRequest("send one Authorization header, not %d", len(values))
		}
		id, secret, ok, err := authheader.ParseBasic(values[0])
		cr.basic = ok || err != nil
		switch {
		case err != nil:
			return cr, oautherr.New(oautherr.InvalidClient, "the HTTP Basic credentials are malformed: encode client_id:client_secret as RFC 6749 section 2.3.1 says")
		case ok && !co.acceptsBasic:
			return cr, oautherr.New(oautherr.InvalidClient, "this endpoint does not accept HTTP Basic: send the credentials in the body")
		case ok:
			cr.clientID, cr.secret = id, secret
		}
	}
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !co.mediaTypes[mediaType] {
		return cr, co.wrongMediaType()
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return cr, invalidRequest("charset must be UTF-8")
	}
	tooLarge := func() (clientRequest, *oautherr.Error) {
		e := invalidRequest("the body is larger than %d bytes", co.maxBody)
		e.Status = http.StatusRequestEntityTooLarge
		return cr, e
	}
	if r.ContentLength > co.maxBody {
		// Refuse before reading, and close the connection: otherwise
		// net/http drains up to 256 KB of unread body before answering.
		w.Header().Set("Connection", "close")
		return tooLarge()
	}
	// The writer tells net/http when the limit is hit, so it closes the
	// connection instead of draining a large body before answering.
	cr.body, err = io.ReadAll(http.MaxBytesReader(innermost(w), r.Body, co.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return tooLarge()
		}
		return cr, invalidRequest("the body could not be read")
	}
	if !utf8.Valid(cr.body) {
		return cr, invalidRequest("the body is not valid UTF-8")
	}
	if cr.doc, err = parseTokenBody(mediaType, cr.body); err != nil {
		return cr, invalidRequest("%s", err.Error())
	}
	var bodyID, bodySecret string
	for _, f := range []struct {
		dst *string
		p   spec.Pointer
	}{{&bodyID, co.clientID}, {&bodySecret, co.clientSecret}} {
		if *f.dst, err = stringField(cr.doc, f.p); err != nil {
			return cr, invalidRequest("%s", err.Error())
		}
	}
	if !cr.basic {
		cr.clientID, cr.secret = bodyID, bodySecret
		return cr, nil
	}
	if bodySecret != "" {
		return cr, invalidRequest("the client authenticated twice, with HTTP Basic and a secret in the body: use one method (RFC 6749 section 2.3)")
	}
	if bodyID != "" && bodyID != cr.clientID {
		return cr, invalidRequest("the client id in the body differs from the HTTP Basic user")
	}
	return cr, nil
}

// wrongMediaType is the error for a Content-Type the operation does not take.
func (co *clientOperation) wrongMediaType() *oautherr.Error {
	return invalidRequest("Content-Type must be one of %s", strings.Join(co.mediaList, ", "))
}

// validate checks the request against the operation's documented schema.
func (co *clientOperation) validate(r *http.Request, cr clientRequest) *oautherr.Error {
	if err := spec.ValidateRequestBody(r.Context(), co.op, r, cr.body); err != nil {
		var reqErr *spec.RequestError
		if errors.As(err, &reqErr) {
			return invalidRequest("%s", reqErr.Problem)
		}
		return invalidRequest("the request does not match the flow document")
	}
	return nil
}

// authenticate checks the credentials the request carried.
func (co *clientOperation) authenticate(cr clientRequest) (*registeredClient, *oautherr.Error) {
	return co.auth.authenticate(cr.clientID, cr.secret)
}

// refuse answers a failed request. RFC 9110 section 11.6.1: a 401 carries a
// challenge. Operations that take HTTP Basic name it (RFC 6749 section 5.2);
// others answer invalid_client with 400 unless Basic was tried.
func (co *clientOperation) refuse(w http.ResponseWriter, oerr *oautherr.Error, basicTried bool) {
	h := w.Header()
	h["Cache-Control"] = noStore
	h["Pragma"] = noCache
	if oerr.Code == oautherr.InvalidClient {
		if basicTried || co.acceptsBasic {
			h["Www-Authenticate"] = co.challenge
		} else {
			oerr.Status = http.StatusBadRequest
		}
	}
	writeOAuthError(w, oerr, co.dialect)
}

// Header values shared by every answer that sets them; never modified.
var (
	noStore         = []string{"no-store"}
	noCache         = []string{"no-cache"}
	jsonContentType = []string{"application/json"}
	postOnly        = []string{http.MethodPost}
)

// writeOAuthError answers e as an authorization server endpoint does, its
// body in the error dialect (oautherr.Dialects), its code noted as the
// reason of the refusal (for the request log and the metrics). RFC 6749
// section 5.2 makes it application/json in every dialect; Commerce Layer's
// authorization server answers so too.
func writeOAuthError(w http.ResponseWriter, e *oautherr.Error, dialect string) {
	noteRefusal(w, e.Code)
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(e.HTTPStatus())
	_, _ = w.Write(e.ServerBody(dialect))
}

func invalidRequest(format string, args ...any) *oautherr.Error {
	return oautherr.New(oautherr.InvalidRequest, fmt.Sprintf(format, args...))
}

// clientAuthenticator decides who a client is from the credentials it sent.
type clientAuthenticator interface {
	authenticate(id, secret string) (*registeredClient, *oautherr.Error)
}

// secretCheck authenticates registered clients by their secret, in
// constant time whatever the secret's length and whether the id is known.
type secretCheck struct {
	clients *clientRegistry
	// unknownDigest is compared against for unknown client ids: a digest
	// no secret hashes to in practice.
	unknownDigest [sha256.Size]byte
}

func (a *secretCheck) authenticate(id, secret string) (*registeredClient, *oautherr.Error) {
	if id == "" {
		return nil, noClientAuth()
	}
	// Hash first so that the comparison takes the same time for any secret
	// length, and compare against a dummy for unknown ids so that they take
	// as long as known ones.
	got := sha256.Sum256([]byte(secret))
	want := a.unknownDigest
	c := a.clients.get(id)
	if c != nil {
		want = c.secretDigest
	}
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || c == nil {
		return nil, authenticationFailed()
	}
	return c, nil
}

// anyClient is Options.AcceptAnyClient: every id is a client, whatever its
// secret; registered ids keep their settings.
type anyClient struct{ clients *clientRegistry }

func (a anyClient) authenticate(id, _ string) (*registeredClient, *oautherr.Error) {
	if id == "" {
		return nil, noClientAuth()
	}
	if c := a.clients.get(id); c != nil {
		return c, nil
	}
	return &registeredClient{Client: Client{ID: id}}, nil
}

// noClientAuth is the error for a request that names no client.
func noClientAuth() *oautherr.Error {
	return oautherr.New(oautherr.InvalidClient, "no client authentication: send the client id and secret")
}

func authenticationFailed() *oautherr.Error {
	return oautherr.New(oautherr.InvalidClient, "client authentication failed: unknown client or wrong secret")
}

// innermost unwraps middleware's ResponseWriters down to net/http's own,
// which alone can tell the server to close a connection whose body is too
// large instead of draining it.
func innermost(w http.ResponseWriter) http.ResponseWriter {
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
}
