# flexflow: the two commands a newcomer needs are `make run` and `make test`.
# Everything else here is what those two are built from.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

BIN        := $(CURDIR)/bin
BUF        := $(BIN)/buf
GO         ?= go
# -trimpath keeps directory names out of our compiled code and so out of the
# build cache's keys: a fresh clone elsewhere (CI's, a second checkout) reuses
# what another clone compiled instead of compiling every package of ours again.
TRIM         := -trimpath
# go test's own vet pass is off: `make test` runs the whole of go vet first
# (a superset of the checks go test would repeat). Test binaries are linked
# without DWARF: nobody attaches a debugger to them in CI, and the link is a
# fifth faster (stack traces and race reports do not need DWARF).
GOTEST_FLAGS ?= $(TRIM) -race -count=1 -timeout 12m -vet=off -ldflags=-w
export PATH := $(BIN):$(PATH)

TOOLS_STAMP  := $(BIN)/.tools-stamp
JAEGER       := $(BIN)/jaeger

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# ---------------------------------------------------------------- tools
# The tools module is kept out of go.work: buf pulls a pre-release protobuf that
# must not become the services' protobuf.
# Tools and Jaeger are built without symbol tables and DWARF (-s -w): nobody
# debugs them here, and their links are the slowest single-threaded steps of a
# cold `make test`. They are also compiled without optimisation or inlining:
# they run on a handful of files and a few test traces, and compiling them is
# most of a cold `make test` (measured cold: buf and the plugins 507 -> 409
# CPU-seconds, Jaeger 953 -> 681 and 2.2 -> 1.2 GB of memory).
# Without cgo they need no C compiler and skip the cgo steps of the standard
# library.
TOOL_LDFLAGS := -s -w
TOOL_GCFLAGS := all=-N -l -dwarf=false
TOOL_ENV     := GOWORK=off CGO_ENABLED=0

$(TOOLS_STAMP): tools/go.mod tools/go.sum
	@mkdir -p $(BIN)
	$(TOOL_ENV) $(GO) -C tools build -gcflags='$(TOOL_GCFLAGS)' -ldflags='$(TOOL_LDFLAGS)' -o $(BIN)/ tool
	@touch $@

.PHONY: tools
tools: $(TOOLS_STAMP) ## build buf, the protoc plugins and grpcurl into bin/

# Jaeger's cold build takes minutes and over 1 GB of memory: build once, reuse.
$(JAEGER): tools/jaeger/go.mod tools/jaeger/go.sum
	@mkdir -p $(BIN)
	$(TOOL_ENV) $(GO) -C tools/jaeger build -gcflags='$(TOOL_GCFLAGS)' -ldflags='$(TOOL_LDFLAGS)' -o $(JAEGER) github.com/jaegertracing/jaeger/cmd/jaeger

.PHONY: jaeger-build
jaeger-build: $(JAEGER) ## build the pinned Jaeger v2 into bin/

# Jaeger's own traces are switched off so the query API shows flexflow only.
.PHONY: jaeger
jaeger: $(JAEGER) ## run Jaeger (OTLP :4317/:4318, query API :16686); `make run` then exports to it
	OTEL_SDK_DISABLED=true OTEL_TRACES_SAMPLER=always_off $(JAEGER) --config $(CURDIR)/deploy/jaeger/config.yaml

# ---------------------------------------------------------------- protobuf
.PHONY: proto
proto: tools ## regenerate Go and OpenAPI code from proto/ (commit the result)
	$(BUF) format -w proto/api
	$(BUF) generate

.PHONY: proto-check
proto-check: tools ## fail when generated code is stale, lint or format complain, or a break slipped in
	$(BUF) format proto/api -d --exit-code || { echo "proto files are not formatted: run 'make proto'"; exit 1; }
	$(BUF) lint
	./deploy/scripts/check-generated.sh
	./deploy/scripts/check-breaking.sh

# ---------------------------------------------------------------- go
.PHONY: lint
lint: tools ## gofmt, go vet and buf checks
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^proto/gen/')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(TRIM) $(VETFLAGS) work
	$(BUF) lint

# The whole-system tests (deploy/e2e) start the real binaries and Jaeger from
# bin/, found through FLEXFLOW_BIN.
#
# On a cold machine most of `make test` is compiling buf and Jaeger from
# source. Jaeger is built at the lowest CPU priority from the start, beside
# everything else: it takes only what the checks, the compiles and the tests
# leave idle (the tests wait on processes and timers much of the time), and
# the one test that needs it, the Jaeger trace test, runs once it is built.
# vet runs with -race here, so it compiles the workspace the way the tests do
# and the tests reuse that compile. (Race-built binaries for the whole-system
# tests would spare the plain compile as well, but they double those tests'
# time: 95 -> 195 s warm.)
JAEGER_TESTS := ^TestOneWebhookIsOneTraceInJaeger
.PHONY: test
test: ## every test of every module (what CI runs)
	@$(MAKE) --no-print-directory -j2 test-all-but-jaeger jaeger-idle
	FLEXFLOW_BIN=$(BIN) $(GO) test $(GOTEST_FLAGS) -run '$(JAEGER_TESTS)' ./deploy/e2e/

