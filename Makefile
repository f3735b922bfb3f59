# lambdabridge — build, test, bench.
GO ?= go
BENCHTIME ?= 1s

.PHONY: all build test test-deps lint bench fuzz examples demo clean

all: build

# bin/lambdabridge-extension beside bin/lambdabridge is what compare's
# extension strategy runs (without it, lambdabridge itself).
build:
	$(GO) build -o bin/lambdabridge ./cmd/lambdabridge
	CGO_ENABLED=0 $(GO) build -tags lambdabridge_extension -o bin/lambdabridge-extension ./cmd/lambdabridge-extension

# node-gyp builds the Node runtime client (runner's Node test) against the
# headers Debian's nodejs ships, instead of downloading them.
ifneq ($(wildcard /usr/include/node/common.gypi),)
export npm_config_nodedir ?= /usr
endif

# The full test suite: installs the real backends the integration tests use,
# checks formatting and vet, then runs every test with the race detector and
# ends with the tests that were skipped and why (scripts/testreport); the
# exit status is go test's.
test: SHELL := /bin/bash
test: test-deps lint
	@$(GO) build -o bin/testreport ./scripts/testreport
	set -o pipefail; $(GO) test -json -race -count=1 -timeout 40m ./... | bin/testreport

test-deps:
	bash scripts/install-test-deps.sh

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

# gofmt, go vet, staticcheck, and go.mod/go.sum as go mod tidy leaves them.
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@cp go.mod /tmp/lambdabridge.go.mod.$$$$ && cp go.sum /tmp/lambdabridge.go.sum.$$$$ && $(GO) mod tidy && \
	  if ! cmp -s go.mod /tmp/lambdabridge.go.mod.$$$$ || ! cmp -s go.sum /tmp/lambdabridge.go.sum.$$$$; then \
	    echo "go mod tidy changes go.mod/go.sum: run it and commit"; \
	    cp /tmp/lambdabridge.go.mod.$$$$ go.mod; cp /tmp/lambdabridge.go.sum.$$$$ go.sum; exit 1; fi

# Benchmarks of every hot path, each beside its baseline in the same run;
# the nested modules (baselines kept out of go.mod) print a summary of the
# side-by-side ratios. BenchmarkTailMixedLog reads a generated log of
# LAMBDABRIDGE_BENCH_MB megabytes (default 100), or LAMBDABRIDGE_BENCH_GB=1 for 1 GB.
RIE_BENCHTIME ?= 2000x
# The extension's benchmark counts invocations: a duration would stop it at
# one (its cold starts alone take longer), and its figures need thousands.
# It runs twice: as Lambda gives an environment two vCPUs, and all on one
# CPU (taskset), where no wakeup crosses CPUs: on a nested virtual machine
# one that does costs tens of times more (BenchmarkExtension/wakeup).
EXT_BENCHTIME ?= 1000x
# BenchmarkExtensionColdStart counts cold starts of each variant, in both
# placements too.
EXT_COLD_BENCHTIME ?= 40x

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) $$($(GO) list ./... | grep -v '/extension$$')
	$(GO) test -c -o extension/extension.test ./extension
	cd extension && ./extension.test -test.run '^$$' -test.bench 'Extension$$|InvocationWork|DecodeBatch' -test.benchmem -test.benchtime $(EXT_BENCHTIME) && \
	  taskset -c 1 ./extension.test -test.run '^$$' -test.bench 'Extension$$' -test.benchtime $(EXT_BENCHTIME) && \
	  ./extension.test -test.run '^$$' -test.bench ExtensionColdStart -test.benchtime $(EXT_COLD_BENCHTIME) && \
	  taskset -c 1 ./extension.test -test.run '^$$' -test.bench ExtensionColdStart -test.benchtime $(EXT_COLD_BENCHTIME); \
	  status=$$?; rm -f extension.test; exit $$status
	cd emf/internal/baselinebench && $(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) .
	cd dogstatsd/internal/baselinebench && $(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) .
	cd runner/internal/riebench && $(GO) test -run '^$$' -bench . -benchtime $(RIE_BENCHTIME) .

examples:
	$(GO) build -o examples/go-emf/bootstrap ./examples/go-emf

# The main job on the shipped example: run the Go example function (EMF,
# MONITORING lines, DogStatsD) 40 times at concurrency 4 the way Lambda
# would, show its logs, the metrics found and a summary, then say what to do
# next and keep http://127.0.0.1:9464/metrics up until Ctrl-C.
demo: build examples
	bash scripts/demo.sh

clean:
	rm -rf bin
