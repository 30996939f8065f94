# Strata: the one entry point for building, testing and running the project.
# `make` (or `make help`) lists the targets. Per-module work is done by
# pattern rules such as test-unit/<module>, lint/<module> and tidy/<module>.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# Every module of the go.work workspace, in dependency order
# (codec/compress, strata/otel and strata/prom — the OpenTelemetry and
# Prometheus adapters, kept out of strata's dependencies — and
# tools/cmd/strata, the strata command, are modules nested in others).
MODULES := codec codec/compress l1mem testkit testkit/rediskit l2redis l3postgres migrate strata strata/otel strata/prom integration tools tools/cmd/strata
# Modules with tests that need the real servers. make test runs their tests
# once without servers and once with them, from one linked binary, in its
# integration phase (see WITHOUT_SERVERS_FIRST).
SERVER_MODULES := testkit testkit/rediskit l2redis l3postgres migrate strata strata/otel strata/prom integration tools tools/cmd/strata
# The modules none of whose tests needs a server: make test's unit phase.
LOCAL_MODULES := $(filter-out $(SERVER_MODULES),$(MODULES))

STACK_DIR := $(CURDIR)/.devstack
STACK_ENV := $(STACK_DIR)/env

# The unit phase hides any server variables so that it needs nothing but Go.
NO_SERVERS := env -u STRATA_POSTGRES_DSN -u STRATA_REDIS_ADDR -u STRATA_REQUIRE_SERVERS
# Loads the devstack's variables into a recipe's shell.
WITH_STACK := set -a; . $(STACK_ENV); set +a;
# go test -exec for the integration phase: each test binary runs first with
# the servers' variables removed (as the unit phase would), then with them.
WITHOUT_SERVERS_FIRST := -exec $(CURDIR)/.ci/without-servers-first

GO_TEST_FLAGS ?=

# Every go test of the test phases builds with -trimpath. Without it the
# checkout's absolute path is compiled into each of Strata's own packages
# (file names for runtime.Caller, panics, coverage), so it is part of every
# such package's build-cache key: CI clones to a new directory each run, and
# a "warm" run compiled all of Strata's packages and linked every test
# binary again. With -trimpath the recorded paths are module paths
# (github.com/.../strata/get.go), the same in any clone, and a fresh clone
# takes them from the cache. The phases' go test commands with -run '^$'
# (build, vet and link only) in the second of two fresh clones in a row,
# CPU seconds (user + sys; load 12-21, so wall is no measure): integration
# 192 s without -trimpath, 45 s with; unit-local 19 s, 5 s; arm32 10 s,
# 2 s. Tests find their files relative to their package
# directory (the working directory go test gives them), never through
# compiled-in paths; tools/cmd/strata's test that builds the command passes
# the same -race and -trimpath as its own binary was built with.
#
# -vet=off: go test's vet is not free. To check one package it type-checks
# every package that package depends on from source, for the analyzers'
# facts (the standard library, pgx, go-redis, OpenTelemetry, Docker's
# client, ...): in a cold build cache that was 61 s of make test's wall on
# 2 cores (filing-era suite: 291 s with it, 230 s without). make vet does
# it instead, once, over every package, with the full set of analyzers; CI
# (.ci/run) runs it after make test.
#
# -ldflags=-w: no DWARF in the test binaries, which are linked on every run
# (-count=1, nothing to take from the cache): the strata package's links in
# 3.0-3.3 s instead of 4.0-4.3. Race reports, panics and goleak's stacks
# name functions, files and lines from the runtime's own tables, not DWARF.
GO_TEST := go test -trimpath -vet=off -ldflags=-w

# A -race binary sleeps atexit_sleep_ms (default 1000) before it exits, so
# that goroutines still running can finish reporting a race: one second per
# test binary run, whatever it tests. make test runs about 70 of them (each
# server package's binary twice): the integration phase of issue 12's
# filing-era tests took 66 s with it and 49 s without, warm, on 2 cores
# (the whole of that make test 104 s and 79 s). A race found
# while a test runs fails that test anyway; 10 ms is left for one reported
# as the binary ends. Options already in GORACE come after it and win.
export GORACE := atexit_sleep_ms=10 $(GORACE)

