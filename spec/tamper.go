package spec

import "strings"

// Tokens a server never issued, made from one it did, for the "modified
// token" probes (BEAR-005, the invalid share of a load run). Both keep the
// token's length and stay within b64token, so a server must refuse them
// for what they are (invalid_token), not for their syntax.

// AlterToken returns tok with the character at i replaced: by "A", or by
// "B" where it was "A". It panics when i is out of range.
func AlterToken(tok string, i int) string {
	b := []byte(tok)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// TamperToken returns a token of the same length and alphabet that the
// server never issued: four characters past the middle are rotated within
// their class (digit, a-f, g-z, A-F, G-Z), so a UUID stays a UUID and a JWT
// keeps its shape but fails its signature. A token with no such character
// gets a "0" appended.
func TamperToken(tok string) string {
	b := []byte(tok)
	changed := 0
	for i := len(b) / 2; i < len(b) && changed < 4; i++ {
		if r, ok := rotate(b[i]); ok {
			b[i] = r
			changed++
		}
	}
	if changed == 0 {
		return tok + "0"
	}
	return string(b)
}

// rotate returns the next character of c's class, and whether c has one.
func rotate(c byte) (byte, bool) {
	for _, class := range []string{"0123456789", "abcdef", "ghijklmnopqrstuvwxyz", "ABCDEF", "GHIJKLMNOPQRSTUVWXYZ"} {
		if i := strings.IndexByte(class, c); i >= 0 {
			return class[(i+1)%len(class)], true
		}
	}
	return c, false
}
