package conformance

import "testing"

func TestWithoutLoad(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", "!load"},
		{"area:token", "(area:token) && !load"},
		{"load", "load"},
		{"flow:simple && load", "flow:simple && load"},
		{"!load", "!load"},
		{"area:download", "(area:download) && !load"},
	}
	for _, tt := range tests {
		if got := WithoutLoad(tt.in); got != tt.want {
			t.Errorf("WithoutLoad(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
