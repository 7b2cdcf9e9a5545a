// Package e2e holds end-to-end tests that need more than Go: a built
// tollgate binary started on 127.0.0.1, a headless Chromium
// (scripts/install-chromium.sh) that reads the HTML report and runs a page
// on another origin against the mock (CORS, with and without credentials),
// and real OAuth clients, unmodified, run by node from e2e/clients with the
// npm packages pinned there (scripts/install-e2e-clients.sh). They carry the
// e2e build tag, so `make test` leaves them out; `make e2e` runs them (and
// .ci/run after `make test`).
package e2e
