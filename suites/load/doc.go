// Package load benchmarks Bearer-token auth servers, in the shape of
// vegeta's lib: an Attacker sends requests, a Pacer sets their rate, and
// Metrics turn the results into figures.
//
// Use it through `tollgate load` or the Ginkgo specs labelled "load"; use
// the package directly to drive a load run from Go.
//
// Two models are offered. The open model sends at a rate a Pacer sets,
// whether or not earlier requests were answered, as real clients do; each
// request's latency is measured from its intended send time, so that a
// server stall shows in the percentiles instead of silently delaying the
// sender (coordinated omission, see docs/load.md). The closed model keeps a
// fixed number of requests in flight and sends the next as soon as one is
// answered. Every run is bounded both by a duration and by a request count,
// and stops by itself.
//
// Each response is classified against the answer it should get (a Verdict,
// RFC 6750 §3.1): a valid token must be accepted, a missing one refused
// with 401 and a Bearer challenge, an invalid or expired one with 401 and
// error="invalid_token". Latency goes into HDR histograms
// (github.com/HdrHistogram/hdrhistogram-go) that can be saved as JSON and
// merged across machines.
//
// Scenarios (validate, issue, mixed) are built from a compiled flow
// document: no Go code is needed per flow.
//
// Requests go out through a lean HTTP/1.1 client (the wire sender, one
// keep-alive connection per worker, see wire.go) so that the sender costs
// the machine little more than its system calls; Options.NetHTTP uses
// net/http's client instead.
package load