# The flags every build of make test uses (the go test commands spell them
# out): install-check, the helper commands and make test-gowork-off build
# with them too, so that they share the build cache's packages with the
# test phases.
BUILD_FLAGS := -race -trimpath

# The helper commands (devstack, modset) are built with BUILD_FLAGS too.
# -trimpath lets go run take them from the build cache in a fresh clone
# instead of compiling Strata's packages again (devstack: 3.0 s in a second
# fresh clone without it, 0.3 s with it); -race lets their build share the
# standard library and go-redis compiled for the tests: without it a cold
# make test compiled both a second time, without the race detector, for
# devstack alone. Override for a machine without race support, e.g.
# make stack-up RUN_FLAGS=-trimpath.
RUN_FLAGS ?= $(BUILD_FLAGS)
DEVSTACK  = go run $(RUN_FLAGS) ./tools/cmd/devstack -dir $(STACK_DIR)

# COVER=1 (make all sets it) makes the test phases write one coverage profile
# per module into COVER_DIR, counting every package of the module
# (-coverpkg=./...): the integration phase writes it for the modules with
# server tests (their whole suite runs there), the unit phase for the others.
COVER ?=
COVER_DIR ?= $(CURDIR)/.coverage
cover_flags = $(if $(COVER),-coverpkg=./... -coverprofile=$(COVER_DIR)/$(subst /,-,$(1)).out)

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_%\/-]+:.*## / {printf "  %-20s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: test
test: ## every test CI runs: unit tests (-race), l1mem on 32-bit ARM, the install check, then the local stack and the server modules' tests, without and with servers; each phase prints its wall and CPU seconds
	@start=$$(date +%s); \
	$(call timed,test-unit-local); \
	$(call timed,test-arm32); \
	$(call timed,install-check); \
	$(call timed,test-integration); \
	echo "make test: every phase passed in $$(( $$(date +%s) - start )) s"

# timed runs the make target $(1) and prints its wall-clock and CPU seconds
# (user + sys of every process it ran), so a CI log shows where the time
# went, e.g. to tell a cold build from a warm one.
timed = TIMEFORMAT="make test: phase $(1): %0R s wall, %0U s user + %0S s sys"; time $(MAKE) --no-print-directory $(1)

# pkgs lists the package patterns of modules $(1) for one go test run over
# the workspace: every package is built once, whatever module it belongs
# to, and go test runs packages of all modules side by side.
pkgs = $(foreach m,$(1),./$(m)/...)

.PHONY: test-unit
test-unit: ## unit tests of every module with -race, no servers needed (one go test over the workspace; COVER=1 runs it per module, for the profiles)
ifeq ($(COVER),)
	$(NO_SERVERS) $(GO_TEST) -race -count=1 $(GO_TEST_FLAGS) $(call pkgs,$(MODULES))
else
	@$(MAKE) --no-print-directory $(addprefix test-unit/,$(MODULES))
endif

# make test's unit phase: only the modules without server tests. The server
# modules' unit tests (every one of their tests, run with no server, as
# test-unit runs them) run in the integration phase instead, from the
# binaries linked there: WITHOUT_SERVERS_FIRST runs each binary once with
# the servers' variables removed before running it with them, so that
# every test of those modules still has to pass or skip cleanly with no
# server, and each -race test binary is linked once instead of twice (the
# link was most of a server package's unit run).
.PHONY: test-unit-local
test-unit-local: ## unit tests (-race) of the modules without server tests (codec, codec/compress, l1mem)
ifeq ($(COVER),)
	$(NO_SERVERS) $(GO_TEST) -race -count=1 $(GO_TEST_FLAGS) $(call pkgs,$(LOCAL_MODULES))
else
	@$(MAKE) --no-print-directory $(addprefix test-unit/,$(LOCAL_MODULES))
endif

