# labrun's Makefile. `make help` lists the targets; each one's `## ` comment
# is its documentation.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Go lives in /usr/local/go on our machines; iptables, ip and brctl live in the
# sbin directories, which a user's PATH on Debian lacks.
export PATH := /usr/local/go/bin:$(PATH):/usr/local/sbin:/usr/sbin:/sbin

GO       ?= go
FUZZTIME ?= 60s
FUZZPKGS ?= ./...
SOAK_RUNS ?= 20
# Where `test` keeps the root namespace's snapshot between its two looks.
GUARD_FILE ?= bin/rootguard.snapshot

# command:package pairs that `deps` checks with `command -v` and installs
# on Debian.
DEPS := iptables:iptables iptables-restore:iptables iptables-save:iptables \
	ip:iproute2 brctl:bridge-utils tcpdump:tcpdump ssh:openssh-client \
	curl:curl pgrep:procps modprobe:kmod

.PHONY: help deps build test bench soak fuzz clean

help: ## Show the targets and what they do
	@echo 'usage: make TARGET [FUZZTIME=60s] [FUZZPKGS=./...] [SOAK_RUNS=20]'
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-6s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## Install the missing system packages (as root on Debian), or say which to install and fail
	@missing_cmds=; missing_pkgs=; \
	for d in $(DEPS); do \
		command -v "$${d%%:*}" >/dev/null 2>&1 && continue; \
		missing_cmds="$$missing_cmds $${d%%:*}"; \
		case " $$missing_pkgs " in *" $${d#*:} "*) ;; *) missing_pkgs="$$missing_pkgs $${d#*:}";; esac; \
	done; \
	if [ -z "$$missing_pkgs" ]; then echo 'deps: all present'; exit 0; fi; \
	if [ "$$(id -u)" != 0 ] || [ ! -f /etc/debian_version ] || ! command -v apt-get >/dev/null; then \
		echo "deps: missing commands:$$missing_cmds" >&2; \
		echo "deps: install (Debian package names): sudo apt-get install --no-install-recommends$$missing_pkgs" >&2; \
		exit 1; \
	fi; \
	echo "deps: installing$$missing_pkgs"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq; \
	apt-get install -y -qq --no-install-recommends $$missing_pkgs >/dev/null; \
	for c in $$missing_cmds; do \
		command -v "$$c" >/dev/null || { echo "deps: $$c still missing after apt-get install" >&2; exit 1; }; \
	done; \
	echo 'deps: installed'

build: ## Build bin/labrun (static, no cgo)
	CGO_ENABLED=0 $(GO) build -o bin/labrun ./cmd/labrun

test: deps ## Vet, check gofmt, and run all tests, failing if they changed the root network namespace
	$(GO) vet ./...
	@unformatted=$$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' -print0 | xargs -0 -r gofmt -l); \
	if [ -n "$$unformatted" ]; then echo "gofmt: these files need gofmt -w:" >&2; echo "$$unformatted" >&2; exit 1; fi
	@mkdir -p bin
	$(GO) build -o bin/rootguard ./cmd/rootguard
	bin/rootguard snapshot $(GUARD_FILE)
	@status=0; \
	$(GO) test -count=1 -timeout 30m ./... || status=$$?; \
	bin/rootguard compare $(GUARD_FILE) || status=1; \
	exit $$status

bench: ## Run labrun's benchmarks (placeholder until `labrun bench` exists)
	$(GO) run ./cmd/labrun bench

soak: build ## Run the scenario suite SOAK_RUNS times (default 20), guarding the root namespace, and count failures
	@mkdir -p bin
	@$(GO) build -o bin/rootguard ./cmd/rootguard
	@bin/rootguard snapshot $(GUARD_FILE)
	@failures=0; \
	for i in $$(seq 1 $(SOAK_RUNS)); do \
		echo "soak: run $$i of $(SOAK_RUNS)"; \
		./bin/labrun scenarios/ || failures=$$((failures + 1)); \
	done; \
	echo "soak: $$failures failures in $(SOAK_RUNS) runs"; \
	guard=0; bin/rootguard compare $(GUARD_FILE) || guard=1; \
	[ "$$failures" = 0 ] && [ "$$guard" = 0 ]

fuzz: ## Run every fuzz target (in FUZZPKGS, default ./...) for FUZZTIME each (default 60s)
	@list=$$($(GO) test -list '^Fuzz' $(FUZZPKGS)); \
	targets=$$(awk '/^Fuzz/ {names[n++] = $$1; next} /^ok/ {for (i = 0; i < n; i++) print $$2 " " names[i]; n = 0}' <<<"$$list"); \
	if [ -z "$$targets" ]; then echo 'fuzz: no fuzz targets'; exit 0; fi; \
	failed=0; \
	while read -r pkg name; do \
		echo "fuzz: $$pkg $$name for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "$$pkg" </dev/null || failed=$$((failed + 1)); \
	done <<<"$$targets"; \
	echo "fuzz: $$failed of $$(wc -l <<<"$$targets") targets failed"; \
	[ "$$failed" = 0 ]

clean: ## Remove build output (bin/)
	rm -rf bin
