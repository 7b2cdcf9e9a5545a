package spec_test

import (
	"slices"
	"testing"

	"github.com/tollgate/tollgate/spec"
)

func TestDuplicateMembers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		want    []string
		wantErr bool
	}{
		{name: "no repeat", body: `{"a":1,"b":{"a":2}}`},
		{name: "a repeated member", body: `{"a":1,"b":2,"a":3}`, want: []string{"a"}},
		{name: "each repeat once per occurrence", body: `{"a":1,"a":2,"a":3,"b":[],"b":{}}`, want: []string{"a", "a", "b"}},
		{name: "nested repeats do not count", body: `{"x":{"a":1,"a":2}}`},
		{name: "an array is not an object", body: `[1,2]`, wantErr: true},
		{name: "not JSON", body: `nope`, wantErr: true},
		{name: "a repeat before the body breaks off", body: `{"a":1,"a":2,"b":`, want: []string{"a"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := spec.DuplicateMembers([]byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("DuplicateMembers(%s) error = %v, want error: %v", tt.body, err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("DuplicateMembers(%s) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}
