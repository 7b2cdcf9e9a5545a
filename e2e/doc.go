// Package e2e holds end-to-end tests that need more than Go: a built
// tollgate binary, mock servers on 127.0.0.1 and a headless Chromium
// (scripts/install-chromium.sh). They carry the e2e build tag, so `make
// test` leaves them out; `make e2e` runs them (and .ci/run after `make
// test`).
package e2e
