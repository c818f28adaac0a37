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
# soak's own snapshot (so that a `make test` running meanwhile keeps its own),
# and extra labrun flags for every soak run (e.g. SOAK_ARGS='-j 8').
SOAK_GUARD_FILE ?= bin/rootguard-soak.snapshot
FIDELITY_GUARD_FILE ?= bin/rootguard-fidelity.snapshot
SOAK_ARGS ?=
# What runs the tests for `test`: gotestsum (gotest.tools/gotestsum) runs
# go test, prints a line per package and the failures, and ends with one line
# of totals ("DONE 812 tests, 4 skipped, 1 failure in 250s"); it exits as go
# test does. An installed gotestsum is used as it is, else go run fetches this
# version.
GOTESTSUM ?= $(or $(shell command -v gotestsum 2>/dev/null),$(GO) run gotest.tools/gotestsum@v1.13.0)

# How long `deps` waits for apt's lock (seconds): a fresh VM's first boot
# often holds it for a minute or two.
APT_LOCK_WAIT ?= 300
# Where `oracle` keeps the real engines it builds (outside the repository),
# and what it builds: module@version of each engine and of runc.
ORACLE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/labrun/oracle
ORACLE_DOCKER28 ?= github.com/docker/docker@v28.5.2+incompatible
ORACLE_DOCKER29 ?= github.com/moby/moby/v2@v2.0.0-beta.24
ORACLE_RUNC ?= github.com/opencontainers/runc@v1.5.3
# Docker Compose v5, built as the docker CLI plugin ORACLE_DIR/compose-5.6.0/docker-compose
# (the fidelity tests point the docker CLI at it with cliPluginsExtraDirs).
ORACLE_COMPOSE_VERSION ?= 5.6.0
ORACLE_COMPOSE ?= github.com/docker/compose/v5@v$(ORACLE_COMPOSE_VERSION)
ORACLE_TAGS := netgo osusergo static_build exclude_graphdriver_btrfs

# command:package pairs that `deps` checks with `command -v` and installs
# on Debian.
DEPS := iptables:iptables iptables-restore:iptables iptables-save:iptables \
	ip:iproute2 brctl:bridge-utils tcpdump:tcpdump ssh:openssh-client \
	curl:curl pgrep:procps modprobe:kmod ping:iputils-ping tmux:tmux \
	busybox:busybox-static newuidmap:uidmap runuser:util-linux

# Where `install` puts labrun (PREFIX/bin), its man page (PREFIX/share/man/man1)
# and its completion scripts; DESTDIR is prepended to every path, for packaging.
PREFIX ?= /usr/local
DESTDIR ?=
# The commit that `build` records in bin/labrun (labrun version) for Go
# installations that stamp none (GOFLAGS=-buildvcs=false).
VCS_LDFLAGS := $(shell c=$$(git rev-parse HEAD 2>/dev/null) && echo "-X main.buildCommit=$$c -X main.buildTime=$$(TZ=UTC git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd)$$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo ' -X main.buildModified=true')")

.PHONY: help deps build install test test-rootless bench soak eras fuzz fidelity oracle oracle-compose clean

help: ## Show the targets and what they do
	@echo 'usage: make TARGET [FUZZTIME=60s] [FUZZPKGS=./...] [SOAK_RUNS=20] [SOAK_ARGS=...]'
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-9s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

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
	deadline=$$(( $$(date +%s) + $(APT_LOCK_WAIT) )); waiting=; \
	until out=$$(apt-get -o DPkg::Lock::Timeout=$(APT_LOCK_WAIT) update -qq 2>&1); do \
		if ! grep -qi 'lock' <<<"$$out" || [ "$$(date +%s)" -ge "$$deadline" ]; then echo "$$out" >&2; exit 1; fi; \
		[ -n "$$waiting" ] || echo "deps: apt is busy (a fresh machine's first boot updates itself); waiting up to $(APT_LOCK_WAIT)s for its lock"; \
		waiting=1; sleep 2; \
	done; \
	if fuser /var/lib/dpkg/lock-frontend >/dev/null 2>&1; then \
		echo "deps: dpkg is busy; waiting up to $(APT_LOCK_WAIT)s for its lock"; \
	fi; \
	apt-get -o DPkg::Lock::Timeout=$(APT_LOCK_WAIT) install -y -qq --no-install-recommends $$missing_pkgs >/dev/null; \
	for c in $$missing_cmds; do \
		command -v "$$c" >/dev/null || { echo "deps: $$c still missing after apt-get install" >&2; exit 1; }; \
	done; \
	echo 'deps: installed'

