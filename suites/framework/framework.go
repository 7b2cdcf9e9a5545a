package framework

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/authheader"
)

// ErrInconclusive marks a request the target would not answer now (rate
// limited past the retries, or the token budget spent): the check cannot
// reach a verdict, which is not a failure.
var ErrInconclusive = errors.New("inconclusive")

// Framework talks to one target for one flow. It holds an *http.Client, the
// compiled flow and the secrets to redact, nothing else. It is safe for
// concurrent use.
type Framework struct {
	Config Config
	Flow   *spec.Flow
	HTTP   *http.Client

	mu         sync.Mutex
	redact     []string // secrets and tokens never shown in evidence
	tokensUsed int
	last       *Exchange
	nextSend   time.Time
	primary    *spec.TokenResponse
	auth       string // the client authentication that got the primary token
	primaryAt  time.Time
	stale      *SavedToken // read from Config.StaleTokenFile before anything can overwrite it
}

// New returns a Framework for cfg (already validated) and flow.
func New(cfg Config, flow *spec.Flow) *Framework {
	f := &Framework{
		Config: cfg,
		Flow:   flow,
		HTTP: &http.Client{
			Timeout: cfg.Timeout,
			// The suite judges redirects itself; following them would hide them.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	for _, c := range []Credentials{cfg.Client, cfg.Client2, cfg.ExpiryClient, cfg.ScopedClient} {
		if c.Secret != "" {
			f.redact = append(f.redact, c.Secret, strings.TrimPrefix(authheader.FormatBasic(c.ID, c.Secret), "Basic "))
		}
	}
	return f
}

// OptedIn reports whether a check that is off by default was switched on.
func (f *Framework) OptedIn(id string) bool { return contains(f.Config.OptIn, id) }

// Protected returns the protected operations the checks probe: those
// Config.Operations names, in the document's order, or every operation the
// flow document secures.
func (f *Framework) Protected() []spec.Operation {
	all := f.Flow.Protected()
	if len(f.Config.Operations) == 0 {
		return all
	}
	var out []spec.Operation
	for _, op := range all {
		if slices.ContainsFunc(f.Config.Operations, op.Named) {
			out = append(out, op)
		}
	}
	return out
}

// checkOperations reports the first of Config.Operations that names no
// protected operation of the flow.
func (f *Framework) checkOperations() error {
	protected := f.Flow.Protected()
	var known []string
	for _, op := range protected {
		known = append(known, op.ID)
	}
	for _, name := range f.Config.Operations {
		if !slices.ContainsFunc(protected, func(op spec.Operation) bool { return op.Named(name) }) {
			return fmt.Errorf("operation %q is not a protected operation of flow %s: name one of %s (operationId or \"METHOD /path\")", name, f.Flow.Name, strings.Join(known, ", "))
		}
	}
	return nil
}

// TargetIsLocal reports whether the target is on this machine's loopback.
func (f *Framework) TargetIsLocal() bool {
	u, err := url.Parse(f.Config.Target)
	return err == nil && isLoopback(u.Hostname())
}

// Clients returns the configured clients, primary first.
func (f *Framework) Clients() []Credentials {
	var out []Credentials
	for _, c := range []Credentials{f.Config.Client, f.Config.Client2, f.Config.ExpiryClient, f.Config.ScopedClient} {
		if !c.IsZero() {
			out = append(out, c)
		}
	}
	return out
}

// Profile is the profile checks are judged by: the config's, else the document's.
func (f *Framework) Profile() string {
	if f.Config.Profile != "" {
		return f.Config.Profile
	}
	return f.Flow.Profile
}

// Exchange is one request and the response to it, the body read.
type Exchange struct {
	Method      string
	URL         string
	RequestHead http.Header
	RequestBody []byte
	Status      int
	Header      http.Header
	Body        []byte
	Sent        time.Time
	Elapsed     time.Duration
	Err         error // transport error (no response)
}

// Do sends one request, paced by the request rate, retrying a 429 after its
// Retry-After (up to two times, 30 s at most each). It records the exchange
// as the last one for evidence.
func (f *Framework) Do(ctx context.Context, method, rawURL string, header http.Header, body []byte) (*Exchange, error) {
	for attempt := 0; ; attempt++ {
		if err := f.pace(ctx); err != nil {
			return nil, err
		}
		ex := f.send(ctx, method, rawURL, header, body)
		f.mu.Lock()
		f.last = ex
		f.mu.Unlock()
		if ex.Err != nil {
			return ex, fmt.Errorf("%s %s: %w", method, rawURL, ex.Err)
		}
		if ex.Status != http.StatusTooManyRequests {
			return ex, nil
		}
		wait := retryAfter(ex.Header.Get("Retry-After"))
		if attempt >= 2 || wait > 30*time.Second {
			return ex, fmt.Errorf("%w: the target answered 429 Too Many Requests (Retry-After %q); lower --request-rate or raise its limit", ErrInconclusive, ex.Header.Get("Retry-After"))
		}
		select {
		case <-ctx.Done():
			return ex, ctx.Err()
		case <-time.After(wait):
		}
	}
}

func (f *Framework) send(ctx context.Context, method, rawURL string, header http.Header, body []byte) *Exchange {
	ex := &Exchange{Method: method, URL: rawURL, RequestHead: header.Clone(), RequestBody: body, Sent: time.Now()}
	if ex.RequestHead == nil {
		ex.RequestHead = http.Header{}
	}
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, r)
	if err != nil {
		ex.Err = err
		return ex
	}
	for k, vs := range header {
		req.Header[k] = append([]string(nil), vs...)
	}
	resp, err := f.HTTP.Do(req)
	ex.Elapsed = time.Since(ex.Sent)
	if err != nil {
		ex.Err = err
		return ex
	}
	// The body is read (or capped) below; a failure to close it changes
	// nothing in the exchange.
	defer func() { _ = resp.Body.Close() }()
	ex.Status, ex.Header = resp.StatusCode, resp.Header
	ex.Body, ex.Err = io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return ex
}

