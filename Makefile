# Two commands on a fresh machine: `make run` (the sandbox) and `make test` (the suite).
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
ARGS   ?=

.PHONY: run test test-all smoke bench lint sdk clean new-api mutate

$(VENV)/.run: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.test: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.run

# Siemens' Node SDK for the real-client tests (skipped locally without node; required in CI).
sdk:
	@if command -v npm >/dev/null 2>&1; then \
	  if [ ! -d tests/sdk/node_modules ] || [ tests/sdk/package-lock.json -nt tests/sdk/node_modules ]; then \
	    npm ci --prefix tests/sdk --no-audit --no-fund --loglevel=error && touch tests/sdk/node_modules; \
	  fi; \
	else echo "npm not found: the Node SDK tests will be skipped (they fail in CI)"; fi

run: $(VENV)/.run
	$(VENV)/bin/mindsphere-emulator serve $(ARGS)

test: $(VENV)/.test sdk
	$(PY) -m pytest $(ARGS)

# The suite on SQLite and on a throwaway local PostgreSQL (installed from Debian's packages if missing).
test-all: $(VENV)/.test sdk
	eval "$$(bash .ci/postgres start)" && $(PY) -m pytest $(ARGS)

# What a user installs: build the wheel and the sdist, install the wheel into a fresh virtualenv (not editable),
# and run the smoke suite (.ci/smoke/test_installed.py) and examples/pytest-project against it.
smoke:
	PYTHON=$(PYTHON) bash .ci/smoke/run

# The peers some benchmarks are measured against (moto_server), in a virtualenv of their own: their dependencies
# stay out of the emulator's. wrk (the load generator of the throughput rows) is Debian's: apt-get install wrk.
PEERS = .venv-peers
$(PEERS)/.done:
	$(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install -q 'moto[server]>=5,<6'
	touch $@

bench: $(VENV)/.test $(PEERS)/.done
	BENCH_PEERS_VENV=$(PEERS) $(PY) -m benchmarks $(ARGS)

# ruff, and the import contracts of setup.cfg [importlinter] (the layering of ARCHITECTURE.md)
lint: $(VENV)/.test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# Mutation testing (mutmut) of the modules that hold the rules, each against its own few test files, each for at
# most a few minutes; prints the surviving mutants (tools/mutate.py). Not part of CI: ARGS="paging --minutes 10".
mutate: $(VENV)/.test
	$(PY) tools/mutate.py $(ARGS)

clean:
	rm -rf $(VENV) $(PEERS) .emulator-data .pytest_cache tests/sdk/node_modules build dist .mutants

# A new emulated API: its folder (descriptor, routes, service, spec, models), its test file and one registry line.
new-api: $(VENV)/.test
	@test -n "$(NAME)" || { echo "usage: make new-api NAME=widgets"; exit 2; }
	$(PY) tools/new_api.py $(NAME)