.PHONY: test-all-but-jaeger jaeger-idle test-checks
test-all-but-jaeger: test-checks
	FLEXFLOW_BIN=$(BIN) $(GO) test $(GOTEST_FLAGS) -skip '$(JAEGER_TESTS)' work

# Its output goes to a log, shown when the build fails, so the tests' output
# stays readable.
jaeger-idle:
	@mkdir -p $(BIN)
	@nice -n 19 $(MAKE) --no-print-directory $(JAEGER) > $(BIN)/jaeger-build.log 2>&1 || \
	  { cat $(BIN)/jaeger-build.log; echo "building Jaeger failed"; exit 1; }

test-checks:
	@$(MAKE) --no-print-directory proto-check
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory lint VETFLAGS=-race

# The long fault runs of deploy/e2e (FLEXFLOW_CHAOS=1): 200 contracts with every
# webhook resent 3 to 10 times; the same while every service is killed at random
# and restarted; a 3-node NATS cluster losing stream leaders; each vendor failing,
# rate limiting or slow; outages past the retry budget then replayed; revoked
# credentials. Each prints its figures (-v). Sizes: FLEXFLOW_RESEND_CONTRACTS,
# FLEXFLOW_CRASH_CONTRACTS, FLEXFLOW_CLUSTER_CONTRACTS, FLEXFLOW_TROUBLE_CONTRACTS.
CHAOS_TESTS := ^Test(Resends|Crashes|NATSCluster|UpstreamTrouble|OutagesLonger|RevokedCredentials)
.PHONY: test-chaos
test-chaos: build ## the long fault, crash and cluster runs (about 15 minutes on 2 cores)
	cd deploy && FLEXFLOW_BIN=$(BIN) FLEXFLOW_CHAOS=1 $(GO) test $(TRIM) -race -vet=off -count=1 -timeout 30m -v -run '$(CHAOS_TESTS)' ./e2e/

# Go benchmarks of every module, then the load tool's whole-system scenarios;
# both land in BENCHMARKS.md with the machine, Go version and date. Knobs:
#   BENCH_SCENARIOS   ack (single node), cluster (contract-sync x2 on a 3-node
#                     NATS cluster), burst (month-end, Flex HRM rate limited)
#   BENCH_ROUNDS, BENCH_DURATION, BENCH_CONCURRENCY  webhook-ack rounds, each
#                     variant's time per round, concurrent senders
#   CLUSTER_ROUNDS    rounds of the cluster scenario
#   BURST_CONTRACTS   contracts signed at once; the burst lasts about
#                     calls ÷ BURST_RATE (~15 calls a contract: ~13 min for 1000)
#   BURST_RATE, BURST_SIZE, BURST_RETRY_AFTER  the Flex HRM sandbox's limit
# e.g. `make bench BURST_CONTRACTS=200` for a quicker look.
BENCHTIME ?= 1x
BENCH_SCENARIOS ?= ack,cluster,burst
BENCH_ROUNDS ?= 7
BENCH_DURATION ?= 2s
BENCH_CONCURRENCY ?= 32
CLUSTER_ROUNDS ?= 5
BURST_CONTRACTS ?= 1000
BURST_RATE ?= 20
BURST_SIZE ?= 5
BURST_RETRY_AFTER ?= 1
.PHONY: bench
bench: tools build ## benchmarks and load scenarios, as ratios against baselines from the same run -> BENCHMARKS.md
	$(GO) test $(TRIM) -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count=1 -timeout 30m work | tee $(BIN)/bench-go.txt
	$(BIN)/flexflow-bench -go-bench $(BIN)/bench-go.txt -out BENCHMARKS.md -scenarios $(BENCH_SCENARIOS) \
	  -rounds $(BENCH_ROUNDS) -duration $(BENCH_DURATION) -concurrency $(BENCH_CONCURRENCY) -cluster-rounds $(CLUSTER_ROUNDS) \
	  -burst-contracts $(BURST_CONTRACTS) -burst-rate $(BURST_RATE) -burst-size $(BURST_SIZE) -burst-retry-after $(BURST_RETRY_AFTER)

FUZZTIME ?= 20s
.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME each
	./deploy/scripts/fuzz.sh $(FUZZTIME)

.PHONY: build
build: ## build every binary into bin/
	@mkdir -p $(BIN)
	$(GO) build $(TRIM) -o $(BIN)/ ./libs/flexhrm/cmd/... ./libs/oneflow/cmd/... ./services/employee-directory/cmd/... \
	  ./services/contract-sync/cmd/... ./services/document-archive/cmd/... ./gateway/cmd/... ./deploy/cmd/...

.PHONY: run
run: build ## start the whole system on embedded defaults (Ctrl-C stops it)
	$(BIN)/flexflow-run

.PHONY: demo
demo: build ## against a running `make run`: one contract created, published, signed; prints its sync log, fields and documents
	$(BIN)/flexflow-demo

.PHONY: clean
clean: ## remove built binaries (keeps .flexflow data)
	rm -rf $(BIN)
