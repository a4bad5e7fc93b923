"""The installed server, started, queried and stopped through its init script.

Each test installs the RPM into a scratch root, points the installed
configuration at a CloudStack simulator, SQLite and a free port on
127.0.0.1, and drives /etc/init.d/cloud-bridge of that root.
"""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time

import boto3
import botocore.config
import pytest
import requests
from lxml import etree

import cloudbridge
from cloudbridge.cloudstack.client import CloudStackClient
from cloudbridge.config import load_config
from cloudbridge.health import health_check
from cloudbridge.store import open_store
from tests.appliance.conftest import (ACCOUNT, free_port, require_root, require_tool,
                                      write_system_python)

QUERY_PATH = "/bridge/rest/AmazonEC2"


def wait_for_exit(pid, limit=30.0):
    """Wait until the process is gone or a zombie; return True if it went."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/stat" % pid) as stat_file:
                if stat_file.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def process_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as stat_file:
            return stat_file.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def process_uid(pid):
    with open("/proc/%d/status" % pid) as status_file:
        for line in status_file:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    raise AssertionError("no Uid line for pid %d" % pid)


def process_cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as cmdline_file:
        return cmdline_file.read().split(b"\0")


def cloud_ec2_version(base_url):
    response = requests.get(base_url + QUERY_PATH, params={
        "Action": "CloudEC2Version", "Version": "2010-11-15"}, timeout=30)
    assert response.status_code == 200, response.text
    root = etree.fromstring(response.content)
    return [element.text for element in root.iter() if etree.QName(element).localname
            == "version"]


@pytest.fixture
def service(appliance, simulator):
    """The installed appliance configured for the simulator; stopped after the test."""
    port = free_port()
    appliance.configure(simulator, port)
    appliance.base_url = "http://127.0.0.1:%d" % port
    yield appliance
    if appliance.pidfile.exists():
        appliance.service("stop")


def test_service_lifecycle(service, simulator):
    status = service.service("status")
    assert status.returncode == 3, status.stdout
    assert status.stdout == "cloud-bridge is stopped\n"

    start = service.service("start")
    assert start.returncode == 0, start.stdout + start.stderr
    port = service.base_url.rsplit(":", 1)[1]
    assert "listening on 127.0.0.1:%s" % port in start.stdout
    pid = service.pid()
    assert "(pid %d)" % pid in start.stdout
    assert service.lockfile.exists()

    status = service.service("status")
    assert status.returncode == 0
    assert status.stdout == "cloud-bridge is running (pid %d)\n" % pid
    cmdline = process_cmdline(pid)
    assert b"cloudbridge.server" in cmdline
    assert str(service.conf_dir).encode() in cmdline

    again = service.service("start")
    assert again.returncode == 0
    assert again.stdout == "cloud-bridge is already running (pid %d)\n" % pid
    assert service.pid() == pid

    # CloudEC2Version is unsigned and returns cloudbridgeVersion, which the
    # RPM sets to the package version.
    assert cloud_ec2_version(service.base_url) == [cloudbridge.__version__]

    name, access_key, secret_key, _admin = ACCOUNT
    register = service.run_command("cloud-bridge-register", "-a", access_key, "-s", secret_key,
                                   "-u", service.base_url + "/bridge")
    assert register.returncode == 0, register.stdout + register.stderr

    ec2 = boto3.client("ec2", endpoint_url=service.base_url + QUERY_PATH,
                       region_name="cloudstack", aws_access_key_id=access_key,
                       aws_secret_access_key=secret_key,
                       config=botocore.config.Config(retries={"max_attempts": 1}))
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    cloudstack = CloudStackClient(simulator.url, access_key, secret_key)
    expected = sorted(zone["name"] for zone in cloudstack.list("listZones", "zone"))
    assert sorted(zone["ZoneName"] for zone in zones) == expected

    config = load_config(str(service.conf_dir))
    store = open_store(config)
    try:
        status_code, body, content_type = health_check(config, store)
    finally:
        store.close()
    assert status_code == 200, body
    assert content_type == "application/json"
    health = requests.get(service.base_url + "/bridge/health", timeout=30)
    assert health.status_code == 200, health.text
    assert health.json() == {"status": "ok", "database": "ok", "cloudstack": "ok"}

    stop = service.service("stop")
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert stop.stdout == "Stopping cloud-bridge: stopped (pid %d)\n" % pid
    assert not process_alive(pid)
    assert not service.pidfile.exists()
    assert not service.lockfile.exists()
    status = service.service("status")
    assert status.returncode == 3
    assert service.service("stop").returncode == 0  # stopping a stopped service succeeds

    app_log = (service.logs_dir / "cloudbridge.log").read_text()
    assert "CloudBridge %s starting" % cloudbridge.__version__ in app_log
    assert "listening on 127.0.0.1:%s" % port in app_log
    assert "CloudBridge stopped" in app_log
    access_log = (service.logs_dir / "access.log").read_text()
    assert " CloudEC2Version 200 " in access_log
    assert " %s DescribeAvailabilityZones 200 " % access_key in access_log
    for log in service.logs_dir.iterdir():
        assert secret_key not in log.read_text(), log


def test_restart_and_try_restart(service):
    try_restart = service.service("try-restart")
    assert try_restart.returncode == 0
    assert service.service("status").returncode == 3  # try-restart does not start it

    assert service.service("start").returncode == 0
    first = service.pid()
    restart = service.service("restart")
    assert restart.returncode == 0, restart.stdout
    second = service.pid()
    assert second != first
    assert not process_alive(first)

    condrestart = service.service("condrestart")
    assert condrestart.returncode == 0, condrestart.stdout
    third = service.pid()
    assert third != second
    assert cloud_ec2_version(service.base_url) == [cloudbridge.__version__]
    assert service.service("stop").returncode == 0


def test_status_after_crash(service):
    assert service.service("start").returncode == 0
    pid = service.pid()
    os.kill(pid, signal.SIGKILL)
    assert wait_for_exit(pid)

    status = service.service("status")
    assert status.returncode == 1
    assert "dead but the pid file" in status.stdout

    stop = service.service("stop")
    assert stop.returncode == 0
    assert not service.pidfile.exists()
    assert service.service("status").returncode == 3

    # Red Hat's rc scripts keep a lock file while a service is started.
    service.lockfile.touch()
    status = service.service("status")
    assert status.returncode == 2
    assert "dead but the lock file" in status.stdout


def test_start_reports_config_error(service):
    service.set_properties(dbType="oracle")
    start = service.service("start")
    assert start.returncode == 1
    assert "the server exited during start-up" in start.stdout
    assert "key dbType must be sqlite or mysql, not 'oracle'" in start.stdout
    assert not service.pidfile.exists()
    assert service.service("status").returncode == 3


def test_start_reports_busy_port(service):
    port = int(service.base_url.rsplit(":", 1)[1])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen(1)
        start = service.service("start")
    assert start.returncode == 1
    assert "port %d on 127.0.0.1 is already in use" % port in start.stdout
    assert not service.pidfile.exists()


def test_start_reports_not_installed(service):
    start = service.service("start", CLOUD_BRIDGE_BIN=str(service.root / "missing"))
    assert start.returncode == 5
    assert "is not installed" in start.stdout


def test_unknown_and_unsupported_actions(service):
    usage = service.service("frobnicate")
    assert usage.returncode == 2
    assert usage.stdout.startswith("Usage: ")
    reload = service.service("reload")
    assert reload.returncode == 3
    assert "reload is not supported" in reload.stdout


def test_red_hat_functions_print_result(service):
    # /etc/init.d/functions on Red Hat defines success and failure, which
    # print the result column; the script must use them when they exist.
    functions = service.path("/etc/init.d/functions")
    functions.write_text('success() { echo -n " [  OK  ]"; }\n'
                         'failure() { echo -n " [FAILED]"; }\n')
    start = service.service("start")
    assert start.returncode == 0, start.stdout
    assert start.stdout.endswith(" [  OK  ]\n")
    stop = service.service("stop")
    assert stop.returncode == 0
    assert stop.stdout.endswith(" [  OK  ]\n")
    service.set_properties(dbType="oracle")
    failed = service.service("start")
    assert failed.returncode == 1
    assert " [FAILED]\n" in failed.stdout


def test_logrotate_moves_logs(service, tmp_path):
    require_tool("logrotate", "logrotate")
    assert service.service("start").returncode == 0
    assert cloud_ec2_version(service.base_url) == [cloudbridge.__version__]

    config = tmp_path / "cloud-bridge.logrotate"
    config.write_text(service.logrotate_rule())
    rotate = subprocess.run(["logrotate", "--force", "--state", str(tmp_path / "state"),
                             str(config)], capture_output=True, text=True, timeout=60)
    assert rotate.returncode == 0, rotate.stderr
    rotated_access = service.logs_dir / "access.log.1"
    assert rotated_access.exists()
    assert (service.logs_dir / "cloudbridge.log.1").exists()
    assert " CloudEC2Version 200 " in rotated_access.read_text()

    # WatchedFileHandler notices the move and writes to a new access.log.
    assert cloud_ec2_version(service.base_url) == [cloudbridge.__version__]
    assert " CloudEC2Version 200 " in (service.logs_dir / "access.log").read_text()
    assert rotated_access.read_text().count(" CloudEC2Version ") == 1
    assert service.service("stop").returncode == 0


def test_stop_needs_privilege(service):
    require_root()
    assert service.service("start").returncode == 0
    nobody = pwd.getpwnam("nobody")
    # The init script itself run by nobody: the server belongs to root.
    result = subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=%d" % nobody.pw_gid, "--clear-groups",
         str(service.init_script), "stop"],
        env=service.environment(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 4, result.stdout + result.stderr
    assert "cannot signal pid %d" % service.pid() in result.stdout
    assert service.service("status").returncode == 0
    # The privilege check comes before the server would run, so any
    # executable that nobody can run stands in for Python here.
    started_as_nobody = subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=%d" % nobody.pw_gid, "--clear-groups",
         str(service.init_script), "start"],
        env=service.environment(CLOUD_BRIDGE_USER="root", CLOUD_BRIDGE_PYTHON="/bin/sh",
                                CLOUD_BRIDGE_PIDFILE=str(service.root / "other.pid")),
        capture_output=True, text=True, timeout=60)
    assert started_as_nobody.returncode == 4
    assert "only root can start it as user root" in started_as_nobody.stdout


def test_start_rejects_missing_user(service):
    require_root()
    start = service.service("start", CLOUD_BRIDGE_USER="cloudbridge-no-such-user")
    assert start.returncode == 6
    assert "user cloudbridge-no-such-user does not exist" in start.stdout


def available_switchers():
    return [name for name in ("setpriv", "runuser", "su") if shutil.which(name)]


@pytest.mark.parametrize("runas", ["setpriv", "runuser", "su"])
def test_service_runs_as_service_user(service, runas):
    require_root()
    if runas not in available_switchers():
        pytest.skip("%s is not installed" % runas)
    nobody = pwd.getpwnam("nobody")
    service.python = write_system_python(service.root)
    service.user = "nobody"
    service.runas = runas
    service.chown_writable_dirs(nobody.pw_uid, nobody.pw_gid)

    start = service.service("start")
    assert start.returncode == 0, start.stdout + start.stderr
    pid = service.pid()
    assert process_uid(pid) == nobody.pw_uid
    assert service.pidfile.stat().st_uid == 0
    assert cloud_ec2_version(service.base_url) == [cloudbridge.__version__]
    for name in ("cloudbridge.log", "access.log", "console.log"):
        log = service.logs_dir / name
        assert log.stat().st_uid == nobody.pw_uid, name
        assert log.stat().st_mode & 0o777 == 0o640, name
    assert (service.db_dir / "cloudbridge.db").stat().st_uid == nobody.pw_uid

    stop = service.service("stop")
    assert stop.returncode == 0, stop.stdout
    assert not process_alive(pid)
