"""Tests of cloud-setup-bridge-db, run as a command against MariaDB and SQLite."""

import os
import socket
import subprocess
import sys

import pexpect
import pymysql
import pytest

from cloudbridge.config import load_config
from cloudbridge.store import CURRENT_VERSION, Credentials, open_store
from tests.databases import (MYSQL_HOST, MYSQL_PORT, mysql_root_connection, require_mysql,
                             unique_name)

SCRIPT = os.path.join(os.path.dirname(sys.executable), "cloud-setup-bridge-db")
USER_PASSWORD = "bridge-password"
UUID_1 = "5a1c0b8e-7f3d-4c2a-9e61-0d7b3f2a8c41"
# Seconds before a hung command is killed; no test asserts how long it took.
COMMAND_TIMEOUT = 120


def write_properties(conf_dir, **keys):
    """Write ec2-service.properties with the keys given (dbType, dbName ...)."""
    conf_dir.mkdir(parents=True, exist_ok=True)
    lines = ["managementServer=127.0.0.1", "WSDLVersion=2010-11-15"]
    lines += ["%s=%s" % (key, value) for key, value in keys.items()]
    (conf_dir / "ec2-service.properties").write_text("\n".join(lines) + "\n")
    return conf_dir


def command(*args):
    """Return the command line: the installed script, else the module."""
    if os.path.exists(SCRIPT):
        return [SCRIPT] + list(args)
    return [sys.executable, "-m", "cloudbridge.cli.setup_db"] + list(args)


def clean_env(**extra):
    env = {key: value for key, value in os.environ.items()
           if key not in ("MYSQL_ROOT_PASSWORD", "CLOUD_BRIDGE_CONF")}
    env.update(extra)
    return env


def run_setup(*args, env=None):
    # A new session has no controlling terminal, so a prompt that the test
    # did not expect reads the empty stdin and fails instead of hanging.
    return subprocess.run(command(*args), env=env or clean_env(), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, start_new_session=True,
                          timeout=COMMAND_TIMEOUT)


def assert_clean_failure(result):
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("cloud-setup-bridge-db: error: ")
    assert len(result.stderr.strip().splitlines()) == 1


def database_exists(name):
    with mysql_root_connection() as conn, conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM information_schema.SCHEMATA "
                       "WHERE SCHEMA_NAME = %s", (name,))
        return cursor.fetchone()[0] == 1


def free_local_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Target:
    """A database name and a user that a test lets the script create."""

    def __init__(self, tmp_path):
        self.db_name = unique_name()
        self.db_user = unique_name("cbuser_")
        self.conf_dir = write_properties(tmp_path / "conf", dbType="mysql", dbHost=MYSQL_HOST,
                                         dbPort=MYSQL_PORT, dbName=self.db_name,
                                         dbUser=self.db_user, dbPassword=USER_PASSWORD)

    def config(self):
        return load_config(str(self.conf_dir))

    def connect_as_user(self, password=USER_PASSWORD):
        return pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user=self.db_user,
                               password=password, database=self.db_name, connect_timeout=5)

    def drop(self):
        with mysql_root_connection() as conn, conn.cursor() as cursor:
            cursor.execute("DROP DATABASE IF EXISTS `%s`" % self.db_name)
            for host in ("localhost", "%"):
                cursor.execute("DROP USER IF EXISTS %s@%s", (self.db_user, host))


@pytest.fixture
def target(tmp_path):
    require_mysql()
    created = Target(tmp_path)
    yield created
    created.drop()


# Through flags.

def test_setup_creates_database_and_user(target):
    result = run_setup("--conf", str(target.conf_dir), "--root-password", "")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Welcome to CloudBridge Database setup."
    assert "Created database %s." % target.db_name in lines
    assert "Created user '%s'@'localhost'." % target.db_user in lines
    assert "Created user '%s'@'%%'." % target.db_user in lines
    assert "Granted all privileges on %s to '%s'@'%%'." % (target.db_name, target.db_user) in lines
    assert "Created schema version %d." % CURRENT_VERSION in lines
    assert lines[-1] == "CloudBridge database setup finished."
    assert result.stderr == ""

    with target.connect_as_user() as conn, conn.cursor() as cursor:
        cursor.execute("SHOW TABLES")
        tables = {row[0] for row in cursor.fetchall()}
    assert {"usercredentials", "offering_bundle", "ec2_ids", "reservations",
            "reservation_instances", "client_tokens", "schema_version"} <= tables

    store = open_store(target.config())
    try:
        store.put_user_keys("AK1", "SK1")
        assert store.get_credentials("AK1") == Credentials("AK1", "SK1", None, None)
    finally:
        store.close()


