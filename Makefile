# The two commands of the README: `make dev` and `make test`.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/trussdev/truss/internal/version.Version=$(VERSION)

NPM     ?= npm

.PHONY: build web dev test vet bench clean

build: web
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/truss ./cmd/truss

## web: build the dashboard (web/) into web/dist, which go:embed puts in the binary. Without npm the
## binary is built anyway and serves a "dashboard not built" page. `npm ci` runs only when
## web/node_modules is missing or web/package-lock.json changed since the last install.
web:
	@if command -v $(NPM) >/dev/null 2>&1; then \
		if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then \
			echo "$(NPM) --prefix web ci"; $(NPM) --prefix web ci --prefer-offline --no-audit --no-fund || exit 1; \
		fi; \
		echo "$(NPM) --prefix web run build"; $(NPM) --prefix web run build --silent || exit 1; \
	else \
		echo "npm not found: building Truss without the dashboard (install Node.js 20.19+ to include it)"; \
	fi

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
