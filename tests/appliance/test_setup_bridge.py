"""`cloud-setup-bridge`, driven through its prompts like an operator at a terminal."""

import os
import pwd
import shutil
import sys

import pexpect
import pytest

from cloudbridge.cli.setup_bridge import update_lines
from cloudbridge.config import INSTANCE_TYPES, load_config
from tests.appliance.conftest import REPO, make_scratch_dir, write_system_python

SHIPPED = REPO / "etc" / "cloud" / "bridge" / "ec2-service.properties"
OFFERING_ID = "3a7c5e9d-1f2b-4c6d-8e0a-9b8c7d6e5f4a"
OLD_LARGE_ID = "7f0e1d2c-3b4a-4958-8776-655443322110"


def spawn(args, env=None):
    child = pexpect.spawn(args[0], args[1:], env=env or dict(os.environ), encoding="utf-8",
                          timeout=30)
    child.logfile_read = None
    return child


def setup_command(conf_dir):
    return [sys.executable, "-m", "cloudbridge.cli.setup_bridge", "--conf", str(conf_dir)]


@pytest.fixture
def conf_dir(tmp_path):
    """A conf directory with the shipped file, an inline comment and one offering set."""
    text = SHIPPED.read_text()
    text = text.replace("managementServer=127.0.0.1\n",
                        "managementServer=127.0.0.1   # the CloudStack host\n")
    text = text.replace("m1.large.serviceId=\n", "m1.large.serviceId=%s\n" % OLD_LARGE_ID)
    path = tmp_path / "ec2-service.properties"
    path.write_text(text)
    path.chmod(0o640)
    return tmp_path


def answer(child, prompt, reply):
    child.expect_exact(prompt)
    child.sendline(reply)


def answer_offerings(child, replies):
    """Answer the nine offering prompts; replies maps instance type to the answer."""
    for instance_type in INSTANCE_TYPES:
        current = OLD_LARGE_ID if instance_type == "m1.large" else ""
        answer(child, "Service offering ID for %s [%s]: " % (instance_type, current),
               replies.get(instance_type, ""))


def test_dialogue_changes_only_asked_keys(conf_dir):
    path = conf_dir / "ec2-service.properties"
    before = path.read_text()
    child = spawn(setup_command(conf_dir))
    child.expect_exact("Welcome to the CloudBridge setup.")

    answer(child, "Management server hostname or IP [127.0.0.1]: ", "cloud stack")
    child.expect_exact("'cloud stack' is not a host name or IP address: it must not "
                       "contain spaces or slashes.")
    answer(child, "Management server hostname or IP [127.0.0.1]: ", "10.0.0.0/8")
    child.expect_exact("'10.0.0.0/8' is not a host name or IP address")
    answer(child, "Management server hostname or IP [127.0.0.1]: ", "cs_mgmt!")
    child.expect_exact("'cs_mgmt!' is not a valid host name")
    answer(child, "Management server hostname or IP [127.0.0.1]: ", "cloudstack-mgmt.example.org")

    answer(child, "Management server port [8080]: ", "http")
    child.expect_exact("'http' is not a port number: enter a number from 1 to 65535.")
    answer(child, "Management server port [8080]: ", "0")
    child.expect_exact("'0' is not a port number")
    answer(child, "Management server port [8080]: ", "65536")
    child.expect_exact("'65536' is not a port number")
    answer(child, "Management server port [8080]: ", "8096")

    answer(child, "Service offering ID for m1.small []: ", "small offering")
    child.expect_exact("'small offering' is not a CloudStack service offering id")
    answer(child, "Service offering ID for m1.small []: ", "id;DROP")
    child.expect_exact("'id;DROP' is not a CloudStack service offering id")
    child.expect_exact("Service offering ID for m1.small []: ")
    child.sendline(OFFERING_ID)
    # m1.large keeps its value on Enter; c1.medium gets a numeric id; the
    # others stay empty.
    for instance_type in INSTANCE_TYPES[1:]:
        current = OLD_LARGE_ID if instance_type == "m1.large" else ""
        reply = "17" if instance_type == "c1.medium" else ""
        answer(child, "Service offering ID for %s [%s]: " % (instance_type, current), reply)

    child.expect_exact("Values saved. Restart the cloud-bridge service for the changes to "
                       "become active.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    after = path.read_text()
    expected = (before
                .replace("managementServer=127.0.0.1   # the CloudStack host\n",
                         "managementServer=cloudstack-mgmt.example.org   # the CloudStack "
                         "host\n")
                .replace("cloudAPIPort=8080\n", "cloudAPIPort=8096\n")
                .replace("m1.small.serviceId=\n", "m1.small.serviceId=%s\n" % OFFERING_ID)
                .replace("c1.medium.serviceId=\n", "c1.medium.serviceId=17\n"))
    assert after == expected
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in conf_dir.iterdir()] == ["ec2-service.properties"]

    config = load_config(str(conf_dir))
    assert config.management_server == "cloudstack-mgmt.example.org"
    assert config.cloud_api_port == 8096
    assert config.offering_seeds == {"m1.small": OFFERING_ID, "m1.large": OLD_LARGE_ID,
                                     "c1.medium": "17"}