def test_setup_second_run_keeps_rows(target):
    first = run_setup("--conf", str(target.conf_dir), "--root-password", "")
    assert first.returncode == 0, first.stderr
    store = open_store(target.config())
    try:
        store.put_user_keys("AK1", "SK1")
        store.set_offering("m1.small", UUID_1)
        ids = store.ec2_ids("i", [UUID_1])
    finally:
        store.close()

    second = run_setup("--conf", str(target.conf_dir), "--root-password", "")
    assert second.returncode == 0, second.stderr
    assert "Database %s already exists; its data is kept." % target.db_name in second.stdout
    assert ("User '%s'@'localhost' already exists; its password is left unchanged."
            % target.db_user) in second.stdout
    assert "Schema version %d is already current" % CURRENT_VERSION in second.stdout

    store = open_store(target.config())
    try:
        assert store.get_credentials("AK1") == Credentials("AK1", "SK1", None, None)
        assert store.offering_map() == {"m1.small": UUID_1}
        assert store.ec2_ids("i", [UUID_1]) == ids
    finally:
        store.close()


def test_setup_upgrades_original_database(target):
    with mysql_root_connection() as conn, conn.cursor() as cursor:
        cursor.execute("CREATE DATABASE `%s`" % target.db_name)
        cursor.execute("USE `%s`" % target.db_name)
        cursor.execute("CREATE TABLE usercredentials (ID BIGINT NOT NULL AUTO_INCREMENT "
                       "PRIMARY KEY, AccessKey VARCHAR(150) NOT NULL UNIQUE, "
                       "SecretKey VARCHAR(150) NOT NULL, CertUniqueId VARCHAR(200) UNIQUE)")
        cursor.execute("CREATE TABLE offering_bundle (ID INT NOT NULL AUTO_INCREMENT "
                       "PRIMARY KEY, AmazonEC2Offering VARCHAR(100) NOT NULL, "
                       "CloudStackOffering VARCHAR(20) NOT NULL, "
                       "UNIQUE KEY one_offering (AmazonEC2Offering))")
        cursor.execute("INSERT INTO usercredentials (AccessKey, SecretKey) "
                       "VALUES ('AKOLD', 'SKOLD')")
        cursor.execute("INSERT INTO offering_bundle (AmazonEC2Offering, CloudStackOffering) "
                       "VALUES ('m1.small', '11')")

    result = run_setup("--conf", str(target.conf_dir), "--root-password", "")
    assert result.returncode == 0, result.stderr
    assert "Database %s already exists; its data is kept." % target.db_name in result.stdout
    assert ("Upgraded the schema from version 1 to %d; existing rows were kept."
            % CURRENT_VERSION) in result.stdout

    store = open_store(target.config())
    try:
        assert store.get_credentials("AKOLD") == Credentials("AKOLD", "SKOLD", None, None)
        store.set_offering("m1.large", UUID_1)
        assert store.offering_map() == {"m1.small": "11", "m1.large": UUID_1}
    finally:
        store.close()


def test_setup_flags_override_file(target, tmp_path):
    conf_dir = write_properties(tmp_path / "other", dbType="sqlite", dbName="ignored")
    result = run_setup("--conf", str(conf_dir), "--mysql", "--root-user", "root",
                       "--root-password", "", "--db-host", MYSQL_HOST,
                       "--db-port", str(MYSQL_PORT), "--db-name", target.db_name,
                       "--db-user", target.db_user, "--db-password", USER_PASSWORD)
    assert result.returncode == 0, result.stderr
    assert "Created database %s." % target.db_name in result.stdout
    with target.connect_as_user() as conn, conn.cursor() as cursor:
        cursor.execute("SELECT MAX(version) FROM schema_version")
        assert cursor.fetchone() == (CURRENT_VERSION,)
    assert not database_exists("ignored")


def test_setup_conf_from_environment(target):
    result = run_setup("--root-password", "",
                       env=clean_env(CLOUD_BRIDGE_CONF=str(target.conf_dir)))
    assert result.returncode == 0, result.stderr
    assert database_exists(target.db_name)


def test_setup_root_password_from_environment(target):
    result = run_setup("--conf", str(target.conf_dir), env=clean_env(MYSQL_ROOT_PASSWORD=""))
    assert result.returncode == 0, result.stderr
    assert "Please enter" not in result.stdout
    assert database_exists(target.db_name)


def test_setup_wrong_root_password(target):
    result = run_setup("--conf", str(target.conf_dir), "--root-password", "wrong-password")
    assert_clean_failure(result)
    assert "MySQL at %s:%d rejected the password of root" % (MYSQL_HOST, MYSQL_PORT) \
        in result.stderr
    assert "check the root password" in result.stderr
    assert not database_exists(target.db_name)


