package framework

// Areas of the optional modules.
const (
	AreaJWT           = "jwt"
	AreaMeta          = "metadata"
	AreaRevocation    = "revocation"
	AreaIntrospection = "introspection"
	AreaSecurity      = "security"
)

// moduleChecks are the catalog's optional modules (JWT, META, REV, INTRO):
// they run when the target issues JWTs or advertises or is configured with
// the endpoints they test; and SEC, which records hardening facts.
func moduleChecks() []Check {
	return []Check{
		{"JWT-001", AreaJWT, "A JWT access token is signed, not with none, and verifies against the JWKS", `RFC 9068 §2.1 "JWT access tokens MUST be signed" … "MUST NOT use "none" as the signing algorithm"`, all(Must)},
		{"JWT-002", AreaJWT, "The JWT typ header is at+jwt", `RFC 9068 §2.1 "MUST include this media type in the "typ" header" … "SHOULD be "at+jwt""`, map[string]Level{"*": Info, "rfc9068": Must}},
		{"JWT-003", AreaJWT, "The JWT carries iss, exp, aud, sub, client_id, iat and jti", `RFC 9068 §2.2 iss, exp, aud, sub, client_id, iat, jti "REQUIRED"`, map[string]Level{"*": Info, "rfc9068": Must}},
		{"JWT-004", AreaJWT, "An alg none forgery (none, None, NONE) is refused", `RFC 9068 §4 "MUST reject any JWT in which the value of "alg" is "none""`, all(Must)},
		{"JWT-005", AreaJWT, "A JWT with a changed payload and the original signature is refused", `RFC 9068 §4 "MUST validate the signature"`, all(Must)},
		{"JWT-006", AreaJWT, "An HS256 forgery keyed with the public key's bytes is refused (algorithm confusion)", `ASVS 5.0 9.1.2 "prevent key confusion"`, all(Must)},
		{"JWT-007", AreaJWT, "A key embedded in the token (jwk header) is not trusted", `RFC 9068 §4 "MUST use the keys provided by the authorization server"; ASVS 5.0 9.1.3`, all(Must)},
		{"JWT-008", AreaJWT, "A JWT with an unknown kid is refused (the black-box part: wrong iss, aud and future nbf need the target's key)", `RFC 9068 §4 "MUST use the keys provided by the authorization server"`, all(Must)},
		{"JWT-009", AreaJWT, "A JWT names its key (kid) when the JWK Set holds several signing keys", `RFC 7515 §4.1.4 kid "a hint indicating which key was used"; RFC 7517 §4.5 kid "used to match a specific key … to choose among a set of keys within a JWK Set"`, all(Should)},
		{"JWT-010", AreaJWT, "Signature-stripping and empty-key forgeries are refused (header.payload. with no signature, HS256 with an empty secret, alg nOnE)", `RFC 9068 §4 "MUST validate the signature of all incoming JWT access tokens"; jwt_tool playbook (null signature, blank HMAC secret)`, all(Must)},
		{"JWT-011", AreaJWT, "A crafted kid does not choose the key (../../dev/null and /dev/null with an empty HMAC key, an SQL-shaped kid with the key it selects)", `RFC 8725 §3.10 kid: "should ensure that this does not create SQL or LDAP injection vulnerabilities"; ASVS 5.0 9.1.3 key material "from trusted pre-configured sources"`, all(Must)},
		{"JWT-012", AreaJWT, "jku and x5u in a token are not trusted (FAIL) nor fetched (WARN): a JWKS and a certificate the run serves on loopback", `ASVS 5.0 9.1.3 "headers such as 'jku', 'x5u', and 'jwk' must be validated against an allowlist"; RFC 8725 §3.10 "blindly following a "jku" … or "x5u" … could result in server-side request forgery (SSRF)"`, all(Must)},

		{"META-001", AreaMeta, "Authorization server metadata is published (RFC 8414, or an OpenID discovery document)", `RFC 9700 §2.6 "RECOMMENDED that authorization servers publish OAuth Authorization Server Metadata"; RFC 8414 §3; OpenID Connect Discovery 1.0 §4`, all(Info)},
		{"META-002", AreaMeta, "Each metadata document's issuer is identical to the issuer its URL was made from", `RFC 8414 §3.3 "The "issuer" value returned MUST be identical"; OpenID Connect Discovery 1.0 §4.3 "MUST be identical to the Issuer URL that was used as the prefix"`, all(Must)},
		{"META-003", AreaMeta, "The advertised token endpoint and client authentication methods work", `RFC 8414 §2 token_endpoint "REQUIRED"; token_endpoint_auth_methods_supported "If omitted, the default is "client_secret_basic""`, all(Must)},

		{"REV-001", AreaRevocation, "Revoking a valid access token gives 200", `RFC 7009 §2.2 "responds with HTTP status code 200 if the token has been revoked successfully"; §2 "SHOULD support the revocation of access tokens"`, all(Must)},
		{"REV-002", AreaRevocation, "A revoked token is refused by the resource server (within revocation_propagation)", `RFC 7009 §2.1 "the token cannot be used again after the revocation"; RFC 6750 §3.1 invalid_token "revoked"; ASVS 5.0 7.4.1`, all(Must)},
		{"REV-003", AreaRevocation, "Revoking an unknown token gives 200", `RFC 7009 §2.2 "or if the client submitted an invalid token"`, all(Must)},
		{"REV-004", AreaRevocation, "Revocation needs client authentication: a wrong secret gets invalid_client and the token keeps working", `RFC 7009 §2.1 "first validates the client credentials"; ASVS 5.0 10.4.10`, all(Must)},
		{"REV-005", AreaRevocation, "Another client cannot revoke my token", `RFC 7009 §2.1 "verifies whether the token was issued to the client making the revocation request. If this validation fails, the request is refused"`, all(Must)},

		{"INTRO-001", AreaIntrospection, "Introspection without client authentication gets 401", `RFC 7662 §2.1 "the endpoint MUST also require some form of authorization"`, all(Must)},
		{"INTRO-002", AreaIntrospection, "A live token is active: true, as a JSON boolean", `RFC 7662 §2.2 active "REQUIRED. Boolean indicator"`, all(Must)},
		{"SEC-001", AreaSecurity, "Tokens are sender-constrained (a Bearer token can be replayed by whoever holds it)", `RFC 9700 §2.2.1 "SHOULD use mechanisms for sender-constraining access tokens"; RFC 6819 §4.6.2`, all(Info)},
		{"INTRO-003", AreaIntrospection, "An unknown, revoked or expired token is active: false, and nothing more is said (WARN for extra members)", `RFC 7662 §2.2 "MUST return an introspection response with the "active" field set to "false""; "SHOULD NOT include any additional information about an inactive token"`, all(Must)},
	}
}
