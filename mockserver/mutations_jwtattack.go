package mockserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/tollgate/tollgate/mockserver/tokens"
)

// This file holds the verifier defects of jwt_tool's playbook (JWT-010 to
// JWT-012 catch them): a stripped signature, an empty HMAC key, a
// blocklist of alg none spellings, a kid that names a file or is pasted
// into SQL, and jku headers that are fetched, or fetched and trusted.

// nullSignature accepts a token with the expected alg and an empty
// signature segment: a verifier that checks only the signatures it gets.
func nullSignature(signer *tokens.Signer, h tokens.Header, _ string, parts []string) bool {
	return h.Algorithm == signer.Algorithm() && parts[2] == ""
}

// hmacEmptyKey verifies HS256 with an empty secret: a verifier whose HMAC
// secret was never configured.
func hmacEmptyKey(_ *tokens.Signer, h tokens.Header, _ string, parts []string) bool {
	return h.Algorithm == "HS256" && hmacSHA256Verifies(nil, parts)
}

// noneBlocklist refuses alg none only in the spellings it lists, and takes
// any other case of it as unsigned.
func noneBlocklist(_ *tokens.Signer, h tokens.Header, _ string, _ []string) bool {
	return strings.EqualFold(h.Algorithm, "none") && !slices.Contains([]string{"none", "None", "NONE"}, h.Algorithm)
}

// kidKeyDir is where kidAsKeyFile's verifier keeps its HMAC key files.
const kidKeyDir = "/srv/keys"

// kidAsKeyFile verifies HS256 with the content of the file the kid names,
// resolved against kidKeyDir (an absolute kid taken as it is). The file
// system is simulated: it holds only /dev/null, which is empty.
func kidAsKeyFile(_ *tokens.Signer, h tokens.Header, _ string, parts []string) bool {
	if h.Algorithm != "HS256" || h.KeyID == "" {
		return false
	}
	p := h.KeyID
	if !path.IsAbs(p) {
		p = path.Join(kidKeyDir, p)
	}
	files := map[string][]byte{"/dev/null": {}}
	key, ok := files[path.Clean(p)]
	return ok && hmacSHA256Verifies(key, parts)
}

// kidInSQL verifies HS256 with the secret a key table lookup returns for
// the kid, the kid pasted into the query between quotes: SELECT secret
// FROM keys WHERE kid = '<kid>'. The table holds no HMAC key, so only an
// injected UNION SELECT '<literal> returns a row: its literal.
func kidInSQL(_ *tokens.Signer, h tokens.Header, _ string, parts []string) bool {
	if h.Algorithm != "HS256" {
		return false
	}
	const union = "' UNION SELECT '"
	i := strings.Index(strings.ToUpper(h.KeyID), union)
	if i < 0 {
		return false
	}
	literal := h.KeyID[i+len(union):] // the query's own closing quote ends it
	if strings.Contains(literal, "'") {
		return false // not a single literal: a syntax error
	}
	return hmacSHA256Verifies([]byte(literal), parts)
}

func hmacSHA256Verifies(secret []byte, parts []string) bool {
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	return hmac.Equal(sig, mac.Sum(nil))
}

// jkuFetchTimeout bounds a defective verifier's fetch of a jku URL.
const jkuFetchTimeout = 2 * time.Second

// jkuOf returns the jku header of a compact JWS; "" when it has none.
func jkuOf(raw string) string {
	head, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		JKU string `json:"jku"`
	}
	if json.Unmarshal(b, &h) != nil {
		return ""
	}
	return h.JKU
}

// fetchJWKS GETs a JWK Set, as a verifier that follows jku does; nil when
// the fetch fails or does not answer 200.
func fetchJWKS(u string) []byte {
	client := &http.Client{Timeout: jkuFetchTimeout}
	resp, err := client.Get(u) //nolint:noctx // the validator has no request context; the timeout bounds it
	if err != nil {
		return nil
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil
	}
	return body
}

// trustJKU verifies a token with the keys of the JWK Set its jku names.
func trustJKU(signer *tokens.Signer, _ tokens.Header, raw string, _ []string) bool {
	u := jkuOf(raw)
	if u == "" {
		return false
	}
	set := fetchJWKS(u)
	return set != nil && tokens.VerifiesWithJWKS(raw, signer.Algorithm(), set)
}

// fetchJKU fetches the JWK Set a token's jku names, to warm a key cache,
// and then verifies the token as before with the server's own keys.
func fetchJKU(fr *flowRuntime, next TokenValidator) TokenValidator {
	if fr.keys == nil {
		return next
	}
	return validatorFunc(func(raw string, now time.Time) (*tokens.Grant, bool) {
		if u := jkuOf(raw); u != "" {
			_ = fetchJWKS(u) // fetched and dropped: the defect is the request itself
		}
		return next.Validate(raw, now)
	})
}

// refuseKeyURLHeaders refuses, before any key lookup, a token whose header
// names a jku or x5u: a resource server with an empty allowlist of key
// URLs (ASVS 5.0 9.1.3). Conformant: such tokens are never valid here.
func refuseKeyURLHeaders(fr *flowRuntime, next TokenValidator) TokenValidator {
	if fr.keys == nil {
		return next
	}
	return validatorFunc(func(raw string, now time.Time) (*tokens.Grant, bool) {
		head, _, _ := strings.Cut(raw, ".")
		if b, err := base64.RawURLEncoding.DecodeString(head); err == nil {
			var h map[string]json.RawMessage
			if json.Unmarshal(b, &h) == nil && (h["jku"] != nil || h["x5u"] != nil) {
				return nil, false
			}
		}
		return next.Validate(raw, now)
	})
}
