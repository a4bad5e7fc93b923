"""Fixtures for the appliance tests: the RPM, scratch-root installs and the simulator.

`make rpm` builds the package once per session.  Each scratch root is a
directory under /tmp with mode 755, so that a service started as another
user (nobody) can reach the installed files; the pytest temporary
directories are private to the user running the tests.
"""

import os
import pwd
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from tests.appliance.layout import Appliance

REPO = Path(__file__).resolve().parents[2]

# The CloudStack account whose keys the tests register with CloudBridge.
ACCOUNT = ("applianceuser", "AKIDAPPLIANCE00000001", "appliance-secret-0001/+=", False)


def require_tool(name, package):
    """Skip unless the command exists; under CI=true fail instead."""
    if shutil.which(name):
        return
    message = "%s not found: install Debian's %s package (apt-get install -y %s)" % (
        name, package, package)
    if os.environ.get("CI") == "true":
        pytest.fail(message + "; CI=true requires it")
    pytest.skip(message)


def free_port():
    """Return a TCP port on 127.0.0.1 that the OS reports free."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_scratch_dir(prefix):
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    return path


@pytest.fixture(scope="session")
def rpm_path(tmp_path_factory):
    """The noarch RPM that `make rpm` builds from this checkout."""
    require_tool("rpmbuild", "rpm")
    topdir = tmp_path_factory.mktemp("rpmbuild")
    result = subprocess.run(["make", "-C", str(REPO), "rpm", "RPM_TOPDIR=%s" % topdir],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, "make rpm failed:\n%s\n%s" % (result.stdout, result.stderr)
    packages = sorted((topdir / "RPMS" / "noarch").glob("cloud-bridge-*.noarch.rpm"))
    assert len(packages) == 1, "expected one RPM, found %s" % packages
    return packages[0]


def install_rpm(rpm, root):
    """Install the package's files under root without running its scriptlets."""
    if os.geteuid() == 0:
        result = subprocess.run(["rpm", "--root", str(root), "--nodeps", "--noscripts",
                                 "-i", str(rpm)], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, "rpm -i failed: %s" % result.stderr
        return
    # rpm -i cannot set the owners as a normal user: unpack the payload.
    copy = root / rpm.name
    shutil.copy(rpm, copy)
    subprocess.run(["rpm2archive", rpm.name], cwd=root, check=True, timeout=120)
    subprocess.run(["tar", "-xzf", rpm.name + ".tgz", "-C", str(root)], check=True,
                   timeout=120)
    copy.unlink()
    (root / (rpm.name + ".tgz")).unlink()


@pytest.fixture
def appliance(rpm_path):
    """The RPM installed in a fresh scratch root; removed after the test."""
    root = make_scratch_dir("cloudbridge-root-")
    try:
        install_rpm(rpm_path, root)
        yield Appliance(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def simulator():
    """A CloudStack simulator on 127.0.0.1 with the test account."""
    from cloudbridge.simulator import start_simulator
    sim = start_simulator(accounts=[ACCOUNT], job_delay=0.05)
    yield sim
    sim.stop()


def venv_site_packages():
    paths = sysconfig.get_paths()
    return sorted({paths["purelib"], paths["platlib"]})


def write_system_python(directory):
    """Write a python3 wrapper that another user can run: the system python3 with
    the test environment's packages.  Return its path, or skip when that user
    cannot import them.
    """
    wrapper = directory / "python3-with-test-packages"
    site = ":".join(venv_site_packages())
    wrapper.write_text('#!/bin/sh\nPYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}%s" '
                       'exec /usr/bin/python3 "$@"\n' % site)
    wrapper.chmod(0o755)
    probe = subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=%d" % pwd.getpwnam("nobody").pw_gid,
         "--clear-groups", str(wrapper), "-c",
         "import sys; assert sys.version_info[:2] == (%d, %d), sys.version; "
         "import cherrypy, configobj, cryptography.x509, dbutils, lxml.etree, pymysql, "
         "requests" % sys.version_info[:2]],
        capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip("user nobody cannot run /usr/bin/python3 with the test packages: %s"
                    % probe.stderr.strip()[-300:])
    return wrapper


def require_root():
    if os.geteuid() != 0:
        pytest.skip("switching to another user needs root")