build: ## Build bin/labrun (static, no cgo)
	@[ -x bin/labrun ] || echo 'build: compiling bin/labrun; a first build fetches the Go modules and compiles them all, about 2 minutes on 2 cores (later builds take seconds)'
	CGO_ENABLED=0 $(GO) build -ldflags '$(VCS_LDFLAGS)' -o bin/labrun ./cmd/labrun

install: build ## Install labrun in PREFIX/bin (default /usr/local), its man page and bash, zsh and fish completions (DESTDIR honoured)
	./bin/labrun help -man >bin/labrun.1
	for s in bash zsh fish; do ./bin/labrun completion $$s >bin/labrun.$$s; done
	install -d '$(DESTDIR)$(PREFIX)/bin' '$(DESTDIR)$(PREFIX)/share/man/man1' \
		'$(DESTDIR)$(PREFIX)/share/bash-completion/completions' '$(DESTDIR)$(PREFIX)/share/zsh/site-functions' \
		'$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d'
	install -m 0755 bin/labrun '$(DESTDIR)$(PREFIX)/bin/labrun'
	install -m 0644 bin/labrun.1 '$(DESTDIR)$(PREFIX)/share/man/man1/labrun.1'
	install -m 0644 bin/labrun.bash '$(DESTDIR)$(PREFIX)/share/bash-completion/completions/labrun'
	install -m 0644 bin/labrun.zsh '$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_labrun'
	install -m 0644 bin/labrun.fish '$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/labrun.fish'

test: deps ## Vet, check gofmt, and run all tests, failing if they changed the root network namespace
	@echo 'test: go vet, gofmt, then every test through gotestsum (about 2 minutes on 2 cores; a first run also compiles, about 2 minutes more); it ends with one line of totals'
	$(GO) vet ./...
	@unformatted=$$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' -print0 | xargs -0 -r gofmt -l); \
	if [ -n "$$unformatted" ]; then echo "gofmt: these files need gofmt -w:" >&2; echo "$$unformatted" >&2; exit 1; fi
	@mkdir -p bin
	$(GO) build -o bin/rootguard ./cmd/rootguard
	bin/rootguard snapshot $(GUARD_FILE)
	@status=0; \
	$(GOTESTSUM) --format pkgname-and-test-fails -- -count=1 -timeout 30m ./... || status=$$?; \
	bin/rootguard compare $(GUARD_FILE) || status=1; \
	exit $$status

test-rootless: deps ## Run the scenario suite and the live-lab tests as two ordinary users it makes (labrun-a, labrun-b; needs root), then check the root network namespace
	@mkdir -p bin
	$(GO) build -o bin/rootguard ./cmd/rootguard
	bin/rootguard snapshot $(GUARD_FILE).rootless
	@status=0; \
	LABRUN_ROOTLESS_TEST=1 $(GOTESTSUM) --format pkgname-and-test-fails -- -count=1 -timeout 20m -run '^TestRootless' ./cmd/labrun || status=$$?; \
	bin/rootguard compare $(GUARD_FILE).rootless || status=1; \
	exit $$status

bench: deps ## Compare labrun with a shell script, the CNI plugins, Docker 28.5.2 (N<=100, when make oracle built it) and the netlink floor at N=10,100,1000 (BENCH_FLAGS=-quick: N=10,100); see docs/performance.md
	$(GO) run ./cmd/labrun bench $(BENCH_FLAGS)

soak: build ## Run the scenario suite SOAK_RUNS times (default 20), guarding the root namespace, and count failures
	@mkdir -p bin/soak
	@$(GO) build -o bin/rootguard ./cmd/rootguard
	@bin/rootguard snapshot $(SOAK_GUARD_FILE)
	@failures=0; scenarios=0; rm -f bin/soak/run-*.log; \
	for i in $$(seq 1 $(SOAK_RUNS)); do \
		log=bin/soak/run-$$i.log; \
		if ./bin/labrun $(SOAK_ARGS) scenarios/ >$$log 2>&1; then \
			echo "soak: run $$i of $(SOAK_RUNS): $$(tail -n 1 $$log)"; \
		else \
			failures=$$((failures + 1)); \
			scenarios=$$((scenarios + $$(grep -c '^FAIL ' $$log || true))); \
			echo "soak: run $$i of $(SOAK_RUNS): $$(tail -n 1 $$log) (log: $$log)"; \
			grep -E '^FAIL |^ +FAIL: ' $$log | sed 's/^ */    /' || true; \
		fi; \
	done; \
	echo "soak: $$failures failures in $(SOAK_RUNS) runs ($$scenarios failed scenarios)"; \
	if [ "$$failures" != 0 ]; then \
		echo "soak: failures by scenario:"; \
		cat bin/soak/run-*.log | sed -n 's/^FAIL \([^ ]*\) (.*/\1/p' | sort | uniq -c | sort -rn; \
	fi; \
	guard=0; bin/rootguard compare $(SOAK_GUARD_FILE) || guard=1; \
	[ "$$failures" = 0 ] && [ "$$guard" = 0 ]

