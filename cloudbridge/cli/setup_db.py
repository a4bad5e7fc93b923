"""`cloud-setup-bridge-db`: create or upgrade CloudBridge's database.

With MySQL it connects as root, creates the database dbName and the user
dbUser (for 'localhost' and '%', with dbPassword) when they are missing,
grants the user all privileges on the database, and creates or upgrades the
schema.  A second run changes nothing that exists: it never drops the
database or a table, and it leaves an existing user's password alone.  With
SQLite it only creates or upgrades the schema in dbFile.

The root password comes from --root-password, then $MYSQL_ROOT_PASSWORD,
then an interactive prompt.  Every failure ends with a one-line message on
stderr and exit code 1 (2 for invalid arguments).
"""

import argparse
import dataclasses
import getpass
import os
import re
import sys

import pymysql
from pymysql.constants import CR, ER

from cloudbridge.config import (CONF_DIR_ENV, DEFAULT_CONF_DIR, PROPERTIES_FILE, ConfigError,
                                config_from_properties, read_properties, resolve_conf_dir)
from cloudbridge.store import StoreError, open_store

PROG = "cloud-setup-bridge-db"
ROOT_PASSWORD_ENV = "MYSQL_ROOT_PASSWORD"
PROMPT_ATTEMPTS = 3
CONNECT_TIMEOUT = 10
USER_HOSTS = ("localhost", "%")
# Unquoted MySQL identifier characters; other names would need quoting
# everywhere the database name appears.
DATABASE_NAME = re.compile(r"^[A-Za-z0-9_$]{1,64}$")
# MariaDB allows 80 characters in a user name, MySQL 5.7 and later 32.
MAX_USER_LENGTH = 32
ACCESS_DENIED = (ER.ACCESS_DENIED_ERROR, ER.DBACCESS_DENIED_ERROR)
UNREACHABLE = (CR.CR_CONNECTION_ERROR, CR.CR_CONN_HOST_ERROR, CR.CR_UNKNOWN_HOST,
               CR.CR_SERVER_LOST, CR.CR_SERVER_GONE_ERROR)


class SetupError(Exception):
    """A failure to report in one line, without a traceback."""


class AccessDenied(SetupError):
    """The administrator's password was rejected."""


def build_parser():
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Create or upgrade the CloudBridge database. Existing data is kept.")
    parser.add_argument("--conf", metavar="DIR",
                        help="directory of %s (default: $%s, then %s)"
                        % (PROPERTIES_FILE, CONF_DIR_ENV, DEFAULT_CONF_DIR))
    backend = parser.add_mutually_exclusive_group()
    backend.add_argument("--sqlite", action="store_true",
                         help="set up the SQLite database, ignoring dbType")
    backend.add_argument("--mysql", action="store_true",
                         help="set up the MySQL database, ignoring dbType")
    parser.add_argument("--db-file", help="SQLite database file (overrides dbFile)")
    parser.add_argument("--root-user", default="root",
                        help="MySQL administrator that creates the database and user "
                             "(default: root)")
    parser.add_argument("--root-password",
                        help="password of the MySQL administrator (default: $%s, "
                             "else prompt)" % ROOT_PASSWORD_ENV)
    parser.add_argument("--db-host", help="MySQL server host (overrides dbHost)")
    parser.add_argument("--db-port", type=int, help="MySQL server port (overrides dbPort)")
    parser.add_argument("--db-name", help="database to create (overrides dbName)")
    parser.add_argument("--db-user", help="user CloudBridge connects as (overrides dbUser)")
    parser.add_argument("--db-password", help="password of that user (overrides dbPassword)")
    return parser


def load_setup_config(args):
    """Return the Config from the conf directory with the command-line overrides applied."""
    path = os.path.join(resolve_conf_dir(args.conf), PROPERTIES_FILE)
    props = read_properties(path)
    # The overrides go into the properties before they are parsed, so they
    # are validated like the file's values.  dbHost, dbName ... are only
    # read for the backend that dbType selects.
    if args.sqlite:
        props["dbType"] = "sqlite"
    elif args.mysql:
        props["dbType"] = "mysql"
    overrides = {
        "dbFile": os.path.abspath(args.db_file) if args.db_file else None,
        "dbHost": args.db_host,
        "dbPort": str(args.db_port) if args.db_port is not None else None,
        "dbName": args.db_name,
        "dbUser": args.db_user,
        "dbPassword": args.db_password,
    }
    for key, value in overrides.items():
        if value is not None:
            props[key] = value
    return config_from_properties(props, path)


def check_names(config):
    if not DATABASE_NAME.match(config.db_name):
        raise SetupError("invalid database name %r: use 1 to 64 letters, digits, _ or $"
                         % config.db_name)
    if not config.db_user or len(config.db_user) > MAX_USER_LENGTH:
        raise SetupError("invalid user name %r: use 1 to %d characters"
                         % (config.db_user, MAX_USER_LENGTH))


def report_schema(status, out):
    if status.created:
        out("Created schema version %d." % status.after)
    elif status.upgraded:
        out("Upgraded the schema from version %d to %d; existing rows were kept."
            % (status.before, status.after))
    else:
        out("Schema version %d is already current; nothing to change." % status.after)


