package conformance

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/bits"
	"net/url"
	"regexp"
	"strings"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/probe"
)

// This file holds the rules the token checks judge by that are more than a
// comparison: how short of the documented lifetime expires_in may be, how
// many random bits a set of opaque tokens can carry, and which request a
// recorded exchange made.

// lifetimeRounding is how many seconds expires_in may fall short of the
// documented lifetime: servers compute it as exp minus now, truncated, so a
// 300 s token issued a moment ago reads 299 (zitadel's OP does). Up to 5 s,
// or 1% of a long lifetime; never more, and never longer than documented.
func lifetimeRounding(documented int64) int64 {
	return max(5, documented/100)
}

// tokenStrength is the estimate TOK-011 judges: an upper bound of the
// random bits a token carries, and what structure, if any, bounds it.
type tokenStrength struct {
	bits        int    // upper bound of the bits that vary
	uuidVersion int    // the UUID version every sample is (text or base64 of its text), else 0
	structure   string // why the bound is below what the length suggests; "" when nothing was found
}

// assessTokens estimates the strength of opaque tokens from samples issued
// in a row (the catalog's method): a UUID in any encoding carries at most
// 122 varying bits, and only version 4 draws them at random; otherwise
// the prefix and suffix every sample shares are stripped and the rest is
// bounded by alphabet size × length, so tok-001, tok-002 … carry a few bits.
func assessTokens(samples []string) tokenStrength {
	if v, how := uuidVersionOfAll(samples); v != 0 {
		s := tokenStrength{bits: 122, uuidVersion: v, structure: fmt.Sprintf("each token is %s of version %d", how, v)}
		switch v {
		case 4:
			s.structure = fmt.Sprintf("each token is %s: 122 random bits", how)
		case 3, 5:
			s.structure += " (a hash of a name: at most 122 bits vary, and they are only as random as the name)"
		default:
			s.structure += " (time-based: clock and counter fields, few random bits)"
		}
		return s
	}
	core := samples
	prefix, suffix := commonPrefix(samples), commonSuffix(samples)
	structure := ""
	if len(samples) > 1 && len(prefix)+len(suffix) > 0 {
		core = make([]string, len(samples))
		for i, t := range samples {
			core[i] = t[len(prefix) : len(t)-min(len(suffix), len(t)-len(prefix))]
		}
		structure = fmt.Sprintf("all %d tokens share the prefix %q and the suffix %q", len(samples), clipShared(prefix), clipShared(suffix))
	}
	least := -1
	for _, c := range core {
		if b := entropyBits(c); least < 0 || b < least {
			least = b
		}
	}
	if seq := numericSequence(core); seq != "" {
		structure = strings.TrimPrefix(structure+"; "+seq, "; ")
	}
	return tokenStrength{bits: max(least, 0), structure: structure}
}

// clipShared shortens a shared prefix or suffix for a message: only a
// glimpse, since it is part of live tokens.
func clipShared(s string) string {
	if len(s) > 8 {
		return s[:8] + "…"
	}
	return s
}

// numericSequence describes samples whose varying parts are decimal
// numbers, "" otherwise.
func numericSequence(core []string) string {
	if len(core) < 2 {
		return ""
	}
	for _, c := range core {
		if c == "" || strings.Trim(c, "0123456789") != "" {
			return ""
		}
	}
	return fmt.Sprintf("what varies is a decimal number (%s): a sequence", strings.Join(core, ", "))
}

