"""The installed `cloud-setup-bridge-db`, driven through its password prompt against MariaDB."""

import pexpect
import pytest

from cloudbridge.config import load_config
from cloudbridge.store import open_store
from tests.databases import (MYSQL_HOST, MYSQL_PORT, MYSQL_ROOT_PASSWORD, mysql_root_connection,
                             require_mysql, unique_name)


@pytest.fixture
def database_names():
    """A unique database and user name; both are dropped after the test."""
    require_mysql()
    name = unique_name()
    yield name
    with mysql_root_connection() as conn, conn.cursor() as cursor:
        cursor.execute("DROP DATABASE IF EXISTS `%s`" % name)
        for host in ("localhost", "%"):
            cursor.execute("DROP USER IF EXISTS %s@%s", (name, host))


def test_installed_setup_db_prompts_for_root_password(appliance, database_names):
    name = database_names
    appliance.set_properties(dbType="mysql", dbHost=MYSQL_HOST, dbPort=str(MYSQL_PORT),
                             dbName=name, dbUser=name, dbPassword="cloudbridge-test-pw")
    env = dict(appliance.environment(), CLOUD_BRIDGE_CONF=str(appliance.conf_dir))
    child = pexpect.spawn(str(appliance.command("cloud-setup-bridge-db")), env=env,
                          encoding="utf-8", timeout=60)
    child.expect_exact("Welcome to CloudBridge Database setup.")
    child.expect_exact("Please enter the MySQL password for root@%s: " % MYSQL_HOST)
    child.sendline(MYSQL_ROOT_PASSWORD)
    child.expect(pexpect.EOF)
    output = child.before
    child.close()
    assert child.exitstatus == 0, output
    assert "Created database %s." % name in output
    assert "Created user '%s'@'localhost'." % name in output
    assert "Created user '%s'@'%%'." % name in output
    assert "Created schema version" in output
    assert "User %s can connect to" % name in output
    assert "cloudbridge-test-pw" not in output

    # The server's own configuration now reaches the new database.
    config = load_config(str(appliance.conf_dir))
    store = open_store(config)
    try:
        store.ping()
        assert store.schema_version() > 0
    finally:
        store.close()
