# The two commands: `make run` and `make test`. Both work on a fresh clone with Python 3.11.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
MANAGE := $(PY) manage.py

.PHONY: run test install install-dev lint check-migrations messages clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(PY)
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## run: install, migrate, load demo data, then serve on 127.0.0.1:8000 with a worker and beat.
run: install
	$(MANAGE) migrate --no-input
	$(MANAGE) seed_demo
	$(PY) bin/devserver

## test: the whole suite: unit and page tests in parallel; then the tests that start real Celery
## workers, in a process of their own (a worker reads only what the test has committed, and
## shares the broker with no other test); then the browser tests in their own process
## (Playwright's event loop would otherwise disable Django's async-safety check).
## Extra pytest arguments: make test ARGS="-k calendar". Exit code 5 (nothing selected) is fine.
test: install-dev
	$(PY) -m pytest -m "not browser and not celery" $(ARGS) || [ $$? -eq 5 ]
	$(PY) -m pytest -m "celery and not browser" -n0 $(ARGS) || [ $$? -eq 5 ]
	$(PY) -m pytest -m browser -n0 $(ARGS) || [ $$? -eq 5 ]

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

check-migrations: install-dev
	$(MANAGE) makemigrations --check --dry-run

## messages: refresh the Chinese catalog after changing UI strings, then translate and compile.
messages: install-dev
	$(MANAGE) makemessages -l zh_Hans --no-location --no-obsolete -i ".venv/*" -i "var/*" -i "staticfiles/*"
	$(MANAGE) compilemessages -l zh_Hans

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
