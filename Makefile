# The front door: `make run` brings the console up on embedded defaults, `make test`
# proves it works. Everything they need is installed or started by scripts/.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/countersign
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: run build test generate check-generated lint bench faults clean

run: build
	@scripts/ensure-postgres.sh
	@exec ./$(BIN) dev

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/countersign

test:
	@scripts/test.sh

generate:
	$(GO) tool templ generate -path views

check-generated:
	@scripts/check-generated.sh

lint: check-generated
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

bench: build
	@scripts/bench.sh

faults:
	@scripts/faults.sh

clean:
	rm -rf bin artifacts