def setup_sqlite(config, out):
    out("Setting up the SQLite database %s." % config.db_file)
    store = open_store(config)
    try:
        report_schema(store.ensure_schema(), out)
    finally:
        store.close()


# MySQL.

def connect_root(config, root_user, password):
    """Return an autocommit connection as the administrator, or raise SetupError."""
    where = "%s:%d" % (config.db_host, config.db_port)
    try:
        return pymysql.connect(host=config.db_host, port=config.db_port, user=root_user,
                               password=password, autocommit=True, charset="utf8mb4",
                               connect_timeout=CONNECT_TIMEOUT)
    except pymysql.err.OperationalError as exc:
        code = exc.args[0] if exc.args else None
        if code in ACCESS_DENIED:
            raise AccessDenied("MySQL at %s rejected the password of %s: check the root "
                               "password (%s)" % (where, root_user, exc.args[-1])) from exc
        if code in UNREACHABLE:
            raise SetupError("cannot connect to MySQL at %s: check that the server is "
                             "running and that dbHost and dbPort are right (%s)"
                             % (where, exc.args[-1])) from exc
        raise SetupError("cannot connect to MySQL at %s as %s: %s"
                         % (where, root_user, exc)) from exc


def connect_root_interactively(config, root_user, password, out):
    """Return (connection, password) for the administrator, prompting if password is None."""
    if password is not None:
        return connect_root(config, root_user, password), password
    prompt = "Please enter the MySQL password for %s@%s: " % (root_user, config.db_host)
    for attempt in range(1, PROMPT_ATTEMPTS + 1):
        password = getpass.getpass(prompt)
        try:
            return connect_root(config, root_user, password), password
        except AccessDenied as exc:
            if attempt == PROMPT_ATTEMPTS:
                raise
            out("%s. Please try again." % exc)
    raise AssertionError("unreachable")


def create_database(cursor, name, out):
    cursor.execute("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA "
                   "WHERE SCHEMA_NAME = %s", (name,))
    if cursor.fetchone():
        out("Database %s already exists; its data is kept." % name)
        return
    cursor.execute("CREATE DATABASE `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin" % name)
    out("Created database %s." % name)


def create_user(cursor, config, out):
    if not config.db_password:
        out("Warning: dbPassword is empty, so user %s needs no password." % config.db_user)
    for host in USER_HOSTS:
        account = "'%s'@'%s'" % (config.db_user, host)
        cursor.execute("SELECT COUNT(*) FROM mysql.user WHERE User = %s AND Host = %s",
                       (config.db_user, host))
        (count,) = cursor.fetchone()
        if count:
            out("User %s already exists; its password is left unchanged." % account)
        else:
            cursor.execute("CREATE USER %s@%s IDENTIFIED BY %s",
                           (config.db_user, host, config.db_password))
            out("Created user %s." % account)
        cursor.execute("GRANT ALL PRIVILEGES ON `%s`.* TO %%s@%%s" % config.db_name,
                       (config.db_user, host))
        out("Granted all privileges on %s to %s." % (config.db_name, account))


def setup_mysql(config, root_user, root_password, out):
    out("Welcome to CloudBridge Database setup.")
    check_names(config)
    conn, root_password = connect_root_interactively(config, root_user, root_password, out)
    try:
        with conn.cursor() as cursor:
            create_database(cursor, config.db_name, out)
            create_user(cursor, config, out)
    except pymysql.err.Error as exc:
        raise SetupError("MySQL at %s:%d failed while creating database %s and user %s: %s"
                         % (config.db_host, config.db_port, config.db_name,
                            config.db_user, exc)) from exc
    finally:
        conn.close()

    # The administrator creates the schema, so a user whose existing
    # password differs from dbPassword does not stop the setup.
    admin = dataclasses.replace(config, db_user=root_user, db_password=root_password)
    store = open_store(admin)
    try:
        report_schema(store.ensure_schema(), out)
    finally:
        store.close()

    store = open_store(config)
    try:
        store.ping()
    except StoreError as exc:
        raise SetupError("the database is ready, but user %s cannot connect with dbPassword "
                         "from the configuration: set dbPassword to that user's password "
                         "(%s)" % (config.db_user, exc)) from exc
    finally:
        store.close()
    out("User %s can connect to %s." % (config.db_user, config.describe_database()))


def main(argv=None):
    args = build_parser().parse_args(argv)

    def out(line):
        print(line, flush=True)

    try:
        config = load_setup_config(args)
        if config.db_type == "sqlite":
            setup_sqlite(config, out)
        else:
            root_password = args.root_password
            if root_password is None:
                root_password = os.environ.get(ROOT_PASSWORD_ENV)
            setup_mysql(config, args.root_user, root_password, out)
    except (ConfigError, SetupError, StoreError, OSError, pymysql.err.Error) as exc:
        print("%s: error: %s" % (PROG, exc), file=sys.stderr)
        return 1
    except (KeyboardInterrupt, EOFError):
        print("%s: cancelled" % PROG, file=sys.stderr)
        return 1
    out("CloudBridge database setup finished.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