def test_setup_existing_user_other_password(target):
    with mysql_root_connection() as conn, conn.cursor() as cursor:
        for host in ("localhost", "%"):
            cursor.execute("CREATE USER %s@%s IDENTIFIED BY %s",
                           (target.db_user, host, "original-password"))

    result = run_setup("--conf", str(target.conf_dir), "--root-password", "")
    assert_clean_failure(result)
    assert "user %s cannot connect with dbPassword" % target.db_user in result.stderr
    assert "Created schema version %d." % CURRENT_VERSION in result.stdout
    assert USER_PASSWORD not in result.stdout + result.stderr
    # The existing password still works: the script did not change it.
    with target.connect_as_user("original-password") as conn, conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM usercredentials")
        assert cursor.fetchone() == (0,)


def test_setup_server_down(tmp_path):
    port = free_local_port()
    conf_dir = write_properties(tmp_path / "conf", dbType="mysql", dbHost="127.0.0.1",
                                dbPort=port, dbName="cloudbridge", dbUser="cloud")
    result = run_setup("--conf", str(conf_dir), "--root-password", "")
    assert_clean_failure(result)
    assert "cannot connect to MySQL at 127.0.0.1:%d" % port in result.stderr
    assert "check that the server is running" in result.stderr


def test_setup_invalid_database_name(tmp_path):
    conf_dir = write_properties(tmp_path / "conf", dbType="mysql", dbHost="127.0.0.1",
                                dbName="cloudbridge", dbUser="cloud")
    result = run_setup("--conf", str(conf_dir), "--root-password", "",
                       "--db-name", "bad`name")
    assert_clean_failure(result)
    assert "invalid database name 'bad`name'" in result.stderr


def test_setup_missing_configuration(tmp_path):
    result = run_setup("--conf", str(tmp_path / "missing"))
    assert_clean_failure(result)
    assert "ec2-service.properties not found" in result.stderr


def test_setup_sqlite(tmp_path):
    conf_dir = write_properties(tmp_path / "conf", dbType="mysql", dbName="cloudbridge",
                                dbUser="cloud")
    db_file = tmp_path / "db" / "bridge.db"
    first = run_setup("--conf", str(conf_dir), "--sqlite", "--db-file", str(db_file))
    assert first.returncode == 0, first.stderr
    assert "Setting up the SQLite database %s." % db_file in first.stdout
    assert "Created schema version %d." % CURRENT_VERSION in first.stdout
    assert "Welcome" not in first.stdout

    config = load_config(str(write_properties(tmp_path / "sqlite", dbType="sqlite",
                                              dbFile=str(db_file))))
    store = open_store(config)
    try:
        store.put_user_keys("AK1", "SK1")
    finally:
        store.close()

    second = run_setup("--conf", str(conf_dir), "--sqlite", "--db-file", str(db_file))
    assert second.returncode == 0, second.stderr
    assert "Schema version %d is already current" % CURRENT_VERSION in second.stdout
    store = open_store(config)
    try:
        assert store.get_credentials("AK1") == Credentials("AK1", "SK1", None, None)
    finally:
        store.close()


def test_setup_sqlite_from_db_type(tmp_path):
    db_file = tmp_path / "bridge.db"
    conf_dir = write_properties(tmp_path / "conf", dbType="sqlite", dbFile=str(db_file))
    result = run_setup("--conf", str(conf_dir))
    assert result.returncode == 0, result.stderr
    assert "Created schema version %d." % CURRENT_VERSION in result.stdout
    assert db_file.exists()


# Interactive.

def spawn_setup(target):
    args = command("--conf", str(target.conf_dir))
    return pexpect.spawn(args[0], args[1:], env=clean_env(), encoding="utf-8",
                         timeout=COMMAND_TIMEOUT)


PROMPT = "Please enter the MySQL password for root@%s: " % MYSQL_HOST


def test_setup_prompts_for_root_password(target):
    child = spawn_setup(target)
    child.expect_exact("Welcome to CloudBridge Database setup.")
    child.expect_exact(PROMPT)
    child.sendline("")
    child.expect_exact("Created database %s." % target.db_name)
    child.expect_exact("CloudBridge database setup finished.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert database_exists(target.db_name)


def test_setup_prompt_retries_wrong_password(target):
    child = spawn_setup(target)
    child.expect_exact(PROMPT)
    child.sendline("wrong-password")
    child.expect_exact("rejected the password of root")
    child.expect_exact("Please try again.")
    child.expect_exact(PROMPT)
    child.sendline("")
    child.expect_exact("CloudBridge database setup finished.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert database_exists(target.db_name)


def test_setup_prompt_gives_up(target):
    child = spawn_setup(target)
    for _ in range(3):
        child.expect_exact(PROMPT)
        child.sendline("wrong-password")
    child.expect_exact("cloud-setup-bridge-db: error: MySQL at")
    child.expect(pexpect.EOF)
    output = child.before
    child.close()
    assert child.exitstatus == 1
    assert "Traceback" not in output
    assert not database_exists(target.db_name)
