# wasmguard — the one entry point. CI runs `bash .ci/run`, which runs `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PLUGINS   := promptguard piimask tokenbudget outputguard
TOOLCHAIN ?= go
DIST      := dist
GO        ?= go
# Short fuzz budget per fuzz target inside `make test` / `make fuzz`.
FUZZTIME  ?= 3s
WASMS     := $(addprefix $(DIST)/,$(addsuffix .wasm,$(PLUGINS)))

.PHONY: help build test test-native test-wasm vet bench eval run fuzz clean $(PLUGINS)

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

build: $(PLUGINS) ## compile every plugin to dist/<name>.wasm (TOOLCHAIN=go|tinygo)

$(PLUGINS):
	@mkdir -p $(DIST)
ifeq ($(TOOLCHAIN),tinygo)
	@command -v tinygo >/dev/null || { echo "make build TOOLCHAIN=tinygo: tinygo is not on PATH (install TinyGo >= 0.34, or build with the default TOOLCHAIN=go)"; exit 1; }
	tinygo build -scheduler=none -target=wasip1 -buildmode=c-shared -o $(DIST)/$@.wasm ./plugins/$@
else
	GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -trimpath -o $(DIST)/$@.wasm ./plugins/$@
endif

test: build ## build, then run every test natively and against the built .wasm (+ short fuzzing)
	HOSTSIM_REQUIRE_WASM=1 WASMGUARD_DIST=$(CURDIR)/$(DIST) $(GO) test -count=1 -timeout 40m ./...
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME)

vet: ## go vet natively and for GOOS=wasip1 GOARCH=wasm
	$(GO) vet ./...
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./plugins/... ./sdk/...

fuzz: ## run every Fuzz target briefly (FUZZTIME=3s each)
	@set -e; for pkg in $$($(GO) list ./...); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do \
	    echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg; \
	  done; \
	done

bench: build ## benchmarks: wasm vs native per body size, scanners, chain under load
	WASMGUARD_DIST=$(CURDIR)/$(DIST) $(GO) test -run='^$$' -bench=. -benchmem -count=1 ./... | tee $(DIST)/bench.txt

eval: build ## quality figures through the built .wasm (FILTER=..., DATASET=...)
	@echo "eval: not wired yet"; exit 1

run: build ## build the filters and serve them in a local development gateway
	@echo "run: not wired yet"; exit 1

clean: ## remove build outputs
	rm -rf $(DIST)/*.wasm $(DIST)/eval $(DIST)/bench $(DIST)/bench.txt