test-unit/%: ## unit tests of one module, e.g. make test-unit/codec
	$(if $(COVER),mkdir -p $(COVER_DIR) &&) cd $* && $(NO_SERVERS) $(GO_TEST) -race -count=1 $(if $(filter $*,$(SERVER_MODULES)),,$(call cover_flags,$*)) $(GO_TEST_FLAGS) ./...

.PHONY: test-arm32
test-arm32: ## l1mem's unit tests built for 32-bit ARM and run under qemu-user (apt-get installs qemu-user when qemu-arm is missing; no -race on arm)
	@command -v qemu-arm >/dev/null || { \
		if [ "$$(id -u)" != 0 ]; then echo "qemu-arm is missing and installing it needs root: run sudo apt-get install -y qemu-user"; exit 1; fi; \
		echo "installing qemu-user with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user >/dev/null; }
	cd l1mem && $(NO_SERVERS) GOARCH=arm GOARM=7 $(GO_TEST) -count=1 -exec qemu-arm $(GO_TEST_FLAGS) ./...

.PHONY: test-gowork-off
test-gowork-off: $(addprefix gowork-off/,$(MODULES)) ## each module alone (GOWORK=off): its packages build, and every import of its packages and tests resolves, from its own go.mod and go.sum (not part of make test: see below)

# make test no longer runs this phase: what it proved is proved without
# compiling anything a second time. With GOWORK=off each module selects its
# own dependency versions; TestEveryModuleAloneSelectsTheWorkspacesVersions
# (tools, run by make test) runs go list -deps -test on every module alone,
# which fails on an import no requirement of the module provides or a
# missing go.sum entry, and checks that the versions it selects are the
# workspace's. A module alone then compiles the same sources (its own and
# its replaced siblings') at the same versions, language version (its
# go.mod's go line in both modes) and flags as the test phases' workspace
# build did, so building it again here could only fail where they fail.
# That second build was not free: a sibling module reached through a
# replace directive is recorded as path@v0.1.0 by -trimpath and a
# workspace module as its path, so every Strata package was compiled twice.
# Leaving it out took 13 s off a warm make test, and a cold one from 479 s
# to 369 s (issue 12's filing-era tests, 2 cores; together with building
# devstack and modset with BUILD_FLAGS).
gowork-off/%:
	cd $* && GOWORK=off go build $(BUILD_FLAGS) ./... && GOWORK=off go list -deps -test ./... >/dev/null

MODSET = go run $(RUN_FLAGS) ./tools/cmd/modset

.PHONY: install-check
install-check: ## build an outside module that requires only strata@<current version>, and go install the CLI, from a file GOPROXY made of the working tree (GOWORK=off, no replace, nothing asked of a public proxy or checksum database)
	$(MODSET) install-check -race

# The commit before issue 12's restructure of strata began (the parent of
# the commit that added strata/internal/model): make apidiff's default base.
APIDIFF_BASE ?= 75d9208

.PHONY: apidiff
apidiff: ## the exported API of every library module at APIDIFF_BASE (the commit before issue 12's restructure) against the working tree, by golang.org/x/exp/cmd/apidiff; fails on an incompatible change
	.ci/apidiff $(APIDIFF_BASE)

# The new version for make release, e.g. make release VERSION=v0.2.0.
VERSION ?=
# DRY_RUN=1 releases in a temporary clone and shows the result.
DRY_RUN ?=

.PHONY: release
release: ## bump every intra-repo requirement to VERSION, commit, and tag each published module <dir>/VERSION (pushes nothing; DRY_RUN=1 tries it in a temporary clone)
	@if [ -z "$(VERSION)" ]; then echo "usage: make release VERSION=vX.Y.Z [DRY_RUN=1] (current: $$($(MODSET) version))"; exit 2; fi
	$(MODSET) release -version $(VERSION) $(if $(DRY_RUN),-dry-run)

# The server modules in the order the integration phase names them to go
# test: strata's package and integration's (the two that run longest) first.
# go test starts the test binaries in the order of its arguments as slots
# free up (-p of them), so the longest run no longer waits behind the short
# ones and the short ones fill the other slot while it runs.
SLOWEST_FIRST := strata integration $(filter-out strata integration,$(SERVER_MODULES))
# How many test binaries of the integration phase run at once (go test -p;
# its default is the number of cores, 2 here). The phase spends much of its
# time waiting (servers, polls, timeouts, restarts: 314 s of CPU over
# 284 s of wall on 2 cores in CI run 25), so a third binary beside strata's
# and integration's fills the idle core instead of queueing behind them.
INTEGRATION_P ?= 3

.PHONY: test-integration
test-integration: stack-up ## start the local stack, then run the server modules' tests (-race) once without servers and once with STRATA_REQUIRE_SERVERS=1, from one binary per package (one go test over them; COVER=1 runs it per module)
ifeq ($(COVER),)
	$(WITH_STACK) STRATA_REQUIRE_SERVERS=1 $(GO_TEST) -race -count=1 -p $(INTEGRATION_P) $(WITHOUT_SERVERS_FIRST) $(GO_TEST_FLAGS) $(call pkgs,$(SLOWEST_FIRST))
else
	@$(MAKE) --no-print-directory $(addprefix test-integration/,$(SERVER_MODULES))
endif

test-integration/%: stack-up
	$(if $(COVER),mkdir -p $(COVER_DIR) &&) $(WITH_STACK) cd $* && STRATA_REQUIRE_SERVERS=1 $(GO_TEST) -race -count=1 $(WITHOUT_SERVERS_FIRST) $(call cover_flags,$*) $(GO_TEST_FLAGS) ./...

.PHONY: stack-up stack-down stack-status
stack-up: ## start (or reuse) local PostgreSQL and Redis; installs them with apt-get when missing
	@$(DEVSTACK) up >/dev/null

stack-down: ## stop the local servers started by stack-up
	@$(DEVSTACK) down

stack-status: ## show whether the local servers run and answer
	@$(DEVSTACK) status

# staticcheck, pinned; go run fetches it through the module proxy the first
# time. tools/staticcheck.conf tunes it for the tools modules.
STATICCHECK := go run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all
all: ## lint + vet + test + a coverage report per module: make test with coverage profiles, then make cover-report
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory vet
	@rm -rf $(COVER_DIR) && mkdir -p $(COVER_DIR)
	@$(MAKE) --no-print-directory test COVER=1
	@$(MAKE) --no-print-directory cover-report

.PHONY: lint
lint: $(addprefix lint/,$(MODULES)) ## gofmt check and staticcheck in every module

lint/%:
	@cd $* && unformatted="$$(gofmt -l .)" && if [ -n "$$unformatted" ]; then echo "gofmt needed in $*:"; echo "$$unformatted"; exit 1; fi
	cd $* && $(STATICCHECK) ./...

# go vet builds what it checks with BUILD_FLAGS, so that it takes the
# compiled packages from make test's build cache instead of compiling
# everything once more without -race.
.PHONY: vet
vet: ## go vet (every analyzer) over every package of every module, in one run; CI runs it after make test
	go vet $(BUILD_FLAGS) $(call pkgs,$(MODULES))

vet/%: ## go vet in one module, e.g. make vet/l1mem
	cd $* && go vet $(BUILD_FLAGS) ./...

.PHONY: cover-report
cover-report: ## per-module coverage from the profiles make all wrote (COVER_DIR, default .coverage): a table in summary.txt, an HTML page per module
	@printf '%-18s %s\n' module "coverage of statements (all tests of the module, servers included)" | tee $(COVER_DIR)/summary.txt
	@for m in $(MODULES); do \
		f=$(COVER_DIR)/$$(echo $$m | tr / -).out; \
		if [ ! -s $$f ]; then echo "no coverage profile for $$m ($$f): run make all"; exit 1; fi; \
		total=$$(cd $$m && go tool cover -func=$$f | awk '/^total:/ {print $$NF}'); \
		(cd $$m && go tool cover -html=$$f -o $${f%.out}.html); \
		printf '%-18s %s\n' $$m $$total | tee -a $(COVER_DIR)/summary.txt; \
	done
	@echo "HTML per module and summary.txt in $(COVER_DIR)"

.PHONY: fmt
fmt: ## gofmt every module in place
	gofmt -w $(MODULES)

# Flags passed to the harness, e.g. make bench BENCH_FLAGS=-quick.
BENCH_FLAGS ?=
# Where make bench writes results.json and ratios.png.
BENCH_OUT ?= $(CURDIR)/tools/stratabench-out

.PHONY: bench bench-quick bench-go
bench: stack-up ## Strata vs raw drivers and peer libraries, same run: table, results.json and ratios.png in tools/stratabench-out (BENCH_FLAGS=-quick: under 2 minutes)
	$(WITH_STACK) go run ./tools/cmd/stratabench -out $(BENCH_OUT) $(BENCH_FLAGS)

YCSB_FLAGS ?=
.PHONY: ycsb
ycsb: stack-up ## YCSB A-F and load through go-ycsb: Strata vs go-ycsb's redis and pg bindings and plain cache-aside, same run (quick counts; YCSB_FLAGS="-records 10000 -ops 50000 -rounds 3" for the full settings)
	$(WITH_STACK) go run ./tools/cmd/ycsb -json $(CURDIR)/tools/ycsb-results.json $(YCSB_FLAGS)

bench-quick: ## make bench BENCH_FLAGS=-quick
	@$(MAKE) --no-print-directory bench BENCH_FLAGS="-quick $(BENCH_FLAGS)"

bench-go: $(addprefix bench/,$(MODULES)) ## run every module's Go benchmarks (go test -bench)

bench/%: ## one module's Go benchmarks, e.g. make bench/l1mem
	$(if $(filter $*,$(SERVER_MODULES)),$(WITH_STACK)) cd $* && go test -run '^$$' -bench . -benchmem ./...

$(addprefix bench/,$(SERVER_MODULES)): stack-up

.PHONY: tidy
tidy: $(addprefix tidy/,$(MODULES)) ## go mod tidy in every module

tidy/%:
	cd $* && go mod tidy

.PHONY: check-clean
check-clean: tidy fmt ## fail if tidy or gofmt change anything, or the tree has uncommitted changes
	@if [ -n "$$(git status --porcelain)" ]; then echo "the work tree is not clean after tidy and fmt:"; git status --short; exit 1; fi

.PHONY: setup
setup: stack-up ## download module dependencies and start the local stack
	for m in $(MODULES); do (cd $$m && go mod download); done

# The fault suite's long form (integration/chaos): CHAOS_DURATION of workload
# with faults, split evenly over the seeds × the change feed off and on, on a
# PostgreSQL and a Redis it starts itself (never the shared stack). The short
# form (TestChaosShort, about 45 s) runs in make test.
CHAOS_DURATION ?= 10m
CHAOS_SEEDS ?= 1,2,3
CHAOS_OUT ?= $(CURDIR)/integration/chaos-out

.PHONY: chaos
chaos: ## the fault suite's long form: CHAOS_DURATION (10m) over CHAOS_SEEDS (1,2,3), change feed off and on; report.json and staleness charts in integration/chaos-out
	cd integration && STRATA_REQUIRE_SERVERS=1 CHAOS_DURATION=$(CHAOS_DURATION) CHAOS_SEEDS=$(CHAOS_SEEDS) CHAOS_OUT=$(CHAOS_OUT) \
		go test -count=1 -run '^TestChaosLong$$' -timeout 0 -v .

# Flags passed to the demo, e.g. make demo DEMO_FLAGS="-records 2000 -duration 1s".
DEMO_FLAGS ?=

.PHONY: demo
demo: stack-up ## the end-to-end demo on the local stack: tiers, invalidation, encryption, cached searches (DEMO_FLAGS=...)
	@$(WITH_STACK) go run ./tools/cmd/demo $(DEMO_FLAGS)
