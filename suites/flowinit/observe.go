package flowinit

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/tollgate/tollgate/spec"
)

// tokenResponse is what a token response showed: where its members are
// (JSON Pointers; "" for a member it lacks) and the JSON type of every
// member, never a value but the token type and lifetime.
type tokenResponse struct {
	shape                                            *schema
	accessToken, tokenType, expiresIn, scope, issued string
	token                                            string // the access token: read for its format, never written
	tokenTypeValue                                   string // "" when absent or not a string
	lifetime                                         int64  // expires_in in seconds; 0 when absent or not a positive integer
}

// memberNames are the member names each token response member is
// recognised by, compared without case, '_' and '-': RFC 6749 §5.1's, the
// simple flow's camelCase, and common variants.
var memberNames = struct{ accessToken, tokenType, expiresIn, scope, issued []string }{
	accessToken: []string{"accesstoken", "token"},
	tokenType:   []string{"tokentype", "type"},
	expiresIn:   []string{"expiresin", "ttl", "expires", "lifetime"},
	scope:       []string{"scope"},
	issued:      []string{"createdat"},
}

// errNoToken marks a 200 whose body holds no member recognised as the
// access token.
var errNoToken = errors.New("no access token")

// readTokenResponse reads a 200 token response body. It fails with
// errNoToken when the body is not a JSON object or names no access token
// Tollgate recognises.
func readTokenResponse(body []byte) (*tokenResponse, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: the body is not JSON", errNoToken)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: the body is not a JSON object", errNoToken)
	}
	tr := &tokenResponse{shape: schemaOf(obj)}
	var raw any
	tr.accessToken, raw = findMember(obj, memberNames.accessToken, isString)
	if tr.accessToken == "" {
		if ptr, v := findMember(obj, memberNames.accessToken, isAny); ptr != "" {
			return nil, fmt.Errorf("%w: the member %s has type %s, not string; the body has %s", errNoToken, ptr, jsonType(v), describeMembers(obj))
		}
		return nil, fmt.Errorf("%w: no member is named like the access token (%s); the body has %s", errNoToken, strings.Join([]string{"access_token", "accessToken", "token"}, ", "), describeMembers(obj))
	}
	tr.token = raw.(string)
	tr.tokenType, raw = findMember(obj, memberNames.tokenType, isString)
	if raw != nil {
		tr.tokenTypeValue = raw.(string)
	}
	tr.expiresIn, raw = findMember(obj, memberNames.expiresIn, isAny)
	if n, ok := raw.(json.Number); ok {
		if v, err := n.Int64(); err == nil && v > 0 {
			tr.lifetime = v
		}
	}
	tr.scope, _ = findMember(obj, memberNames.scope, isString)
	tr.issued, _ = findMember(obj, memberNames.issued, isNumber)
	return tr, nil
}

func isString(v any) bool { _, ok := v.(string); return ok }
func isNumber(v any) bool { _, ok := v.(json.Number); return ok }
func isAny(any) bool      { return true }

// normalName folds a member name for comparison: lower case, without '_'
// and '-'.
func normalName(s string) string {
	return strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(s))
}

// findMember returns the pointer to and value of the first member of obj
// whose name is one of names (in the order of names) and whose value fits,
// at the top level, else one level down (a token response wrapped in
// {"data": {...}}); "" and nil when there is none.
func findMember(obj map[string]any, names []string, fits func(any) bool) (string, any) {
	keys := sortedKeys(obj)
	for _, want := range names {
		for _, k := range keys {
			if normalName(k) == want && fits(obj[k]) {
				return "/" + escapePointer(k), obj[k]
			}
		}
	}
	for _, outer := range keys {
		inner, ok := obj[outer].(map[string]any)
		if !ok {
			continue
		}
		for _, want := range names {
			for _, k := range sortedKeys(inner) {
				if normalName(k) == want && fits(inner[k]) {
					return "/" + escapePointer(outer) + "/" + escapePointer(k), inner[k]
				}
			}
		}
	}
	return "", nil
}

// escapePointer escapes a member name for a JSON Pointer (RFC 6901 §3).
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// describeMembers lists the top-level members of obj with their JSON types.
func describeMembers(obj map[string]any) string {
	if len(obj) == 0 {
		return "no members"
	}
	var parts []string
	for _, k := range sortedKeys(obj) {
		parts = append(parts, fmt.Sprintf("%q (%s)", k, jsonType(obj[k])))
	}
	return "members " + strings.Join(parts, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// uuidV4 is an RFC 4122 version 4 UUID in its text form (RFC 4122 §3),
// the format the mock's uuid tokens have.
var uuidV4 = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$`)

// tokenFormat returns the x-tollgate token format tok has, spec.FormatUUID
// or spec.FormatJWT, and for a JWT its header's alg; "" when it is neither.
// Opaque is never returned: any string is opaque, and naming the format
// promises something about the shape that one token cannot show.
func tokenFormat(tok string) (format, alg string) {
	if uuidV4.MatchString(tok) {
		return spec.FormatUUID, ""
	}
	// RFC 7519 §7.2: three base64url parts, the first a JSON object header
	// (RFC 7515 §4.1.1: "alg" is REQUIRED).
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", ""
	}
	head, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "", ""
	}
	if _, err := base64.RawURLEncoding.DecodeString(parts[1]); err != nil {
		return "", ""
	}
	var header map[string]any
	if json.Unmarshal(head, &header) != nil {
		return "", ""
	}
	alg, ok := header["alg"].(string)
	if !ok || alg == "" || strings.EqualFold(alg, "none") {
		return "", ""
	}
	return spec.FormatJWT, alg
}

// schema is a JSON Schema for an observed JSON value: types only, no
// values, so that a token response is described without its token.
type schema struct {
	typ      string // "object", "array", "string", "integer", "number", "boolean"; "": any
	props    map[string]*schema
	required []string
}

// schemaOf returns the schema of v; members of objects are optional until
// require marks them.
func schemaOf(v any) *schema {
	s := &schema{typ: jsonType(v)}
	if obj, ok := v.(map[string]any); ok {
		s.props = map[string]*schema{}
		for k, m := range obj {
			s.props[k] = schemaOf(m)
		}
	}
	if s.typ == "null" {
		s.typ = ""
	}
	return s
}

// jsonType names the JSON Schema type of a decoded value (json.Number
// for numbers).
func jsonType(v any) string {
	switch v := v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return "integer"
		}
		return "number"
	case nil:
		return "null"
	}
	return ""
}

// member makes sure the member a pointer names exists with type typ,
// creating the objects on the way, and marks it required when present is
// true. It returns false when the pointer crosses a member that is not an
// object.
func (s *schema) member(pointer, typ string, present bool) bool {
	p, err := spec.ParsePointer(pointer)
	if err != nil {
		return false
	}
	tokens := p.Tokens()
	cur := s
	for i, tok := range tokens {
		if cur.typ != "object" {
			return false
		}
		if cur.props == nil {
			cur.props = map[string]*schema{}
		}
		next := cur.props[tok]
		if next == nil {
			next = &schema{}
			cur.props[tok] = next
		}
		if present && !slices.Contains(cur.required, tok) {
			cur.required = append(cur.required, tok)
			sort.Strings(cur.required)
		}
		if i == len(tokens)-1 {
			next.typ, next.props = typ, nil
		} else if next.typ == "" {
			next.typ = "object"
		}
		cur = next
	}
	return true
}
