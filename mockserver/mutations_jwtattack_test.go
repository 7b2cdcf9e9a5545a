package mockserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/mockserver/tokens"
)

// hs256 returns the three parts of an HS256 token keyed with secret.
func hs256(secret string) []string {
	input := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0"
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(input))
	return strings.Split(input+"."+base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), ".")
}

// TestKidInjectionDefects: the simulated key lookups give the key the
// injected kid selects, and nothing for an ordinary kid.
func TestKidInjectionDefects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		defect forgery
		kid    string
		secret string
		want   bool
	}{
		{"traversal to /dev/null", kidAsKeyFile, "../../dev/null", "", true},
		{"absolute /dev/null", kidAsKeyFile, "/dev/null", "", true},
		{"traversal, wrong key", kidAsKeyFile, "../../dev/null", "1", false},
		{"a key file that is not there", kidAsKeyFile, "tollgate-unknown-1", "", false},
		{"no kid", kidAsKeyFile, "", "", false},
		{"SQL union", kidInSQL, "x' UNION SELECT '1", "1", true},
		{"SQL union, lower case", kidInSQL, "x' union select 'k", "k", true},
		{"SQL union, wrong key", kidInSQL, "x' UNION SELECT '1", "2", false},
		{"SQL, no union", kidInSQL, "x'", "", false},
		{"SQL, two literals", kidInSQL, "x' UNION SELECT '1' -- '", "1' -- ", false},
	}
	for _, tt := range tests {
		h := tokens.Header{Algorithm: "HS256", KeyID: tt.kid}
		if got := tt.defect(nil, h, "", hs256(tt.secret)); got != tt.want {
			t.Errorf("%s: accepted = %v, want %v", tt.name, got, tt.want)
		}
	}
}