// pace waits until the configured request rate allows the next request.
func (f *Framework) pace(ctx context.Context) error {
	if f.Config.RequestRate <= 0 {
		return nil
	}
	interval := time.Duration(float64(time.Second) / f.Config.RequestRate)
	f.mu.Lock()
	now := time.Now()
	at := f.nextSend
	if at.Before(now) {
		at = now
	}
	f.nextSend = at.Add(interval)
	f.mu.Unlock()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(at)):
		return nil
	}
}

func retryAfter(v string) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return time.Second
}

// TokenRequest describes a token request to build from the flow document.
type TokenRequest struct {
	Client    Credentials
	Auth      string            // spec.ClientAuthBody, spec.ClientAuthBasic, or "none"; "": the flow's first
	MediaType string            // "": the flow's first JSON media type, else its first
	Set       map[string]string // members to add or replace, by top-level name
	Omit      []string          // top-level members to leave out
	Method    string            // "": POST
	RawBody   []byte            // sent as is instead of a built body
	Header    http.Header       // extra request headers
}

// RequestToken sends a token request as the flow document describes it. It
// counts against the token budget.
func (f *Framework) RequestToken(ctx context.Context, tr TokenRequest) (*Exchange, error) {
	f.mu.Lock()
	if f.tokensUsed >= f.Config.TokenBudget {
		f.mu.Unlock()
		return nil, fmt.Errorf("%w: the token budget of %d requests is spent; raise --token-budget", ErrInconclusive, f.Config.TokenBudget)
	}
	f.tokensUsed++
	f.mu.Unlock()

	method, rawURL, header, body := f.BuildTokenRequest(tr)
	ex, err := f.Do(ctx, method, rawURL, header, body)
	if err == nil && ex.Status == http.StatusOK {
		// Every issued token stays out of the evidence: each string
		// member named like the token member, so that a response that
		// repeats it (TOK-027) hides them all, not only the one parsed.
		for _, v := range memberStrings(ex.Body, f.Flow.Token.Response.AccessToken.Name()) {
			f.AddSecret(v)
		}
	}
	return ex, err
}