eras: build ## Run the scenario suite under each Docker era and firewall back end (LABRUN_DOCKERD=...), one summary line per era
	@mkdir -p bin/eras
	@$(GO) build -o bin/rootguard ./cmd/rootguard
	@bin/rootguard snapshot bin/rootguard-eras.snapshot
	@failed=0; \
	for era in '' '--compat=20.10' '--compat=28' '--compat=29' '--compat=29 --firewall-backend=nftables'; do \
		log="bin/eras/$$(tr -cs 'a-z0-9.\n' _ <<<"$${era:-default}" | sed 's/^_*//').log"; \
		if LABRUN_DOCKERD="$$era" ./bin/labrun scenarios/ >"$$log" 2>&1; then :; else failed=$$((failed + 1)); fi; \
		printf 'eras: %-40s %s\n' "$${era:-default (27)}" "$$(tail -n 1 "$$log") (log: $$log)"; \
		grep -E '^ +FAIL: ' "$$log" | sed 's/^ */    /' || true; \
	done; \
	guard=0; bin/rootguard compare bin/rootguard-eras.snapshot || guard=1; \
	[ "$$failed" = 0 ] && [ "$$guard" = 0 ]

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

fidelity: ## Compare labrun with every real Docker Engine that answers: the machine's and those of make oracle (cmd/labrun/fidelity); fails if the root network namespace changed
	@command -v busybox >/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo 'fidelity: installing busybox-static (the case image is made from it)'; \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >/dev/null || \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >/dev/null; }; \
		else echo 'fidelity: needs busybox (Debian: apt-get install busybox-static)' >&2; exit 1; fi; }
	@mkdir -p bin
	@$(GO) build -o bin/rootguard ./cmd/rootguard
	@bin/rootguard snapshot $(FIDELITY_GUARD_FILE)
	@status=0; \
	ORACLE_DIR=$(ORACLE_DIR) LABRUN_FIDELITY=1 $(GO) test -count=1 -timeout 60m -run '^(TestFidelity|TestDocker.*|TestGoldens|TestNFTGoldens)$$' -v ./cmd/labrun/fidelity $(if $(FIDELITY_FLAGS),-args $(FIDELITY_FLAGS)) >bin/fidelity.log 2>&1 || status=$$?; \
	grep -v -E '^ *(=== RUN|--- PASS|PASS$$|ok )' bin/fidelity.log; \
	bin/rootguard compare $(FIDELITY_GUARD_FILE) || status=1; \
	echo 'fidelity: summary'; grep '^fidelity: ' bin/fidelity.log || echo 'fidelity: no engine answered'; \
	exit $$status

