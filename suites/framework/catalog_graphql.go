package framework

// AreaGraphQL groups the GQL checks: Bearer enforcement on a GraphQL
// endpoint the flow document (x-tollgate.graphql) or the target file
// declares.
const AreaGraphQL = "graphql"

// graphqlChecks are the catalog's GQL checks (shared catalog §1.4). They
// run when the target has a GraphQL endpoint; otherwise they are N/A.
func graphqlChecks() []Check {
	return []Check{
		{"GQL-001", AreaGraphQL, "An operation without a token returns no protected data, refused as the target's signalling says (401/403, or 200 with an error code and no data where allowed)", `GraphQL over HTTP: "the server SHOULD reply with 401, 403 or similar"; RFC 6750 §3`, all(Must)},
		{"GQL-002", AreaGraphQL, "An unknown or tampered token is refused as GQL-001", `RFC 6750 §3.1 invalid_token`, all(Must)},
		{"GQL-003", AreaGraphQL, "An expired token is refused as GQL-001", `OAuth 2.1 §5.2 "MUST check that the access token is not yet expired"`, all(Must)},
		{"GQL-004", AreaGraphQL, "A valid token gets 200, data and no errors", `GraphQL over HTTP: "contains the {data} entry and does not contain the {errors} entry … SHOULD reply with a 200 status code"`, all(Must)},
		{"GQL-005", AreaGraphQL, "Every 401 from the GraphQL endpoint carries a Bearer challenge", `RFC 9110 §11.6.1 "MUST send at least one WWW-Authenticate"; RFC 6750 §3`, all(Must)},
		{"GQL-006", AreaGraphQL, "Under application/graphql-response+json an answer without data is never 2xx (INFO when the server does not use that media type)", `GraphQL over HTTP: "does not contain the {data} entry then the server MUST reply with an appropriate 4xx or 5xx status code"`, all(Must)},
		{"GQL-007", AreaGraphQL, "Every request shape needs a token: GET, application/graphql, batches, mutations, persisted-query hashes, aliases and fragments", `hardening`, all(Must)},
		{"GQL-008", AreaGraphQL, "No schema disclosure before auth: no field suggestions, no introspection without a token", `hardening (field suggestions, introspection)`, all(Should)},
		{"GQL-009", AreaGraphQL, "A field whose scope the token lacks is null with a FORBIDDEN or insufficient_scope error (or 403), also under aliases and in a batch beside an allowed operation", `RFC 6750 §3.1 insufficient_scope`, all(Must)},
		{"GQL-010", AreaGraphQL, "The suite's GraphQL fixtures are valid against the target's SDL (a mismatch is a configuration error, exit 2)", `suite hygiene (gqlparser LoadQueryWithRules)`, all(Must)},
		{"GQL-011", AreaGraphQL, "GraphQL errors do not echo the token", `ASVS 5.0 16.5.1`, all(Must)},
		{"GQL-012", AreaGraphQL, "A mutation over GET gets 405 with Allow", `GraphQL over HTTP: "If a mutation is attempted via the GET verb, status code 405 SHOULD be used"; RFC 9110 §15.5.6 Allow MUST`, all(Should)},
	}
}
