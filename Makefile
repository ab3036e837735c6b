# Stilstaan developer tasks. `make test` is what CI runs (see .ci/run).
GO ?= go
FUZZTIME ?= 10s

.PHONY: test lint unit fuzz-short build bench shell

build:
	$(GO) build -o bin/stilstaan ./cmd/stilstaan

shell:
	$(GO) run ./cmd/stilstaan shell

## test: formatting, vet, staticcheck, every test with the race detector, short fuzzing
test: lint unit fuzz-short

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

unit:
	$(GO) test -race -count=1 -timeout 20m ./...

## fuzz-short: every fuzz target for $(FUZZTIME) (committed corpora under testdata/fuzz)
fuzz-short:
	@set -e; for spec in $$($(GO) run ./internal/fuzzlist); do \
		pkg=$${spec%%:*}; target=$${spec##*:}; \
		echo "fuzz $$pkg $$target ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg > /tmp/fuzz-$$target.log 2>&1 || { cat /tmp/fuzz-$$target.log; exit 1; }; \
	done

bench:
	$(GO) run ./cmd/stilstaan bench
