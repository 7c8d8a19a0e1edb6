# The project's commands. `make test` is what CI runs (through .ci/run): it installs what the
# tests need when it is missing, runs every test, and stops what it started.

GO          ?= go
GOBIN       := $(shell $(GO) env GOPATH)/bin
STATICCHECK := $(GOBIN)/staticcheck
STATICCHECK_VERSION ?= v0.8.2
# Seconds each fuzz target runs in `make test` (a smoke run) and in `make fuzz`.
FUZZ_SMOKE  ?= 3s
FUZZTIME    ?= 60s

.PHONY: test deps node-deps redis-deps browser-deps lint vet fmt-check unit fuzz fuzz-smoke bench run

test: deps lint unit fuzz-smoke

deps: node-deps redis-deps browser-deps

# Installs the official clients used by the interop tests from the committed lockfile.
node-deps: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# Installs redis-server for the rooms/redisadapter tests when it is missing. The tests start
# and stop their own server on a free loopback port.
redis-deps:
	@command -v redis-server >/dev/null 2>&1 || \
		{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server; }

# Installs Debian's chromium for the browser test of examples/echo-chat when it is missing.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || \
		{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^node_modules/')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

$(STATICCHECK):
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: fmt-check vet $(STATICCHECK)
	$(STATICCHECK) ./...

unit:
	$(GO) test -race -count=1 -timeout 20m ./...

fuzz-smoke:
	scripts/fuzz.sh $(FUZZ_SMOKE)

fuzz:
	scripts/fuzz.sh $(FUZZTIME)

bench:
	bench/run.sh

run:
	$(GO) run ./examples/echo-chat
