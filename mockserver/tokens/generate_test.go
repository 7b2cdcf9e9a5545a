package tokens

import (
	"encoding/base64"
	"regexp"
	"testing"
)

func TestGenerators(t *testing.T) {
	t.Parallel()
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	tests := []struct {
		name  string
		gen   func() (string, error)
		check func(t *testing.T, tok string)
	}{
		{
			name: "uuid",
			gen:  NewUUID,
			check: func(t *testing.T, tok string) {
				if !uuidRE.MatchString(tok) {
					t.Errorf("NewUUID() = %q, want lower-case canonical v4 UUID", tok)
				}
			},
		},
		{
			name: "opaque",
			gen:  NewOpaque,
			check: func(t *testing.T, tok string) {
				if len(tok) != OpaqueLen || OpaqueLen != 43 {
					t.Errorf("len(NewOpaque()) = %d, OpaqueLen = %d, want 43", len(tok), OpaqueLen)
				}
				b, err := base64.RawURLEncoding.Strict().DecodeString(tok)
				if err != nil {
					t.Errorf("NewOpaque() = %q is not unpadded base64url: %v", tok, err)
				}
				if len(b) != 32 {
					t.Errorf("NewOpaque() decodes to %d bytes, want 32", len(b))
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			seen := make(map[string]bool)
			for range 1000 {
				tok, err := tt.gen()
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, tok)
				if seen[tok] {
					t.Fatalf("duplicate token %q", tok)
				}
				seen[tok] = true
			}
		})
	}
}

func BenchmarkNewOpaque(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewOpaque(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewUUID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewUUID(); err != nil {
			b.Fatal(err)
		}
	}
}
