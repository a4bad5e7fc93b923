"""The RPM that `make rpm` builds: metadata, files, scriptlets and the installed layout."""

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

import cloudbridge
from tests.appliance.conftest import REPO, require_tool
from tests.appliance.layout import COMMANDS, HOME

MODULE_PACKAGES = ("python3-cherrypy", "python3-lxml", "python3-PyMySQL",
                   "python3-DBUtils >= 2.0", "python3-cryptography", "python3-requests",
                   "python3-configobj")


def rpm_query(rpm, *args):
    result = subprocess.run(["rpm", "-qp", *args, str(rpm)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def file_table(rpm):
    """Return {path: (flags, mode, user, group, link target)} for every file in the RPM."""
    out = rpm_query(rpm, "--qf", "[%{FILENAMES}\t%{FILEFLAGS:fflags}\t%{FILEMODES:perms}\t"
                                 "%{FILEUSERNAME}\t%{FILEGROUPNAME}\t%{FILELINKTOS}\n]")
    table = {}
    for line in out.splitlines():
        path, flags, mode, user, group, link = line.split("\t")
        table[path] = (flags, mode, user, group, link)
    return table


def console_scripts():
    """Return {command: module} from the console_scripts in setup.py."""
    text = (REPO / "setup.py").read_text()
    return dict(re.findall(r'"([\w-]+) = ([\w.]+):main"', text))


def test_rpm_header(rpm_path):
    info = rpm_query(rpm_path, "-i")
    assert re.search(r"^Name\s*: cloud-bridge$", info, re.M)
    assert re.search(r"^Version\s*: %s$" % re.escape(cloudbridge.__version__), info, re.M)
    assert re.search(r"^Architecture: noarch$", info, re.M)
    assert rpm_path.name == "cloud-bridge-%s-1.noarch.rpm" % cloudbridge.__version__


def test_rpm_requires(rpm_path):
    requires = {line.strip() for line in rpm_query(rpm_path, "--requires").splitlines()}
    assert "python3 >= 3.9" in requires
    for package in MODULE_PACKAGES:
        assert package in requires
    assert "shadow-utils" in requires  # useradd and groupadd in %pre
    assert "logrotate" in requires


def test_rpm_file_attributes(rpm_path):
    files = file_table(rpm_path)
    properties = HOME + "/conf/ec2-service.properties"
    assert files[properties][:4] == ("cn", "-rw-r-----", "root", "cloud")
    assert files["/etc/logrotate.d/cloud-bridge"][0] == "cn"
    assert files["/etc/sysconfig/cloud-bridge"][0] == "cn"
    assert files[HOME + "/logs"][1:4] == ("drwxr-x---", "cloud", "cloud")
    assert files[HOME + "/db"][1:4] == ("drwxr-x---", "cloud", "cloud")
    assert files["/etc/init.d/cloud-bridge"][1] == "-rwxr-xr-x"
    assert files["/usr/lib/systemd/system/cloud-bridge.service"][1] == "-rw-r--r--"
    assert files[HOME + "/bin/cloud-bridge-launcher"][1] == "-rwxr-xr-x"
    for command in COMMANDS:
        flags, mode, user, _group, link = files["/usr/bin/" + command]
        assert mode.startswith("l"), command
        assert link == "../share/cloud/bridge/bin/cloud-bridge-launcher", command
    guides = [path for path in files if path.endswith("/operator-guide.md")]
    assert len(guides) == 1
    assert files[guides[0]][0] == "d"


def test_rpm_contains_whole_package(rpm_path):
    files = file_table(rpm_path)
    source = REPO / "cloudbridge"
    expected = {HOME + "/lib/" + str(path.relative_to(REPO))
                for path in source.rglob("*")
                if path.is_file() and "__pycache__" not in path.parts
                and path.suffix in (".py", ".wsdl")}
    missing = sorted(expected - set(files))
    assert missing == []
    assert not [path for path in files if "__pycache__" in path or path.endswith(".pyc")]


def test_scriptlets_are_valid_sh(rpm_path):
    for tag in ("PREIN", "POSTIN", "PREUN", "POSTUN"):
        body = rpm_query(rpm_path, "--qf", "%%{%s}" % tag)
        assert body.strip(), tag
        assert body != "(none)", tag
        check = subprocess.run(["sh", "-n"], input=body, capture_output=True, text=True)
        assert check.returncode == 0, "%s: %s" % (tag, check.stderr)


# The scriptlets run with PATH set to a directory of recording commands, so
# that no real user, group or service registration changes on this host.
RECORDER = """#!/bin/sh
echo "${0##*/} $*" >>"%(log)s"
exit %(code)d
"""


def run_scriptlet(rpm, tag, argument, tmp_path, commands):
    """Run one scriptlet with $1 = argument; return (exit code, recorded calls).

    commands maps each command that exists on the fake PATH to its exit code.
    """
    body = rpm_query(rpm, "--qf", "%%{%s}" % tag)
    bin_dir = tmp_path / ("bin-%s-%s" % (tag, argument))
    bin_dir.mkdir()
    log = tmp_path / ("calls-%s-%s" % (tag, argument))
    log.write_text("")
    for name, code in commands.items():
        recorder = bin_dir / name
        recorder.write_text(RECORDER % {"log": log, "code": code})
        recorder.chmod(0o755)
    result = subprocess.run(["/bin/sh", "-c", body, "scriptlet", str(argument)],
                            env={"PATH": str(bin_dir)}, capture_output=True, text=True,
                            timeout=60)
    return result.returncode, log.read_text().splitlines()


@pytest.fixture
def scriptlet_host():
    if os.path.exists(HOME) or os.path.exists("/etc/init.d/cloud-bridge"):
        pytest.skip("CloudBridge is installed on this host; the scriptlets would act on it")
    if os.path.isdir("/run/systemd/system"):
        pytest.skip("this host runs systemd: the scriptlets would call the real systemctl "
                    "branch")


def test_pre_creates_cloud_user(rpm_path, tmp_path, scriptlet_host):
    code, calls = run_scriptlet(rpm_path, "PREIN", 1, tmp_path,
                                {"getent": 2, "groupadd": 0, "useradd": 0})
    assert code == 0
    assert calls == [
        "getent group cloud",
        "groupadd -r cloud",
        "getent passwd cloud",
        "useradd -r -g cloud -d %s -s /sbin/nologin -c CloudStack services cloud" % HOME,
    ]


def test_pre_keeps_existing_cloud_user(rpm_path, tmp_path, scriptlet_host):
    code, calls = run_scriptlet(rpm_path, "PREIN", 1, tmp_path,
                                {"getent": 0, "groupadd": 0, "useradd": 0})
    assert code == 0
    assert calls == ["getent group cloud", "getent passwd cloud"]


def test_post_registers_with_chkconfig(rpm_path, tmp_path, scriptlet_host):
    code, calls = run_scriptlet(rpm_path, "POSTIN", 1, tmp_path,
                                {"chkconfig": 0, "python3": 0})
    assert code == 0
    assert calls == ["python3 -m compileall -q %s/lib" % HOME, "chkconfig --add cloud-bridge"]


def test_post_without_chkconfig_or_systemd(rpm_path, tmp_path, scriptlet_host):
    code, calls = run_scriptlet(rpm_path, "POSTIN", 1, tmp_path, {"python3": 1})
    assert code == 0
    assert calls == ["python3 -m compileall -q %s/lib" % HOME]


def test_preun_unregisters_on_erase(rpm_path, tmp_path, scriptlet_host):
    code, calls = run_scriptlet(rpm_path, "PREUN", 0, tmp_path, {"chkconfig": 0, "find": 0})
    assert code == 0
    assert "chkconfig --del cloud-bridge" in calls


def test_preun_keeps_service_on_upgrade(rpm_path, tmp_path, scriptlet_host):
    code, calls = run_scriptlet(rpm_path, "PREUN", 1, tmp_path, {"chkconfig": 0, "find": 0})
    assert code == 0
    assert calls == []


def test_installed_layout(appliance):
    assert appliance.init_script.stat().st_mode & stat.S_IXUSR
    assert (appliance.home / "lib" / "cloudbridge" / "server.py").is_file()
    assert (appliance.home / "lib" / "cloudbridge" / "protocol" / "AmazonEC2.wsdl").is_file()
    assert appliance.logs_dir.is_dir()
    assert appliance.db_dir.is_dir()
    shipped = (REPO / "etc/cloud/bridge/ec2-service.properties").read_text()
    installed = appliance.properties.read_text()
    # %install writes the package version into cloudbridgeVersion and
    # changes nothing else.
    assert "cloudbridgeVersion=%s\n" % cloudbridge.__version__ in installed
    assert (re.sub(r"(?m)^cloudbridgeVersion=.*$", "", installed)
            == re.sub(r"(?m)^cloudbridgeVersion=.*$", "", shipped))


def test_commands_match_setup_py(appliance):
    scripts = console_scripts()
    assert set(scripts) == set(COMMANDS)
    launcher = (appliance.home / "bin" / "cloud-bridge-launcher").read_text()
    launcher_table = dict(re.findall(r"^\s+([\w-]+)\)\s+module=([\w.]+) ;;$", launcher, re.M))
    assert launcher_table == scripts


@pytest.mark.parametrize("command", COMMANDS)
def test_installed_command_help(appliance, command):
    result = appliance.run_command(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: %s " % command)


def test_launcher_unknown_name(appliance, tmp_path):
    link = tmp_path / "cloud-something"
    link.symlink_to(appliance.home / "bin" / "cloud-bridge-launcher")
    result = subprocess.run([str(link)], env=appliance.environment(), capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 2
    assert "cloud-something: unknown CloudBridge command" in result.stderr


def test_systemd_unit_verifies(appliance, tmp_path):
    require_tool("systemd-analyze", "systemd")
    unit = appliance.path("/usr/lib/systemd/system/cloud-bridge.service").read_text()
    assert "\nUser=cloud\n" in unit
    assert "\nExecStart=/usr/bin/cloud-bridge\n" in unit
    # systemd-analyze checks that ExecStart exists: point it into the scratch root.
    local_unit = tmp_path / "cloud-bridge.service"
    local_unit.write_text(unit.replace("ExecStart=/usr/bin/",
                                       "ExecStart=%s/" % appliance.path("/usr/bin")))
    result = subprocess.run(["systemd-analyze", "verify", str(local_unit)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_logrotate_rule_parses(appliance, tmp_path):
    require_tool("logrotate", "logrotate")
    rule = appliance.path("/etc/logrotate.d/cloud-bridge").read_text()
    for log in ("cloudbridge.log", "access.log", "console.log"):
        assert "%s/logs/%s" % (HOME, log) in rule
    assert "su cloud cloud" in rule
    assert "create 0640 cloud cloud" in rule
    # logrotate rejects a rule whose user does not exist, as cloud does not here.
    config = tmp_path / "cloud-bridge.logrotate"
    config.write_text(appliance.logrotate_rule())
    result = subprocess.run(["logrotate", "--debug", "--state", str(tmp_path / "state"),
                             str(config)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stderr.lower()


def test_make_rpm_explains_missing_rpmbuild(tmp_path):
    make = shutil.which("make")
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path)}
    (tmp_path / "sed").symlink_to(shutil.which("sed"))
    result = subprocess.run([make, "-C", str(REPO), "rpm", "RPM_TOPDIR=%s" % tmp_path],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "rpmbuild not found" in result.stderr
    assert not (Path(tmp_path) / "SOURCES").exists()
