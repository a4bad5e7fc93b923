# CloudBridge developer targets.  `make demo` and `make test` do all the set-up
# on a fresh machine: both create the virtual environment first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test test-fast clean

venv: $(STAMP)

$(STAMP): setup.py requirements.txt requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-test.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# Start the CloudStack simulator and CloudBridge on SQLite, register a demo
# user and print the environment for awscli and boto.  Ctrl-C stops both.
demo: venv
	$(BIN)/python -m cloudbridge.cli.demo

test: venv
	$(BIN)/python -m pytest -q tests

clean:
	rm -rf $(VENV) demo build *.egg-info
