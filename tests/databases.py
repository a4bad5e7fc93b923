"""Databases for tests: a SQLite file in tmp_path or a throw-away MariaDB database.

MariaDB is expected on 127.0.0.1:3306 as root with an empty password.  Tests
that need it skip when it is unreachable, but fail when the environment
variable CI is "true", so that CI never passes without them.

To run a test on both backends, make the fixtures visible to pytest by
importing them into a conftest.py (or the test module):

    from tests.databases import store, store_config  # noqa: F401

    def test_offerings(store):            # runs as [sqlite] and [mysql]
        store.set_offering("m1.small", "uuid")

`store_config` yields a `Config` for each backend; `store` yields a `Store`
on it with the schema created, and closes it afterwards.
"""

import os
import uuid
from contextlib import contextmanager

import pymysql
import pytest

from cloudbridge.config import Config
from cloudbridge.store import open_store

MYSQL_HOST = "127.0.0.1"
MYSQL_PORT = 3306
MYSQL_ROOT_USER = "root"
MYSQL_ROOT_PASSWORD = ""
TEST_DATABASE_PREFIX = "cbtest_"


def sqlite_config(tmp_path):
    """Return a Config whose store is the SQLite file tmp_path/cloudbridge.db."""
    return Config(path=str(tmp_path / "ec2-service.properties"), db_type="sqlite",
                  db_file=str(tmp_path / "cloudbridge.db"))


def mysql_root_connection(database=None, **kwargs):
    """Return a pymysql connection to the test MariaDB as root (autocommit on)."""
    return pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user=MYSQL_ROOT_USER,
                           password=MYSQL_ROOT_PASSWORD, database=database,
                           autocommit=True, connect_timeout=5, **kwargs)


def mysql_available():
    """Return True if the test MariaDB accepts a root connection."""
    try:
        mysql_root_connection().close()
    except pymysql.err.Error:
        return False
    return True


def require_mysql():
    """Skip the calling test if MariaDB is unreachable; fail instead when CI=true."""
    if mysql_available():
        return
    message = "MariaDB is not reachable on %s:%d as %s" % (MYSQL_HOST, MYSQL_PORT,
                                                           MYSQL_ROOT_USER)
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true requires it)")
    pytest.skip(message)


def unique_name(prefix=TEST_DATABASE_PREFIX):
    """Return a new name for a database or user: prefix and 12 hex digits."""
    return prefix + uuid.uuid4().hex[:12]


@contextmanager
def mysql_database():
    """Create a uniquely named MariaDB database; yield a Config (user root) for it.

    The database is dropped on exit.  Calls `require_mysql` first.
    """
    require_mysql()
    name = unique_name()
    with mysql_root_connection() as conn, conn.cursor() as cursor:
        cursor.execute("CREATE DATABASE `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin" % name)
    try:
        # No properties file backs this Config; `path` only has to be set.
        yield Config(path="ec2-service.properties", db_type="mysql",
                     db_host=MYSQL_HOST, db_port=MYSQL_PORT, db_name=name,
                     db_user=MYSQL_ROOT_USER, db_password=MYSQL_ROOT_PASSWORD)
    finally:
        with mysql_root_connection() as conn, conn.cursor() as cursor:
            cursor.execute("DROP DATABASE IF EXISTS `%s`" % name)


@pytest.fixture(params=["sqlite", "mysql"])
def store_config(request, tmp_path):
    """Config of an empty database, once on SQLite and once on MariaDB."""
    if request.param == "sqlite":
        yield sqlite_config(tmp_path)
    else:
        with mysql_database() as config:
            yield config


@pytest.fixture
def store(store_config):
    """Store on `store_config` with the schema created; closed after the test."""
    opened = open_store(store_config)
    opened.ensure_schema()
    yield opened
    opened.close()
