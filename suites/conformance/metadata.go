package conformance

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega" //nolint:revive // matchers read as prose in checks

	"github.com/tollgate/tollgate/spec"
	"github.com/tollgate/tollgate/suites/framework"
	"github.com/tollgate/tollgate/suites/probe"
)

// MetadataChecks defines the META checks for r's flow: authorization
// server metadata for OAuth 2.0 flows, RFC 8414's or an OpenID Connect
// discovery document, found where metadataLocations says.
func MetadataChecks(r *framework.Registrar) {
	f := r.F
	oauthOnly := func() {
		if f.Flow.Token.GrantType == "" {
			framework.NotApplicable("the flow has no grant_type, so it is not OAuth 2.0 and RFC 8414 metadata does not describe it")
		}
	}
	// published returns the metadata documents found, ending the check N/A
	// when there is none.
	published := func(ctx ginkgo.SpecContext, g Gomega) []*metadataDoc {
		var found []*metadataDoc
		var looked []string
		for _, d := range fetchMetadataDocs(ctx, g, f) {
			if d.md != nil {
				found = append(found, d)
			}
			looked = append(looked, fmt.Sprintf("%s (status %d)", d.url, d.ex.Status))
		}
		if len(found) == 0 {
			framework.NotApplicable("no metadata at %s; META-001 records that", strings.Join(looked, " nor "))
		}
		return found
	}

	r.CheckIt("META-001", func(ctx ginkgo.SpecContext, g Gomega) {
		oauthOnly()
		docs := fetchMetadataDocs(ctx, g, f)
		// RFC 9700 §2.6: "It is therefore RECOMMENDED that authorization
		// servers publish OAuth Authorization Server Metadata according to
		// [RFC8414]"; RFC 8414 §5 counts OpenID discovery documents as
		// such metadata. RFC 8414 §3.2 and OpenID Discovery §4.2: "A
		// successful response MUST use the 200 OK HTTP status code and
		// return a JSON object using the "application/json" content type".
		var answered *metadataDoc
		var looked []string
		for _, d := range docs {
			if d.ex.Status == http.StatusOK {
				answered = d
				break
			}
			looked = append(looked, fmt.Sprintf("%s (status %d)", d.url, d.ex.Status))
		}
		g.Expect(answered).NotTo(BeNil(), "no metadata at %s", strings.Join(looked, " nor "))
		g.Expect(baseMediaType(answered.ex)).To(Equal("application/json"), "the media type of the metadata at %s", answered.url)
		g.Expect(answered.md).NotTo(BeNil(), "the metadata at %s is not a JSON object", answered.url)
	})

	r.CheckIt("META-002", func(ctx ginkgo.SpecContext, g Gomega) {
		oauthOnly()
		// RFC 8414 §3.3: "The "issuer" value returned MUST be identical to
		// the authorization server's issuer identifier value into which the
		// well-known URI string was inserted to create the URL used to
		// retrieve the metadata." OpenID Discovery §4.3: "The issuer value
		// returned MUST be identical to the Issuer URL that was used as the
		// prefix to /.well-known/openid-configuration to retrieve the
		// configuration information." Every document found is judged.
		var wrong, untestable []string
		judged := 0
		for _, d := range published(ctx, g) {
			if d.rule == "" {
				untestable = append(untestable, d.url)
				continue
			}
			judged++
			iss, isString := d.issuer()
			switch {
			case !isString:
				wrong = append(wrong, fmt.Sprintf("the metadata at %s has no issuer string (\"REQUIRED\")", d.url))
			case !slices.Contains(d.issuers, iss):
				wrong = append(wrong, fmt.Sprintf("issuer %q at %s is not %q, the issuer that URL was made from (%s)", iss, d.url, d.issuers[0], d.rule))
			}
		}
		g.Expect(wrong).To(BeEmpty(), "the metadata issuer does not match where it was fetched")
		if judged == 0 {
			framework.NotVerified("the metadata at %s, named by the configuration or the flow document, is at no well-known URL, so neither RFC 8414 §3.3 nor OpenID Discovery §4.3 says what its issuer must be", strings.Join(untestable, ", "))
		}
	})

	r.CheckIt("META-003", func(ctx ginkgo.SpecContext, g Gomega) {
		oauthOnly()
		d, first := usableMetadata(ctx, g, f)
		if first == nil {
			published(ctx, g) // ends the check N/A, naming where it looked
		}
		if d == nil {
			// RFC 8414 §3.3: "If these values are not identical, the data
			// contained in the response MUST NOT be used."
			iss, _ := first.issuer()
			framework.NotVerified("the metadata issuer %q does not match where it was fetched (META-002), and %s forbids using its data", iss, first.rule)
		}
		md := d.md
		// RFC 8414 §2: token_endpoint "This is REQUIRED unless only the
		// implicit grant type is supported."
		endpoint, _ := md["token_endpoint"].(string)
		g.Expect(endpoint).NotTo(BeEmpty(), "the metadata has no token_endpoint")
		want := f.Config.Target + f.Flow.Token.Path
		g.Expect(sameURL(endpoint, want)).To(BeTrue(), "token_endpoint %q is not the target's token endpoint %s", endpoint, want)

		// RFC 8414 §2: token_endpoint_auth_methods_supported "If omitted,
		// the default is "client_secret_basic" -- the HTTP Basic
		// Authentication Scheme specified in Section 2.3.1 of OAuth 2.0".
		methods := stringList(md["token_endpoint_auth_methods_supported"])
		if len(methods) == 0 {
			methods = []string{"client_secret_basic"}
		}
		tested := 0
		for _, m := range methods {
			var tr probe.TokenRequest
			switch m {
			case "client_secret_basic":
				tr = probe.TokenRequest{Client: f.Config.Client, Auth: spec.ClientAuthBasic}
			case "client_secret_post":
				// RFC 7591 §2: client_secret_post "uses the HTTP POST
				// parameters as defined in OAuth 2.0, Section 2.3.1".
				tr = probe.TokenRequest{Client: f.Config.Client, Auth: spec.ClientAuthBody}
				if slices.Contains(f.Flow.Token.MediaTypes, spec.FormMediaType) {
					tr.MediaType = spec.FormMediaType
				}
			default:
				continue // private_key_jwt, tls_client_auth, …: this suite has no credentials for them
			}
			tested++
			ex, err := f.RequestToken(ctx, tr)
			framework.Sent(g, ex, err)
			g.Expect(ex.Status).To(Equal(http.StatusOK), "the advertised method %s got no token", m)
			_, perr := f.Flow.ParseTokenResponse(ex.Body)
			g.Expect(perr).NotTo(HaveOccurred(), "the advertised method %s got no token", m)
		}
		if tested == 0 {
			framework.NotVerified("the metadata advertises only client authentication methods this suite cannot use: %q", methods)
		}

		// RFC 8414 §2: jwks_uri "URL of the authorization server's JWK Set
		// [JWK] document."
		if u, ok := md["jwks_uri"].(string); ok {
			ex, err := f.Do(ctx, http.MethodGet, u, http.Header{"Accept": {"application/json"}}, nil)
			framework.Sent(g, ex, err)
			g.Expect(ex.Status).To(Equal(http.StatusOK), "the advertised jwks_uri %s", u)
			g.Expect(parseJWKS(ex.Body)).NotTo(BeEmpty(), "the advertised jwks_uri %s holds no usable key", u)
		}
	})
}

// sameURL compares two absolute URLs: scheme and host case-insensitively,
// the rest exactly.
func sameURL(a, b string) bool {
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	if errA != nil || errB != nil {
		return false
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host) &&
		ua.EscapedPath() == ub.EscapedPath() && ua.RawQuery == ub.RawQuery && ua.Fragment == ub.Fragment
}

// stringList returns the strings of a JSON array.
func stringList(v any) []string {
	arr, _ := v.([]any)
	var out []string
	for _, e := range arr {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
