package probe

import (
	"strings"
)

// repeatPrefix starts the line of Evidence that holds the curl command.
const repeatPrefix = "repeat: "

// RepeatCommand returns the curl command that repeats the exchange an
// Evidence text records: its repeat: line, or, for evidence without one, a
// command built from its request lines (method, URL, headers, body), which
// Evidence has already redacted. It returns "" for text that records no
// request.
func RepeatCommand(evidence string) string {
	lines := strings.Split(evidence, "\n")
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, repeatPrefix); ok {
			return rest
		}
	}
	if len(lines) == 0 {
		return ""
	}
	method, url, ok := strings.Cut(strings.TrimPrefix(lines[0], "> "), " ")
	if !strings.HasPrefix(lines[0], "> ") || !ok || method == "" || url == "" {
		return ""
	}
	parts := []string{"curl", "-si", "-X", method, shellQuote(url)}
	var body []string
	inBody := false
request:
	for _, l := range lines[1:] {
		switch {
		case strings.HasPrefix(l, "<"): // the response: the request ends here
			break request
		case inBody:
			body = append(body, strings.TrimPrefix(l, "> "))
		case l == ">":
			inBody = true
		case strings.HasPrefix(l, "> "):
			parts = append(parts, "-H", shellQuote(strings.TrimPrefix(l, "> ")))
		}
	}
	if len(body) > 0 {
		parts = append(parts, "--data-binary", shellQuote(strings.Join(body, "\n")))
	}
	return strings.Join(parts, " ")
}
