# CloudBridge developer targets.  `make demo` and `make test` do all the set-up
# on a fresh machine: both create the virtual environment first.

# Python 3.11 where it is installed: boto 2.49.0, which the tests drive,
# does not run on 3.12 or newer.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3)
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

# Build the noarch RPM into $(RPM_TOPDIR)/RPMS/noarch.  Needs rpmbuild: on
# Debian `apt-get install rpm`, on RHEL `dnf install rpm-build`.
VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' cloudbridge/__init__.py)
RPM_TOPDIR ?= $(CURDIR)/build/rpm
RPM_SOURCES := cloudbridge bin init.d etc spec docs/operator-guide.md

.PHONY: rpm

rpm:
	@command -v rpmbuild >/dev/null || { echo "rpmbuild not found: install the" \
	    "rpm package (Debian) or rpm-build (RHEL)" >&2; exit 1; }
	rm -rf $(RPM_TOPDIR)/BUILD $(RPM_TOPDIR)/BUILDROOT $(RPM_TOPDIR)/RPMS \
	    $(RPM_TOPDIR)/SOURCES $(RPM_TOPDIR)/SRPMS
	mkdir -p $(RPM_TOPDIR)/SOURCES
	tar -czf $(RPM_TOPDIR)/SOURCES/cloud-bridge-$(VERSION).tar.gz \
	    --exclude=__pycache__ --exclude='*.pyc' --sort=name \
	    --owner=0 --group=0 --numeric-owner \
	    --transform 's,^,cloud-bridge-$(VERSION)/,' $(RPM_SOURCES)
	rpmbuild -bb --quiet --define '_topdir $(RPM_TOPDIR)' \
	    --define 'cb_version $(VERSION)' spec/cloud-bridge.spec
	@ls $(RPM_TOPDIR)/RPMS/noarch/cloud-bridge-$(VERSION)-*.noarch.rpm
