# `make run` and `make test` set up whatever is missing, then do their job.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BUN := .tools/node_modules/.bin/bun
STAMP := $(VENV)/.requirements-installed

.PHONY: run test setup system-deps bench clean

setup: $(STAMP) $(BUN) system-deps

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(BUN):
	npm install --prefix .tools --no-audit --no-fund --silent bun@1.4.4

# PostgreSQL's server binaries, for the store tests (a throwaway cluster per test session).
system-deps:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then \
		echo "installing PostgreSQL from Debian packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi

test: setup
	$(PY) -m pytest -q -p no:cacheprovider

run: setup
	$(PY) -m engine --help

bench: setup
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) .tools .web data