// memberStrings returns the string values of every member called name, at
// any depth, of a JSON document, duplicates included; it stops at the
// first syntax error.
func memberStrings(body []byte, name string) []string {
	type frame struct{ object, key bool } // key: the object's next token is a key
	var stack []frame
	afterValue := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].key = true
		}
	}
	var out []string
	capture := false
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{':
				stack = append(stack, frame{object: true, key: true})
			case '[':
				stack = append(stack, frame{})
			default:
				stack = stack[:len(stack)-1]
				afterValue()
			}
			capture = false
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].key {
			stack[n-1].key = false
			capture = tok == name
			continue
		}
		if s, ok := tok.(string); ok && capture {
			out = append(out, s)
		}
		capture = false
		afterValue()
	}
}

// BuildTokenRequest returns the method, URL, headers and body of the token
// request tr describes, without sending it and without counting it against
// the token budget: the load generator sends it many times.
func (f *Framework) BuildTokenRequest(tr TokenRequest) (method, rawURL string, header http.Header, body []byte) {
	tok := f.Flow.Token
	auth := tr.Auth
	if auth == "" {
		auth = f.DefaultAuth()
	}
	mediaType := tr.MediaType
	if mediaType == "" {
		mediaType = f.DefaultMediaType(auth)
	}
	header = http.Header{}
	for k, vs := range tr.Header {
		header[k] = vs
	}
	if header.Get("Content-Type") == "" {
		header.Set("Content-Type", mediaType)
	}
	header.Set("Accept", "application/json")
	body = tr.RawBody
	if body == nil {
		doc := map[string]any{}
		if auth == spec.ClientAuthBody {
			setPointer(doc, tok.Request.ClientID, tr.Client.ID)
			setPointer(doc, tok.Request.ClientSecret, tr.Client.Secret)
		}
		if tok.GrantType != "" {
			setPointer(doc, tok.Request.GrantType, tok.GrantType)
		}
		for k, v := range tr.Set {
			doc[k] = v
		}
		for _, k := range tr.Omit {
			delete(doc, k)
		}
		body = encodeBody(mediaType, doc)
	}
	if auth == spec.ClientAuthBasic {
		header.Set("Authorization", authheader.FormatBasic(tr.Client.ID, tr.Client.Secret))
	}
	method = tr.Method
	if method == "" {
		method = http.MethodPost
	}
	return method, f.Config.Target + tok.Path, header, body
}

// DefaultAuth is the client authentication requests use unless told
// otherwise: the one that worked in Preflight, else the flow's first.
func (f *Framework) DefaultAuth() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.auth != "" {
		return f.auth
	}
	return f.Flow.Token.ClientAuth[0]
}

// DefaultMediaType is the media type the suite uses for a token request
// with the given client authentication: form with Basic when the flow takes
// forms, else the first JSON type, else the first listed.
func (f *Framework) DefaultMediaType(auth string) string {
	mts := f.Flow.Token.MediaTypes
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

func setPointer(doc map[string]any, p spec.Pointer, v string) {
	if !p.IsZero() {
		_ = p.Set(doc, v) // a fresh map: only a scalar in the way could fail, and there is none
	}
}

func encodeBody(mediaType string, doc map[string]any) []byte {
	if mediaType != spec.FormMediaType {
		b, _ := json.Marshal(doc)
		return b
	}
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(fmt.Sprint(doc[k])))
	}
	return []byte(strings.Join(parts, "&"))
}

