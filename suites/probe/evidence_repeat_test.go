package probe_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tollgate/tollgate/suites/probe"
)

// TestRepeatCommand: the curl of an evidence text is its repeat: line, else
// one built from its request lines; never from the response.
func TestRepeatCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		evidence string
		want     string
	}{
		{
			name:     "the repeat line wins",
			evidence: "> GET http://127.0.0.1/api\n< 200 OK\nrepeat: curl -si -X GET 'http://127.0.0.1/api'",
			want:     "curl -si -X GET 'http://127.0.0.1/api'",
		},
		{
			name:     "headers and body, without a repeat line",
			evidence: "> POST http://127.0.0.1/token\n> Authorization: Basic [REDACTED]\n> Content-Type: application/x-www-form-urlencoded\n>\n> grant_type=client_credentials\n< 400 Bad Request\n< Content-Type: application/json\n<\n< {\"error\":\"invalid_request\"}",
			want:     "curl -si -X POST 'http://127.0.0.1/token' -H 'Authorization: Basic [REDACTED]' -H 'Content-Type: application/x-www-form-urlencoded' --data-binary 'grant_type=client_credentials'",
		},
		{
			name:     "a body of several lines keeps them, quoted on one line",
			evidence: "> POST http://127.0.0.1/token\n>\n> {\n  \"a\": 1\n}\n< 500 Internal Server Error",
			want:     `curl -si -X POST 'http://127.0.0.1/token' --data-binary $'{\n  "a": 1\n}'`,
		},
		{
			name:     "a quote in a header is escaped for the shell",
			evidence: "> GET http://127.0.0.1/api\n> X-Note: it's\n< (no response: timeout)",
			want:     `curl -si -X GET 'http://127.0.0.1/api' -H 'X-Note: it'\''s'`,
		},
		{name: "no request line", evidence: "< 200 OK", want: ""},
		{name: "empty", evidence: "", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := probe.RepeatCommand(tc.evidence); got != tc.want {
				t.Errorf("RepeatCommand() =\n %s\nwant\n %s", got, tc.want)
			}
		})
	}
}

// TestRepeatCommandOfEvidence: for what Evidence writes, RepeatCommand
// finds the same command as Curl.
func TestRepeatCommandOfEvidence(t *testing.T) {
	t.Parallel()
	p := probe.New(probe.Config{Target: "http://127.0.0.1:1"}, nil)
	ex := &probe.Exchange{
		Method:      http.MethodPost,
		URL:         "http://127.0.0.1:1/token",
		RequestHead: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		RequestBody: []byte("grant_type=client_credentials"),
		Status:      http.StatusOK,
	}
	ev := p.Evidence(ex)
	if got, want := probe.RepeatCommand(ev), p.Curl(ex); got != want || !strings.HasPrefix(got, "curl ") {
		t.Errorf("RepeatCommand(Evidence) = %q, want Curl's %q", got, want)
	}
	without := ev[:strings.LastIndex(ev, "\nrepeat: ")]
	if got, want := probe.RepeatCommand(without), p.Curl(ex); got != want {
		t.Errorf("RepeatCommand(Evidence without its repeat line) =\n %s\nwant Curl's\n %s", got, want)
	}
}
