// Package probe talks to a Bearer-token auth server the way a client does,
// as a flow document (package spec) describes it, and keeps a record fit to
// show: it is the HTTP side shared by the conformance suite
// (suites/framework, suites/conformance) and the load generator
// (suites/load), and it imports no test framework.
//
// A Config names the target, its flow and its clients (Credentials), and
// bounds how hard to press it (token budget, request rate, timeout). A
// Prober, built from a validated Config and a compiled spec.Flow, then:
//
//   - builds token requests from the flow document (TokenRequest,
//     BuildTokenRequest) and client-operation requests (RFC 7009
//     revocation, RFC 7662 introspection: CallClientOperation);
//   - obtains tokens (Token, PrimaryToken) and runs the Preflight that
//     every run needs first: target reachable, primary client gets a token;
//   - sends requests paced by Config.RequestRate, honouring 429 Retry-After
//     (Do), and gives up with ErrInconclusive rather than fail a check;
//   - redacts every secret and token it has seen (Redact) and renders an
//     Exchange as evidence with a curl command that repeats it (Evidence,
//     Curl), and reads that command back from an evidence text
//     (RepeatCommand).
//
// Use it directly to drive a server from Go; use suites/framework for the
// Ginkgo conformance checks and suites/load for load runs, both built on
// it. A Prober is safe for concurrent use.
package probe
