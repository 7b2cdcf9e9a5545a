package mockserver

import (
	"math/rand/v2"

	"github.com/tollgate/tollgate/spec"
)

// claimsFor returns the claims a JWT of fr carries for client beside the
// RFC 9068 ones (tokens.Claims has those): the flow's claim set
// (spec.Flow.Claims), then the client's own claims, then more (a minted
// token's), each layer over the one before. With neither a claim set of
// its own nor more layers it is the client's claims, not copied.
func (fr *flowRuntime) claimsFor(client *registeredClient, more ...map[string]any) map[string]any {
	if fr.flow.Claims != spec.ClaimsCL {
		if len(more) == 0 {
			return client.Claims
		}
		return mergeClaims(append([]map[string]any{client.Claims}, more...)...)
	}
	return mergeClaims(append([]map[string]any{commerceLayerClaims(client), client.Claims}, more...)...)
}

// commerceLayerClaims are the claims of a Commerce Layer integration token
// that @commercelayer/js-auth's CommerceLayerJWT type declares (jwtDecode.ts):
// the organization (its slug names the API host, in place of "auth" in the
// issuer's), the application (the client: a confidential integration),
// test mode, and rand, a random number below one. A client's own claims
// replace any of them.
func commerceLayerClaims(client *registeredClient) map[string]any {
	return map[string]any{
		"organization": map[string]any{"id": "tollgate", "slug": "tollgate", "enterprise": false, "region": "local"},
		"application": map[string]any{"id": client.ID, "client_id": client.ID, "kind": "integration",
			"public": false, "confidential": true},
		"test": true,
		"rand": rand.Float64(), // filler, not a secret: math/rand suffices
	}
}
