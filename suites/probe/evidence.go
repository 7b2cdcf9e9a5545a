package probe

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
)

// AddSecret adds a value never to be shown in evidence.
func (p *Prober) AddSecret(s string) {
	if s == "" {
		return
	}
	p.mu.Lock()
	if !slices.Contains(p.redact, s) { // Redact's work grows with the list
		p.redact = append(p.redact, s)
	}
	p.mu.Unlock()
}

// Redact replaces every known secret and token in s.
func (p *Prober) Redact(s string) string {
	p.mu.Lock()
	secrets := append([]string(nil), p.redact...)
	p.mu.Unlock()
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	for _, sec := range secrets {
		if len(sec) < 4 {
			continue
		}
		s = strings.ReplaceAll(s, sec, "[REDACTED]")
		quoted, _ := json.Marshal(sec)
		for _, enc := range []string{url.QueryEscape(sec), string(quoted[1 : len(quoted)-1])} {
			if enc != sec && len(enc) >= 4 {
				s = strings.ReplaceAll(s, enc, "[REDACTED]")
			}
		}
	}
	return s
}

// TakeLast returns and forgets the last exchange, for evidence.
func (p *Prober) TakeLast() *Exchange {
	p.mu.Lock()
	defer p.mu.Unlock()
	ex := p.last
	p.last = nil
	return ex
}

// Cite makes ex the evidence of the check running, in place of whatever
// was sent after it: for a check that judges an earlier exchange than its
// last. A nil ex changes nothing.
func (p *Prober) Cite(ex *Exchange) {
	if ex == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last = ex
}

// Evidence renders an exchange, redacted, with a curl command that repeats it.
func (p *Prober) Evidence(ex *Exchange) string {
	if ex == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "> %s %s\n", ex.Method, p.Redact(ex.URL))
	writeHeaders(&b, "> ", ex.RequestHead, p)
	if len(ex.RequestBody) > 0 {
		fmt.Fprintf(&b, ">\n> %s\n", p.Redact(clip(ex.RequestBody)))
	}
	if ex.Err != nil {
		fmt.Fprintf(&b, "< (no response: %v)\n", ex.Err)
	} else {
		fmt.Fprintf(&b, "< %d %s\n", ex.Status, http.StatusText(ex.Status))
		writeHeaders(&b, "< ", ex.Header, p)
		if len(ex.Body) > 0 {
			fmt.Fprintf(&b, "<\n< %s\n", p.Redact(clip(ex.Body)))
		}
	}
	fmt.Fprintf(&b, "repeat: %s", p.Curl(ex))
	return b.String()
}

// Curl returns a one-line curl command repeating ex, secrets redacted.
func (p *Prober) Curl(ex *Exchange) string {
	parts := []string{"curl", "-si", "-X", ex.Method, shellQuote(ex.URL)}
	keys := make([]string, 0, len(ex.RequestHead))
	for k := range ex.RequestHead {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range ex.RequestHead[k] {
			parts = append(parts, "-H", shellQuote(k+": "+redactAuthorization(k, v)))
		}
	}
	if len(ex.RequestBody) > 0 {
		parts = append(parts, "--data-binary", shellQuote(string(ex.RequestBody)))
	}
	return p.Redact(strings.Join(parts, " "))
}

func writeHeaders(b *strings.Builder, prefix string, h http.Header, p *Prober) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s%s: %s\n", prefix, k, p.Redact(redactAuthorization(k, v)))
		}
	}
}

// redactAuthorization keeps only the scheme of an Authorization value.
func redactAuthorization(name, v string) string {
	if !strings.EqualFold(name, "Authorization") {
		return v
	}
	scheme, _, _ := strings.Cut(v, " ")
	return scheme + " [REDACTED]"
}

func clip(b []byte) string {
	const max = 2048
	if len(b) > max {
		return string(b[:max]) + fmt.Sprintf("… (%d bytes)", len(b))
	}
	return string(b)
}

// shellQuote quotes s for a POSIX shell on one line: control characters
// use the $'…' form with escapes.
func shellQuote(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) < 0 {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' || c == '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
