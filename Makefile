# Forewarn: `make run` (demo daemon on a lab network) and `make test` (everything CI runs).
SWIFT ?= swift
BENCH ?=

.PHONY: all deps build test test-swift test-lab run bench clean

all: build

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build

# One `swift test` invocation for the whole suite (planning costs seconds per call), then the
# network-lab suite, which needs root and namespaces and says so when it skips.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	scripts/lab-test

test-swift: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

test-lab: deps
	scripts/lab-test

run: deps
	$(SWIFT) build --product forewarn
	scripts/demo

# `make bench` runs every benchmark, `make bench BENCH=csv-load` one of them.
bench: deps
	scripts/bench $(BENCH)

clean:
	rm -rf .build run
