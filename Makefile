# Forewarn: `make run` (demo daemon on a lab network) and `make test` (everything CI runs).
SWIFT ?= swift
BENCH ?=

.PHONY: all deps build test test-swift test-lab test-tickets run bench clean

all: build

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build

# One `swift test` invocation for the whole suite (planning costs seconds per call), beside a
# PostgreSQL server of its own (the store's tests run against SQLite and PostgreSQL), then the
# network-lab suites (the lab itself, then the daemon end to end in it), which need root and
# namespaces and say so when they skip.
test: deps
	$(SWIFT) build --build-tests
	FOREWARN_REQUIRE_POSTGRES=1 scripts/with-postgres $(SWIFT) test --skip-build
	scripts/lab-test
	scripts/lab-swift-tests
	scripts/lab-e2e
	scripts/lab-cluster
	scripts/ticket-e2e
	scripts/report-render-test
	scripts/prometheus-test

test-swift: deps
	$(SWIFT) build --build-tests
	FOREWARN_REQUIRE_POSTGRES=1 scripts/with-postgres $(SWIFT) test --skip-build
	scripts/report-render-test

test-lab: deps
	$(SWIFT) build --product forewarn
	scripts/lab-test
	scripts/lab-swift-tests
	scripts/lab-e2e
	scripts/lab-cluster

# Ticketing with the real daemon: a lost answer after kill -9, and a real Request Tracker 5.
test-tickets: deps
	$(SWIFT) build --product forewarn
	scripts/ticket-e2e

run: deps
	$(SWIFT) build --product forewarn
	scripts/demo

# `make bench` runs every benchmark, `make bench BENCH=csv-load` one of them.
bench: deps
	scripts/bench $(BENCH)

clean:
	rm -rf .build run
