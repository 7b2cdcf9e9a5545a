package authheader_test

import (
	"fmt"
	"testing"

	"github.com/tollgate/tollgate/spec/authheader"
)

func TestIsB64Token(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, s string
		want    bool
	}{
		{"a UUID", "4172bbf1-0890-41c7-b0db-477095a288b6", true},
		{"a JWT", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", true},
		{"every allowed punctuation", "a-._~+/", true},
		{"padding at the end", "abc==", true},
		{"empty", "", false},
		{"padding alone", "==", false},
		{"padding in the middle", "ab=c", false},
		{"a space", "ab c", false},
		{"a comma", "ab,c", false},
		{"non-ASCII", "abcé", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := authheader.IsB64Token(tt.s); got != tt.want {
				t.Errorf("IsB64Token(%q) = %v, want %v", tt.s, got, tt.want)
			}
		})
	}
}

func ExampleIsB64Token() {
	fmt.Println(authheader.IsB64Token("mF_9.B5f-4.1JqM"))
	fmt.Println(authheader.IsB64Token("token with spaces"))
	// Output:
	// true
	// false
}
