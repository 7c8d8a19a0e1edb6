# The project's commands. `make test` is what CI runs (through .ci/run): it installs what the
# tests need when it is missing, runs every test, and stops what it started.

GO          ?= go
GOBIN       := $(shell $(GO) env GOPATH)/bin
STATICCHECK := $(GOBIN)/staticcheck
STATICCHECK_VERSION ?= v0.8.2
# How long each fuzz target runs in `make test` (a smoke run of seconds) and in `make fuzz`
# (an exact number of executions: "2000000x" runs two million inputs per target). The counts
# are printed at the end. FUZZPARALLEL=1 keeps `make fuzz` to one process per target.
FUZZ_SMOKE  ?= 3s
FUZZTIME    ?= 2000000x
# The size of `make soak`: at least SOAK_CONNECTIONS connections over both transports, for at
# least SOAK_DURATION, SOAK_CONCURRENCY of them open at once. `make test` runs a short soak
# (2,000 connections, 30 s) as part of the socketio tests.
SOAK_CONNECTIONS  ?= 10000
SOAK_DURATION     ?= 2m
SOAK_CONCURRENCY  ?= 2000

.PHONY: test deps node-deps redis-deps browser-deps lint vet fmt-check unit fuzz fuzz-smoke soak bench bench-cluster run

test: deps lint unit fuzz-smoke

deps: node-deps redis-deps browser-deps

# Installs the official clients used by the interop tests from the committed lockfile.
node-deps: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# Installs redis-server for the tests of the Redis adapters when it is missing. The tests start
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
	# Allocation counts, which the race detector's sync.Pool makes random: without it.
	$(GO) test -count=1 -run 'Allocs' ./socketio/...

fuzz-smoke:
	scripts/fuzz.sh $(FUZZ_SMOKE)

fuzz:
	scripts/fuzz.sh $(FUZZTIME)

# A long soak of the socketio server; it prints the connections, the duration, and the
# goroutines and live heap before and after.
soak:
	SOAK_CONNECTIONS=$(SOAK_CONNECTIONS) SOAK_DURATION=$(SOAK_DURATION) SOAK_CONCURRENCY=$(SOAK_CONCURRENCY) \
		$(GO) test -count=1 -v -timeout 3h -run '^TestSoak$$' ./socketio/

bench:
	bench/run.sh

# The cluster benchmark: three Go and three Node servers on one redis-server (taking turns),
# 15,000 connections each; see bench/README.md.
bench-cluster: node-deps redis-deps
	bench/cluster/run.sh

run:
	$(GO) run ./examples/echo-chat
