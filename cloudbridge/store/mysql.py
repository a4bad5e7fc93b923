"""MySQL and MariaDB connections: a DBUtils pool over pymysql."""

import hashlib
import logging
from contextlib import contextmanager
from datetime import timezone

import pymysql
from dbutils.pooled_db import PooledDB
from pymysql.constants import CLIENT, ER

from cloudbridge.store.errors import StoreError

log = logging.getLogger(__name__)

# Seconds to wait for the server to accept a connection and for a reply.
CONNECT_TIMEOUT = 10
READ_TIMEOUT = 120
WRITE_TIMEOUT = 120
# Idle connections kept in the pool; more are opened when threads need them.
MAX_IDLE_CONNECTIONS = 16
# Seconds to wait for a named lock held by another server (schema upgrade,
# offering seeding).
NAMED_LOCK_TIMEOUT = 60

# STRICT_TRANS_TABLES turns a value too long for its column into an error
# instead of a silent truncation.
SQL_MODE = "STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION"
# READ COMMITTED takes no gap locks, which keeps concurrent inserts of new
# EC2 ids from deadlocking each other, and lets a re-read see rows that
# another server committed meanwhile.
SESSION_SETUP = "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"


class MySQLDatabase:
    """A pool of pymysql connections to one database.

    DBUtils pings a connection each time it leaves the pool and replaces it
    when the ping fails, so connections broken by a server restart or a
    KILL are replaced before the next statement runs on them.
    """

    name = "mysql"
    errors = (pymysql.err.Error,)
    integrity_errors = (pymysql.err.IntegrityError,)
    insert_ignore = "INSERT IGNORE INTO"

    def __init__(self, config):
        self.description = config.describe_database()
        self.database = config.db_name
        self._closed = False
        self._pool = PooledDB(
            creator=pymysql,
            mincached=0,
            maxcached=MAX_IDLE_CONNECTIONS,
            maxconnections=0,
            blocking=True,
            reset=True,
            ping=1,
            host=config.db_host,
            port=config.db_port,
            user=config.db_user,
            password=config.db_password,
            database=config.db_name,
            charset="utf8mb4",
            autocommit=False,
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            write_timeout=WRITE_TIMEOUT,
            sql_mode=SQL_MODE,
            init_command=SESSION_SETUP,
            # FOUND_ROWS makes UPDATE report the rows it matched, as SQLite
            # does, not only the rows whose values changed.
            client_flag=CLIENT.FOUND_ROWS,
        )

    def acquire(self):
        if self._closed:
            raise StoreError("the store for %s is closed" % self.description)
        return self._pool.connection()

    def release(self, conn, broken=False):
        # Returning the connection rolls back anything left open; a broken
        # one fails its ping when it next leaves the pool and is replaced.
        conn.close()

    def close(self):
        self._closed = True
        self._pool.close()

    def begin(self, conn, cursor, write):
        # begin() also marks the transaction as open for DBUtils, so it never
        # re-runs a failed statement of the transaction on a new connection.
        conn.begin()

    def _lock_name(self, name):
        # Named locks are server-wide, so the name includes the database;
        # MySQL limits lock names to 64 characters.
        digest = hashlib.sha256(self.database.encode("utf-8")).hexdigest()[:16]
        return "cloudbridge.%s.%s" % (digest, name)

    @contextmanager
    def named_lock(self, cursor, name):
        lock = self._lock_name(name)
        cursor.execute("SELECT GET_LOCK(%s, %s)", (lock, NAMED_LOCK_TIMEOUT))
        (acquired,) = cursor.fetchone()
        if acquired != 1:
            raise StoreError("timed out after %d s waiting for the lock %s on %s"
                             % (NAMED_LOCK_TIMEOUT, name, self.description))
        try:
            yield
        finally:
            try:
                cursor.execute("SELECT RELEASE_LOCK(%s)", (lock,))
                cursor.fetchall()
            except pymysql.err.Error as exc:
                # The server releases the lock when the connection closes.
                log.warning("cannot release the lock %s on %s: %s",
                            name, self.description, exc)

    def sql(self, statement):
        # The store writes statements with qmark placeholders and no
        # literal % signs.
        return statement.replace("?", "%s")

    def is_duplicate(self, exc):
        return (isinstance(exc, pymysql.err.IntegrityError)
                and exc.args and exc.args[0] == ER.DUP_ENTRY)

    def is_retryable(self, exc):
        # InnoDB rolls the whole transaction back on these two errors.
        return (isinstance(exc, pymysql.err.OperationalError)
                and exc.args and exc.args[0] in (ER.LOCK_DEADLOCK, ER.LOCK_WAIT_TIMEOUT))

    def to_db_time(self, value):
        return value.replace(tzinfo=None)

    def from_db_time(self, value):
        return value.replace(tzinfo=timezone.utc)

    def upsert(self, table, columns, key_columns):
        """Return an INSERT that updates the non-key columns when a unique key exists."""
        updates = ", ".join("%s = VALUES(%s)" % (c, c) for c in columns if c not in key_columns)
        return "INSERT INTO %s (%s) VALUES (%s) ON DUPLICATE KEY UPDATE %s" % (
            table, ", ".join(columns), ", ".join("?" * len(columns)), updates)

    # Schema introspection, used by ensure_schema.

    def table_names(self, cursor):
        cursor.execute("SELECT TABLE_NAME FROM information_schema.TABLES "
                       "WHERE TABLE_SCHEMA = DATABASE()")
        return {row[0].lower() for row in cursor.fetchall()}

    def column_names(self, cursor, table):
        cursor.execute("SELECT COLUMN_NAME FROM information_schema.COLUMNS "
                       "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s", (table,))
        return {row[0].lower() for row in cursor.fetchall()}

    def has_unique_index(self, cursor, table, column):
        cursor.execute("SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS "
                       "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s "
                       "AND NON_UNIQUE = 0 ORDER BY INDEX_NAME, SEQ_IN_INDEX", (table,))
        indexes = {}
        for index_name, column_name in cursor.fetchall():
            indexes.setdefault(index_name, []).append(column_name.lower())
        return [column.lower()] in indexes.values()

    @contextmanager
    def schema_session(self):
        """Yield a cursor holding the schema lock; DDL commits statement by statement."""
        conn = self.acquire()
        try:
            cursor = conn.cursor()
            with self.named_lock(cursor, "schema"):
                try:
                    yield cursor
                    conn.commit()
                except BaseException:
                    conn.rollback()
                    raise
        finally:
            self.release(conn)
