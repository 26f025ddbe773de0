# Inlay: server-side composition of micro-frontends.
GO      ?= go
PKGS    ?= ./...
BENCH   ?= .
FUZZTIME ?= 60s
# The GODEBUG Inlay runs with, here as in the server image and the
# Kubernetes manifest: new goroutines start with Go's smallest stack,
# 2 KiB, not with the average of the stacks the last GC saw. Inlay's
# connection goroutines are deep and its helpers shallow, and the average
# made every helper start at 8 KiB (up to 8 MiB more RSS when 256 shoppers
# arrive at once, about 2 MiB settled). //go:debug cannot set this one, and
# the binary is the one a plain go build makes.
INLAY_GODEBUG ?= adaptivestackstart=0

.DEFAULT_GOAL := help

help: ## Display this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

LISTEN  ?=

run: ## Build and start the demo shop on http://localhost:8080 (LISTEN=127.0.0.1:8081 to move it)
	@echo 'Building Inlay (first build takes 1-2 minutes)...'
	@$(GO) build -o bin/inlay ./cmd/inlay
	@GODEBUG='$(INLAY_GODEBUG)' ./bin/inlay demo $(if $(LISTEN),--listen '$(LISTEN)')

build: ## Build the inlay and team binaries into bin/ (a plain go build; Inlay runs with GODEBUG=adaptivestackstart=0)
	$(GO) build -o bin/ ./cmd/...

generate: ## Regenerate templ code with the pinned templ
	$(GO) tool templ generate

check-generated: generate ## Fail if generated templ code is stale
	@git diff --exit-code -- '*_templ.go' || { echo 'generated templ code is stale: run make generate and commit'; exit 1; }
	@untracked=$$(git ls-files --others --exclude-standard -- '*_templ.go'); \
	  if [ -n "$$untracked" ]; then echo "generated but not committed: $$untracked"; exit 1; fi

lint: ## gofmt, go vet, and inlay lint on the demo config
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run ./cmd/inlay lint --config layouts/inlay.yaml

cross: ## Build and vet everything, tests included, for Windows, macOS and Linux
	@for os in windows darwin linux; do \
	  echo "GOOS=$$os go build ./... && go vet ./..."; \
	  GOOS=$$os $(GO) build $(PKGS) && GOOS=$$os $(GO) vet $(PKGS) || exit 1; \
	done

test: check-generated lint cross ## The whole test suite, with the race detector, then the load tests without it
	$(GO) test -race -count=1 $(PKGS)
	$(GO) test -count=1 -p 1 -run '^TestLoad' ./composer/ ./cmd/inlay/

bench: ## Go benchmarks of the hot paths, then the load benchmark
	$(GO) test -run=NONE -bench='$(BENCH)' -benchmem $(PKGS)
	$(MAKE) loadbench

loadbench: ## Load benchmark: Inlay against direct fetches, nginx SSI and the floor program, default config (about 10 minutes)
	$(GO) run ./cmd/loadbench -out docs/benchmarks.md -godebug '$(INLAY_GODEBUG)'

fuzz: ## Run every fuzz target in the repository (every func Fuzz in a _test.go file), FUZZTIME each (default 60s)
	@targets=$$(grep -rE --include='*_test.go' --exclude-dir=testdata --exclude-dir=.git '^func Fuzz[A-Za-z0-9_]*\(' . \
	  | sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\(.*#\1:\2#' | sort); \
	[ -n "$$targets" ] || { echo 'no fuzz targets found'; exit 1; }; \
	for t in $$targets; do \
	  dir=$${t%%:*}; name=$${t#*:}; \
	  echo "$$dir $$name"; \
	  $(GO) test -run=NONE -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) "$$dir/" || exit 1; \
	done

clean: ## Remove built binaries
	rm -rf bin/

.PHONY: help run build generate check-generated lint cross test bench loadbench fuzz clean
