package spec_test

import (
	"strings"
	"testing"

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/spec/authheader"
)

func TestAlterToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, tok string
		at        int
		want      string
	}{
		{"the first character becomes A", "xyz", 0, "Ayz"},
		{"an A becomes B", "xAz", 1, "xBz"},
		{"the last character", "4172bbf1", 7, "4172bbfA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := spec.AlterToken(tt.tok, tt.at); got != tt.want {
				t.Errorf("AlterToken(%q, %d) = %q, want %q", tt.tok, tt.at, got, tt.want)
			}
		})
	}
}

func TestTamperToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, tok string
		sameLen   bool
	}{
		{"a UUID stays a UUID", "4172bbf1-0890-41c7-b0db-477095a288b6", true},
		{"a JWT keeps its shape", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", true},
		{"one character", "z", false},
		{"no rotatable character: one is appended", "----", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := spec.TamperToken(tt.tok)
			if got == tt.tok {
				t.Fatalf("TamperToken(%q) is unchanged", tt.tok)
			}
			if tt.sameLen && len(got) != len(tt.tok) {
				t.Errorf("TamperToken(%q) = %q changes the length", tt.tok, got)
			}
			if !authheader.IsB64Token(got) {
				t.Errorf("TamperToken(%q) = %q is not a b64token", tt.tok, got)
			}
			if tt.sameLen && strings.Count(got, "-") != strings.Count(tt.tok, "-") {
				t.Errorf("TamperToken(%q) = %q moves the separators", tt.tok, got)
			}
		})
	}
}
