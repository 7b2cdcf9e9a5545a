package conformance

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega" //nolint:revive // matchers read as prose in checks

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/probe"
)

// metadataDoc is one authorization server metadata document of the
// target: RFC 8414 metadata or an OpenID Connect discovery document.
type metadataDoc struct {
	url     string          // where it was fetched
	source  string          // who named url, for messages
	rule    string          // the issuer rule for url (spec.MetadataIssuers); "" when url has neither well-known form
	issuers []string        // the issuer values rule accepts
	ex      *probe.Exchange // the answer
	md      map[string]any  // nil unless a 200 with a JSON object
}

// issuer returns the document's issuer member; ok is false when it is not
// a string.
func (d *metadataDoc) issuer() (iss string, ok bool) {
	iss, ok = d.md["issuer"].(string)
	return iss, ok
}

// usable reports whether the document's data may be used
// (spec.MetadataUsable).
func (d *metadataDoc) usable() bool {
	if d.md == nil {
		return false
	}
	iss, _ := d.issuer()
	return spec.MetadataUsable(d.url, iss)
}

// metadataLocation is a URL where metadata may be, and who named it.
type metadataLocation struct{ url, source string }

// metadataLocations are where the checks look for metadata, the first
// named of: the configuration (--metadata-url, metadata_url), the flow
// document (x-tollgate.metadataUrl), else discovery at both well-known
// URLs of the target, RFC 8414's first.
func metadataLocations(f *framework.Framework) []metadataLocation {
	switch {
	case f.Config.MetadataURL != "":
		return []metadataLocation{{f.Config.EndpointURL(f.Config.MetadataURL), "the configuration (--metadata-url or metadata_url)"}}
	case f.Flow.MetadataURL != "":
		return []metadataLocation{{f.Config.EndpointURL(f.Flow.MetadataURL), "the flow document (x-tollgate.metadataUrl)"}}
	}
	var locs []metadataLocation
	for _, loc := range spec.DiscoveryLocations(f.Config.Target) {
		locs = append(locs, metadataLocation{loc.URL, loc.Source})
	}
	return locs
}

// fetchMetadataDocs GETs every location of metadataLocations.
func fetchMetadataDocs(ctx ginkgo.SpecContext, g Gomega, f *framework.Framework) []*metadataDoc {
	var docs []*metadataDoc
	for _, loc := range metadataLocations(f) {
		docs = append(docs, fetchMetadataDoc(ctx, g, f, loc))
	}
	return docs
}

// fetchMetadataDoc GETs one metadata location.
func fetchMetadataDoc(ctx ginkgo.SpecContext, g Gomega, f *framework.Framework, loc metadataLocation) *metadataDoc {
	d := &metadataDoc{url: loc.url, source: loc.source}
	d.rule, d.issuers = spec.MetadataIssuers(loc.url)
	ex, err := f.Do(ctx, http.MethodGet, loc.url, http.Header{"Accept": {"application/json"}}, nil)
	d.ex = framework.Sent(g, ex, err)
	if ex.Status == http.StatusOK {
		var md map[string]any
		if json.Unmarshal(ex.Body, &md) == nil && md != nil {
			d.md = md
		}
	}
	return d
}

// usableMetadata returns the first metadata document whose data may be
// used, fetching no further, and the first one found at all; both nil
// when there is none. A check that fails on the usable one has its GET
// as the last exchange, for evidence.
func usableMetadata(ctx ginkgo.SpecContext, g Gomega, f *framework.Framework) (usable, first *metadataDoc) {
	for _, loc := range metadataLocations(f) {
		d := fetchMetadataDoc(ctx, g, f, loc)
		if d.md != nil && first == nil {
			first = d
		}
		if d.usable() {
			return d, first
		}
	}
	return nil, first
}

// jwksLocation returns where the JWK Set is, the first named of: the
// configuration (--jwks-uri, jwks_uri), the flow document
// (x-tollgate.jwksUri), the jwks_uri of usable metadata, else
// /.well-known/jwks.json on the target (Commerce Layer serves it there).
// ignored says why a metadata document that names a jwks_uri was not used.
func jwksLocation(ctx ginkgo.SpecContext, g Gomega, f *framework.Framework) (at, ignored string) {
	switch {
	case f.Config.JWKSURI != "":
		return f.Config.EndpointURL(f.Config.JWKSURI), ""
	case f.Flow.JWKSURI != "":
		return f.Config.EndpointURL(f.Flow.JWKSURI), ""
	}
	for _, loc := range metadataLocations(f) {
		d := fetchMetadataDoc(ctx, g, f, loc)
		u, _ := d.md["jwks_uri"].(string)
		switch {
		case u == "":
		case d.usable():
			return u, ""
		case ignored == "":
			iss, _ := d.issuer()
			ignored = fmt.Sprintf("%s names jwks_uri %s but its issuer %q is not the one its URL was made from, so %s forbids using it: give the issuer's URL as --target, or name the JWK Set with --jwks-uri", d.url, u, iss, d.rule)
		}
	}
	return f.Config.Target + wellKnownJWKS, ignored
}
