package probe

import (
	"slices"
	"testing"
)

func TestMemberStrings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		want       []string
	}{
		{"top level", `{"access_token":"a","token_type":"Bearer"}`, []string{"a"}},
		{"repeated member", `{"access_token":"a","x":1,"access_token":"b"}`, []string{"a", "b"}},
		{"nested", `{"data":{"attributes":{"access_token":"n"}},"list":[{"access_token":"m"}]}`, []string{"n", "m"}},
		{"a value equal to the name is not a key", `{"note":"access_token","x":"y"}`, nil},
		{"a non-string value", `{"access_token":42}`, nil},
		{"after an object value", `{"o":{"k":"v"},"access_token":"c"}`, []string{"c"}},
		{"syntax error stops", `{"access_token":"d",`, []string{"d"}},
		{"not JSON", `access_token=e`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := memberStrings([]byte(tt.body), "access_token"); !slices.Equal(got, tt.want) {
				t.Errorf("memberStrings(%s) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}