oracle: ## Build real dockerd and docker-proxy 28.5.2 and 29.8.1, runc 1.5.3 and Docker Compose 5.6.0 from the Go module proxy into ORACLE_DIR (not part of test)
	@command -v pkg-config >/dev/null && pkg-config --exists libseccomp || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo 'oracle: installing libseccomp-dev and pkg-config (runc links libseccomp)'; \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get install -y -qq --no-install-recommends libseccomp-dev pkg-config >/dev/null 2>&1 || \
			{ apt-get update -qq && apt-get install -y -qq --no-install-recommends libseccomp-dev pkg-config >/dev/null; }; \
		else echo 'oracle: needs libseccomp-dev and pkg-config (Debian: apt-get install libseccomp-dev pkg-config)' >&2; exit 1; fi; }
	@mkdir -p $(ORACLE_DIR)/src
	@# src MODULE@VERSION: a writable copy of the module from the proxy, in $$src.
	@src() { \
		src=$(ORACLE_DIR)/src/$$(echo "$$1" | tr '/@+' '___'); \
		[ -d "$$src" ] && return 0; \
		dir=$$($(GO) mod download -json "$$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$$/\1/p'); \
		[ -n "$$dir" ] || { echo "oracle: go mod download $$1 failed" >&2; return 1; }; \
		cp -r "$$dir" "$$src.tmp" && chmod -R u+w "$$src.tmp" && mv "$$src.tmp" "$$src"; \
	}; \
	log=$(ORACLE_DIR)/build.log; : >"$$log"; \
	step() { \
		what=$$1; shift; t0=$$(date +%s); \
		echo "oracle: $$what ..."; \
		"$$@" >>"$$log" 2>&1 || { tail -n 30 "$$log" >&2; echo "oracle: $$what failed (whole log: $$log)" >&2; exit 1; }; \
		echo "oracle: $$what: $$(( $$(date +%s) - t0 )) s"; \
	}; \
	gobuild() { tags=$$1 pkg=$$2 version=$$3 out=$$4 main=$$5; \
		(cd "$$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod $(GO) build -tags "$$tags" \
			-ldflags="-w -X $$pkg/dockerversion.Version=$$version -X $$pkg/dockerversion.GitCommit=v$$version" -o "$$out" "$$main"); }; \
	step "download $(ORACLE_DOCKER28)" src $(ORACLE_DOCKER28); \
	if [ ! -f "$$src/go.mod" ]; then cp "$$src/vendor.mod" "$$src/go.mod" && cp "$$src/vendor.sum" "$$src/go.sum"; fi; \
	for m in dockerd docker-proxy; do \
		step "$$m 28.5.2" gobuild '$(ORACLE_TAGS)' github.com/docker/docker 28.5.2 $(ORACLE_DIR)/28.5.2/$$m ./cmd/$$m; \
	done; \
	step "download $(ORACLE_DOCKER29)" src $(ORACLE_DOCKER29); \
	for m in dockerd docker-proxy; do \
		step "$$m 29.8.1" gobuild '$(ORACLE_TAGS) nri_no_wasm' github.com/moby/moby/v2 29.8.1 $(ORACLE_DIR)/29.8.1/$$m ./cmd/$$m; \
	done; \
	step "download $(ORACLE_RUNC)" src $(ORACLE_RUNC); \
	step "runc 1.5.3" sh -c "cd '$$src' && CGO_ENABLED=1 GOFLAGS=-mod=mod $(GO) build -tags seccomp -ldflags=-w -o '$(ORACLE_DIR)/runc-1.5.3/runc' ."; \
	echo "oracle: engines in $(ORACLE_DIR): 28.5.2/{dockerd,docker-proxy}, 29.8.1/{dockerd,docker-proxy}, runc-1.5.3/runc"
	@$(MAKE) --no-print-directory oracle-compose

oracle-compose: ## Build Docker Compose v5.6.0 from the Go module proxy into ORACLE_DIR as the docker CLI plugin (part of oracle; skipped when built)
	@out=$(ORACLE_DIR)/compose-$(ORACLE_COMPOSE_VERSION)/docker-compose; \
	if [ -x "$$out" ] && "$$out" version --short 2>/dev/null | grep -qx '$(ORACLE_COMPOSE_VERSION)'; then \
		echo "oracle: Docker Compose $(ORACLE_COMPOSE_VERSION) already in $$out"; exit 0; fi; \
	mkdir -p $(ORACLE_DIR)/src "$$(dirname "$$out")"; \
	log=$(ORACLE_DIR)/build-compose.log; : >"$$log"; t0=$$(date +%s); \
	echo "oracle: Docker Compose $(ORACLE_COMPOSE_VERSION) ..."; \
	src=$(ORACLE_DIR)/src/$$(echo '$(ORACLE_COMPOSE)' | tr '/@+' '___'); \
	if [ ! -d "$$src" ]; then \
		dir=$$($(GO) mod download -json '$(ORACLE_COMPOSE)' | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$$/\1/p'); \
		[ -n "$$dir" ] || { echo 'oracle: go mod download $(ORACLE_COMPOSE) failed' >&2; exit 1; }; \
		cp -r "$$dir" "$$src.tmp" && chmod -R u+w "$$src.tmp" && mv "$$src.tmp" "$$src"; \
	fi; \
	(cd "$$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod $(GO) build -trimpath \
		-ldflags='-w -X github.com/docker/compose/v5/internal.Version=v$(ORACLE_COMPOSE_VERSION)' -o "$$out.tmp" ./cmd) >>"$$log" 2>&1 || \
		{ tail -n 30 "$$log" >&2; echo "oracle: Docker Compose $(ORACLE_COMPOSE_VERSION) failed (whole log: $$log)" >&2; exit 1; }; \
	mv "$$out.tmp" "$$out"; \
	echo "oracle: Docker Compose $(ORACLE_COMPOSE_VERSION): $$(( $$(date +%s) - t0 )) s, in $$out"

clean: ## Remove build output (bin/)
	rm -rf bin
