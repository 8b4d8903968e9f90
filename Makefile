# The two commands of the README: `make run` and `make test`. Everything they need is
# installed from here: Debian packages (as root), the venv, pjsua2 built from source.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CC := $(VENV)/bin/callcenter
STAMP := $(VENV)/.installed

# Debian packages: the SIP peer for tests, pjproject's build dependencies, the prompt
# recordings and music on hold, and the tools that make our own prompts.
APT_PACKAGES := sip-tester swig build-essential pkg-config dpkg-dev xz-utils \
	python3-dev libgsm1-dev libspeex-dev libspeexdsp-dev libsrtp2-dev libsamplerate0-dev libssl-dev uuid-dev \
	asterisk-core-sounds-en-wav asterisk-moh-opsound-wav espeak-ng sox prometheus chromium

# The local cluster of `make cluster` (docs/operations.md#cluster): Kamailio in front; the
# compose client validates docker/compose.yaml in the tests (no Docker engine needed).
CLUSTER_PACKAGES := kamailio docker-compose
NODES ?= 2

.PHONY: run test lint unit integration bench system-packages venv pjsua2 prompts db demo services clean \
	cluster cluster-stop cluster-packages cluster-render

run: venv pjsua2 prompts db demo
	$(CC) serve

test: venv pjsua2 prompts services cluster-packages lint
	$(PY) -m pytest -q -p no:cacheprovider -n 4 --dist worksteal --durations=30 tests

lint: venv
	$(VENV)/bin/ruff check callcenter tests scripts benchmarks
	$(VENV)/bin/ruff format --check callcenter tests scripts benchmarks
	$(VENV)/bin/mypy callcenter benchmarks

unit: venv
	$(PY) -m pytest -q tests/unit

system-packages:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages: $$missing (run make as root once)"; exit 1; fi; \
		echo "installing Debian packages: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

venv: $(STAMP)

$(STAMP): pyproject.toml | system-packages
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

pjsua2: venv
	scripts/build-pjsua2.sh $(PY)

prompts: venv
	$(CC) prompts build

db: venv
	$(CC) db upgrade

demo: db
	$(CC) demo load

services: system-packages
	scripts/test-services.sh

cluster-packages:
	@missing=$$(for p in $(CLUSTER_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages: $$missing (run make as root once)"; exit 1; fi; \
		echo "installing Debian packages: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Kamailio on 127.0.0.1:5060 and NODES `callcenter serve` nodes sharing the local Redis
# and PostgreSQL (database callcenter_cluster), as docker/cluster.yaml describes them.
cluster: venv pjsua2 prompts services cluster-packages
	$(PY) scripts/cluster.py start --nodes $(NODES) --demo

cluster-stop:
	$(PY) scripts/cluster.py stop

# docker/generated/ from docker/cluster.yaml, for docker/compose.yaml.
cluster-render: venv
	$(PY) scripts/cluster.py render

# The cluster benchmark starts `scripts/cluster.py` clusters of 1, 2 and 4 nodes (Kamailio);
# the ticket benchmark fills a throw-away PostgreSQL database with 1,000,000 tickets.
bench: venv pjsua2 prompts services cluster-packages
	$(PY) -m benchmarks.acd_bench
	$(PY) -m benchmarks.acd_redis_bench
	$(PY) -m benchmarks.metrics_scrape
	$(PY) -m benchmarks.ws_audio_bench
	$(PY) -m benchmarks.ws_bench
	$(CC) simulate --seed 1 | tail -1
	$(PY) -m benchmarks.sip_load
	$(PY) -m benchmarks.cluster_bench
	$(PY) -m benchmarks.ticket_bench

clean:
	rm -rf $(VENV) var