def test_enter_everywhere_keeps_file(conf_dir):
    path = conf_dir / "ec2-service.properties"
    before = path.read_bytes()
    child = spawn(setup_command(conf_dir))
    answer(child, "Management server hostname or IP [127.0.0.1]: ", "")
    answer(child, "Management server port [8080]: ", "")
    answer_offerings(child, {})
    child.expect_exact("Values saved.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert path.read_bytes() == before


def test_owner_and_mode_kept(conf_dir):
    if os.geteuid() != 0:
        pytest.skip("giving the file to another owner needs root")
    path = conf_dir / "ec2-service.properties"
    nobody = pwd.getpwnam("nobody")
    os.chown(path, nobody.pw_uid, nobody.pw_gid)
    path.chmod(0o604)
    child = spawn(setup_command(conf_dir))
    answer(child, "Management server hostname or IP [127.0.0.1]: ", "10.2.3.4")
    answer(child, "Management server port [8080]: ", "")
    answer_offerings(child, {})
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    status = path.stat()
    assert (status.st_uid, status.st_gid) == (nobody.pw_uid, nobody.pw_gid)
    assert status.st_mode & 0o777 == 0o604
    assert "managementServer=10.2.3.4 " in path.read_text()


def test_invalid_current_value_is_asked_again(conf_dir):
    path = conf_dir / "ec2-service.properties"
    path.write_text(path.read_text().replace("cloudAPIPort=8080", "cloudAPIPort=80a"))
    child = spawn(setup_command(conf_dir))
    answer(child, "Management server hostname or IP [127.0.0.1]: ", "")
    answer(child, "Management server port [80a]: ", "")
    child.expect_exact("'80a' is not a port number")
    answer(child, "Management server port [80a]: ", "8080")
    answer_offerings(child, {})
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "cloudAPIPort=8080\n" in path.read_text()


def test_missing_keys_are_appended(tmp_path):
    path = tmp_path / "ec2-service.properties"
    path.write_text("# minimal\nmanagementServer=10.1.1.1\ndbType=sqlite")
    child = spawn(setup_command(tmp_path))
    answer(child, "Management server hostname or IP [10.1.1.1]: ", "")
    answer(child, "Management server port [8080]: ", "")
    for instance_type in INSTANCE_TYPES:
        reply = OFFERING_ID if instance_type == "m2.xlarge" else ""
        answer(child, "Service offering ID for %s []: " % instance_type, reply)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert path.read_text() == ("# minimal\nmanagementServer=10.1.1.1\ndbType=sqlite\n"
                                "cloudAPIPort=8080\nm2.xlarge.serviceId=%s\n" % OFFERING_ID)


def test_settings_file_from_environment(conf_dir):
    env = dict(os.environ, CLOUD_BRIDGE_CONF=str(conf_dir))
    child = spawn([sys.executable, "-m", "cloudbridge.cli.setup_bridge"], env=env)
    answer(child, "Management server hostname or IP [127.0.0.1]: ", "192.0.2.10")
    answer(child, "Management server port [8080]: ", "")
    answer_offerings(child, {})
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "managementServer=192.0.2.10   # the CloudStack host\n" in (
        conf_dir / "ec2-service.properties").read_text()


def test_end_of_input_cancels(conf_dir):
    path = conf_dir / "ec2-service.properties"
    before = path.read_bytes()
    child = spawn(setup_command(conf_dir))
    answer(child, "Management server hostname or IP [127.0.0.1]: ", "10.9.9.9")
    child.expect_exact("Management server port [8080]: ")
    child.sendeof()
    child.expect_exact("Setup cancelled; the settings file was not changed.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert path.read_bytes() == before


def test_missing_settings_file(tmp_path):
    child = spawn(setup_command(tmp_path / "nowhere"))
    child.expect_exact("Error: Settings file not found.")
    child.expect_exact("Expected %s" % (tmp_path / "nowhere" / "ec2-service.properties"))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1


def test_read_only_settings_file(conf_dir):
    path = conf_dir / "ec2-service.properties"
    before = path.read_bytes()
    if os.geteuid() == 0:
        # root may write any file: run the command as nobody instead, on a
        # copy that nobody can read but not write.
        scratch = make_scratch_dir("cloudbridge-setup-")
        try:
            shutil.copy(path, scratch / path.name)
            (scratch / path.name).chmod(0o644)
            nobody = pwd.getpwnam("nobody")
            python = write_system_python(scratch)
            env = dict(os.environ, PYTHONPATH=str(REPO))
            child = spawn(["setpriv", "--reuid=nobody", "--regid=%d" % nobody.pw_gid,
                           "--clear-groups", str(python), "-m",
                           "cloudbridge.cli.setup_bridge", "--conf", str(scratch)], env=env)
            child.expect_exact("Error: Insufficient permissions. Run as super-user.")
            child.expect(pexpect.EOF)
            child.close()
            assert child.exitstatus == 1
            assert (scratch / path.name).read_bytes() == before
        finally:
            shutil.rmtree(scratch)
    else:
        path.chmod(0o440)
        child = spawn(setup_command(conf_dir))
        child.expect_exact("Error: Insufficient permissions. Run as super-user.")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 1
        assert path.read_bytes() == before


def test_installed_command_dialogue(appliance):
    env = appliance.environment()
    child = spawn([str(appliance.command("cloud-setup-bridge"))], env=dict(
        env, CLOUD_BRIDGE_CONF=str(appliance.conf_dir)))
    child.expect_exact("Welcome to the CloudBridge setup.")
    answer(child, "Management server hostname or IP [127.0.0.1]: ", "10.20.30.40")
    answer(child, "Management server port [8080]: ", "8080")
    for instance_type in INSTANCE_TYPES:
        answer(child, "Service offering ID for %s []: " % instance_type,
               OFFERING_ID if instance_type == "cc1.4xlarge" else "")
    child.expect_exact("Values saved.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert appliance.properties.stat().st_mode & 0o777 == 0o640
    config = load_config(str(appliance.conf_dir))
    assert config.management_server == "10.20.30.40"
    assert config.offering_seeds == {"cc1.4xlarge": OFFERING_ID}


def test_update_lines_keeps_line_endings():
    lines = ["# comment\r\n", "managementServer = old # note\r\n", "cloudAPIPort=1\n",
             "m1.small.serviceId=x"]
    updated = update_lines(lines, {"managementServer": "new", "cloudAPIPort": "2",
                                   "m1.small.serviceId": "", "m1.large.serviceId": ""})
    assert updated == ["# comment\r\n", "managementServer = new # note\r\n",
                       "cloudAPIPort=2\n", "m1.small.serviceId="]


def test_update_lines_ignores_commented_keys():
    lines = ["#managementServer=commented\n", "managementServerX=other\n",
             "managementServer=old\n"]
    updated = update_lines(lines, {"managementServer": "new"})
    assert updated == ["#managementServer=commented\n", "managementServerX=other\n",
                       "managementServer=new\n"]
