# Tollgate: contract-test, mock and benchmark Bearer-token auth servers.
# `make run` starts the mock server; `make test` is what CI runs.

GO        ?= go
ADDR      ?= 127.0.0.1:4455
FUZZTIME  ?= 30s
BENCHTIME ?= 1s
BENCHCOUNT ?= 6
GOLANGCI  ?= github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0

# package:FuzzTarget pairs for `make fuzz` (one target per `go test -fuzz` run).
FUZZ_TARGETS = \
	./spec/authheader:FuzzParseAuthorization \
	./spec/authheader:FuzzParseBearer \
	./spec/authheader:FuzzParseBasic \
	./spec/authheader:FuzzParseChallenges \
	./spec/oautherr:FuzzParse \
	./spec:FuzzParseTokenResponse \
	./mockserver:FuzzParseTokenBody \
	./mockserver:FuzzGraphQLRequest

.PHONY: help run build test test-short e2e bench bench-compare fuzz lint fmt vet peer-check stability

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

run: ## start the mock server on $(ADDR) with the built-in flows
	$(GO) run ./cmd/tollgate serve --addr $(ADDR)

build: ## build bin/tollgate
	$(GO) build -o bin/tollgate ./cmd/tollgate

test: fmt vet ## gofmt check, go vet, and every test with the race detector (fuzz seeds replayed); a line per package, a heartbeat every 20 s
	$(GO) run ./internal/testprogress -- -race -count=1 ./suites/selftest ./...

test-short: ## the edit loop: go test -short ./... (no race detector, no selftest runs of every broken variant)
	$(GO) test -short ./...

e2e: build ## end-to-end tests, outside make test, against tollgate serve on 127.0.0.1: the HTML report and a cross-origin page in headless Chromium, openid-client and js-auth unmodified (scripts/install-chromium.sh and scripts/install-e2e-clients.sh install what is missing)
	bash scripts/install-chromium.sh
	bash scripts/install-e2e-clients.sh
	TOLLGATE_BIN=$(CURDIR)/bin/tollgate $(GO) test -tags e2e -count=1 -timeout 5m ./e2e/...

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

bench: ## benchmarks with allocations, then the route ratios (protected ÷ bare route, logged ÷ quiet) of the same run
	@mkdir -p .cache
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) ./mockserver/... ./spec/... ./suites/load | tee .cache/bench.txt
	@awk -f scripts/route-ratios.awk .cache/bench.txt
	$(GO) test -run '^$$' -bench 'BenchmarkStoreMemoryPerToken' -benchtime 1x -count 1 ./mockserver/tokens

bench-compare: ## wrk on loopback: bare route vs protected (quiet, logged), UUID and JWT, and tollgate load; writes docs/benchmarks.md
	bash scripts/bench-compare.sh

fuzz: ## run each fuzz target for $(FUZZTIME)
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$name ($$pkg)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

stability: ## the timing-dependent selftest variants STABILITY_RUNS times (default 10) beside a busy loop per core; not part of test
	bash scripts/stability.sh

peer-check: ## conformance runs against three real servers (oauth2-mock-server, go-oauth2, zitadel-oidc) on 127.0.0.1; see docs/peer-check.md
	bash scripts/peer-check.sh

lint: ## golangci-lint v2 (pinned version, config in .golangci.yml)
	$(GO) run $(GOLANGCI) run ./...
