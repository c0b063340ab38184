# `make run` and `make test` bootstrap .venv themselves from pyproject.toml.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint clean-data

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required (set PYTHON=...)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The one place the development surfaces (development token, sign-in form, codec without a token)
# and the development secrets are on: APP_ENV unset is production, which refuses them.
run: $(STAMP)
	APP_ENV=development $(PY) -m devstack

test: $(STAMP) browser lint
	$(PY) -m pytest $(PYTEST_ARGS)

# ruff (lint and format) and mypy (strict on domain/, workflows/, activities/, adapters/): zero findings.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The console's browser tests drive Debian's Chromium (Chinese pages: CJK fonts too). As root,
# `make test` installs what is missing; otherwise those tests are skipped, saying why.
BROWSER_PACKAGES := $(if $(wildcard /usr/bin/chromium),,chromium) \
	$(if $(wildcard /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc),,fonts-noto-cjk)

.PHONY: browser
browser:
ifneq ($(strip $(BROWSER_PACKAGES)),)
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's $(strip $(BROWSER_PACKAGES)) for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null; \
	else \
		echo "not root: $(strip $(BROWSER_PACKAGES)) not installed; the browser tests will be skipped"; \
	fi
else
	@true
endif

clean-data:
	rm -rf .data

.PHONY: bench chaos scale bench-inbox
bench: $(STAMP)
	$(PY) -m drills.bench

chaos: $(STAMP)
	$(PY) -m drills.chaos

scale: $(STAMP)
	$(PY) -m drills.scale

bench-inbox: $(STAMP)
	$(PY) -m drills.bench_inbox
