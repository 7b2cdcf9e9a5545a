package flowinit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/tollgate/tollgate/spec"
)

// metadata is a usable authorization server metadata document of the
// target (RFC 8414 §2, or an OpenID Connect discovery document).
type metadata struct {
	url, source string
	md          map[string]any
}

// str returns a string member, "" when absent or not a string.
func (m *metadata) str(name string) string {
	if m == nil {
		return ""
	}
	s, _ := m.md[name].(string)
	return s
}

// list returns the strings of an array member; nil when absent.
func (m *metadata) list(name string) []string {
	if m == nil {
		return nil
	}
	arr, _ := m.md[name].([]any)
	var out []string
	for _, v := range arr {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// has reports whether the member is present at all.
func (m *metadata) has(name string) bool {
	if m == nil {
		return false
	}
	_, ok := m.md[name]
	return ok
}

// discover GETs the discovery locations of the target in turn and returns
// the first metadata document whose data may be used (spec.MetadataUsable),
// nil when there is none; looked says what each location answered. err is
// set only when the target did not answer.
func discover(ctx context.Context, client *http.Client, target string) (found *metadata, looked []string, err error) {
	for _, loc := range spec.DiscoveryLocations(target) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc.URL, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", loc.URL, err)
		}
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, nil, fmt.Errorf("GET %s: %w", loc.URL, err)
		}
		body, readErr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close() // read above; a failure to close changes nothing
		var md map[string]any
		switch {
		case readErr != nil:
			looked = append(looked, fmt.Sprintf("%s (status %d, body unreadable: %v)", loc.URL, resp.StatusCode, readErr))
			continue
		case resp.StatusCode != http.StatusOK:
			looked = append(looked, fmt.Sprintf("%s (status %d)", loc.URL, resp.StatusCode))
			continue
		case json.NewDecoder(bytes.NewReader(body)).Decode(&md) != nil || md == nil:
			looked = append(looked, fmt.Sprintf("%s (status 200, not a JSON object)", loc.URL))
			continue
		}
		iss, _ := md["issuer"].(string)
		if !spec.MetadataUsable(loc.URL, iss) {
			rule, issuers := spec.MetadataIssuers(loc.URL)
			looked = append(looked, fmt.Sprintf("%s (its issuer %q is not %q, the issuer that URL was made from, so %s forbids using it)", loc.URL, iss, issuers[0], rule))
			continue
		}
		return &metadata{url: loc.URL, source: loc.Source, md: md}, looked, nil
	}
	return nil, looked, nil
}

// pathOnTarget returns the path of rawURL relative to the target, when
// rawURL is on the target (same scheme and host, below the target's path)
// and has no query: what a flow document, whose paths are served from the
// target's root, can name. A path ("/x") is taken as one on the target.
func pathOnTarget(target, rawURL string) (string, bool) {
	if strings.HasPrefix(rawURL, "/") && !strings.HasPrefix(rawURL, "//") {
		u, err := url.Parse(rawURL)
		return u.Path, err == nil && u.RawQuery == "" && u.Fragment == ""
	}
	t, errT := url.Parse(target)
	u, errU := url.Parse(rawURL)
	if errT != nil || errU != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	if !strings.EqualFold(t.Scheme, u.Scheme) || !strings.EqualFold(t.Host, u.Host) {
		return "", false
	}
	base := strings.TrimSuffix(t.Path, "/")
	if !strings.HasPrefix(u.Path, base+"/") {
		return "", false
	}
	return strings.TrimPrefix(u.Path, base), true
}