func commonPrefix(ss []string) string {
	if len(ss) < 2 {
		return ""
	}
	p := ss[0]
	for _, s := range ss[1:] {
		for !strings.HasPrefix(s, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}

func commonSuffix(ss []string) string {
	if len(ss) < 2 {
		return ""
	}
	p := ss[0]
	for _, s := range ss[1:] {
		for !strings.HasSuffix(s, p) {
			p = p[1:]
		}
	}
	return p
}

// entropyBits estimates an upper bound of a string's random bits: the
// alphabet it draws from, times its length.
func entropyBits(token string) int {
	var lower, upper, digit, other bool
	for i := 0; i < len(token); i++ {
		c := token[i]
		switch {
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= '0' && c <= '9':
			digit = true
		default:
			other = true
		}
	}
	alphabet := 0
	for _, n := range []struct {
		used bool
		size int
	}{{lower, 26}, {upper, 26}, {digit, 10}, {other, 4}} {
		if n.used {
			alphabet += n.size
		}
	}
	if alphabet <= 1 {
		return 0
	}
	perChar := bits.Len(uint(alphabet)) - 1 // floor(log2)
	if isHex(token) {
		perChar = 4
	}
	return perChar * len(strings.Trim(token, "=-"))
}

var uuidText = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-([0-9a-f])[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// uuidVersionOfAll returns the UUID version every sample is, and how it is
// encoded, or 0 when one is not a UUID or they differ.
func uuidVersionOfAll(samples []string) (int, string) {
	version, how := 0, ""
	for i, s := range samples {
		v, h := uuidVersion(s)
		if v == 0 || (i > 0 && v != version) {
			return 0, ""
		}
		version, how = v, h
	}
	return version, how
}

// uuidVersion returns the version of a UUID written as text, as base64 of
// its text (also upper-cased, as go-oauth2's generator does), or as base64
// of its 16 bytes; 0 when token is none of these.
func uuidVersion(token string) (int, string) {
	if v := uuidTextVersion(strings.ToLower(token)); v != 0 {
		return v, "a UUID"
	}
	if text, ok := decodeCaseFoldedBase64(token); ok {
		if v := uuidTextVersion(strings.ToLower(text)); v != 0 {
			return v, "the base64 of a UUID's text"
		}
	}
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.RawStdEncoding} {
		if raw, err := enc.DecodeString(strings.TrimRight(token, "=")); err == nil && len(raw) == 16 && raw[8]&0xc0 == 0x80 {
			if v := int(raw[6] >> 4); v >= 1 && v <= 8 {
				return v, "the base64 of a UUID's bytes"
			}
		}
	}
	return 0, ""
}

func uuidTextVersion(s string) int {
	m := uuidText.FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	v := int(m[1][0] - '0')
	if m[1][0] >= 'a' {
		return 0 // versions above 9 are not defined
	}
	return v
}

// decodeCaseFoldedBase64 decodes base64 (standard or URL alphabet, padded
// or not) whose letters may have been case-folded, looking for UUID text:
// in each four-character group it tries every case of the letters and
// keeps the first that decodes to hex digits and hyphens.
func decodeCaseFoldedBase64(token string) (string, bool) {
	s := strings.TrimRight(token, "=")
	if len(s) < 48 || len(s) > 52 || len(s)%4 == 1 {
		return "", false // the base64 of 36 characters is 48
	}
	s = strings.NewReplacer("-", "+", "_", "/").Replace(s)
	var out strings.Builder
	for i := 0; i < len(s); i += 4 {
		group := s[i:min(i+4, len(s))]
		text, ok := decodeGroup(group)
		if !ok {
			return "", false
		}
		out.WriteString(text)
	}
	return out.String(), true
}

func decodeGroup(group string) (string, bool) {
	var letters []int
	for i := 0; i < len(group); i++ {
		if c := group[i]; (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') {
			letters = append(letters, i)
		}
	}
	b := []byte(group)
	for mask := 0; mask < 1<<len(letters); mask++ {
		for j, at := range letters {
			c := group[at] | 0x20 // lower
			if mask&(1<<j) != 0 {
				c &^= 0x20 // upper
			}
			b[at] = c
		}
		raw, err := base64.RawStdEncoding.DecodeString(string(b))
		if err != nil {
			continue
		}
		if strings.Trim(string(raw), "0123456789abcdefABCDEF-") == "" {
			return string(raw), true
		}
	}
	return "", false
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return s != ""
}

// requestSetsEmpty reports whether a recorded token request carried the
// member at p with an empty value (scope=, say), in a form or a JSON body.
func requestSetsEmpty(ex *probe.Exchange, p spec.Pointer) bool {
	if p.IsZero() {
		return false
	}
	if form, err := url.ParseQuery(string(ex.RequestBody)); err == nil {
		if vs, ok := form[p.Name()]; ok && len(vs) > 0 && vs[0] == "" {
			return true
		}
	}
	if q, err := url.Parse(ex.URL); err == nil {
		if vs, ok := q.Query()[p.Name()]; ok && len(vs) > 0 && vs[0] == "" {
			return true
		}
	}
	var doc map[string]any
	if json.Unmarshal(ex.RequestBody, &doc) == nil {
		if v, ok := p.Get(doc); ok && v == "" {
			return true
		}
	}
	return false
}
