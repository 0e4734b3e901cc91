# The two commands of the README: `make dev` and `make test`.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/trussdev/truss/internal/version.Version=$(VERSION)

.PHONY: build dev test vet bench clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/truss ./cmd/truss

## dev: build Truss and start the whole stack (PostgreSQL, Kratos, Keto, Hydra, Mailpit, Truss).
dev: build
	./bin/truss dev

## test: run every test against a fresh real stack on free ports.
test: build vet
	./bin/truss dev --exec -- $(GO) test -count=1 -timeout 20m ./...

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l cmd internal)" || (echo "gofmt needed:"; gofmt -l cmd internal; exit 1)

clean:
	rm -rf bin

## bench: benchmarks on the real stack, reported as ratios to a baseline measured in the same run.
bench: build
	./bin/truss dev --exec -- $(GO) test -tags bench -count=1 -v -run '^TestBench' ./bench/
