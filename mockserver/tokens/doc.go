// Package tokens issues access tokens for the Tollgate mock OAuth 2.0
// authorization server and keeps track of the tokens it has issued.
//
// It provides three building blocks:
//
//   - Token generators: [NewOpaque] (256 random bits, base64url) and
//     [NewUUID] (RFC 4122 version 4) for opaque access and refresh tokens.
//   - [Store], a sharded in-memory store mapping issued opaque tokens to the
//     [Grant] they were issued for, with lazy sweeping of expired tokens,
//     an explicit [Store.Sweep] for a timer, and an optional bound on the
//     tokens held ([StoreOptions].MaxTokens, enforced by [Store.Add], which
//     refuses with a [FullError] rather than drop a live token). Its Lookup
//     is on the request hot path and does not allocate.
//   - [Signer], which signs and verifies JWT access tokens (RFC 9068 style)
//     with go-jose and serves the matching JWK Set, and [VerifiedCache], a
//     bounded, non-allocating cache of JWTs that have already been verified
//     so that the signature check runs once per token rather than once per
//     request.
//   - [KeyRing], the Signers of one issuer over time: the current one signs,
//     and each one it replaced keeps verifying, and stays in the published
//     JWK Set, until the tokens it signed have expired (key rotation).
//
// All times are passed in explicitly (a "now" argument) so that callers and
// tests can drive the clock; the only wall-clock read is the start-up
// self-test in [NewSigner], which signs and verifies one probe token.
//
// Store and VerifiedCache share one implementation of the sharding: 64
// shards picked by a seeded [hash/maphash] hash of the token, each a
// sync.RWMutex-protected map from token to a 16-byte entry (a *Grant and an
// expiry in Unix nanoseconds). Callers are expected to intern Grants, so the
// per-token cost is the map slot plus the token string itself.
package tokens
