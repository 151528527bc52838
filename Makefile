# `make run` and `make test` set up whatever is missing, then do their job.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BUN := .tools/node_modules/.bin/bun
# Windmill's own CLI, unmodified: the tests drive it against the app (tests/app/test_wmill_cli.py).
WMILL := .tools/node_modules/.bin/wmill
# Reflex runs its frontend build with our bun (REFLEX-NOTES: system bun, no npm).
REFLEX_ENV := PATH="$(CURDIR)/.tools/node_modules/.bin:$$PATH" REFLEX_USE_SYSTEM_BUN=1 REFLEX_USE_NPM=0
STAMP := $(VENV)/.requirements-installed

.PHONY: run test setup system-deps sandbox-deps bench bench-load clean

setup: $(STAMP) $(BUN) $(WMILL) system-deps sandbox-deps

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(BUN):
	npm install --prefix .tools --no-audit --no-fund --silent bun@1.4.4

$(WMILL):
	npm install --prefix .tools --no-audit --no-fund --silent --save-exact windmill-cli@1.819.0

# PostgreSQL's server binaries, for the store tests (a throwaway cluster per test session);
# Chromium, for the app's browser tests (Playwright drives /usr/bin/chromium); Redis, for
# the scale-out tests (app instances sharing page states, a throwaway redis-server).
system-deps:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then \
		echo "installing PostgreSQL from Debian packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing Chromium from Debian packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi
	@if ! command -v redis-server >/dev/null 2>&1; then \
		echo "installing Redis from Debian packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
	fi

# bubblewrap: every script runs in its sandbox; without it no script runs (the app says so).
sandbox-deps:
	@if ! command -v bwrap >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing bubblewrap (the scripts' sandbox) from Debian packages"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; \
		else \
			echo "bubblewrap is missing: no script runs until it is installed (sudo apt-get install bubblewrap)"; \
		fi; \
	fi

test: setup
	$(PY) -m pytest -q -p no:cacheprovider

# The app at http://localhost:3000: pages, REST API and in-process workers on one port.
run: $(STAMP) $(BUN) sandbox-deps
	$(REFLEX_ENV) $(VENV)/bin/reflex run --env prod --single-port --frontend-port 3000 --backend-port 3000

bench: setup
	$(PY) bench/run_all.py

# Several minutes: 10,000 runs and 1,000 ten-step flows on PostgreSQL and on SQLite.
bench-load: setup
	$(PY) bench/load.py

clean:
	rm -rf $(VENV) .tools .web .web-test .web-test-* .web-test.lock data
