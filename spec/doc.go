// Package spec loads flow documents and compiles each into an immutable Flow.
//
// A flow document is an OpenAPI 3 document (see docs/flow-documents.md) that
// describes one way of getting and using a Bearer token: the token operation,
// the operations it protects, optional revocation (RFC 7009) and
// introspection (RFC 7662) operations, and, in the x-tollgate extension, what OpenAPI
// cannot say (where the credentials and token fields sit, as JSON Pointers,
// the token format and lifetime, the error dialect and the default profile).
//
// Both sides of Tollgate use the compiled Flow: the mock server serves it and
// the conformance suite probes a target with it. Neither side routes requests
// through OpenAPI at run time: everything that can be computed from the
// document is computed once, in Read.
//
// Use Read or ReadAll for documents in an fs.FS (such as the embedded
// openapi.FS()), ReadFile for a document on disk.
//
// ReadAPISpec reads a user's own OpenAPI 3.0 or 3.1 document (no
// x-tollgate extension) for the operations it protects with a Bearer
// scheme, each with a concrete request to probe it (Operation.Probe);
// Flow.WithAPISpec puts them in place of a flow document's protected
// operations, so that one flow's token side probes another API.
package spec