// Token obtains a fresh token for a client with the flow's default request
// and parses it; the token is added to the redaction list.
func (f *Framework) Token(ctx context.Context, c Credentials) (spec.TokenResponse, *Exchange, error) {
	ex, err := f.RequestToken(ctx, TokenRequest{Client: c})
	if err != nil {
		return spec.TokenResponse{}, ex, err
	}
	if ex.Status != http.StatusOK {
		msg := fmt.Sprintf("token request for client %q got %d", c.ID, ex.Status)
		if body := strings.TrimSpace(string(ex.Body)); body != "" {
			msg += ": " + f.Redact(clip([]byte(body)))
		}
		return spec.TokenResponse{}, ex, errors.New(msg)
	}
	tr, err := f.Flow.ParseTokenResponse(ex.Body)
	if err != nil {
		return tr, ex, err
	}
	return tr, ex, nil // RequestToken added the token to the redaction list
}

// PrimaryToken returns the primary client's token, obtained once per run to
// spare rate-limited token endpoints.
func (f *Framework) PrimaryToken(ctx context.Context) (spec.TokenResponse, error) {
	f.mu.Lock()
	if f.primary != nil {
		defer f.mu.Unlock()
		return *f.primary, nil
	}
	f.mu.Unlock()
	tr, _, err := f.Token(ctx, f.Config.Client)
	if err != nil {
		return tr, err
	}
	f.mu.Lock()
	f.primary = &tr
	f.mu.Unlock()
	return tr, nil
}

// Call sends a request to a documented operation with the given
// Authorization header values (none: no header) and optional raw query.
func (f *Framework) Call(ctx context.Context, op spec.Operation, query string, authorization ...string) (*Exchange, error) {
	u := f.Config.Target + FillPath(op.Path)
	if query != "" {
		u += "?" + query
	}
	header := http.Header{"Accept": {"application/json"}}
	for _, a := range authorization {
		header.Add("Authorization", a)
	}
	return f.Do(ctx, op.Method, u, header, nil)
}

// FillPath puts a placeholder value into each path template variable.
func FillPath(template string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(template, '{')
		j := strings.IndexByte(template, '}')
		if i < 0 || j < i {
			b.WriteString(template)
			return b.String()
		}
		b.WriteString(template[:i])
		b.WriteString("1")
		template = template[j+1:]
	}
}

// Preflight fails, with one line naming the fix, when the target is not
// reachable or the primary client cannot get a token. Nothing is checked
// before it passes, so a broken setup never reports "0 checks, green".
func (f *Framework) Preflight(ctx context.Context) error {
	if err := f.checkOperations(); err != nil {
		return err
	}
	if f.Config.StaleTokenFile != "" {
		saved, err := LoadSavedToken(f.Config.StaleTokenFile)
		if err != nil {
			return err
		}
		f.mu.Lock()
		f.stale = &saved
		f.mu.Unlock()
		f.AddSecret(saved.Token)
	}
	if _, err := f.Do(ctx, http.MethodGet, f.Config.Target+"/", nil, nil); err != nil {
		if errors.Is(err, ErrInconclusive) {
			return fmt.Errorf("target %s keeps answering 429 Too Many Requests: wait, or lower --request-rate", f.Config.Target)
		}
		return fmt.Errorf("target %s is unreachable (%w): start it or fix --target", f.Config.Target, rootCause(err))
	}
	// Try each client authentication the document allows: a server that
	// refuses one (TOK-016/018 judge that) can still be checked with another.
	var tr spec.TokenResponse
	var ex *Exchange
	var err error
	for _, method := range f.Flow.Token.ClientAuth {
		f.mu.Lock()
		f.auth = method
		f.mu.Unlock()
		if tr, ex, err = f.Token(ctx, f.Config.Client); err == nil {
			break
		}
	}
	if err != nil {
		f.mu.Lock()
		f.auth = ""
		f.mu.Unlock()
		if ex != nil && (ex.Status == http.StatusUnauthorized || ex.Status == http.StatusBadRequest) {
			return fmt.Errorf("client %q cannot get a token from %s%s (status %d): check TOLLGATE_CLIENT_ID / TOLLGATE_CLIENT_SECRET and --flow", f.Config.Client.ID, f.Config.Target, f.Flow.Token.Path, ex.Status)
		}
		return fmt.Errorf("no token from %s%s: %w: check --target and --flow", f.Config.Target, f.Flow.Token.Path, err)
	}
	f.mu.Lock()
	f.primary, f.primaryAt = &tr, ex.Sent
	f.mu.Unlock()
	return nil
}

