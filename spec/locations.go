package spec

import (
	"fmt"
	"net/url"
	"strings"
)

// compileLocations reads x-tollgate.jwksUri and x-tollgate.metadataUrl:
// where a server publishes its JWK Set and its authorization server
// metadata when that is not where discovery looks.
func (c *compiler) compileLocations(f *Flow) error {
	ext := c.src.ext
	for _, loc := range []struct {
		key, value, example string
		dst                 *string
	}{
		{"jwksUri", ext.JWKSURI, "/oauth/jwks", &f.JWKSURI},
		{"metadataUrl", ext.MetadataURL, "/.well-known/openid-configuration", &f.MetadataURL},
	} {
		if loc.value == "" {
			continue
		}
		if err := CheckLocation(loc.value); err != nil {
			return c.extErr(loc.key, "%w: give an absolute http(s) URL or a path on the server such as %s", err, loc.example)
		}
		*loc.dst = loc.value
	}
	// A document that names no format (check does not need one) may still
	// say where a JWT server's keys are.
	if f.JWKSURI != "" && ext.Token.Format != "" && f.TokenFormat != FormatJWT {
		return c.extErr("jwksUri", "only jwt tokens are checked against a JWK Set: remove it or set token.format: jwt")
	}
	return nil
}

// CheckLocation reports why s is neither an absolute http(s) URL nor a
// path on the server (starting with one "/"), both without a fragment: the
// forms a document, a target file or a flag may give a JWK Set or
// metadata location in.
func CheckLocation(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL: %w", s, err)
	case u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Errorf("%q has a fragment", s)
	case strings.HasPrefix(s, "//"):
		return fmt.Errorf("%q names a host without a scheme", s)
	case strings.HasPrefix(s, "/"):
		return nil
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q is neither an http(s) URL nor a path", s)
	case u.Host == "":
		return fmt.Errorf("%q has no host", s)
	}
	return nil
}
