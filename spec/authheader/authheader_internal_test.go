package authheader

import (
	"strings"
	"testing"
)

// TestIsToken68Masks checks the bit masks against the RFC 6750 §2.1 set.
func TestIsToken68Masks(t *testing.T) {
	t.Parallel()
	const set = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/"
	for c := 0; c < 256; c++ {
		want := strings.IndexByte(set, byte(c)) >= 0
		if got := isToken68(byte(c)); got != want {
			t.Errorf("isToken68(%q) = %v, want %v", byte(c), got, want)
		}
	}
}