func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// AddSecret adds a value never to be shown in evidence.
func (f *Framework) AddSecret(s string) {
	if s == "" {
		return
	}
	f.mu.Lock()
	if !slices.Contains(f.redact, s) { // Redact's work grows with the list
		f.redact = append(f.redact, s)
	}
	f.mu.Unlock()
}

// Redact replaces every known secret and token in s.
func (f *Framework) Redact(s string) string {
	f.mu.Lock()
	secrets := append([]string(nil), f.redact...)
	f.mu.Unlock()
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	for _, sec := range secrets {
		if len(sec) < 4 {
			continue
		}
		s = strings.ReplaceAll(s, sec, "[REDACTED]")
		quoted, _ := json.Marshal(sec)
		for _, enc := range []string{url.QueryEscape(sec), string(quoted[1 : len(quoted)-1])} {
			if enc != sec && len(enc) >= 4 {
				s = strings.ReplaceAll(s, enc, "[REDACTED]")
			}
		}
	}
	return s
}

// TakeLast returns and forgets the last exchange, for evidence.
func (f *Framework) TakeLast() *Exchange {
	f.mu.Lock()
	defer f.mu.Unlock()
	ex := f.last
	f.last = nil
	return ex
}

// Evidence renders an exchange, redacted, with a curl command that repeats it.
func (f *Framework) Evidence(ex *Exchange) string {
	if ex == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "> %s %s\n", ex.Method, f.Redact(ex.URL))
	writeHeaders(&b, "> ", ex.RequestHead, f)
	if len(ex.RequestBody) > 0 {
		fmt.Fprintf(&b, ">\n> %s\n", f.Redact(clip(ex.RequestBody)))
	}
	if ex.Err != nil {
		fmt.Fprintf(&b, "< (no response: %v)\n", ex.Err)
	} else {
		fmt.Fprintf(&b, "< %d %s\n", ex.Status, http.StatusText(ex.Status))
		writeHeaders(&b, "< ", ex.Header, f)
		if len(ex.Body) > 0 {
			fmt.Fprintf(&b, "<\n< %s\n", f.Redact(clip(ex.Body)))
		}
	}
	fmt.Fprintf(&b, "repeat: %s", f.Curl(ex))
	return b.String()
}

// Curl returns a one-line curl command repeating ex, secrets redacted.
func (f *Framework) Curl(ex *Exchange) string {
	parts := []string{"curl", "-si", "-X", ex.Method, shellQuote(ex.URL)}
	keys := make([]string, 0, len(ex.RequestHead))
	for k := range ex.RequestHead {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range ex.RequestHead[k] {
			parts = append(parts, "-H", shellQuote(k+": "+redactAuthorization(k, v)))
		}
	}
	if len(ex.RequestBody) > 0 {
		parts = append(parts, "--data-binary", shellQuote(string(ex.RequestBody)))
	}
	return f.Redact(strings.Join(parts, " "))
}

func writeHeaders(b *strings.Builder, prefix string, h http.Header, f *Framework) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s%s: %s\n", prefix, k, f.Redact(redactAuthorization(k, v)))
		}
	}
}

// redactAuthorization keeps only the scheme of an Authorization value.
func redactAuthorization(name, v string) string {
	if !strings.EqualFold(name, "Authorization") {
		return v
	}
	scheme, _, _ := strings.Cut(v, " ")
	return scheme + " [REDACTED]"
}

func clip(b []byte) string {
	const max = 2048
	if len(b) > max {
		return string(b[:max]) + fmt.Sprintf("… (%d bytes)", len(b))
	}
	return string(b)
}

// shellQuote quotes s for a POSIX shell on one line: control characters
// use the $'…' form with escapes.
func shellQuote(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) < 0 {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' || c == '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
