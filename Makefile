# tally — make targets. The two set-up commands are `make demo` and `make test`.
GO      ?= go
PKGS    ?= ./...
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION) -X main.revision=$(shell git rev-parse --short HEAD 2>/dev/null)
export CGO_ENABLED=1

.PHONY: all build test bench lint demo pi fuzz notices clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/tally ./cmd/tally

# vet plus every test under the race detector: real SQLite, real ptys, and —
# when installed (CI installs them) — real Chromium and Prometheus.
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -timeout 30m $(PKGS)

# Benchmarks, each beside its simpler baseline in the same run, as a table.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./agent/... ./drivers/... ./sync/... ./cmd/tally | tee bench.out | $(GO) run ./cmd/benchtable

lint:
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || (echo "gofmt: files above need formatting" && exit 1)
	$(GO) vet $(PKGS)

# The embedded default: a generated collection, simulated scanner and RFID
# wand, live UI and metrics. No hardware, no configuration.
demo: build
	./bin/tally demo

# A linux/arm64 binary for a Raspberry Pi (Debian's gcc-aarch64-linux-gnu).
pi:
	CC=aarch64-linux-gnu-gcc GOOS=linux GOARCH=arm64 $(GO) build -ldflags "$(LDFLAGS)" -o bin/tally-linux-arm64 ./cmd/tally

# A short run of every fuzz target (go test -fuzz takes one at a time).
fuzz:
	@for p in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$p 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$p $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 10s $$p || exit 1; \
	  done; done

# THIRD_PARTY_NOTICES.md from the module cache: every component compiled into
# the binary and its licence. cmd/notices' test fails when it is stale.
notices:
	$(GO) run ./cmd/notices -o THIRD_PARTY_NOTICES.md

clean:
	rm -rf bin bench.out
